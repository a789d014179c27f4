//! Resilience, as go-zero has it by default and then some (see
//! ../shared/reference/go-zero-resilience.md for the algorithms and constants ported here).
//!
//! - Algorithms, runtime-free and deterministic under test: [`Breaker`] (Google SRE adaptive
//!   throttling), [`Shedder`] (adaptive CPU load shedding) and the CPU sampler behind it.
//! - Outbound: [`Guard`] (timeout around breaker) and [`Resilient`], one generic decorator that
//!   implements every outbound port over a guarded inner adapter.
//!
//! No server framework is named here: each server adapter builds its own inbound pipeline over
//! [`Shedder`] and [`Breaker`].

mod breaker;
mod clock;
mod cpu;
mod guard;
mod ports;
mod shedder;
mod window;

pub use breaker::{Breaker, BreakerOpen, BreakerTicket};
pub use clock::{ManualClock, Monotonic, MonotonicClock, Random, ThreadRandom};
pub use cpu::{CpuUsage, FixedCpu, ProcCpu};
pub use guard::{Guard, GuardedError, Rejection};
pub use ports::Resilient;
pub use shedder::{Overloaded, ShedTicket, Shedder};
