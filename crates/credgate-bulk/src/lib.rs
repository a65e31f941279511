//! Bulk cross-comparison of a bidder list (红黑名单交叉比对): every row of
//! a CSV or XLSX file screened against a snapshot, in parallel batches,
//! with the bidders that share a legal representative flagged.
//!
//! Shared by `credgate bulk` and `POST /v1/screen/bulk`. An input is read
//! several times (checked when opened; then the legal representatives, if
//! it has their columns; then screened), so it must be a file: the server
//! spools uploads to a temporary file first. Memory is bounded by
//! [`Limits`] whatever the input: CSV records are read into fixed buffers,
//! an XLSX file is checked before it is opened and then streamed cell by
//! cell, batches are bounded in rows and bytes, and the legal
//! representatives are grouped by hash.

mod columns;
mod input;
mod legacy;
mod limits;
mod output;
mod xlsx;

pub use columns::{
    CODE, ColumnOverrides, ColumnRef, Columns, NAME, REP_CODE, REP_NAME, Role,
    UnusedColumn, normalise, role_of,
};
pub use input::{
    ECHO_BYTES, HEADER_SCAN_ROWS, InputFormat, InputOptions, SheetRef, Source,
    clip,
};
pub use limits::{DEFAULT_MEMORY_BYTES, Limits};
pub use output::{
    ADDED_COLUMNS, CsvEncoding, Lang, OutputFormat, OutputOptions, ReportMeta,
    RowWriter, neutralise,
};

use credgate_ident::IdKind;
use credgate_model::ListKind;
use credgate_screen::{Outcome, Query, QueryError, ScreenError, Screener};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

/// Rows screened per parallel batch.
pub const BATCH: usize = 4096;
/// Other bidders named in `shared_legal_rep_with` at most.
const MAX_SHARED: usize = 10;
/// Characters of a bidder's label kept for `shared_legal_rep_with`.
const LABEL_CHARS: usize = 60;

/// A bulk input that cannot be screened at all (a bad row is not one: it
/// gets an error column instead).
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("row {row}: {message}")]
    Csv { row: u64, message: String },
    #[error("xlsx: {0}")]
    Xlsx(String),
    #[error("the file is empty: expected a header row")]
    Empty,
    #[error("header: {0}")]
    Header(String),
    /// A column chosen by the user that is not there.
    #[error("column: {0}")]
    Column(String),
    /// A sheet chosen by the user that is not there.
    #[error("sheet {0}")]
    Sheet(String),
    /// A bound of [`Limits`], named by its field.
    #[error("{what} exceeds {limit} = {max}")]
    Limit { what: String, limit: &'static str, max: u64 },
    #[error("the job took longer than its time limit")]
    Timeout,
    #[error("writing the output: {0}")]
    Output(String),
}

/// A row of the input: its number as the spreadsheet shows it (1-based,
/// title and header rows counted), its cells as read (a CSV row may have
/// more or fewer than the header), and why it could not be read, if it
/// could not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputRow {
    pub row: u64,
    pub fields: Vec<String>,
    pub problem: Option<String>,
    /// Positions of the cells stored as numbers (a workbook's number
    /// cells: a code typed into one may have lost digits).
    pub numbers: Vec<usize>,
}

impl InputRow {
    /// Bytes it holds, for bounding a batch.
    fn weight(&self) -> usize {
        64 + self.fields.iter().map(|f| f.len() + 24).sum::<usize>()
    }

    /// Its cells if it can be screened: read, one cell per column.
    fn usable(&self, width: usize) -> Option<&[String]> {
        (self.problem.is_none() && self.fields.len() == width)
            .then_some(&self.fields[..])
    }
}

