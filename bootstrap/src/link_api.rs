//! The HTTP link API, wired one way for url-api and the embedded shortener: only what stands
//! behind the outbound ports differs.

use std::net::SocketAddr;
use std::sync::Arc;

use adapter_cache::{CachedKeyStore, CachedLinks, CachedUrlRepo};
use adapter_http::{HttpServer, HttpSettings, RequestLimits};
use adapter_ratelimit::GovernorLimiter;
use application::LinkService;
use application::ports::{
    AnalyticsQuery, ClickPublisher, KeyStore, LinkEventPublisher, RandomCodes, RateLimiter,
    SystemClock, Unlimited, UrlRepo,
};
use application::use_cases::ShortenRules;

use crate::StartError;
use crate::config::LinkApiConfig;

/// The outbound ports of the link use cases, each already behind its resilience guard.
pub(crate) struct Outbound<R, K, P, A, E> {
    pub(crate) repo: R,
    pub(crate) keys: K,
    pub(crate) publisher: P,
    pub(crate) analytics: A,
    /// Tells other replicas of deletes (the embedded shortener has none to tell).
    pub(crate) link_events: E,
}

/// The HTTP API, bound, and the link cache's driving side: where news of links changed
/// through other replicas goes.
pub(crate) struct Bound {
    pub(crate) server: HttpServer,
    pub(crate) addr: SocketAddr,
    pub(crate) cached_links: CachedLinks,
}

/// Composes the link use cases over `outbound` and binds the HTTP API to them. Links and valid
/// keys are read through in-process caches first, so a hit touches neither a breaker nor a
/// store.
///
/// # Errors
/// When the rate limits are unusable or the address can't be bound.
pub(crate) async fn bind<R, K, P, A, E>(
    config: LinkApiConfig,
    outbound: Outbound<R, K, P, A, E>,
) -> Result<Bound, StartError>
where
    R: UrlRepo,
    K: KeyStore,
    P: ClickPublisher,
    A: AnalyticsQuery,
    E: LinkEventPublisher,
{
    let limiter: Arc<dyn RateLimiter> = match config.rate_limits {
        Some(settings) => Arc::new(
            GovernorLimiter::new(settings).map_err(|e| StartError(format!("rate_limits: {e}")))?,
        ),
        None => Arc::new(Unlimited),
    };
    let repo = CachedUrlRepo::new(outbound.repo, config.cache);
    let cached_links = repo.copies();
    let links = LinkService {
        repo,
        publisher: outbound.publisher,
        link_events: outbound.link_events,
        analytics: outbound.analytics,
        codes: RandomCodes,
        clock: SystemClock,
        keys: CachedKeyStore::new(outbound.keys, config.auth.key_cache_ttl),
        limiter,
        shorten_rules: ShortenRules {
            url_policy: config.url_policy,
            anonymous: config.auth.anonymous_shorten,
        },
    };
    // Inbound: the HTTP adapter builds its own pipeline from these values.
    let settings = HttpSettings {
        base_url: config.base_url,
        trusted_proxies: config.trusted_proxies,
        limits: RequestLimits {
            max_conns: config.max_conns,
            shed_above_cpu: config
                .guards
                .shedding
                .then_some(config.guards.cpu_threshold),
            timeout: config.guards.timeout,
            max_body_bytes: config.max_body_bytes,
        },
        client_timeouts: config.client_timeouts,
        drain_timeout: config.drain_timeout,
        engine: config.engine,
    };
    let server = HttpServer::bind(config.http_addr, Arc::new(links), settings).map_err(|e| {
        StartError(format!(
            "HTTP_ADDR: cannot listen on {}: {e}",
            config.http_addr
        ))
    })?;
    let addr = server
        .local_addr()
        .map_err(|e| StartError(format!("HTTP_ADDR: {e}")))?;
    Ok(Bound {
        server,
        addr,
        cached_links,
    })
}
