//! The benchmark: url-api, analytics-rpc and analytics-consumer (release builds) on a private
//! PostgreSQL and Kafka, driven from other processes over loopback, each figure set beside the
//! limits measured in the same run. One command (see the README):
//!
//!   scripts/bench.sh            the full run (release; about 4 minutes once built)
//!   scripts/bench.sh --smoke    the same scenarios, small and short, to prove the harness works
//!
//! Every load is bounded in time and in count. Nothing here asserts a speed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::panic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

mod cgroup;
mod cpu;
mod embedded;
mod engines;
mod grpc;
mod limiter;
mod limits;
mod pgbench;
mod pipeline;
mod report;
mod seed;
mod wrk;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use integration_tests::metrics::samples;
use integration_tests::nginx::Nginx;
use integration_tests::private::{PrivateKafka, PrivatePostgres};
use integration_tests::process::{self, Log, Service};
use report::{Report, Row};
use sea_orm::DatabaseConnection;
use wrk::{Figures, Load};

/// How big and how long each scenario is.
struct Plan {
    mode: &'static str,
    /// Each load run's length.
    run: Duration,
    warm_links: u64,
    cold_links: u64,
    click_counts: [u64; 3],
    pipeline_events: usize,
    grpc_max_calls: usize,
    /// Distinct clients in the rate limiter's flood.
    limiter_clients: u32,
}

impl Plan {
    fn full() -> Self {
        Self {
            mode: "full",
            run: Duration::from_secs(10),
            warm_links: 10_000,
            cold_links: 1_000_000,
            click_counts: [10_000, 1_000_000, 10_000_000],
            pipeline_events: 200_000,
            grpc_max_calls: 1_000_000,
            limiter_clients: 1_000_000,
        }
    }

    fn smoke() -> Self {
        Self {
            mode: "smoke",
            run: Duration::from_secs(2),
            warm_links: 1_000,
            cold_links: 20_000,
            click_counts: [1_000, 10_000, 100_000],
            pipeline_events: 10_000,
            grpc_max_calls: 20_000,
            limiter_clients: 100_000,
        }
    }
}

const POOL_SIZE: u32 = 16; // url-api's database.max_connections
const GRPC_TURNS: u32 = 5;
/// The shortener's shipped `clicks.batch_size`.
const EMBEDDED_BATCH: usize = 500;

