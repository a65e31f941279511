//! Load generator for `credgate serve`. Loopback only: it refuses any
//! other target. Every loop is bounded in time (`--duration`, at most 600
//! s) and in count (`--max-requests`).
//!
//! ```text
//! loadtest --url http://127.0.0.1:8080 --key $KEY --queries q.csv \
//!     --connections 32 --duration 60 [--rate 20000] \
//!     [--reload-every 10 --admin-key $KEY --publish s.snapshot --snapshot-dir dir]
//! ```

mod report;
mod workload;

use anyhow::Context;
use clap::Parser;
use report::{Outcome, Recorder};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    about = "Load generator for the credgate screening service (loopback only)"
)]
struct Args {
    /// Base URL of the service; must resolve to a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// API key (screen role).
    #[arg(long, env = "CREDGATE_KEY")]
    key: String,
    /// Labelled queries (`credgate gen-queries`); the hit / miss / fuzzy
    /// mix comes from their kinds, reweighted by `--mix`.
    #[arg(long)]
    queries: PathBuf,
    /// Mix weights, e.g. `hit=0.4,fuzzy=0.4,miss=0.2`; the file's own mix
    /// when omitted.
    #[arg(long)]
    mix: Option<String>,
    /// Scenario of every screen.
    #[arg(long, default_value = "government_procurement")]
    scenario: String,
    /// Concurrent connections (closed loop: each sends its next request
    /// when the last one is answered).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds to run (at most 600).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Open loop: requests per second in total, sent on schedule whatever
    /// the answers; latency counts from the scheduled time, so a stalled
    /// server is not hidden (no coordinated omission).
    #[arg(long)]
    rate: Option<u64>,
    /// Requests at most.
    #[arg(long, default_value_t = 50_000_000)]
    max_requests: u64,
    /// Seconds of warm-up before recording.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Ask for a snapshot reload every this many seconds.
    #[arg(long)]
    reload_every: Option<u64>,
    /// API key with the admin role, for reloads.
    #[arg(long)]
    admin_key: Option<String>,
    /// Before each reload, publish this snapshot into `--snapshot-dir` under
    /// a new name (a hard link: instant, no copy), so that each reload
    /// really swaps.
    #[arg(long, requires = "snapshot_dir")]
    publish: Option<PathBuf>,
    #[arg(long)]
    snapshot_dir: Option<PathBuf>,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Refuses anything but loopback targets.
async fn check_loopback(url: &str) -> anyhow::Result<()> {
    let parsed =
        reqwest::Url::parse(url).with_context(|| format!("--url {url}"))?;
    let host = parsed.host_str().context("--url has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("resolving {host}"))?
        .collect();
    anyhow::ensure!(
        !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()),
        "--url {url}: loadtest only targets loopback addresses (127.0.0.0/8, ::1)"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.duration <= 600, "--duration: at most 600 seconds");
    anyhow::ensure!(args.connections >= 1, "--connections: at least 1");
    check_loopback(&args.url).await?;
    let bodies = Arc::new(workload::bodies(
        &args.queries,
        args.mix.as_deref(),
        &args.scenario,
    )?);
    eprintln!(
        "{} request bodies; mix {}",
        bodies.len(),
        workload::describe(&bodies)
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{}/v1/screen", args.url.trim_end_matches('/'));
    let recorder = Arc::new(Recorder::new());
    let started = Instant::now();
    let record_from = started + Duration::from_secs(args.warmup);
    let end = record_from + Duration::from_secs(args.duration);
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));

    let reloader = args.reload_every.map(|every| {
        let admin = args.admin_key.clone().unwrap_or_else(|| args.key.clone());
        let base = args.url.trim_end_matches('/').to_string();
        let (client, recorder, publish, dir) = (
            client.clone(),
            recorder.clone(),
            args.publish.clone(),
            args.snapshot_dir.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0u32;
            while Instant::now() + Duration::from_secs(every) < end {
                tokio::time::sleep(Duration::from_secs(every)).await;
                n += 1;
                if let (Some(src), Some(dir)) = (&publish, &dir) {
                    let name = format!(
                        "loadtest-{}-{n}.snapshot",
                        std::process::id()
                    );
                    if let Err(e) = std::fs::hard_link(src, dir.join(&name)) {
                        eprintln!("publishing {name}: {e}");
                    }
                }
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/admin/v1/snapshots/reload"))
                    .header("X-API-Key", &admin)
                    .timeout(Duration::from_secs(300))
                    .send()
                    .await;
                let status =
                    r.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
                recorder.reload(status, t.elapsed());
            }
        })
    });

    let send = {
        let (client, url, key, bodies) =
            (client.clone(), url.clone(), args.key.clone(), bodies.clone());
        move |i: u64| {
            let (client, url, key) =
                (client.clone(), url.clone(), key.clone());
            let body = bodies[(i as usize) % bodies.len()].clone();
            async move {
                match client
                    .post(&url)
                    .header("X-API-Key", &key)
                    .header("Content-Type", "application/json")
                    .body(body.json)
                    .send()
                    .await
                {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        match r.bytes().await {
                            Ok(_) if status == 200 => Outcome::Ok(body.class),
                            Ok(_) => Outcome::Status(status),
                            Err(e) => Outcome::Transport(report::kind(&e)),
                        }
                    }
                    Err(e) => Outcome::Transport(report::kind(&e)),
                }
            }
        }
    };

    let mut tasks = Vec::new();
    match args.rate {
        None => {
            for c in 0..args.connections {
                let (send, recorder, sent) =
                    (send.clone(), recorder.clone(), sent.clone());
                let max = args.max_requests;
                tasks.push(tokio::spawn(async move {
                    let mut i = c as u64 * 7919;
                    while Instant::now() < end
                        && sent
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                            < max
                    {
                        i += 1;
                        let t = Instant::now();
                        let o = send(i).await;
                        if t >= record_from {
                            recorder.record(o, t.elapsed());
                        }
                    }
                }));
            }
        }
        Some(rate) => {
            anyhow::ensure!(rate > 0, "--rate: above 0");
            // Open loop: at most `connections` requests in flight; a
            // request that cannot start on schedule counts from its
            // scheduled time.
            let slots =
                Arc::new(tokio::sync::Semaphore::new(args.connections));
            let interval = Duration::from_secs_f64(1.0 / rate as f64);
            let mut i = 0u64;
            let mut next = Instant::now();
            while next < end && i < args.max_requests {
                tokio::time::sleep_until(next.into()).await;
                let scheduled = next;
                next += interval;
                i += 1;
                let permit = slots.clone().acquire_owned().await?;
                let (send, recorder) = (send.clone(), recorder.clone());
                tasks.push(tokio::spawn(async move {
                    let o = send(i).await;
                    drop(permit);
                    if scheduled >= record_from {
                        recorder.record(o, scheduled.elapsed());
                    }
                }));
                if tasks.len() > 100_000 {
                    tasks.retain(|t| !t.is_finished());
                }
            }
        }
    }
    for t in tasks {
        t.await?;
    }
    if let Some(r) = reloader {
        r.abort();
    }
    let settings = serde_json::json!({
        "url": args.url, "connections": args.connections, "duration_s": args.duration,
        "rate": args.rate, "mix": args.mix, "scenario": args.scenario,
        "reload_every_s": args.reload_every, "queries": args.queries.display().to_string(),
    });
    let report = recorder.report(args.duration as f64, settings);
    println!("{}", report.text());
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&report.json())?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
