//! The application core: use cases, the driven ports they call (`ports`), and the driving port
//! (`Links`) that inbound adapters call. It names no runtime and no driver, so every use case is
//! tested with mocks and plain futures.

mod links;
pub mod ports;
pub mod use_cases;

#[cfg(any(test, feature = "testing"))]
pub use links::MockLinks;
pub use links::{LinkService, Links};
