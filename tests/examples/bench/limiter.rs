//! The rate limiter's memory when a flood of distinct clients passes: each run is a child
//! process of its own (`bench limiter CLIENTS`), so that its peak RSS is the limiter's, with
//! url-api's shipped budgets and bound on clients remembered.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::{Duration, Instant};

use adapter_ratelimit::{GovernorLimiter, LimitSettings};
use application::ports::{Budget, Quota, RateLimiter, Spender};

/// url-api's shipped `rate_limits` section.
fn shipped() -> LimitSettings {
    let per_minute = |limit| Quota {
        limit,
        window: Duration::from_secs(60),
    };
    LimitSettings {
        shorten: per_minute(60),
        manage: per_minute(600),
        redirect: per_minute(1200),
        max_spenders: 100_000,
    }
}

/// In the child: `clients` distinct addresses each follow a link once, as fast as they can;
/// prints the spends per second, the clients still remembered, and the peak RSS in KiB.
pub(crate) fn flood(clients: u32) {
    let limiter = GovernorLimiter::new(shipped()).expect("the shipped budgets");
    let started = Instant::now();
    for n in 0..clients {
        let address = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
        let _ = limiter.spend(Budget::Redirect, Spender::Address(address));
    }
    let rate = f64::from(clients) / started.elapsed().as_secs_f64();
    let peak = integration_tests::process::peak_rss_kib(std::process::id());
    println!("{rate} {} {peak}", limiter.spenders());
}

/// What one child measured.
pub(crate) struct Flood {
    pub(crate) spends_per_s: f64,
    pub(crate) remembered: u64,
    pub(crate) peak_rss_kib: u64,
}

pub(crate) fn measure(clients: u32) -> Flood {
    let output = Command::new(std::env::current_exe().expect("this binary"))
        .args(["limiter", &clients.to_string()])
        .output()
        .expect("run the limiter flood");
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    assert_eq!(fields.len(), 3, "limiter flood printed: {text}");
    Flood {
        spends_per_s: fields[0],
        remembered: fields[1] as u64,
        peak_rss_kib: fields[2] as u64,
    }
}