/// The key under which two bidders share a legal representative: the ID
/// number when valid, the person-name key otherwise.
fn rep_key(fields: &[String], cols: &Columns) -> Option<String> {
    let get = |c: Option<usize>| {
        c.and_then(|i| fields.get(i)).map(|s| s.trim()).unwrap_or("")
    };
    match credgate_ident::validate_as(get(cols.rep_code), IdKind::ResidentId) {
        Ok(v) => Some(format!("id:{}", v.normalized)),
        Err(_) if !get(cols.rep_name).is_empty() => Some(format!(
            "name:{}",
            credgate_names::person_key(get(cols.rep_name))
        )),
        Err(_) => None,
    }
}

fn label(fields: &[String], cols: &Columns) -> String {
    [cols.name, cols.code]
        .into_iter()
        .flatten()
        .filter_map(|i| fields.get(i))
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .chars()
        .take(LABEL_CHARS)
        .collect()
}

fn hash(key: &str) -> u128 {
    twox_hash::XxHash3_128::oneshot(key.as_bytes())
}

/// Bidders that share a legal representative: key → (row, label), only
/// keys with two bidders or more. Keys are 128-bit hashes and a first
/// pass only counts them, so memory grows with the rows (32 bytes each)
/// and the shared groups, not with the cells' lengths.
#[derive(Debug, Default)]
pub struct SharedReps(HashMap<u128, SharedGroup>);

/// Bidders sharing one legal representative.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedGroup {
    /// Matched by the representative's ID number; `false`: by name only
    /// (two different people may share a name: 王伟 is common).
    pub by_id: bool,
    /// (row, label) of each bidder, in row order.
    pub rows: Vec<(u64, String)>,
}

impl SharedReps {
    /// Two passes over `source`'s rows (rows that cannot be screened are
    /// left out); `alive` is asked every batch whether to go on.
    pub fn collect(
        source: &mut Source,
        cols: &Columns,
        alive: &dyn Fn() -> Result<(), BulkError>,
    ) -> Result<SharedReps, BulkError> {
        let width = source.headers().len();
        if !cols.has_reps() {
            return Ok(SharedReps::default());
        }
        let mut counts: HashMap<u128, u32> = HashMap::new();
        for (i, r) in source.rows()?.enumerate() {
            if i % BATCH == 0 {
                alive()?;
            }
            let Some(fields) = r.usable(width) else { continue };
            if let Some(key) = rep_key(fields, cols) {
                let n = counts.entry(hash(&key)).or_default();
                *n = n.saturating_add(1);
            }
        }
        counts.retain(|_, n| *n > 1);
        let mut map: HashMap<u128, SharedGroup> = HashMap::new();
        if counts.is_empty() {
            return Ok(SharedReps(map));
        }
        for (i, r) in source.rows()?.enumerate() {
            if i % BATCH == 0 {
                alive()?;
            }
            let Some(fields) = r.usable(width) else { continue };
            let Some(key) = rep_key(fields, cols) else {
                continue;
            };
            let by_id = key.starts_with("id:");
            let key = hash(&key);
            if counts.contains_key(&key) {
                let g = map.entry(key).or_default();
                g.by_id = by_id;
                if g.rows.len() <= MAX_SHARED {
                    g.rows.push((r.row, label(fields, cols)));
                }
            }
        }
        Ok(SharedReps(map))
    }

    /// The other bidders sharing `row`'s legal representative, and
    /// whether by ID number.
    fn others(
        &self,
        row: u64,
        fields: &[String],
        cols: &Columns,
    ) -> Option<(bool, Vec<(u64, String)>)> {
        let g = rep_key(fields, cols).and_then(|k| self.0.get(&hash(&k)))?;
        let rows = g.rows.iter().filter(|(r, _)| *r != row).cloned().collect();
        Some((g.by_id, rows))
    }

    /// Every group, by first row.
    pub fn groups(&self) -> Vec<&SharedGroup> {
        let mut v: Vec<&SharedGroup> = self.0.values().collect();
        v.sort_by_key(|g| g.rows.first().map(|r| r.0));
        v
    }
}

