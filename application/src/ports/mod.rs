//! Driven ports: what the core needs from the outside world, named by role.

mod analytics_query;
mod click_publisher;
mod click_store;
mod clock;
mod code_generator;
mod geo_locator;
mod key_generator;
mod key_store;
mod link_event_publisher;
mod rate_limiter;
mod stats_store;
mod url_repo;

pub use analytics_query::{AnalyticsError, AnalyticsQuery};
pub use click_publisher::{ClickPublisher, PublishError};
pub use click_store::{ClickStore, StoreError};
pub use clock::{Clock, SystemClock};
pub use code_generator::{CodeGenerator, RandomCodes};
pub use geo_locator::{GeoLocator, NoGeoLocator};
pub use key_generator::{KeyGenerator, RandomKeys};
pub use key_store::{KeyRecord, KeyStore, NewKey};
pub use link_event_publisher::{LinkEventPublisher, NoReplicas};
pub use rate_limiter::{Allowance, Budget, Quota, RateLimiter, Spender, Throttled, Unlimited};
pub use stats_store::StatsStore;
pub use url_repo::{LinkPage, RepoError, UrlRepo};

#[cfg(any(test, feature = "testing"))]
pub use {
    analytics_query::MockAnalyticsQuery, click_publisher::MockClickPublisher,
    click_store::MockClickStore, clock::MockClock, code_generator::MockCodeGenerator,
    geo_locator::MockGeoLocator, key_generator::MockKeyGenerator, key_store::MockKeyStore,
    link_event_publisher::MockLinkEventPublisher, rate_limiter::MockRateLimiter,
    stats_store::MockStatsStore, url_repo::MockUrlRepo,
};
