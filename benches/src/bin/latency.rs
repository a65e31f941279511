//! Per-query screening latency, in process, on one thread: p50, p90, p99,
//! p99.9 and max per query kind of a labelled query file
//! (`credgate gen-queries`). Criterion reports means; tail targets need
//! the distribution.
//!
//! ```text
//! cargo run --release -p credgate-benches --bin latency -- \
//!     --snapshot s10m.snapshot --queries q10m.csv
//! ```

use clap::Parser;
use credgate_gen::queries;
use credgate_index::{Residence, Snapshot};
use credgate_screen::{Catalogue, Query, Screener};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

// The allocator of the `credgate` binary, so the figures compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long)]
    snapshot: PathBuf,
    /// Labelled queries from `credgate gen-queries`.
    #[arg(long)]
    queries: PathBuf,
    /// Scenario of every screen.
    #[arg(long, default_value = "government_procurement")]
    scenario: String,
    /// Passes over the query file; the first also warms the page cache.
    #[arg(long, default_value_t = 3)]
    passes: u32,
    /// Also list the N slowest queries of the last pass (id, kind, µs,
    /// name), to find what sets the tail.
    #[arg(long, default_value_t = 0)]
    slowest: usize,
    /// Where the snapshot's bytes live: `mapped` (the service's default)
    /// or `memory` (read whole into huge-page memory:
    /// `snapshot_residence = "memory"`).
    #[arg(long, value_enum, default_value_t = ResidenceArg::Mapped)]
    residence: ResidenceArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ResidenceArg {
    Mapped,
    Memory,
}

fn histogram() -> Histogram<u64> {
    // Up to 10 s: on a shared machine a preempted query took over the
    // former 60 ms bound and ended the run with an error.
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("histogram bounds")
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let residence = match args.residence {
        ResidenceArg::Memory => Residence::Memory,
        ResidenceArg::Mapped => Residence::Mapped,
    };
    let snap = Arc::new(Snapshot::open_in(&args.snapshot, residence)?);
    // As the server does before serving: afterwards records are read
    // without re-validating their strings.
    snap.verify()?;
    let qs = queries::read_csv(&args.queries)?;
    let screener = Screener::new(snap.clone(), Arc::new(Catalogue::builtin()));
    let scenario = Some(args.scenario.as_str());
    // The service takes the date per request, outside the screening call.
    let today = credgate_screen::Clock::today(&credgate_screen::SystemClock);
    let mut by_kind: BTreeMap<&str, Histogram<u64>> = BTreeMap::new();
    let mut all = histogram();
    let mut last_pass: Vec<(u64, usize)> = Vec::new();
    for pass in 0..args.passes {
        for (i, q) in qs.iter().enumerate() {
            let query = Query {
                code: (!q.code.is_empty()).then(|| q.code.clone()),
                name: (!q.name.is_empty()).then(|| q.name.clone()),
                include_related: true,
                ..Default::default()
            };
            let t = Instant::now();
            let out = screener.screen(&query, scenario, today);
            let ns = t.elapsed().as_nanos() as u64;
            std::hint::black_box(out.ok());
            if pass == 0 && args.passes > 1 {
                continue;
            }
            if pass + 1 == args.passes && args.slowest > 0 {
                last_pass.push((ns, i));
            }
            // Anything past the bound counts at the bound.
            by_kind
                .entry(q.kind)
                .or_insert_with(histogram)
                .saturating_record(ns);
            all.saturating_record(ns);
        }
    }
    println!(
        "{} entries, {} queries x {} timed passes, one thread, µs",
        snap.len(),
        qs.len(),
        args.passes.saturating_sub(1).max(1)
    );
    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "kind", "n", "mean", "p50", "p90", "p99", "p99.9", "max"
    );
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
    for (kind, h) in by_kind.iter().chain([(&"all", &all)]) {
        println!(
            "{:<20} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            kind,
            h.len(),
            h.mean() / 1e3,
            us(h, 0.5),
            us(h, 0.9),
            us(h, 0.99),
            us(h, 0.999),
            h.max() as f64 / 1e3
        );
    }
    if args.slowest > 0 {
        last_pass.sort_unstable_by(|a, b| b.cmp(a));
        println!("\nslowest of the last pass, µs");
        for &(ns, i) in last_pass.iter().take(args.slowest) {
            let q = &qs[i];
            println!(
                "{:>8.1} {:<20} {} {} {}",
                ns as f64 / 1e3,
                q.kind,
                q.id,
                q.name,
                q.code
            );
        }
    }
    Ok(())
}
