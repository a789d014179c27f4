use async_trait::async_trait;
use domain::{Link, LinkQuery, LongUrl, ShortCode, UrlPolicy, Visit};

use crate::ports::{AnalyticsQuery, ClickPublisher, Clock, CodeGenerator, LinkPage, UrlRepo};
use crate::use_cases::{
    self, DeleteLinkError, LinkDetail, LinkDetailError, ListLinksError, RedirectError, ShortenError,
};

/// The driving port: everything the outside world can ask of the link service. Inbound adapters
/// hold an `Arc<dyn Links>`, so they stay free of the driven ports' types.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Links: Send + Sync + 'static {
    /// See [`use_cases::shorten`].
    async fn shorten(&self, url: LongUrl) -> Result<Link, ShortenError>;
    /// See [`use_cases::redirect`].
    async fn redirect(&self, code: ShortCode, visit: Visit) -> Result<LongUrl, RedirectError>;
    /// See [`use_cases::resolve`].
    async fn resolve(&self, code: ShortCode) -> Result<LongUrl, RedirectError>;
    /// See [`use_cases::list_links`].
    async fn list(&self, query: LinkQuery) -> Result<LinkPage, ListLinksError>;
    /// See [`use_cases::link_detail`].
    async fn detail(&self, code: ShortCode) -> Result<LinkDetail, LinkDetailError>;
    /// See [`use_cases::delete_link`].
    async fn delete(&self, code: ShortCode) -> Result<(), DeleteLinkError>;
}

/// The use cases bound to one set of driven ports and the operator's policies. Built with
/// named fields, so that a composition reads as what goes where.
#[derive(Debug, Clone)]
pub struct LinkService<R, P, A, G, C> {
    pub repo: R,
    pub publisher: P,
    pub analytics: A,
    pub codes: G,
    pub clock: C,
    /// Which targets a link may have.
    pub url_policy: UrlPolicy,
}

#[async_trait]
impl<R, P, A, G, C> Links for LinkService<R, P, A, G, C>
where
    R: UrlRepo,
    P: ClickPublisher,
    A: AnalyticsQuery,
    G: CodeGenerator,
    C: Clock,
{
    async fn shorten(&self, url: LongUrl) -> Result<Link, ShortenError> {
        use_cases::shorten(&self.repo, &self.codes, &self.clock, &self.url_policy, url).await
    }

    async fn redirect(&self, code: ShortCode, visit: Visit) -> Result<LongUrl, RedirectError> {
        use_cases::redirect(&self.repo, &self.publisher, &self.clock, code, visit).await
    }

    async fn resolve(&self, code: ShortCode) -> Result<LongUrl, RedirectError> {
        use_cases::resolve(&self.repo, code).await
    }

    async fn list(&self, query: LinkQuery) -> Result<LinkPage, ListLinksError> {
        use_cases::list_links(&self.repo, &query).await
    }

    async fn detail(&self, code: ShortCode) -> Result<LinkDetail, LinkDetailError> {
        use_cases::link_detail(&self.repo, &self.analytics, code).await
    }

    async fn delete(&self, code: ShortCode) -> Result<(), DeleteLinkError> {
        use_cases::delete_link(&self.repo, code).await
    }
}