/// The outcome of one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowResult {
    pub row: u64,
    /// The input fields at the header's positions: exactly the header's
    /// width (a short row padded, extra cells dropped; see `error`).
    pub fields: Vec<String>,
    /// Empty when the row could not be screened (see `error`).
    pub decision: String,
    pub hit_count: usize,
    pub top_score: Option<f32>,
    /// `entry_id:kind:score`, best first.
    pub hits: Vec<String>,
    /// The hits explained, best first: what an officer files.
    pub details: Vec<HitDetail>,
    /// Other bidders with this row's legal representative, as
    /// `row N: label; …`.
    pub shared_legal_rep_with: String,
    /// Whether those share it by ID number (`false`: by name only).
    pub shared_by_id: Option<bool>,
    pub error: String,
    /// What the row's answer rests on that the officer should know: a
    /// code that failed its check (the name was screened alone), a code
    /// stored as a number.
    pub warnings: Vec<String>,
}

/// Screens one row, judging entries in force on `today`.
pub fn screen_row(
    screener: &Screener,
    scenario: Option<&str>,
    today: credgate_model::Date,
    cols: &Columns,
    shared: &SharedReps,
    input: &InputRow,
    width: usize,
) -> RowResult {
    let row = input.row;
    let mut out = RowResult { row, ..Default::default() };
    // Whatever the row, its cells go under the header's columns: a reader
    // going by the header must never see one row's value under another's
    // name.
    out.fields = input.fields.iter().take(width).cloned().collect();
    out.fields.resize(width, String::new());
    if let Some(p) = &input.problem {
        out.error = format!("row {row}: {p}");
        return out;
    }
    let n = input.fields.len();
    if n != width {
        out.error = format!(
            "row {row}: {n} cell{} where the header has {width}; a row \
             needs one cell per column, so it was not screened",
            if n == 1 { "" } else { "s" }
        );
        return out;
    }
    let fields = &input.fields;
    let get = |c: Option<usize>| {
        c.and_then(|i| fields.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let mut warnings = Vec::new();
    let mut code = number_cell(input, cols.code, "code", &mut warnings);
    let mut rep_code =
        number_cell(input, cols.rep_code, "legal_rep_code", &mut warnings);
    let name = get(cols.name);
    if let Some((by_id, others)) = shared.others(row, fields, cols) {
        out.shared_by_id = Some(by_id);
        out.shared_legal_rep_with = others
            .iter()
            .map(|(r, label)| format!("row {r}: {label}"))
            .collect::<Vec<_>>()
            .join("; ");
    }
    // A code that fails its check is not the end of the row: the name is
    // still screened (a listed company with one mistyped character in its
    // code must not come out without a decision), and the answer says the
    // code was not used. A code alone stays an error.
    let outcome = loop {
        let query = Query {
            code: code.clone(),
            name: name.clone(),
            legal_rep_code: rep_code.clone(),
            include_related: true,
            ..Default::default()
        };
        match screener.screen(&query, scenario, today) {
            Err(ScreenError::Query(QueryError::InvalidCode {
                field,
                error,
            })) if field == "code" && name.is_some() => {
                warnings.push(format!(
                    "code: {error}; not screened, the name was screened \
                     without it"
                ));
                code = None;
            }
            Err(ScreenError::Query(QueryError::InvalidCode {
                field: "legal_rep_code",
                error,
            })) => {
                warnings.push(format!(
                    "legal_rep_code: {error}; the legal representative was \
                     not screened"
                ));
                rep_code = None;
            }
            other => break other,
        }
    };
    out.warnings = warnings;
    match outcome {
        Ok(o) => {
            out.decision = o.verdict.decision.code().into();
            out.hit_count = o.hits.len();
            out.top_score = o.hits.first().map(|h| h.score);
            out.hits = o
                .hits
                .iter()
                .filter_map(|h| {
                    let r = screener.snapshot.record(h.ordinal).ok()?;
                    Some(format!(
                        "{}:{}:{:.3}",
                        r.entry_id,
                        h.kind.code(),
                        h.score
                    ))
                })
                .collect();
            out.details = details(&screener.snapshot, &o);
        }
        Err(ScreenError::Query(QueryError::Empty))
            if !out.warnings.is_empty() =>
        {
            out.error = format!(
                "row {row}: no usable name or code ({})",
                out.warnings.join("; ")
            );
        }
        Err(e) => out.error = format!("row {row}: {e}"),
    }
    out
}

/// One hit as an officer files it: the entry and the measures that apply
/// (or would, once a `review` is confirmed), with their legal basis.
#[derive(Debug, Clone, PartialEq)]
pub struct HitDetail {
    pub entry_id: String,
    pub name: String,
    pub list: ListKind,
    pub category_zh: String,
    pub authority: String,
    pub document_number: String,
    pub listed_on: String,
    pub valid_until: String,
    /// `code`, `name_exact`, `name_fuzzy` or `related_party`.
    pub kind: &'static str,
    pub score: f32,
    pub measures: Vec<MeasureLine>,
}

/// A measure of a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureLine {
    pub effect: credgate_screen::Effect,
    pub text: String,
    pub basis: String,
    /// Applies only if the reviewer confirms the hit.
    pub if_confirmed: bool,
}

fn details(snap: &credgate_index::Snapshot, o: &Outcome) -> Vec<HitDetail> {
    o.hits
        .iter()
        .filter_map(|h| {
            let r = snap.record(h.ordinal).ok()?;
            let measures = o
                .verdict
                .measures
                .iter()
                .map(|m| (m, false))
                .chain(o.verdict.if_confirmed.iter().map(|m| (m, true)))
                .filter(|(m, _)| m.ordinal == h.ordinal)
                .map(|(m, if_confirmed)| MeasureLine {
                    effect: m.measure.effect,
                    text: m.measure.text.clone(),
                    basis: m.measure.basis.clone(),
                    if_confirmed,
                })
                .collect();
            Some(HitDetail {
                entry_id: r.entry_id.into(),
                name: r.name.into(),
                list: r.list,
                category_zh: credgate_model::Category::by_id(r.category)
                    .map(|c| c.name_zh.to_string())
                    .unwrap_or_default(),
                authority: snap.string(r.authority).into(),
                document_number: r.document_number.into(),
                listed_on: r.listed_on.to_string(),
                valid_until: r
                    .valid_until
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                kind: h.kind.code(),
                score: h.score,
                measures,
            })
        })
        .collect()
}

/// Significant digits a spreadsheet keeps in a number (IEEE double as
/// Excel shows it): a longer code typed into a number cell has lost its
/// last digits.
const NUMBER_DIGITS: usize = 15;

/// The identifier in column `col` of `input`, with a warning when it is
/// stored as a number: kept when it has at most [`NUMBER_DIGITS`] digits
/// (exact), dropped when it has more (its last digits may have been
/// changed: screening it would be a guess).
fn number_cell(
    input: &InputRow,
    col: Option<usize>,
    what: &str,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let i = col?;
    let v = input.fields.get(i).map(|s| s.trim()).filter(|s| !s.is_empty())?;
    if !input.numbers.contains(&i) {
        return Some(v.to_string());
    }
    let digits = v.trim_start_matches(['-', '0']).len();
    if digits > NUMBER_DIGITS {
        warnings.push(format!(
            "{what} {v} is stored as a number; Excel may have altered it \
             (it keeps {NUMBER_DIGITS} digits), so it was not screened: \
             store codes as text"
        ));
        None
    } else {
        warnings.push(format!(
            "{what} {v} is stored as a number; Excel may have altered it \
             (leading zeros, digits past {NUMBER_DIGITS}): store codes as \
             text"
        ));
        Some(v.to_string())
    }
}

/// Decisions counted over a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub rows: u64,
    /// Decision → rows; rows that could not be screened count as `error`.
    pub decisions: BTreeMap<String, u64>,
    /// Bidders sharing a legal representative, by first row.
    pub shared: Vec<SharedGroup>,
}

