//! What the HTTP adapter is told: plain values, from which it builds its own pipeline.

use std::time::Duration;

use crate::server::ClientTimeouts;

/// What the HTTP adapter needs to know besides the use cases: plain values, from which it
/// builds its own pipeline.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Prefix of every `short_url` and `Location`, e.g. `https://sho.rt`.
    pub base_url: String,
    /// How many proxies in front append to `X-Forwarded-For`; the visitor's address is the
    /// entry that many from its end. 0: the connection's peer is the visitor.
    pub trusted_proxies: usize,
    /// What one request may take.
    pub limits: RequestLimits,
    /// How long a client may keep a connection waiting.
    pub client_timeouts: ClientTimeouts,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: Duration,
    /// Which engine routes requests to the handlers.
    pub engine: Engine,
}

/// The inbound guards' settings (go-zero's, in its order; see [`crate::server::pipeline`]).
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

/// The HTTP engine that routes requests to the handlers: either serves the same API, through
/// the same server and guards (see the README's hexagon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// tide on async-std: the design card's, and the default.
    #[default]
    Tide,
    /// axum on tokio.
    Axum,
}

impl Engine {
    pub const ALL: [Self; 2] = [Self::Tide, Self::Axum];

    pub fn name(self) -> &'static str {
        match self {
            Self::Tide => "tide",
            Self::Axum => "axum",
        }
    }

    /// The engine named `name`, as `http.engine` and `HTTP_ENGINE` spell it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|engine| engine.name() == name)
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
