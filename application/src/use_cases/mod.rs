//! One module per use case: the function that carries it out and the errors it can end in.
//! Each takes the ports it needs as arguments, so its dependencies are visible in its signature.

mod admit;
mod api_keys;
mod click_stats;
mod delete_link;
mod ingest_clicks;
mod link_detail;
mod list_links;
mod redirect;
mod shorten;

pub use admit::admit;
pub use api_keys::{
    AuthError, KeyAdminError, MAX_NAME_CHARS, authenticate, create_key, list_keys, revoke_key,
};
pub use click_stats::{StatsError, click_count, click_stats};
pub use delete_link::{DeleteLinkError, delete_link};
pub use ingest_clicks::{IngestError, IngestReport, RejectedClick, ingest_clicks};
pub use link_detail::{LinkDetail, LinkDetailError, link_detail};
pub use list_links::{ListLinksError, list_links};
pub use redirect::{RedirectError, redirect, resolve};
pub use shorten::{MAX_TRIES, ShortenError, ShortenRules, shorten};
