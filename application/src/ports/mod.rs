//! Driven ports: what the core needs from the outside world, named by role.

mod analytics_query;
mod click_publisher;
mod clock;
mod code_generator;
mod url_repo;

pub use analytics_query::{AnalyticsError, AnalyticsQuery};
pub use click_publisher::{ClickPublisher, PublishError};
pub use clock::{Clock, SystemClock};
pub use code_generator::{CodeGenerator, RandomCodes};
pub use url_repo::{LinkPage, RepoError, UrlRepo};

#[cfg(any(test, feature = "testing"))]
pub use {
    analytics_query::MockAnalyticsQuery, click_publisher::MockClickPublisher, clock::MockClock,
    code_generator::MockCodeGenerator, url_repo::MockUrlRepo,
};
