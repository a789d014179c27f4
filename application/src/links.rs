use std::net::IpAddr;

use async_trait::async_trait;
use domain::{Caller, Link, LinkQuery, LongUrl, ShortCode, Visit};

use crate::ports::{
    Allowance, AnalyticsQuery, Budget, ClickPublisher, Clock, CodeGenerator, KeyStore,
    LinkEventPublisher, LinkPage, RateLimiter, Throttled, UrlRepo,
};
use crate::use_cases::{
    self, AuthError, DeleteLinkError, LinkDetail, LinkDetailError, ListLinksError, RedirectError,
    ShortenError, ShortenRules,
};

/// The driving port: everything the outside world can ask of the link service. Inbound adapters
/// hold an `Arc<dyn Links>`, so they stay free of the driven ports' types. They extract the
/// credential a request carries and ask [`Links::authenticate`] who the caller is; what that
/// caller may do is decided here, by the use cases.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Links: Send + Sync + 'static {
    /// See [`use_cases::authenticate`].
    async fn authenticate(&self, credential: Option<String>) -> Result<Caller, AuthError>;
    /// See [`use_cases::admit`].
    fn admit(
        &self,
        budget: Budget,
        caller: Caller,
        address: Option<IpAddr>,
    ) -> Result<Option<Allowance>, Throttled>;
    /// See [`use_cases::shorten`].
    async fn shorten(&self, caller: Caller, url: LongUrl) -> Result<Link, ShortenError>;
    /// See [`use_cases::redirect`].
    async fn redirect(&self, code: ShortCode, visit: Visit) -> Result<LongUrl, RedirectError>;
    /// See [`use_cases::resolve`].
    async fn resolve(&self, code: ShortCode) -> Result<LongUrl, RedirectError>;
    /// See [`use_cases::list_links`].
    async fn list(&self, caller: Caller, query: LinkQuery) -> Result<LinkPage, ListLinksError>;
    /// See [`use_cases::link_detail`].
    async fn detail(&self, caller: Caller, code: ShortCode) -> Result<LinkDetail, LinkDetailError>;
    /// See [`use_cases::delete_link`].
    async fn delete(&self, caller: Caller, code: ShortCode) -> Result<(), DeleteLinkError>;
}

/// The use cases bound to one set of driven ports and the operator's rules. Built with named
/// fields, so that a composition reads as what goes where.
#[derive(Debug, Clone)]
pub struct LinkService<R, P, A, G, C, K, L, E> {
    pub repo: R,
    pub publisher: P,
    /// Tells the other replicas when a link changes.
    pub link_events: E,
    pub analytics: A,
    pub codes: G,
    pub clock: C,
    /// The API keys callers present.
    pub keys: K,
    /// Each client's request budgets.
    pub limiter: L,
    pub shorten_rules: ShortenRules,
}

#[async_trait]
impl<R, P, A, G, C, K, L, E> Links for LinkService<R, P, A, G, C, K, L, E>
where
    R: UrlRepo,
    P: ClickPublisher,
    A: AnalyticsQuery,
    G: CodeGenerator,
    C: Clock,
    K: KeyStore,
    L: RateLimiter,
    E: LinkEventPublisher,
{
    async fn authenticate(&self, credential: Option<String>) -> Result<Caller, AuthError> {
        use_cases::authenticate(&self.keys, credential.as_deref()).await
    }

    fn admit(
        &self,
        budget: Budget,
        caller: Caller,
        address: Option<IpAddr>,
    ) -> Result<Option<Allowance>, Throttled> {
        use_cases::admit(&self.limiter, budget, caller, address)
    }

    async fn shorten(&self, caller: Caller, url: LongUrl) -> Result<Link, ShortenError> {
        use_cases::shorten(
            &self.repo,
            &self.codes,
            &self.clock,
            &self.shorten_rules,
            caller,
            url,
        )
        .await
    }

    async fn redirect(&self, code: ShortCode, visit: Visit) -> Result<LongUrl, RedirectError> {
        use_cases::redirect(&self.repo, &self.publisher, &self.clock, code, visit).await
    }

    async fn resolve(&self, code: ShortCode) -> Result<LongUrl, RedirectError> {
        use_cases::resolve(&self.repo, code).await
    }

    async fn list(&self, caller: Caller, query: LinkQuery) -> Result<LinkPage, ListLinksError> {
        use_cases::list_links(&self.repo, caller, &query).await
    }

    async fn detail(&self, caller: Caller, code: ShortCode) -> Result<LinkDetail, LinkDetailError> {
        use_cases::link_detail(&self.repo, &self.analytics, caller, code).await
    }

    async fn delete(&self, caller: Caller, code: ShortCode) -> Result<(), DeleteLinkError> {
        use_cases::delete_link(&self.repo, &self.link_events, caller, code).await
    }
}
