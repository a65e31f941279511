//! Bulk cross-comparison of a bidder list (红黑名单交叉比对): every row of
//! a CSV or XLSX file screened against a snapshot, in parallel batches,
//! with the bidders that share a legal representative flagged.
//!
//! Shared by `credgate bulk` and `POST /v1/screen/bulk`. A CSV input is
//! read twice when it has legal-representative columns (once for them,
//! once to screen), so it must be a file: the server spools uploads to a
//! temporary file first. Memory
//! stays constant for CSV (one batch in flight); an XLSX sheet is held in
//! memory by the spreadsheet reader, so large lists should come as CSV.

mod input;
mod output;

pub use input::{InputFormat, Source};
pub use output::{ADDED_COLUMNS, OutputFormat, RowWriter};

use credgate_ident::IdKind;
use credgate_screen::{Query, Screener};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Rows screened per parallel batch.
pub const BATCH: usize = 4096;
/// Other bidders named in `shared_legal_rep_with` at most.
const MAX_SHARED: usize = 10;

/// Accepted headers of each column (first match wins, case-insensitive).
pub const NAME: &[&str] =
    &["name", "主体名称", "名称", "投标人名称", "供应商名称"];
pub const CODE: &[&str] =
    &["code", "统一社会信用代码", "证件号码", "统一社会信用代码/证件号码"];
pub const REP_NAME: &[&str] = &["legal_rep_name", "法定代表人"];
pub const REP_CODE: &[&str] =
    &["legal_rep_code", "legal_rep_id_number", "法定代表人证件号码"];

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
    #[error("writing the output: {0}")]
    Output(String),
}

/// Where the columns are.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub name: Option<usize>,
    pub code: Option<usize>,
    pub rep_name: Option<usize>,
    pub rep_code: Option<usize>,
}

fn position(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().trim_start_matches('\u{FEFF}');
        names.iter().any(|n| n.eq_ignore_ascii_case(h))
    })
}

impl Columns {
    /// Finds the columns; a file with neither a name nor a code column
    /// is refused, naming what was expected and what was found.
    pub fn detect(headers: &[String]) -> Result<Columns, BulkError> {
        let cols = Columns {
            name: position(headers, NAME),
            code: position(headers, CODE),
            rep_name: position(headers, REP_NAME),
            rep_code: position(headers, REP_CODE),
        };
        if cols.name.is_none() && cols.code.is_none() {
            return Err(BulkError::Header(format!(
                "no name column ({}) and no code column ({}); found {}",
                NAME.join(", "),
                CODE.join(", "),
                headers.join(", ")
            )));
        }
        Ok(cols)
    }

    fn has_reps(&self) -> bool {
        self.rep_name.is_some() || self.rep_code.is_some()
    }
}

/// A row of the input: its 1-based number (header excluded) and fields,
/// or why it could not be read.
pub type InputRow = (u64, Result<Vec<String>, String>);

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
        .to_string()
}

/// Bidders that share a legal representative: key → (row, label), only
/// keys with two bidders or more. Memory grows with the distinct legal
/// representatives, not with the rows' other columns.
#[derive(Debug, Default)]
pub struct SharedReps(HashMap<String, Vec<(u64, String)>>);

impl SharedReps {
    pub fn collect(
        rows: impl Iterator<Item = InputRow>,
        cols: &Columns,
    ) -> SharedReps {
        let mut map: HashMap<String, Vec<(u64, String)>> = HashMap::new();
        if !cols.has_reps() {
            return SharedReps(map);
        }
        for (row, fields) in rows {
            let Ok(fields) = fields else { continue };
            let Some(key) = rep_key(&fields, cols) else { continue };
            let v = map.entry(key).or_default();
            if v.len() <= MAX_SHARED {
                v.push((row, label(&fields, cols)));
            }
        }
        map.retain(|_, v| v.len() > 1);
        SharedReps(map)
    }

