//! The engines: each routes a guarded request (see [`crate::server::pipeline`]) to
//! [`crate::api::Api::answer`] by the route table, and is nothing but that glue.

pub(crate) mod axum;
pub(crate) mod tide;
mod tide_bridge;
