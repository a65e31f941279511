//! Latency of lifecycle transitions over HTTP (issue 10's floor: p99 ≤
//! 10 ms). Starts a server in-process on an ephemeral port over a fresh
//! store, proposes `--entries` entries, then walks each through
//! statement → designate → publish → objection → uphold with `If-Match`,
//! timing every request from send to the end of the body, with
//! `--clients` clients working at once on their own entries.
//!
//!     cargo run --release -p credgate-server --example admin_latency -- \
//!         --entries 1000 --clients 4

use chrono::{NaiveDate, NaiveTime};
use credgate_screen::TestClock;
use credgate_server::Server;
use credgate_server::config::{AdminConfig, Config};
use credgate_store::{Audit, Department, NewKey, Role, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

#[tokio::main]
async fn main() {
    let entries = arg("--entries", 1000);
    let clients = arg("--clients", 1).max(1);
    let dir = tempfile::tempdir().unwrap();
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
        ..Config::default()
    };
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let clock = Arc::new(TestClock::at_china(
        today,
        NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
    ));
    let server = Server::start_with_clock(config, clock).await.unwrap();
    let base = format!("http://{}/admin/v1/entries", server.addr);
    tokio::spawn(server.run(std::future::pending()));

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
    println!(
        "{entries} entries, {clients} clients, {:.1} s, {:.0} requests/s",
        wall.as_secs_f64(),
        (proposes.len() + transitions.len()) as f64 / wall.as_secs_f64()
    );
    report("propose", proposes);
    report("transition", transitions);
}
