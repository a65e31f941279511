//! Load generator for `credgate serve`. Loopback only: it refuses any
//! other target. Every loop is bounded in time (`--duration`, at most 600
//! s) and in count (`--max-requests`).
//!
//! ```text
//! loadtest --url http://127.0.0.1:8080 --key $KEY --queries q.csv \
//!     --connections 32 --duration 60 [--rate 20000] \
//!     [--reload-every 10 --admin-key $KEY --publish s.snapshot --snapshot-dir dir
//!      [--stage-copies | --move-published]]
//! ```

mod http;
mod publish;
mod report;
mod workload;

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use http::{Connection, Target, screen};
use report::Recorder;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    #[arg(long)]
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
    /// Before each reload, publish one of these snapshots (in turn) into
    /// `--snapshot-dir` under a new name (a hard link: instant, no copy,
    /// but the service copies a linked file in). The service swaps only to
    /// a snapshot built later than the live one: give files from separate
    /// builds, or the reloads take the files in without swapping.
    #[arg(long, num_args = 1.., requires = "snapshot_dir")]
    publish: Vec<PathBuf>,
    #[arg(long)]
    snapshot_dir: Option<PathBuf>,
    /// Copy `--publish` once per planned reload before the load starts
    /// (into `loadtest-staging` beside `--snapshot-dir`) and rename a copy
    /// in at each reload, as a real publisher does: the service then takes
    /// the file by rename, not by copy. Needs disk for every copy.
    #[arg(long, conflicts_with = "move_published")]
    stage_copies: bool,
    /// Rename the `--publish` files themselves into the inbox, one per
    /// reload, in turn: as a publisher that wrote each snapshot and
    /// renames it in. The page cache then holds each as the writer left
    /// it; no copy is made. The files are used up (the service takes
    /// them; a benchmark script's throwaway service directory is deleted
    /// with them). Needs a file per planned reload, each with one name,
    /// on the inbox's filesystem.
    #[arg(long)]
    move_published: bool,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Refuses anything but loopback targets.
fn check_loopback(t: &Target) -> anyhow::Result<()> {
    anyhow::ensure!(
        t.addr.ip().is_loopback(),
        "--url: {} is not loopback; loadtest only targets 127.0.0.0/8 and ::1",
        t.addr
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.duration <= 600, "--duration: at most 600 seconds");
    anyhow::ensure!(args.connections >= 1, "--connections: at least 1");
    let target = Target::parse(&args.url)?;
    check_loopback(&target)?;
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
    anyhow::ensure!(
        !(args.stage_copies || args.move_published)
            || !args.publish.is_empty(),
        "--stage-copies and --move-published: need --publish"
    );
    let publisher = match (args.publish.is_empty(), &args.snapshot_dir) {
        (false, Some(dir)) => {
            let reloads = args
                .reload_every
                .map_or(0, |every| (args.warmup + args.duration) / every);
            Some(Arc::new(publish::Publisher::new(
                &args.publish,
                dir,
                if args.stage_copies {
                    publish::Mode::Stage
                } else if args.move_published {
                    publish::Mode::Move
                } else {
                    publish::Mode::HardLink
                },
                reloads,
            )?))
        }
        _ => None,
    };
    let recorder = Arc::new(Recorder::new());
    let started = Instant::now();
    let record_from = started + Duration::from_secs(args.warmup);
    let end = record_from + Duration::from_secs(args.duration);
    let sent = Arc::new(AtomicU64::new(0));

    let reloader = args.reload_every.map(|every| {
        let admin = args.admin_key.clone().unwrap_or_else(|| args.key.clone());
        let (target, recorder) = (target.clone(), recorder.clone());
        let publisher = publisher.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() + Duration::from_secs(every) < end {
                tokio::time::sleep(Duration::from_secs(every)).await;
                n += 1;
                if let Some(p) = &publisher
                    && let Err(e) = p.publish(n)
                {
                    eprintln!("publishing {n}: {e:#}");
                }
                let t = Instant::now();
                let status = match Connection::open(&target).await {
                    Ok(mut c) => c
                        .post(
                            "/admin/v1/snapshots/reload",
                            &admin,
                            Bytes::new(),
                        )
                        .await
                        .map(|(s, _)| s)
                        .unwrap_or(0),
                    Err(_) => 0,
                };
                recorder.reload(status, t.elapsed());
            }
        })
    });

    let mut tasks = Vec::new();
    match args.rate {
        None => {
            for c in 0..args.connections {
                let (recorder, sent) = (recorder.clone(), sent.clone());
                let (target, key) = (target.clone(), args.key.clone());
                let bodies = bodies.clone();
                let max = args.max_requests;
                tasks.push(tokio::spawn(async move {
                    let mut i = c * 7919;
                    let mut conn = None;
                    while Instant::now() < end
                        && sent.fetch_add(1, Ordering::Relaxed) < max
                    {
                        i += 1;
                        let t = Instant::now();
                        let body = &bodies[i % bodies.len()];
                        let o = screen(&target, &mut conn, &key, body).await;
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
            // scheduled time. Idle connections are reused by whichever
            // request starts next.
            let pool: Arc<Mutex<Vec<Connection>>> = Arc::default();
            let slots =
                Arc::new(tokio::sync::Semaphore::new(args.connections));
            let interval = Duration::from_secs_f64(1.0 / rate as f64);
            let mut i = 0usize;
            let mut next = Instant::now();
            while next < end && (i as u64) < args.max_requests {
                tokio::time::sleep_until(next.into()).await;
                let scheduled = next;
                next += interval;
                i += 1;
                let permit = slots.clone().acquire_owned().await?;
                let (recorder, pool) = (recorder.clone(), pool.clone());
                let (target, key) = (target.clone(), args.key.clone());
                let bodies = bodies.clone();
                tasks.push(tokio::spawn(async move {
                    let mut conn = pool.lock().expect("pool").pop();
                    let body = &bodies[i % bodies.len()];
                    let o = screen(&target, &mut conn, &key, body).await;
                    if let Some(c) = conn {
                        pool.lock().expect("pool").push(c);
                    }
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
    if let Some(p) = &publisher {
        p.clean_up();
    }
    let settings = serde_json::json!({
        "url": args.url,
        "connections": args.connections,
        "duration_s": args.duration,
        "rate": args.rate,
        "mix": args.mix,
        "scenario": args.scenario,
        "reload_every_s": args.reload_every,
        "queries": args.queries.display().to_string(),
    });
    let report = recorder.report(args.duration as f64, settings);
    println!("{}", report.text());
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(report.json())?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