#[async_std::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [serve, framework] = args.as_slice()
        && serve == "serve"
    {
        limits::serve(framework);
        return;
    }
    if let [command, clients] = args.as_slice()
        && command == "limiter"
    {
        limiter::flood(clients.parse().expect("a number of clients"));
        return;
    }
    let plan = if args.iter().any(|a| a == "--smoke") {
        Plan::smoke()
    } else {
        Plan::full()
    };
    let started_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut rows = Vec::new();
    let mut rss = Vec::new();

    step("limits: bare hyper and bare tide answering 302");
    let warm = Load::Redirects {
        prefix: 'w',
        count: plan.warm_links,
    };
    let (hyper, hyper_cpu, tide, tide_cpu, nginx_hyper) = {
        let hyper_server = LimitServer::start("hyper");
        let (hyper, hyper_cpu) = measured(
            &hyper_server.addr,
            &warm,
            plan.run,
            &cpu::Accounts::of(&[("hyper", hyper_server.child.id())]),
        );
        // nginx's default proxying (HTTP/1.0 upstream, a connection per request) costs what it
        // costs: url-api behind nginx is measured against the same nginx before bare hyper.
        let nginx_hyper = {
            let nginx = Nginx::start(hyper_server.addr.parse().expect("an address"));
            wrk::run(&nginx.addr, &warm, plan.run)
        };
        let tide_server = LimitServer::start("tide");
        let (tide, tide_cpu) = measured(
            &tide_server.addr,
            &warm,
            plan.run,
            &cpu::Accounts::of(&[("tide", tide_server.child.id())]),
        );
        rss.push(("limit: hyper".to_owned(), hyper_server.peak_rss_mib()));
        rss.push(("limit: tide".to_owned(), tide_server.peak_rss_mib()));
        (hyper, hyper_cpu, tide, tide_cpu, nginx_hyper)
    };
    rows.push(http_row(
        "limit: bare hyper, 302",
        hyper,
        vec![],
        &hyper_cpu,
    ));
    rows.push(http_row(
        "limit: nginx (default proxy) before bare hyper, 302",
        nginx_hyper,
        vec![(
            "hyper".into(),
            nginx_hyper.requests_per_s / hyper.requests_per_s,
        )],
        "one nginx worker, HTTP/1.0 and a new connection per request upstream",
    ));
    rows.push(http_row(
        "limit: bare tide, 302",
        tide,
        vec![("hyper".into(), tide.requests_per_s / hyper.requests_per_s)],
        &tide_cpu,
    ));

    step("rate limiter: distinct clients flooding the redirect budget");
    let (few, many) = (plan.limiter_clients / 100, plan.limiter_clients);
    let (small, flood) = (limiter::measure(few), limiter::measure(many));
    rows.push(rate_row(
        &format!("rate limiter, {many} distinct clients"),
        flood.spends_per_s,
        "spends/s",
        &format!(
            "{} clients remembered at the end (bound 100000); peak RSS {:.1} MiB, against \
             {:.1} MiB after {few} clients",
            flood.remembered,
            mib(flood.peak_rss_kib),
            mib(small.peak_rss_kib)
        ),
    ));

    step("PostgreSQL and Kafka");
    let pg = PrivatePostgres::start().await;
    let kafka = PrivateKafka::start();
    let db = sea_orm::Database::connect(&pg.url).await.unwrap();
    step(&format!(
        "seeding {} warm and {} cold links",
        plan.warm_links, plan.cold_links
    ));
    seed::links(&db, 'w', plan.warm_links).await;
    seed::links(&db, 'b', plan.cold_links).await;

    step("the three services (release builds)");
    // Declared before the services, so it is dropped (and its cgroups removed) after them.
    let mut cgroups = cgroup::Cgroups::default();
    let rpc = service("analytics-rpc", &pg, &kafka, &[]);
    let rpc_url = format!("http://{}", rpc.addr());
    let mut consumer = service("analytics-consumer", &pg, &kafka, &[]);
    let api = url_api(&pg, &kafka, &rpc_url, "tide");
    let contained = [
        ("url-api", &api),
        ("analytics-rpc", &rpc),
        ("analytics-consumer", &consumer),
    ]
    .into_iter()
    .all(|(name, service)| cgroups.adopt(name, service.pid()));
    if !contained {
        step(
            "could not give every service a cgroup of its own: their shedders see the whole machine",
        );
    }

    step("limits: pgbench's point select and insert on urls, url-api's pool size");
    let point_select = pgbench::tps(
        &pg.url,
        &format!(
            "\\set i random(1, {})\n\
             SELECT short_code, original_url, created_at FROM urls \
             WHERE short_code = 'b' || lpad(:i::text, 7, '0');\n",
            plan.cold_links
        ),
        POOL_SIZE,
        plan.run,
    );
    rows.push(rate_row(
        "limit: pgbench point select on urls",
        point_select,
        "tx/s",
        &format!("{POOL_SIZE} connections, url-api's pool size"),
    ));
    let insert = pgbench::tps(
        &pg.url,
        "\\set i random(1, 2000000000)\n\
         INSERT INTO urls (short_code, original_url) \
         VALUES (substr(md5(random()::text), 1, 8), 'https://example.com/pgbench/' || :i) \
         ON CONFLICT (short_code) DO NOTHING;\n",
        POOL_SIZE,
        plan.run,
    );
    rows.push(rate_row(
        "limit: pgbench insert into urls",
        insert,
        "tx/s",
        &format!("{POOL_SIZE} connections"),
    ));
    let limits = engines::Limits {
        hyper: hyper.requests_per_s,
        tide: tide.requests_per_s,
        postgres: Some((point_select, insert)),
    };
    let loads = |key: String| engines::Loads {
        warm: Load::Redirects {
            prefix: 'w',
            count: plan.warm_links,
        },
        probes: Load::Probes {
            prefix: 'w',
            count: plan.warm_links,
        },
        cold: Load::Redirects {
            prefix: 'b',
            count: plan.cold_links,
        },
        shortens: Load::Shortens { key },
        run: plan.run,
    };
    let stack_loads = loads(seed::api_key(&db).await);

    step(&format!(
        "url-api on tide: {} warm codes, {} cold links, shortens",
        plan.warm_links, plan.cold_links
    ));
    // Where each scenario's CPU went, beside its rate.
    let accounts = cpu::Accounts::of(&[
        ("url-api", api.pid()),
        ("analytics-consumer", consumer.pid()),
    ]);
    let count = || -> BoxFuture<'_, u64> { Box::pin(refusals(&api)) };
    let stack = engines::Target {
        name: "",
        addr: api.addr(),
        accounts: &accounts,
        counted: "refused by the guards",
        count: &count,
        consumer: Some((consumer.pid(), &db)),
    };
    let on_tide = engines::rows(&mut rows, &stack, &stack_loads, &limits, None).await;

    step("redirect, warm, behind nginx with its default proxy settings");
    let (behind_nginx, nginx_cpu) = {
        let nginx = Nginx::start(api.addr().parse().expect("an address"));
        measured(&nginx.addr, &stack_loads.warm, plan.run, &accounts)
    };
    rows.push(http_row(
        "redirect, warm, behind nginx",
        behind_nginx,
        vec![
            (
                "nginx before bare hyper".into(),
                behind_nginx.requests_per_s / nginx_hyper.requests_per_s,
            ),
            (
                "url-api direct".into(),
                behind_nginx.requests_per_s / on_tide.warm.requests_per_s,
            ),
        ],
        &nginx_cpu,
    ));
    settle(&db).await;

    step("url-api on axum: the same loads, the same services behind it");
    rss.push(("url-api (tide)".into(), mib(api.peak_rss_kib())));
    api.terminate();
    let api = url_api(&pg, &kafka, &rpc_url, "axum");
    cgroups.adopt("url-api-axum", api.pid());
    let accounts = cpu::Accounts::of(&[
        ("url-api", api.pid()),
        ("analytics-consumer", consumer.pid()),
    ]);
    let count = || -> BoxFuture<'_, u64> { Box::pin(refusals(&api)) };
    let stack = engines::Target {
        name: "axum: ",
        addr: api.addr(),
        accounts: &accounts,
        counted: "refused by the guards",
        count: &count,
        consumer: Some((consumer.pid(), &db)),
    };
    engines::rows(
        &mut rows,
        &stack,
        &stack_loads,
        &limits,
        Some(("tide", &on_tide)),
    )
    .await;
    settle(&db).await;

    step("GetClickCount at three sizes, measured in turns");
    // One link per size, all seeded before any is measured, then measured in turns: whatever
    // the machine does meanwhile (PostgreSQL catching up on the bulk load, a neighbour) falls
    // on every size alike instead of on the last one measured.
    let codes: Vec<String> = (1..=plan.click_counts.len())
        .map(|i| format!("g{i:07}"))
        .collect();
    for (code, &count) in codes.iter().zip(&plan.click_counts) {
        seed::clicks(&db, code, 0, count).await;
    }
    let turn = |i: usize| {
        grpc::get_click_count(
            rpc.addr(),
            &codes[i],
            plan.click_counts[i],
            plan.run / GRPC_TURNS,
            plan.grpc_max_calls / GRPC_TURNS as usize,
        )
    };
    // A first turn, not counted: the first calls open analytics-rpc's database connections
    // (a 40 ms p99 on whichever size came first).
    for i in 0..codes.len() {
        turn(i).await;
    }
    let mut calls = vec![grpc::Calls::default(); codes.len()];
    for _ in 0..GRPC_TURNS {
        for (i, calls) in calls.iter_mut().enumerate() {
            calls.extend(turn(i).await);
        }
    }
    let latencies: Vec<grpc::Latency> = calls.iter().map(grpc::Calls::latency).collect();
    for (i, (latency, &count)) in latencies.iter().zip(&plan.click_counts).enumerate() {
        let mut row = Row {
            scenario: format!("GetClickCount at {count} clicks"),
            rate: Some(latency.calls_per_s),
            unit: "calls/s",
            p50_ms: latency.p50_ms,
            p99_ms: latency.p99_ms,
            note: format!(
                "{} calls from 16 callers in {GRPC_TURNS} turns, {} refused",
                latency.calls, latency.refused
            ),
            ..Row::default()
        };
        if let (Some(first), Some(now), true) = (latencies[0].p99_ms, latency.p99_ms, i > 0) {
            row.ratios
                .push((format!("p99 at {}", plan.click_counts[0]), now / first));
        }
        rows.push(row);
    }

    step("click pipeline: the consumer stopped, a backlog published, the consumer restarted");
    settle(&db).await;
    rss.push((
        "analytics-consumer (redirect load)".into(),
        mib(consumer.peak_rss_kib()),
    ));
    consumer.terminate();
    let before = seed::counted(&db).await;
    pipeline::publish(&kafka.brokers, "click-events", plan.pipeline_events);
    let raw = pipeline::raw_consume(&kafka.brokers, "click-events", plan.pipeline_events).await;
    consumer = service("analytics-consumer", &pg, &kafka, &[]);
    cgroups.adopt("analytics-consumer", consumer.pid());
    let ingest = ingest_rate(&db, before, plan.pipeline_events).await;
    rows.push(rate_row(
        "limit: raw consume of the topic",
        raw,
        "events/s",
        "a bare rdkafka consumer: no decoding, no database",
    ));
    let mut pipeline_row = rate_row(
        &format!("click pipeline ({} events)", plan.pipeline_events),
        ingest,
        "events/s",
        "Kafka to durable, counted rows, by analytics-consumer",
    );
    pipeline_row
        .ratios
        .push(("raw consume".into(), ingest / raw));
    rows.push(pipeline_row);

    rss.push(("url-api (axum)".into(), mib(api.peak_rss_kib())));
    rss.push(("analytics-rpc".into(), mib(rpc.peak_rss_kib())));
    rss.push((
        "analytics-consumer (pipeline)".into(),
        mib(consumer.peak_rss_kib()),
    ));

    step("the embedded shortener on a SQLite file; the stack stopped");
    for service in [api, rpc, consumer] {
        service.terminate();
    }
    let shortener = embedded::Embedded::start(plan.warm_links, plan.cold_links).await;
    let embedded_loads = loads(shortener.key.clone());
    let limits = engines::Limits {
        postgres: None,
        ..limits
    };
    let accounts = cpu::Accounts::of(&[("shortener", shortener.service.pid())]);
    let count = || -> BoxFuture<'_, u64> { Box::pin(shortener.dropped_clicks()) };
    let target = engines::Target {
        name: "embedded: ",
        addr: shortener.service.addr(),
        accounts: &accounts,
        counted: "clicks dropped by a full queue",
        count: &count,
        consumer: None,
    };
    let embedded_on_tide = engines::rows(
        &mut rows,
        &target,
        &embedded_loads,
        &limits,
        Some(("the stack", &on_tide)),
    )
    .await;
    rss.push((
        "shortener (tide)".into(),
        mib(shortener.service.peak_rss_kib()),
    ));

    step("the embedded shortener on axum, on the same file");
    let shortener = shortener.restart_on("axum");
    let accounts = cpu::Accounts::of(&[("shortener", shortener.service.pid())]);
    let count = || -> BoxFuture<'_, u64> { Box::pin(shortener.dropped_clicks()) };
    let target = engines::Target {
        name: "embedded on axum: ",
        addr: shortener.service.addr(),
        accounts: &accounts,
        counted: "clicks dropped by a full queue",
        count: &count,
        consumer: None,
    };
    engines::rows(
        &mut rows,
        &target,
        &embedded_loads,
        &limits,
        Some(("tide", &embedded_on_tide)),
    )
    .await;
    rss.push((
        "shortener (axum)".into(),
        mib(shortener.service.peak_rss_kib()),
    ));
    let embedded_ingest = shortener
        .ingest_rate(plan.pipeline_events, EMBEDDED_BATCH)
        .await;
    let mut embedded_ingest_row = rate_row(
        &format!(
            "embedded: clicks into SQLite ({} events)",
            plan.pipeline_events
        ),
        embedded_ingest,
        "events/s",
        &format!(
            "ingest_clicks in batches of {EMBEDDED_BATCH} (clicks.batch_size) into a file of \
             its own, in this process"
        ),
    );
    embedded_ingest_row
        .ratios
        .push(("the stack's pipeline".into(), embedded_ingest / ingest));
    rows.push(embedded_ingest_row);

    let report = Report {
        contained,
        mode: plan.mode,
        machine: report::machine(),
        started_at,
        rows,
        peak_rss_mib: rss,
    };
    let results = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .canonicalize()
        .expect("the repository")
        .join("results");
    let saved = report.save(&results);
    println!("\n{}", report.markdown());
    println!("saved: {}", saved.display());
}

