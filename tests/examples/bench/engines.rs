//! The HTTP rows, the same for every engine and composition: warm redirects (and, for the
//! stack, with the consumer paused), HEAD without a click, cold redirects and shortens against
//! one server, each beside the limits and beside the figures they are compared with.

use std::time::Duration;

use crate::report::Row;
use crate::wrk::{self, Figures, Load};
use crate::{cpu, http_row, measured, settle, signal};

/// The loads, the same for every server.
pub(crate) struct Loads {
    pub(crate) warm: Load,
    pub(crate) probes: Load,
    pub(crate) cold: Load,
    pub(crate) shortens: Load,
    pub(crate) run: Duration,
}

/// This machine's limits, measured in the same run.
pub(crate) struct Limits {
    pub(crate) hyper: f64,
    pub(crate) tide: f64,
    /// pgbench's point select and insert: the stack's limits, not the embedded file's.
    pub(crate) postgres: Option<(f64, f64)>,
}

/// The server measured: where it listens, whose CPU to account, and what it refuses or drops.
pub(crate) struct Target<'a> {
    /// The rows' prefix, as "axum: " (empty for the stack on tide, as in earlier reports).
    pub(crate) name: &'a str,
    pub(crate) addr: &'a str,
    pub(crate) accounts: &'a cpu::Accounts,
    /// What the notes count, and how: the guards' refusals or the clicks a full queue dropped.
    pub(crate) counted: &'a str,
    pub(crate) count: &'a dyn Fn() -> futures::future::BoxFuture<'a, u64>,
    /// The stack's consumer, paused for one more warm run, and the database to settle.
    pub(crate) consumer: Option<(u32, &'a sea_orm::DatabaseConnection)>,
}

/// One server's figures, for the rows of the next to be compared with.
#[derive(Clone, Copy)]
pub(crate) struct EngineFigures {
    pub(crate) warm: Figures,
    pub(crate) paused: Option<Figures>,
    pub(crate) probe: Figures,
    pub(crate) cold: Figures,
    pub(crate) shorten: Figures,
}

/// Measures `target` under each load, pushing a row each; `versus` names the figures each row
/// is compared with.
pub(crate) async fn rows(
    rows: &mut Vec<Row>,
    target: &Target<'_>,
    loads: &Loads,
    limits: &Limits,
    versus: Option<(&str, &EngineFigures)>,
) -> EngineFigures {
    let ratio = |f: &Figures, of: Option<Figures>| {
        versus
            .zip(of)
            .map(|((name, _), of)| (name.to_owned(), f.requests_per_s / of.requests_per_s))
    };
    let run = |load: &'static str| format!("{}{load}", target.name);
    let measure = |load: &Load| measured(target.addr, load, loads.run, target.accounts);

    // Primes the cache (and the connection pools) first.
    let _prime = wrk::run(target.addr, &loads.warm, loads.run);
    let before = (target.count)().await;
    let (warm, cpu) = measure(&loads.warm);
    let counted = (target.count)().await - before;
    let mut ratios = vec![
        ("bare hyper".into(), warm.requests_per_s / limits.hyper),
        ("bare tide".into(), warm.requests_per_s / limits.tide),
    ];
    ratios.extend(ratio(&warm, versus.map(|(_, v)| v.warm)));
    rows.push(http_row(
        &run("redirect, warm"),
        warm,
        ratios,
        &format!("{counted} {}; {cpu}", target.counted),
    ));

    let paused = match target.consumer {
        Some((consumer, db)) => {
            // On two shared cores the click pipeline behind each redirect (the broker taking
            // it, the consumer and PostgreSQL storing it) competes with url-api; paused, the
            // clicks wait in the topic and are stored once it resumes, and what is left is
            // url-api's own cost.
            signal(consumer, "STOP");
            let (paused, cpu) = measure(&loads.warm);
            signal(consumer, "CONT");
            let mut ratios = vec![("bare hyper".into(), paused.requests_per_s / limits.hyper)];
            ratios.extend(ratio(&paused, versus.and_then(|(_, v)| v.paused)));
            rows.push(http_row(
                &run("redirect, warm, analytics-consumer paused"),
                paused,
                ratios,
                &format!("clicks still published to Kafka; {cpu}"),
            ));
            settle(db).await;
            Some(paused)
        }
        None => None,
    };

    let (probe, cpu) = measure(&loads.probes);
    let mut ratios = vec![("bare hyper".into(), probe.requests_per_s / limits.hyper)];
    ratios.extend(ratio(&probe, versus.map(|(_, v)| v.probe)));
    rows.push(http_row(
        &run("HEAD, warm: the redirect's answer, no click"),
        probe,
        ratios,
        &format!("the HTTP side without the click pipeline; {cpu}"),
    ));

    let before = (target.count)().await;
    let (cold, cpu) = measure(&loads.cold);
    let counted = (target.count)().await - before;
    let mut ratios = Vec::new();
    if let Some((point_select, _)) = limits.postgres {
        ratios.push((
            "pgbench point select".into(),
            cold.requests_per_s / point_select,
        ));
    }
    ratios.extend(ratio(&cold, versus.map(|(_, v)| v.cold)));
    rows.push(http_row(
        &run("redirect, cold"),
        cold,
        ratios,
        &format!("{counted} {}; {cpu}", target.counted),
    ));

    let (shorten, cpu) = measure(&loads.shortens);
    let mut ratios = Vec::new();
    if let Some((_, insert)) = limits.postgres {
        ratios.push(("pgbench insert".into(), shorten.requests_per_s / insert));
    }
    ratios.extend(ratio(&shorten, versus.map(|(_, v)| v.shorten)));
    rows.push(http_row(&run("shorten"), shorten, ratios, &cpu));

    EngineFigures {
        warm,
        paused,
        probe,
        cold,
        shorten,
    }
}