    /// The other bidders sharing `row`'s legal representative.
    fn others(&self, row: u64, fields: &[String], cols: &Columns) -> String {
        rep_key(fields, cols)
            .and_then(|k| self.0.get(&k))
            .map(|v| {
                v.iter()
                    .filter(|(r, _)| *r != row)
                    .map(|(r, label)| format!("row {r}: {label}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
}

/// The outcome of one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowResult {
    pub row: u64,
    /// The input fields, padded to the header's width.
    pub fields: Vec<String>,
    /// Empty when the row could not be screened (see `error`).
    pub decision: String,
    pub hit_count: usize,
    pub top_score: Option<f32>,
    /// `entry_id:kind:score`, best first.
    pub hits: Vec<String>,
    pub shared_legal_rep_with: String,
    pub error: String,
}

/// Screens one row, judging entries in force on `today`.
pub fn screen_row(
    screener: &Screener,
    scenario: Option<&str>,
    today: credgate_model::Date,
    cols: &Columns,
    shared: &SharedReps,
    (row, fields): &InputRow,
    width: usize,
) -> RowResult {
    let mut out = RowResult { row: *row, ..Default::default() };
    let fields = match fields {
        Ok(f) => f,
        Err(e) => {
            out.fields = vec![String::new(); width];
            out.error = format!("row {row}: {e}");
            return out;
        }
    };
    out.fields = fields.clone();
    out.fields.resize(width.max(fields.len()), String::new());
    let get = |c: Option<usize>| {
        c.and_then(|i| fields.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let query = Query {
        code: get(cols.code),
        name: get(cols.name),
        legal_rep_code: get(cols.rep_code),
        include_related: true,
        ..Default::default()
    };
    out.shared_legal_rep_with = shared.others(*row, fields, cols);
    match screener.screen(&query, scenario, today) {
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
        }
        Err(e) => out.error = format!("row {row}: {e}"),
    }
    out
}

/// Decisions counted over a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub rows: u64,
    /// Decision → rows; rows that could not be screened count as `error`.
    pub decisions: BTreeMap<String, u64>,
}

/// Opens `path` and finds its columns: a file without a name or code
/// column is refused here, before any output is written.
pub fn open(path: &Path, format: InputFormat) -> Result<Source, BulkError> {
    let source = Source::open(path, format)?;
    Columns::detect(source.headers())?;
    Ok(source)
}

/// Screens every row of `source`, handing results to `sink` in input
/// order, one batch at a time; `progress` gets the rows done so far.
/// Returns early with the sink's error (say, the client went away).
/// Entries are judged in force on `today`: the date in China when the
/// job started, so that one job gives one answer per subject.
pub fn run(
    source: &mut Source,
    screener: &Screener,
    scenario: Option<&str>,
    today: credgate_model::Date,
    mut sink: impl FnMut(&[RowResult]) -> Result<(), BulkError>,
    progress: &dyn Fn(u64),
) -> Result<Summary, BulkError> {
    let headers = source.headers().to_vec();
    let cols = Columns::detect(&headers)?;
    let shared = if cols.has_reps() {
        // A first pass for the legal representatives.
        let shared = SharedReps::collect(source.rows(), &cols);
        source.rewind()?;
        shared
    } else {
        SharedReps::default()
    };
    let mut summary = Summary::default();
    let mut rows = source.rows();
    let mut batch: Vec<InputRow> = Vec::with_capacity(BATCH);
    loop {
        batch.clear();
        batch.extend(rows.by_ref().take(BATCH));
        if batch.is_empty() {
            break;
        }
        let results: Vec<RowResult> = batch
            .par_iter()
            .map(|r| {
                screen_row(
                    screener,
                    scenario,
                    today,
                    &cols,
                    &shared,
                    r,
                    headers.len(),
                )
            })
            .collect();
        for r in &results {
            let d = if r.decision.is_empty() { "error" } else { &r.decision };
            *summary.decisions.entry(d.to_string()).or_default() += 1;
        }
        summary.rows += results.len() as u64;
        sink(&results)?;
        progress(summary.rows);
    }
    Ok(summary)
}
