use std::sync::Arc;
use std::time::Duration;

use application::Links;
use domain::ShortCode;

pub use crate::deadlines::ClientTimeouts;

/// What the HTTP adapter needs to know besides the use cases: plain values, from which it
/// builds its own pipeline.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Prefix of every `short_url` and `Location`, e.g. `https://sho.rt`.
    pub base_url: String,
    /// Take the visitor's address from `Forwarded` / `X-Forwarded-For`. Only behind a proxy
    /// that sets them: anyone can send them.
    pub trust_proxy_headers: bool,
    /// What one request may take.
    pub limits: RequestLimits,
    /// How long a client may keep a connection waiting.
    pub client_timeouts: ClientTimeouts,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: Duration,
}

/// The inbound guards' settings (go-zero's, in its order; see [`crate::pipeline`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Requests in progress at once; more get 503.
    pub max_conns: usize,
    /// Per mille of this process's CPU above which load is shed; `None`: never shed.
    pub shed_above_cpu: Option<u64>,
    /// A request taking longer gets 503.
    pub timeout: Duration,
    /// Largest request body accepted; more gets 413.
    pub max_body_bytes: usize,
}

/// tide's per-app state: cheap to clone, shared by every request. Opaque outside this crate;
/// public only because tide's types name it.
#[derive(Clone)]
pub struct State {
    pub(crate) links: Arc<dyn Links>,
    pub(crate) settings: Arc<HttpSettings>,
}

impl State {
    pub(crate) fn new(links: Arc<dyn Links>, mut settings: HttpSettings) -> Self {
        let trimmed = settings.base_url.trim_end_matches('/').len();
        settings.base_url.truncate(trimmed);
        Self {
            links,
            settings: Arc::new(settings),
        }
    }

    pub(crate) fn short_url(&self, code: ShortCode) -> String {
        format!("{}/{code}", self.settings.base_url)
    }

    pub(crate) fn link_url(&self, code: ShortCode) -> String {
        format!("{}/api/v1/links/{code}", self.settings.base_url)
    }
}
