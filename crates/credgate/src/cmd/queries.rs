//! `gen-queries` and `accuracy`: labelled queries and the report on them.

use super::check::ScreenArgs;
use crate::progress;
use anyhow::Context;
use credgate_entries::{EntryReader, ReadError, ReadOptions};
use credgate_gen::queries::{self, KINDS};
use credgate_screen::{Decision, Query};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// Entries file the queries are drawn from.
    #[arg(long)]
    entries: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output CSV: query_id, kind, expect, expected_entry_id, name, code.
    #[arg(long)]
    out: PathBuf,
}

fn key_hash(k: &str) -> u64 {
    credgate_index::hashindex::hash(k.as_bytes())
}

pub fn gen_queries(args: GenArgs) -> anyhow::Result<ExitCode> {
    let reader = EntryReader::open(&args.entries, ReadOptions::default())
        .with_context(|| format!("reading {}", args.entries.display()))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    // Usable means in force today in China, as the service judges it.
    let today = credgate_screen::Clock::today(&credgate_screen::SystemClock);
    let want = args.count * 2;
    let mut sample = Vec::with_capacity(want);
    let mut seen = 0u64;
    let mut listed: HashSet<u64> = HashSet::new();
    let mut listed_codes: HashSet<u64> = HashSet::new();
    let pb = progress::bar(None, "reading entries");
    for (i, item) in reader.enumerate() {
        let e = match item {
            Ok(e) => e,
            Err(ReadError::Row(_)) => continue,
            Err(ReadError::File(f)) => return Err(f.into()),
        };
        listed.insert(key_hash(&credgate_names::match_key(&e.name)));
        listed_codes.insert(key_hash(&e.code));
        if queries::usable(&e, today) {
            // Reservoir sampling: every usable entry equally likely.
            seen += 1;
            if sample.len() < want {
                sample.push(e);
            } else {
                let j = rng.random_range(0..seen) as usize;
                if j < want {
                    sample[j] = e;
                }
            }
        }
        if i % 8192 == 0 {
            pb.set_position(i as u64);
        }
    }
    pb.finish_and_clear();
    let is_listed = |k: &str| listed.contains(&key_hash(k));
    let is_code_listed = |c: &str| listed_codes.contains(&key_hash(c));
    let made = queries::make(
        &sample,
        &is_listed,
        &is_code_listed,
        args.count,
        args.seed,
    );
    let out = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    queries::write_csv(std::io::BufWriter::new(out), &made)?;
    eprintln!(
        "wrote {} labelled queries to {}",
        made.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct AccuracyArgs {
    #[command(flatten)]
    screen: ScreenArgs,
    /// Labelled queries from `credgate gen-queries`.
    #[arg(long)]
    queries: PathBuf,
}

#[derive(Default)]
struct Tally {
    n: u64,
    found: u64,
    false_hits: u64,
    score_sum: f64,
    decisions: BTreeMap<&'static str, u64>,
}

pub fn accuracy(args: AccuracyArgs) -> anyhow::Result<ExitCode> {
    let screener = args.screen.screener(false)?;
    let qs = queries::read_csv(&args.queries)?;
    let scenario = args.screen.scenario.as_deref();
    let today = args.screen.today();
    let results: Vec<(usize, bool, f32, Decision, bool)> = qs
        .par_iter()
        .enumerate()
        .map(|(i, lq)| {
            let query = Query {
                code: (!lq.code.is_empty()).then(|| lq.code.clone()),
                name: (!lq.name.is_empty()).then(|| lq.name.clone()),
                include_related: true,
                ..Default::default()
            };
            match screener.screen(&query, scenario, today) {
                Ok(o) => {
                    let hit = o.hits.iter().find(|h| {
                        screener
                            .snapshot
                            .record(h.ordinal)
                            .is_ok_and(|r| r.entry_id == lq.expected_entry_id)
                    });
                    let by_id = o.hits.iter().any(|h| h.kind.by_identifier());
                    let found = if lq.expect_hit {
                        hit.is_some()
                    } else {
                        !o.hits.is_empty()
                    };
                    (
                        i,
                        found,
                        hit.map_or(0.0, |h| h.score),
                        o.verdict.decision,
                        by_id,
                    )
                }
                Err(_) => (i, false, 0.0, Decision::Clear, false),
            }
        })
        .collect();
    let mut tallies: BTreeMap<usize, Tally> = BTreeMap::new();
    let mut name_only_blocks = 0u64;
    let mut blocks_without_identifier = 0u64;
    for (i, found, score, decision, by_id) in results {
        let lq = &qs[i];
        let k = KINDS.iter().position(|k| *k == lq.kind).unwrap_or(0);
        let t = tallies.entry(k).or_default();
        t.n += 1;
        if lq.expect_hit {
            t.found += u64::from(found);
            t.score_sum += score as f64;
        } else {
            t.false_hits += u64::from(found);
        }
        *t.decisions.entry(decision.code()).or_default() += 1;
        // A measure (block or restrict) needs an identifier hit: a name,
        // or a code no entry carries, never decides one.
        let measure = matches!(decision, Decision::Block | Decision::Restrict);
        if measure && !by_id {
            blocks_without_identifier += 1;
        }
        if measure && lq.code.is_empty() {
            name_only_blocks += 1;
        }
    }
    println!(
        "| kind | queries | expected | recall / false hits | review | mean score of the expected hit | decisions |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (k, t) in &tallies {
        let expect_hit = qs
            .iter()
            .find(|q| q.kind == KINDS[*k])
            .is_some_and(|q| q.expect_hit);
        let rate = if expect_hit {
            format!(
                "recall {:.1}% ({}/{})",
                100.0 * t.found as f64 / t.n as f64,
                t.found,
                t.n
            )
        } else {
            format!(
                "false hits {:.1}% ({}/{})",
                100.0 * t.false_hits as f64 / t.n as f64,
                t.false_hits,
                t.n
            )
        };
        let mean = if expect_hit && t.found > 0 {
            format!("{:.3}", t.score_sum / t.found as f64)
        } else {
            "-".into()
        };
        let decisions: Vec<String> =
            t.decisions.iter().map(|(d, n)| format!("{d} {n}")).collect();
        let review = t.decisions.get("review").copied().unwrap_or(0);
        println!(
            "| {} | {} | {} | {} | {:.1}% | {} | {} |",
            KINDS[*k],
            t.n,
            if expect_hit { "hit" } else { "no hit" },
            rate,
            100.0 * review as f64 / t.n as f64,
            mean,
            decisions.join(", ")
        );
    }
    println!();
    println!(
        "name-only queries decided `block` or `restrict`: {name_only_blocks}"
    );
    println!(
        "`block` or `restrict` decisions without an identifier hit: \
         {blocks_without_identifier}"
    );
    Ok(if name_only_blocks == 0 && blocks_without_identifier == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
