//! The application core: use cases, the driven ports they call (`ports`), and the driving ports
//! that inbound adapters call (`Links`, `IngestClicks`, `ClickAnalytics`). It names no runtime and no driver, so every use case is
//! tested with mocks and plain futures.

mod analytics;
mod links;
pub mod ports;
pub mod use_cases;

pub use analytics::{AnalyticsService, ClickAnalytics, IngestClicks, IngestService};
pub use links::{LinkService, Links};
#[cfg(any(test, feature = "testing"))]
pub use {
    analytics::{MockClickAnalytics, MockIngestClicks},
    links::MockLinks,
};
