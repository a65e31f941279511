//! Latency of lifecycle transitions over HTTP (issue 10's floor: p99 ≤
//! 10 ms). Starts a server in-process on an ephemeral port over a fresh
//! store, proposes `--entries` entries, then walks each through
//! statement → designate → publish → objection → uphold with `If-Match`,
//! timing every request from send to the end of the body, with
//! `--clients` clients working at once on their own entries.
//!
//!     cargo run --release -p credgate-server --example admin_latency -- \
//!         --entries 1000 --clients 4
//!
//! With `--screen-clients N`, a snapshot of `--snapshot-entries`
//! synthetic entries is served too and N clients screen names from it
//! without pause (or, with `--screen-rate R`, R requests per second
//! between them): alone for `--warm-secs`, then while the admin clients
//! work; screening's percentiles are reported for both windows.
//!
//! The server, the screening clients and the admin clients run on three
//! runtimes of their own: on one shared runtime an admin request waited
//! in the client's task queue behind the screening clients' tasks, and
//! that wait was counted as the server's.

use chrono::{NaiveDate, NaiveTime};
use credgate_screen::TestClock;
use credgate_server::Server;
use credgate_server::config::{AdminConfig, Config};
use credgate_store::{Audit, Department, NewKey, Role, Store};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SCREEN_KEY: &str = "bench-screen-key-0001";

/// Builds a snapshot of `n` synthetic entries into `inbox`; returns
/// names to screen.
fn snapshot(
    dir: &std::path::Path,
    inbox: &std::path::Path,
    n: usize,
) -> Vec<String> {
    use credgate_entries::{EntryWriter, Format};
    let entries: Vec<credgate_model::Entry> =
        credgate_gen::Generator::new(credgate_gen::GenOptions::new(7))
            .take(n)
            .collect();
    let csv = dir.join("entries.csv");
    let mut w =
        EntryWriter::new(std::fs::File::create(&csv).unwrap(), Format::Csv)
            .unwrap();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    std::fs::create_dir_all(inbox).unwrap();
    let opts = credgate_index::BuildOptions::default();
    credgate_index::build(&csv, &inbox.join("bench.snapshot"), &opts, &|_| {})
        .unwrap();
    entries.iter().step_by(37).take(2_000).map(|e| e.name.clone()).collect()
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn report(what: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{what}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
        d.len(),
        pct(&d, 0.50),
        pct(&d, 0.90),
        pct(&d, 0.99),
        d.last().unwrap().as_secs_f64() * 1e3
    );
}

/// A runtime on threads of its own, for one side of the benchmark.
fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

fn main() {
    let server_rt =
        runtime(std::thread::available_parallelism().map_or(2, |n| n.get()));
    let (addr, names, key, _dir) = server_rt.block_on(start_server());
    let screen_clients = arg("--screen-clients", 0);
    let load_rt = runtime(1);
    let admin_rt = runtime(1);
    admin_rt.block_on(run(addr, names, key, screen_clients, &load_rt));
}

async fn start_server()
-> (std::net::SocketAddr, Vec<String>, String, tempfile::TempDir) {
    let screen_clients = arg("--screen-clients", 0);
    let dir = tempfile::tempdir().unwrap();
    let names = if screen_clients > 0 {
        snapshot(
            dir.path(),
            &dir.path().join("snapshots"),
            arg("--snapshot-entries", 100_000),
        )
    } else {
        Vec::new()
    };
    let store = Store::open_dir(dir.path()).await.unwrap();
    let setup = Audit::new(chrono::Utc::now(), "bench", "sc-fgw", "setup");
    store
        .upsert_department(
            &setup,
            &Department {
                code: "sc-fgw".into(),
                name_zh: "四川省发展和改革委员会".into(),
            },
        )
        .await
        .unwrap();
    let key = store
        .create_key(
            &setup,
            &NewKey {
                name: "bench".into(),
                department: "sc-fgw".into(),
                roles: vec![Role::Publisher, Role::Reviewer],
            },
        )
        .await
        .unwrap()
        .secret;
    store.close().await;
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        demo_entries: 0,
        admin: AdminConfig { sweep_interval_minutes: 0, ..Default::default() },
        keys: vec![credgate_server::config::KeyConfig {
            name: "bench-screen".into(),
            sha256: credgate_server::access::hash_key(SCREEN_KEY),
            roles: vec![credgate_server::config::Role::Screen],
            department: None,
            rate_per_second: 1_000_000,
            burst: 1_000_000,
        }],
        ..Config::default()
    };
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let clock = Arc::new(TestClock::at_china(
        today,
        NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
    ));
    let server = Server::start_with_clock(config, clock).await.unwrap();
    let addr = server.addr;
    tokio::spawn(server.run(std::future::pending()));
    (addr, names, key, dir)
}

