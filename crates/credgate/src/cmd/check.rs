use credgate_index::{Residence, Snapshot};
use credgate_model::{ListKind, SubjectKind};
use credgate_screen::{
    Catalogue, Clock, MatchOptions, Query, Screener, SystemClock,
};
use credgate_server::view::{self, pii};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Options shared by the commands that screen.
#[derive(Debug, clap::Args)]
pub struct ScreenArgs {
    /// Snapshot file (from `credgate build`).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// Scenario: which measures apply (e.g. government_procurement);
    /// every scenario when omitted.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Measures catalogue (TOML); the built-in data/measures.toml when
    /// omitted.
    #[arg(long)]
    pub measures: Option<PathBuf>,
    /// Name hits below this score are dropped.
    #[arg(long, default_value_t = 0.5)]
    pub min_score: f32,
    /// Name candidates read per query at most (bounds the tail latency).
    #[arg(long, default_value_t = MatchOptions::default().max_candidates)]
    pub max_candidates: usize,
    /// Hits returned per query at most, best first.
    #[arg(long, default_value_t = MatchOptions::default().max_hits)]
    pub max_hits: usize,
    /// Show full personal ID numbers (masked otherwise).
    #[arg(long)]
    pub show_pii: bool,
    /// Judge entries in force on this date (YYYY-MM-DD) instead of
    /// today's date in China.
    #[arg(long, value_name = "DATE")]
    pub today: Option<chrono::NaiveDate>,
    /// Where the snapshot's bytes live: `mapped` (from the page cache as
    /// touched: starts at once) or `memory` (read whole into huge-page
    /// memory and verified first, as the service does: a second or so
    /// more at 10M entries, then faster screening; for large bulk files).
    #[arg(long, value_enum, default_value_t = ResidenceArg::Mapped)]
    pub residence: ResidenceArg,
}

/// `--residence` (`credgate_index::Residence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResidenceArg {
    Mapped,
    Memory,
}

impl ScreenArgs {
    /// The date entries are judged in force on: `--today`, or the date in
    /// China now (the service's rule), whatever this machine's zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.today.unwrap_or_else(|| SystemClock.today())
    }

    /// The screener of `--snapshot`. Read into memory, the snapshot is
    /// verified whole first, as the service does; mapped, only when
    /// `verify` (a bulk run: its report is filed, so it is screened
    /// against a file checked whole, and the check costs ~0.3 s at 10M
    /// entries against seconds of screening, which it then speeds up:
    /// records read without re-validating their text, pages mapped).
    pub fn screener(&self, verify: bool) -> anyhow::Result<Screener> {
        let residence = match self.residence {
            ResidenceArg::Mapped => Residence::Mapped,
            ResidenceArg::Memory => Residence::Memory,
        };
        let snap = Snapshot::open_in(&self.snapshot, residence)?;
        if verify || residence == Residence::Memory {
            snap.verify()?;
        }
        let catalogue = load_catalogue(self.measures.as_deref())?;
        let mut s = Screener::new(Arc::new(snap), Arc::new(catalogue));
        s.options.min_score = self.min_score;
        s.options.max_candidates = self.max_candidates;
        s.options.max_hits = self.max_hits;
        s.check_scenario(self.scenario.as_deref())?;
        Ok(s)
    }
}

