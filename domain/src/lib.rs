//! The URL shortener's vocabulary and rules. Everything here is pure: no async, no I/O, so the
//! rules can be tested with plain tables and reused by every adapter.

mod api_key;
mod click;
mod enrichment;
mod link;
mod link_event;
mod listing;
mod long_url;
mod short_code;
mod stats;
mod url_policy;

pub use api_key::{ApiKey, Caller, KeyError, KeyHash, KeyId, Role, RoleError, Visibility};
pub use click::{ClickEvent, EventError, Visit, VisitError};
pub use enrichment::{CountryCode, DeviceType, EnrichedClick, TrafficSource};
pub use link::Link;
pub use link_event::LinkEvent;
pub use listing::{LinkQuery, Page, QueryError, SearchTerm, SortKey, SortOrder};
pub use long_url::{LongUrl, UrlError};
pub use short_code::{CodeError, ShortCode};
pub use stats::{ClickStats, DayRange, RangeError};
pub use url_policy::{AddressRange, Blocklist, BlocklistError, PolicyError, UrlPolicy};
