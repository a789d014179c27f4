use std::sync::Arc;

use application::Links;
use domain::ShortCode;

/// What the HTTP layer needs to know besides the use cases.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Prefix of every `short_url` and `Location`, e.g. `https://sho.rt`.
    pub base_url: String,
    /// Largest request body accepted; more gets 413.
    pub max_body_bytes: usize,
    /// Take the visitor's address from `Forwarded` / `X-Forwarded-For`. Only behind a proxy
    /// that sets them: anyone can send them.
    pub trust_proxy_headers: bool,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: std::time::Duration,
}

/// tide's per-app state: cheap to clone, shared by every request. Opaque outside this crate;
/// public only so that middleware can name it.
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