async fn run(
    addr: std::net::SocketAddr,
    names: Vec<String>,
    key: String,
    screen_clients: usize,
    load_rt: &tokio::runtime::Runtime,
) {
    let entries = arg("--entries", 1000);
    let clients = arg("--clients", 1).max(1);
    let warm = Duration::from_secs(arg("--warm-secs", 10) as u64);
    let screen_rate = arg("--screen-rate", 0);
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let base = format!("http://{addr}/admin/v1/entries");
    let screen_url = format!("http://{addr}/v1/screen");

    // Screening load: (when sent, latency) per request until stopped.
    let stop = Arc::new(AtomicBool::new(false));
    let names = Arc::new(names);
    let mut screeners = Vec::new();
    for s in 0..screen_clients {
        let (stop, names, url) =
            (stop.clone(), names.clone(), screen_url.clone());
        screeners.push(load_rt.spawn(async move {
            let http = reqwest::Client::new();
            let mut samples = Vec::new();
            let mut i = s;
            let mut pace = (screen_rate > 0).then(|| {
                let every = Duration::from_secs_f64(
                    screen_clients as f64 / screen_rate as f64,
                );
                let mut t = tokio::time::interval(every);
                t.set_missed_tick_behavior(
                    tokio::time::MissedTickBehavior::Delay,
                );
                t
            });
            while !stop.load(Ordering::Relaxed) {
                if let Some(p) = &mut pace {
                    p.tick().await;
                }
                let name = &names[i % names.len()];
                i += screen_clients;
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("X-API-Key", SCREEN_KEY)
                    .json(&json!({"name": name, "scenario": "government_procurement"}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let _ = r.bytes().await.unwrap();
                assert_eq!(status, 200);
                samples.push((t, t.elapsed()));
            }
            samples
        }));
    }
    if screen_clients > 0 {
        tokio::time::sleep(warm).await;
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (base, key) = (base.clone(), key.clone());
        let mine = entries / clients + usize::from(c < entries % clients);
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut proposes = Vec::new();
            let mut transitions = Vec::new();
            for n in 0..mine {
                let code = credgate_ident::generate::uscc(
                    "91",
                    510100,
                    &credgate_ident::generate::org_body_ma(
                        (c * 1_000_000 + n) as u64,
                    ),
                )
                .unwrap();
                let t = Instant::now();
                let r = http
                    .post(&base)
                    .header("X-API-Key", &key)
                    .json(&json!({
                        "subject": {"kind": "organisation",
                            "name": format!("成都基准{c}-{n}有限公司"), "code": code},
                        "list": "black", "category": "court_defaulter",
                        "reasons": "拒不履行",
                        "basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
                        "rights": "陈述申辩", "authority": "四川省发展和改革委员会",
                    }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let body: serde_json::Value = r.json().await.unwrap();
                proposes.push(t.elapsed());
                let id = body["entry_id"].as_str().unwrap().to_string();
                let steps = [
                    ("statement", json!({"text": "无", "received_on": today})),
                    ("designate", json!({"decided_on": today,
                        "document_number": "川发改〔2026〕1号", "list": "black",
                        "category": "court_defaulter", "severity": "serious",
                        "scenarios": ["government_procurement"]})),
                    ("publish", json!({})),
                    ("objections", json!({"applicant": "x", "grounds": "y",
                        "received_on": today})),
                    ("uphold", json!({"decision": "异议不成立"})),
                ];
                for (version, (action, body)) in steps.iter().enumerate() {
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/{id}/{action}"))
                        .header("X-API-Key", &key)
                        .header("If-Match", format!("\"{}\"", version + 1))
                        .json(body)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    let _ = r.bytes().await.unwrap();
                    assert_eq!(status, 200, "{action}");
                    transitions.push(t.elapsed());
                }
            }
            (proposes, transitions)
        }));
    }
    let (mut proposes, mut transitions) = (Vec::new(), Vec::new());
    for t in tasks {
        let (p, tr) = t.await.unwrap();
        proposes.extend(p);
        transitions.extend(tr);
    }
    let wall = started.elapsed();
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let (mut alone, mut with_admin) = (Vec::new(), Vec::new());
    for t in screeners {
        for (at, d) in t.await.unwrap() {
            if at < started {
                alone.push(d);
            } else if at < ended {
                with_admin.push(d);
            }
        }
    }
    if screen_clients > 0 {
        report(&format!("screening alone ({screen_clients} clients)"), alone);
        report("screening with admin traffic", with_admin);
    }
    println!(
        "{entries} entries, {clients} clients, {:.1} s, {:.0} requests/s",
        wall.as_secs_f64(),
        (proposes.len() + transitions.len()) as f64 / wall.as_secs_f64()
    );
    report("propose", proposes);
    report("transition", transitions);
}