pub fn load_catalogue(path: Option<&Path>) -> anyhow::Result<Catalogue> {
    Ok(path.map_or_else(|| Ok(Catalogue::builtin()), Catalogue::load)?)
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    screen: ScreenArgs,
    /// USCC or resident ID of the subject.
    #[arg(long)]
    code: Option<String>,
    /// Name of the subject.
    #[arg(long)]
    name: Option<String>,
    /// organisation or person (guessed from the code or name otherwise).
    #[arg(long)]
    subject_type: Option<String>,
    /// Resident ID of the organisation's legal representative.
    #[arg(long)]
    legal_rep_code: Option<String>,
    /// Only these lists (comma-separated: black, focus, red).
    #[arg(long, value_delimiter = ',')]
    list: Vec<String>,
    /// Do not follow related parties.
    #[arg(long)]
    no_related: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let screener = args.screen.screener(false)?;
    let lists = args
        .list
        .iter()
        .map(|l| ListKind::parse(l))
        .collect::<Result<Vec<_>, _>>()?;
    let subject_type =
        args.subject_type.as_deref().map(SubjectKind::parse).transpose()?;
    let query = Query {
        code: args.code,
        name: args.name,
        subject_type,
        legal_rep_code: args.legal_rep_code,
        lists,
        categories: vec![],
        include_related: !args.no_related,
        include_exited: false,
    };
    let started = Instant::now();
    let today = args.screen.today();
    let (outcome, warnings) = match screener.screen_or_name(
        &query,
        args.screen.scenario.as_deref(),
        today,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let took = started.elapsed().as_micros();
    let snap = &screener.snapshot;
    let show = args.screen.show_pii;
    if args.json {
        // The service's response, snapshot named by file as the service
        // names it: one shape for CLI and API.
        let version = snap
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (mut resp, _) =
            view::response(snap, &version, &outcome, show, took as u64);
        resp.warnings.extend(warnings);
        println!("{}", serde_json::to_string(&resp)?);
        return Ok(ExitCode::SUCCESS);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "decision: {} {}{}{}",
        outcome.verdict.decision.code(),
        outcome.verdict.decision.name_zh(),
        outcome
            .scenario
            .as_deref()
            .map(|s| format!(" (scenario {s})"))
            .unwrap_or_default(),
        if outcome.verdict.conflict { "  [red/black conflict]" } else { "" }
    );
    for m in &outcome.verdict.measures {
        let id = snap
            .record(m.ordinal)
            .map(|r| r.entry_id.to_string())
            .unwrap_or_default();
        println!(
            "  measure: {} {} — {} ({}; {}) [entry {id}]",
            m.measure.effect.code(),
            m.measure.scenario,
            m.measure.text,
            m.measure.category,
            m.measure.basis
        );
    }
    if outcome.hits.is_empty() {
        println!("no hits");
    }
    for (i, h) in outcome.hits.iter().enumerate() {
        let Ok(r) = snap.record(h.ordinal) else { continue };
        let code = if r.subject_kind == SubjectKind::Person {
            pii(r.code, show)
        } else {
            r.code.into()
        };
        println!(
            "{:>2}. {} {} {} {} score {:.3}{} — {} {} ({}, {}, {})",
            i + 1,
            r.entry_id,
            r.list.code(),
            credgate_model::Category::by_id(r.category)
                .map_or("?", |c| c.code),
            h.kind.code(),
            h.score,
            h.role().map(|r| format!(" as {}", r.code())).unwrap_or_default(),
            r.name,
            code,
            snap.string(r.authority),
            r.document_number,
            r.status.code(),
        );
        let (query_key, entry_key) = view::keys(h, show);
        println!(
            "    {} {query_key} ↔ {} {entry_key}",
            view::query_field(h.query_field),
            view::entry_field(h.entry_field),
        );
        if let Some(c) = h.identity {
            println!("    identity open: {}", c.code());
        }
    }
    // Other subjects by their identifier: shown, not decided on.
    for h in &outcome.similar {
        let Ok(r) = snap.record(h.ordinal) else { continue };
        let code = if r.subject_kind == SubjectKind::Person {
            pii(r.code, show)
        } else {
            r.code.into()
        };
        println!(
            "similar: {} {} {} score {:.3} — {} {} [{}]",
            r.entry_id,
            r.list.code(),
            h.kind.code(),
            h.score,
            r.name,
            code,
            h.identity.map_or("", |c| c.code()),
        );
    }
    println!("({} µs)", took);
    Ok(ExitCode::SUCCESS)
}
