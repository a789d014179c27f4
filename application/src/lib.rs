//! The application core: use cases, the driven ports they call (`ports`), and the driving ports
//! that inbound adapters call (`Links`, `IngestClicks`, `ClickAnalytics`, `LinkCopies`). It
//! names no runtime and no driver, so every use case is tested with mocks and plain futures.

mod analytics;
mod link_copies;
mod links;
pub mod ports;
pub mod use_cases;

pub use analytics::{AnalyticsService, ClickAnalytics, IngestClicks, IngestService};
pub use link_copies::LinkCopies;
pub use links::{LinkService, Links};
#[cfg(any(test, feature = "testing"))]
pub use {
    analytics::{MockClickAnalytics, MockIngestClicks},
    link_copies::MockLinkCopies,
    links::MockLinks,
};
