//! Resilience, as go-zero has it by default and then some (see
//! ../shared/reference/go-zero-resilience.md for the algorithms and constants ported here).
//!
//! - Algorithms, runtime-free and deterministic under test: [`Breaker`] (Google SRE adaptive
//!   throttling), [`Shedder`] (adaptive CPU load shedding) and the CPU sampler behind it.
//! - Outbound: [`Guard`] (timeout around breaker) and [`Resilient`], one generic decorator that
//!   implements every outbound port over a guarded inner adapter.
//!
//! - Inbound: [`inbound`], the guards as tower layers (max conns, shedding, timeout, panic
//!   recovery), shared by every tower-driven server; each server says how it refuses.
//!
//! No server framework is named here: tower's two traits are the whole interface.

mod breaker;
mod clock;
mod cpu;
mod guard;
pub mod inbound;
mod ports;
mod shedder;
mod window;

pub use breaker::{Breaker, BreakerOpen, BreakerTicket};
pub use clock::{ManualClock, Monotonic, MonotonicClock, Random, ThreadRandom};
pub use cpu::{CpuUsage, FixedCpu, ProcCpu};
pub use guard::{Guard, GuardedError, Rejection};
pub use ports::Resilient;
pub use shedder::{Overloaded, ShedTicket, Shedder};
