//! gRPC, through tonic: the `analytics.v1.Analytics` server (with grpc.health.v1 and reflection)
//! over the `ClickAnalytics` driving port, and `GrpcAnalytics`, the `AnalyticsQuery` url-api
//! uses to ask it.

mod client;
mod guards;
mod methods;
mod metrics;
mod server;
mod token;
mod well_formed;

pub use client::{ClientConfig, GrpcAnalytics, counts_as_failure};
pub use methods::own_methods;
pub use server::{CallLimits, Callers, serve};
pub use token::RpcToken;

/// The generated protocol types.
#[allow(unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("analytics.v1");

    /// The encoded descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/analytics_descriptor.bin"));
}
