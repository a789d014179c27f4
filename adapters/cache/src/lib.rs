//! In-process caches in front of driven ports, so that the hot paths (a redirect, a request's
//! authentication) cost no database round trip. No Redis: each process keeps its own, and each
//! says how stale it may be.

mod keys;
mod links;

pub use keys::CachedKeyStore;
pub use links::{CacheSettings, CachedLinks, CachedUrlRepo};