/// Requests url-api's guards and breakers refused so far (shed, over max conns, or dropped by
/// a breaker), from its own /metrics: part of what a scenario measured.
async fn refusals(api: &Service) -> u64 {
    let url = format!("http://{}/metrics", api.dev_addr());
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let total = |name, labels: &[(&str, &str)]| samples(&text, name, labels).sum::<f64>();
    (total("load_shedding_dropped_total", &[])
        + total("max_conns_rejected_total", &[])
        + total("breaker_requests_total", &[("outcome", "dropped")])) as u64
}

fn signal(pid: u32, name: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{name} {pid}");
}

/// A wrk run, and where the CPU went while it ran (see [`cpu`]).
fn measured(addr: &str, load: &Load, run: Duration, accounts: &cpu::Accounts) -> (Figures, String) {
    let before = accounts.snapshot();
    let figures = wrk::run(addr, load, run);
    let requests = figures.requests_per_s * run.as_secs_f64();
    (figures, accounts.per_request(&before, requests))
}

fn step(what: &str) {
    eprintln!("bench: {what}");
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn http_row(scenario: &str, f: Figures, ratios: Vec<(String, f64)>, note: &str) -> Row {
    let errors = if f.errors > 0 {
        format!("{} errors or non-2xx/3xx; ", f.errors)
    } else {
        String::new()
    };
    Row {
        scenario: scenario.to_owned(),
        rate: Some(f.requests_per_s),
        unit: "req/s",
        p50_ms: Some(f.p50_ms),
        p99_ms: Some(f.p99_ms),
        p999_ms: Some(f.p999_ms),
        ratios,
        note: format!("{errors}{note}"),
    }
}

fn rate_row(scenario: &str, rate: f64, unit: &'static str, note: &str) -> Row {
    Row {
        scenario: scenario.to_owned(),
        rate: Some(rate),
        unit,
        note: note.to_owned(),
        ..Row::default()
    }
}

/// url-api on `engine`, with rate limits off: wrk is one client asking as fast as it can (the
/// limiter is measured on its own).
fn url_api(pg: &PrivatePostgres, kafka: &PrivateKafka, rpc_url: &str, engine: &str) -> Service {
    service(
        "url-api",
        pg,
        kafka,
        &[
            ("ANALYTICS_RPC_URL", rpc_url.to_owned()),
            ("RATE_LIMITS_ENABLED", "false".to_owned()),
            ("HTTP_ENGINE", engine.to_owned()),
        ],
    )
}

/// A service binary built beside this one, on the private servers, with its shipped
/// configuration; its log (access lines included, as deployed) is read and dropped.
fn service(
    binary: &str,
    pg: &PrivatePostgres,
    kafka: &PrivateKafka,
    extra: &[(&str, String)],
) -> Service {
    let config = format!(
        "{}/../bootstrap/etc/{binary}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut vars = vec![
        ("DATABASE_URL", pg.url.clone()),
        ("KAFKA_BROKERS", kafka.brokers.clone()),
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
        ("DEV_ADDR", "127.0.0.1:0".to_owned()),
    ];
    vars.extend(extra.iter().cloned());
    Service::start_with(binary, &config, &vars, Log::Discard)
}

/// Waits (at most two minutes) until the consumer has stored every click it was sent: the
/// count stops moving.
async fn settle(db: &DatabaseConnection) {
    let mut last = -1;
    for _ in 0..120 {
        let now = seed::counted(db).await;
        if now == last {
            return;
        }
        last = now;
        async_std::task::sleep(Duration::from_secs(1)).await;
    }
}

/// Events per second from the first newly stored click until all `events` are stored (at most
/// ten minutes).
async fn ingest_rate(db: &DatabaseConnection, before: i64, events: usize) -> f64 {
    let target = before + events as i64;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<(Instant, i64)> = None;
    loop {
        let now = seed::counted(db).await;
        if first.is_none() && now > before {
            first = Some((Instant::now(), now));
        }
        if now >= target {
            let (started, at_start) = first.expect("a first stored click");
            // Timed from the first stored batch, so that joining the group isn't counted; that
            // batch's own events are left out with its time.
            return (now - at_start).max(1) as f64 / started.elapsed().as_secs_f64().max(1e-3);
        }
        assert!(
            Instant::now() < deadline,
            "the consumer stored {} of {events} events in ten minutes",
            now - before
        );
        async_std::task::sleep(Duration::from_millis(20)).await;
    }
}

/// One of the limit servers, a child process of this binary (`bench serve ...`).
struct LimitServer {
    child: Child,
    addr: String,
}

impl LimitServer {
    fn start(framework: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["serve", framework])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a limit server");
        let mut addr = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut addr)
            .expect("its address");
        Self {
            child,
            addr: addr.trim().to_owned(),
        }
    }

    fn peak_rss_mib(&self) -> f64 {
        mib(process::peak_rss_kib(self.child.id()))
    }
}

impl Drop for LimitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