impl Summary {
    /// Counts a batch of results: its rows, and each by its decision.
    fn count(&mut self, results: &[RowResult]) {
        for r in results {
            let d = if r.decision.is_empty() { "error" } else { &r.decision };
            *self.decisions.entry(d.to_string()).or_default() += 1;
        }
        self.rows += results.len() as u64;
    }
}

/// Opens `path`, checks it against `limits` and finds its columns: an
/// input over a limit or without a name or code column is refused here,
/// before any output is written.
pub fn open(
    path: &Path,
    format: InputFormat,
    limits: &Limits,
) -> Result<Source, BulkError> {
    Source::open(path, format, limits)
}

/// [`open`] with a sheet and columns chosen.
pub fn open_with(
    path: &Path,
    format: InputFormat,
    limits: &Limits,
    options: &InputOptions,
) -> Result<Source, BulkError> {
    Source::open_with(path, format, limits, options)
}

/// Screens every row of `source`, handing results to `sink` in input
/// order, one batch at a time (at most [`BATCH`] rows and
/// `Limits::batch_bytes` of input); `progress` gets the rows done so far.
/// Returns early with the sink's error (say, the client went away), or
/// [`BulkError::Timeout`] once `deadline` has passed.
/// Entries are judged in force on `today`: the date in China when the
/// job started, so that one job gives one answer per subject.
pub fn run(
    source: &mut Source,
    screener: &Screener,
    scenario: Option<&str>,
    deadline: Option<Instant>,
    today: credgate_model::Date,
    mut sink: impl FnMut(&[RowResult]) -> Result<(), BulkError>,
    progress: &dyn Fn(u64),
) -> Result<Summary, BulkError> {
    let alive = || match deadline {
        Some(d) if Instant::now() > d => Err(BulkError::Timeout),
        _ => Ok(()),
    };
    let headers = source.headers().to_vec();
    let width = headers.len();
    let cols = source.columns().clone();
    let shared = SharedReps::collect(source, &cols, &alive)?;
    // Two batches are in flight (one screened while the next is read and
    // the last one's results written): each takes half the budget.
    let batch_bytes = source.limits().batch_bytes / 2;
    let mut summary = Summary::default();
    let mut rows = source.rows()?;
    let mut read = || {
        let mut batch: Vec<InputRow> = Vec::with_capacity(BATCH);
        let mut bytes = 0;
        while batch.len() < BATCH && (batch.is_empty() || bytes < batch_bytes)
        {
            let Some(r) = rows.next() else { break };
            bytes += r.weight();
            batch.push(r);
        }
        batch
    };
    let mut batch = read();
    let mut done: Option<Vec<RowResult>> = None;
    // Reading rows and writing results are one thread's work, screening
    // the pool's: while the pool screens a batch, this thread writes the
    // results before it and reads the batch after it, so that the pool
    // never waits for them (they were an eighth of a run's time, with
    // both cores idle but one).
    loop {
        alive()?;
        let screening = std::mem::take(&mut batch);
        let last = screening.is_empty();
        let (results, io) = std::thread::scope(|s| {
            let pool = s.spawn(|| {
                screening
                    .par_iter()
                    .map(|r| {
                        screen_row(
                            screener, scenario, today, &cols, &shared, r,
                            width,
                        )
                    })
                    .collect::<Vec<RowResult>>()
            });
            // The previous batch out, then the next one in; a sink that
            // fails (the client went away) stops before reading more.
            let io = done
                .take()
                .map_or(Ok(()), |results| {
                    summary.count(&results);
                    sink(&results)?;
                    progress(summary.rows);
                    Ok(())
                })
                .map(|()| {
                    if !last {
                        batch = read();
                    }
                });
            let results =
                pool.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (results, io)
        });
        io?;
        if last {
            break;
        }
        done = Some(results);
    }
    summary.shared = shared.groups().into_iter().cloned().collect();
    Ok(summary)
}
