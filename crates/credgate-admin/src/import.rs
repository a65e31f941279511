//! Import: how a province moves its existing lists in (issue 10 item 6).
//!
//! An entries file (CSV in UTF-8 or GBK/GB18030, JSON Lines, or XLSX with
//! the same headers) becomes published entries of the importing
//! department, each through the lifecycle's `import` command (its periods
//! and 双公示 check), a `disputed` row through `object` after it.
//!
//! - **All or nothing**: the whole import is one store transaction
//!   ([`Store::begin_bulk`]); with bad rows it is rolled back (unless
//!   `skip_invalid`), and a process killed half-way leaves nothing.
//! - **Every bad row reported**, with its row, column and rule: the file
//!   is read to the end even after the first bad row.
//! - **Idempotent on the natural key** (authority + document number +
//!   subject code: a court decision can list several defendants; the
//!   texts compared as their meaning, [`key_text`]): a row
//!   whose key exists with the same content changes nothing (no version,
//!   no audit record); a changed one is an update of that entry, with its
//!   history. Rows not in force (exited, revoked; or whose maximum period
//!   has already ended) are counted as skipped, not imported.
//! - `dry_run` does everything but the commit.
//!
//! **A pipeline of two threads.** Everything that is not a SQLite call
//! runs on a blocking thread of its own: reading and decoding the file,
//! the lifecycle's decision, natural keys, the checks against the store's
//! index and the file's earlier rows, the report, and each new entry's
//! encoded columns and audit digest ([`PreparedEntry`]). It hands the
//! writes, in file order, in batches of at most [`READ_BATCH`] rows over
//! a channel of [`CHANNEL_BATCHES`] batches to the one writer (this
//! task and sqlx's database thread), which only binds, steps and chains
//! the audit records. A batch holds at most [`READ_BATCH`] prepared
//! entries (a few KiB each): the channel's batches, the one being made,
//! the one being written and [`WRITE_BATCH`] pending keep an import's
//! rows in flight to some tens of MB whatever the file's size (besides
//! the index of the store's natural keys, ~100 bytes an entry, and
//! SQLite's page cache).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use credgate_entries::{
    CellDecoder, Encoding, EntryReader, FileError, Format, ReadOptions,
    RowError,
};
use credgate_lifecycle::{Actor, Command, Designation, Lifecycle, rule};
use credgate_model::{Category, Entry, EntryStatus, ListKind};
use credgate_screen::Catalogue;
use credgate_store::{
    Audit, BulkWriter, Change, EntryData, NewEntry, PreparedEntry, Stage,
    Store, StoreError, StoredEntry,
};
use futures_util::TryStreamExt;
use serde::Serialize;
use twox_hash::XxHash3_128;

use crate::{failpoint, mapping};

/// Rows read and validated per batch handed to the writer.
const READ_BATCH: usize = 4096;
/// Batches waiting for the writer at most: enough that neither thread
/// waits for the other's jitter, few enough to bound memory.
const CHANNEL_BATCHES: usize = 4;
/// New entries per store call (one audit record and history row each).
const WRITE_BATCH: usize = 2048;
/// Bad rows listed at most (the counts stay exact): a file of a million
/// bad rows must not make a report of gigabytes.
pub const MAX_PROBLEMS: usize = 100_000;
/// XLSX rows at most: Excel's sheet holds 1,048,576.
const MAX_XLSX_ROWS: u64 = 1_048_576;

/// The layout of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV; `Encoding::Auto` detects UTF-8 or GB18030 (GBK).
    Csv(Encoding),
    Jsonl,
    /// Read by `credgate-bulk`'s checked, streaming XLSX reader.
    Xlsx,
}

impl InputFormat {
    /// From the extension: `.csv`/`.txt`, `.jsonl`/`.ndjson`/`.json`,
    /// `.xlsx`.
    pub fn from_path(path: &Path) -> Option<InputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        if ext == "xlsx" {
            return Some(InputFormat::Xlsx);
        }
        match Format::from_path(path)? {
            Format::Csv => Some(InputFormat::Csv(Encoding::Auto)),
            Format::Jsonl => Some(InputFormat::Jsonl),
        }
    }
}

/// What an import is asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The importing department: the entries' designating department.
    pub department: String,
    /// Who imports (a stored key's id, or a configuration key's name).
    pub key_id: String,
    /// Keep the good rows when some are bad.
    pub skip_invalid: bool,
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// `None`: from the file's extension.
    pub format: Option<InputFormat>,
    /// The file's name as the audit record keeps it (an upload's own
    /// name, say); the path's file name when `None`.
    pub source_name: Option<String>,
}

/// One problem of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// The row as the file numbers it: a CSV or JSON Lines line (1-based,
    /// the header is line 1), a spreadsheet's row number.
    pub row: u64,
    pub entry_id: Option<String>,
    /// The column (canonical English name), or `row` for the whole row.
    pub column: String,
    /// A stable code: `invalid_value` / `required` for the file's field
    /// rules, a lifecycle rule code, or one of this module's
    /// (`duplicate_natural_key`, `duplicate_entry_id`, `entry_id_taken`,
    /// `other_department`, `entry_not_in_force`).
    pub rule: String,
    pub message: String,
}

/// What an import did (or, on a dry run or a rejection, would have done).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema,
)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// New entries.
    pub inserted: u64,
    /// Existing entries (same natural key) whose content changed.
    pub updated: u64,
    /// Rows identical to their entry: nothing written.
    pub unchanged: u64,
    /// Rows not in force, by reason (`not_in_force`: the file's status;
    /// `period_already_ended`: the maximum period is over today).
    pub skipped: BTreeMap<String, u64>,
    /// Rows with at least one problem.
    pub invalid_rows: u64,
    /// Every problem, up to [`MAX_PROBLEMS`].
    pub problems: Vec<RowProblem>,
    /// More problems than listed.
    pub problems_truncated: bool,
    pub dry_run: bool,
    /// Refused whole: bad rows without `skip_invalid`.
    pub rejected: bool,
    /// Written to the store.
    pub committed: bool,
}

impl ImportReport {
    fn problem(&mut self, p: RowProblem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.problems_truncated = true;
        }
    }
}

/// Why an import could not run at all (a bad row is no error: it is in
/// the report).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{path}: cannot tell the format from the extension; use .csv, \
         .jsonl, .ndjson or .xlsx"
    )]
    UnknownFormat { path: PathBuf },
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{0}")]
    Xlsx(#[from] credgate_bulk::BulkError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("reading the file stopped: {0}")]
    Reader(String),
}

/// What an import needs besides the file.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    pub store: &'a Store,
    pub lifecycle: &'a Lifecycle,
    /// Where the measure scenarios of a category come from.
    pub catalogue: &'a Catalogue,
    /// The time of the import (audit records) and its China date (the
    /// lifecycle's today).
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

/// Imports `path`. `progress` is called with the rows read so far after
/// each batch.
pub async fn import_file(
    cx: ImportContext<'_>,
    path: &Path,
    opts: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ImportReport, ImportError> {
    let format = match opts.format {
        Some(f) => f,
        None => InputFormat::from_path(path).ok_or_else(|| {
            ImportError::UnknownFormat { path: path.to_path_buf() }
        })?,
    };
    // Open (and for XLSX check) the file before the store's write lock is
    // taken: a refused file costs the store nothing.
    let reader = RowReader::open(path, format)?;
    let source = opts.source_name.clone().unwrap_or_else(|| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let audit = Audit::new(cx.now, &opts.key_id, &opts.department, "import")
        .with_details(serde_json::json!({ "source": source }));
    let mut bulk = cx.store.begin_bulk().await?;
    let index = StoreIndex::read(&mut bulk).await?;
    let job = Job::new(cx, opts, index);
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<WriteBatch>(CHANNEL_BATCHES);
    let preparing = tokio::task::spawn_blocking(move || reader.run(job, tx));

    let mut writer = Writer {
        audit: &audit,
        bulk: &mut bulk,
        pending: Vec::new(),
        batches: 0,
    };
    while let Some(batch) = rx.recv().await {
        for w in batch.writes {
            writer.write(w).await?;
        }
        progress(batch.rows);
    }
    // The channel closed: the reader has finished or failed. Its error
    // comes first (a failed read ends the import; flushing what is pending
    // would only risk a store error in its place).
    let mut report = match preparing.await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(ImportError::Reader(e.to_string())),
    };
    writer.flush().await?;
    report.dry_run = opts.dry_run;
    report.rejected = report.invalid_rows > 0 && !opts.skip_invalid;
    if report.rejected || opts.dry_run {
        // Dropping the writer rolls the transaction back.
        drop(bulk);
        return Ok(report);
    }
    failpoint::hit("import:before_commit");
    bulk.commit().await?;
    failpoint::hit("import:after_commit");
    report.committed = true;
    Ok(report)
}

/// A write the preparing thread asks of the writer.
enum Write {
    Insert(PreparedEntry),
    Update { entry_id: String, version: i64, change: Change },
}

/// The writes of up to [`READ_BATCH`] rows, in file order, and the rows
/// read so far (for the progress bar).
struct WriteBatch {
    writes: Vec<Write>,
    rows: u64,
}

/// The one writer: new entries go to the store [`WRITE_BATCH`] at a
/// time; an update first writes the new entries before it, so the audit
/// chain has the file's order.
struct Writer<'a> {
    audit: &'a Audit,
    bulk: &'a mut BulkWriter,
    pending: Vec<PreparedEntry>,
    batches: u64,
}

impl Writer<'_> {
    async fn write(&mut self, w: Write) -> Result<(), ImportError> {
        match w {
            Write::Insert(p) => {
                self.pending.push(p);
                if self.pending.len() >= WRITE_BATCH {
                    self.flush().await?;
                }
            }
            Write::Update { entry_id, version, change } => {
                self.flush().await?;
                self.bulk
                    .update(self.audit, &entry_id, version, &change)
                    .await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ImportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.bulk.insert(self.audit, &self.pending).await?;
        self.pending.clear();
        self.batches += 1;
        failpoint::hit(&format!("import:after_batch_{}", self.batches));
        Ok(())
    }
}

/// The rows of an import file, read and validated on a blocking thread.
enum RowReader {
    Entries(EntryReader),
    Xlsx(Box<credgate_bulk::Source>, CellDecoder),
}

impl RowReader {
    fn open(path: &Path, format: InputFormat) -> Result<Self, ImportError> {
        let read = |format, encoding| {
            EntryReader::open(
                path,
                ReadOptions { format: Some(format), encoding },
            )
        };
        Ok(match format {
            InputFormat::Csv(e) => RowReader::Entries(read(Format::Csv, e)?),
            InputFormat::Jsonl => {
                RowReader::Entries(read(Format::Jsonl, Encoding::Utf8)?)
            }
            InputFormat::Xlsx => {
                // The bulk reader's bounds (file, ZIP, shared strings,
                // cells) hold for any input; a list may be as long as a
                // sheet.
                let limits = credgate_bulk::Limits {
                    max_rows: MAX_XLSX_ROWS,
                    ..credgate_bulk::Limits::default()
                };
                let source = credgate_bulk::Source::open(
                    path,
                    credgate_bulk::InputFormat::Xlsx,
                    &limits,
                )?;
                let decoder = CellDecoder::new(source.headers())?;
                RowReader::Xlsx(Box::new(source), decoder)
            }
        })
    }

    /// Reads every row through `job` and sends its writes to `tx`;
    /// returns the report. Stops early, without error, when the writer
    /// has stopped (its error is the import's).
    fn run(
        self,
        mut job: Job,
        tx: tokio::sync::mpsc::Sender<WriteBatch>,
    ) -> Result<ImportReport, ImportError> {
        // A closed channel: the writer stopped (an error): stop too.
        let send = |job: &mut Job, force: bool| -> bool {
            if job.rows_in_batch < READ_BATCH && !force {
                return true;
            }
            job.rows_in_batch = 0;
            let writes = std::mem::take(&mut job.writes);
            let rows = job.report.rows;
            tx.blocking_send(WriteBatch { writes, rows }).is_ok()
        };
        match self {
            RowReader::Entries(mut reader) => {
                let decoder = reader.decoder();
                while let Some(raw) = reader.next_raw() {
                    let raw = raw?;
                    job.row(raw.line(), decoder.decode(&raw))?;
                    if !send(&mut job, false) {
                        return Ok(job.report);
                    }
                }
            }
            RowReader::Xlsx(mut source, decoder) => {
                for r in source.rows()? {
                    let row = match &r.problem {
                        Some(p) => Err(RowError {
                            line: r.row,
                            entry_id: None,
                            errors: vec![credgate_entries::FieldError {
                                column: "row".into(),
                                message: p.clone(),
                            }],
                        }),
                        None => decoder.decode(r.row, &r.fields),
                    };
                    job.row(r.row, row)?;
                    if !send(&mut job, false) {
                        return Ok(job.report);
                    }
                }
            }
        }
        send(&mut job, true);
        Ok(job.report)
    }
}

/// An existing entry as an import compares it.
struct Existing {
    entry_id: String,
    department: String,
    stage: Stage,
    version: i64,
    content: u128,
}

/// The store's entries as an import compares rows with them, read in
/// the import's transaction: nobody changes the store between this index
/// and the writes.
struct StoreIndex {
    /// Natural key → the store's entry.
    by_key: HashMap<u128, Existing>,
    /// Every entry id in the store.
    ids: HashSet<u128>,
}

impl StoreIndex {
    async fn read(bulk: &mut BulkWriter) -> Result<StoreIndex, ImportError> {
        let mut by_key = HashMap::new();
        let mut ids = HashSet::new();
        let mut all = bulk.all_entries();
        while let Some(e) = all.try_next().await? {
            ids.insert(h(&[&e.entry_id]));
            if let Some(doc) = &e.data.document_number {
                by_key.insert(
                    natural_key(&e.data.authority, doc, &e.data.code),
                    existing(&e),
                );
            }
        }
        Ok(StoreIndex { by_key, ids })
    }
}

/// One import in progress, on the preparing thread: the store's index,
/// the file's keys seen so far, the writes not yet handed over and the
/// report. It owns what it needs (the thread outlives no borrow).
struct Job {
    lifecycle: Lifecycle,
    today: NaiveDate,
    opts: ImportOptions,
    actor: Actor,
    index: StoreIndex,
    /// Natural keys and entry ids of the file's rows so far.
    seen_keys: HashSet<u128>,
    seen_ids: HashSet<u128>,
    /// Scenario codes per category (from the catalogue).
    scenarios: HashMap<&'static str, Vec<String>>,
    /// Writes for the writer, and the rows they come from.
    writes: Vec<Write>,
    rows_in_batch: usize,
    report: ImportReport,
}

fn h(parts: &[&str]) -> u128 {
    let mut buf = Vec::with_capacity(128);
    for p in parts {
        buf.extend_from_slice(&(p.len() as u32).to_le_bytes());
        buf.extend_from_slice(p.as_bytes());
    }
    XxHash3_128::oneshot(&buf)
}

fn natural_key(authority: &str, document_number: &str, code: &str) -> u128 {
    h(&[&key_text(authority), &key_text(document_number), code.trim()])
}

/// A natural key's text as its meaning: the same decision written with
/// full-width digits, other brackets (〔〕, [], （）), traditional
/// characters, spaces or invisible format characters (U+200B, U+FEFF …)
/// is the same decision, not a second entry of it. `normalize` does NFKC,
/// brackets and traditional → simplified; spaces and format characters
/// (category Cf) are then dropped.
fn key_text(s: &str) -> String {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    credgate_names::normalize(s)
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && c.general_category() != GeneralCategory::Format
        })
        .collect()
}

/// The content a file row carries (everything but the lifecycle's
/// facts): equal content, no change. Only compared within one import.
fn content(d: &EntryData) -> u128 {
    let text = format!(
        "{:?}",
        (
            (d.list, d.subject_kind, &d.name, &d.code, &d.secondary_ids),
            (d.category, &d.reason, &d.basis, &d.authority),
            (&d.document_number, d.listed_on, d.valid_until, d.severity),
            &d.related,
        )
    );
    XxHash3_128::oneshot(text.as_bytes())
}

impl Job {
    fn new(
        cx: ImportContext<'_>,
        opts: &ImportOptions,
        index: StoreIndex,
    ) -> Job {
        let mut scenarios: HashMap<&'static str, Vec<String>> = HashMap::new();
        for c in credgate_model::CATEGORIES {
            let mut s: Vec<String> = cx
                .catalogue
                .measures(c.code, None)
                .map(|m| m.scenario.clone())
                .collect();
            s.sort();
            s.dedup();
            scenarios.insert(c.code, s);
        }
        Job {
            lifecycle: cx.lifecycle.clone(),
            today: cx.today,
            opts: opts.clone(),
            actor: Actor::publisher(&opts.department),
            index,
            seen_keys: HashSet::new(),
            seen_ids: HashSet::new(),
            scenarios,
            writes: Vec::new(),
            rows_in_batch: 0,
            report: ImportReport::default(),
        }
    }

    /// Whether writes still go to the store: not once a bad row has
    /// doomed an all-or-nothing import (reading goes on, to report every
    /// bad row).
    fn writing(&self) -> bool {
        self.opts.skip_invalid || self.report.invalid_rows == 0
    }

    fn bad(
        &mut self,
        line: u64,
        entry_id: Option<&str>,
        problems: Vec<(String, String, String)>,
    ) {
        self.report.invalid_rows += 1;
        for (column, rule, message) in problems {
            self.report.problem(RowProblem {
                row: line,
                entry_id: entry_id.map(str::to_string),
                column,
                rule,
                message,
            });
        }
        if !self.opts.skip_invalid {
            // Nothing will be committed: the writes not yet handed over
            // need not be made (those handed over are rolled back).
            self.writes.clear();
        }
    }

    fn skip(&mut self, reason: &str) {
        *self.report.skipped.entry(reason.to_string()).or_default() += 1;
    }

    fn row(
        &mut self,
        line: u64,
        row: Result<Entry, RowError>,
    ) -> Result<(), ImportError> {
        self.report.rows += 1;
        self.rows_in_batch += 1;
        let entry = match row {
            Ok(e) => e,
            Err(e) => {
                let problems = e
                    .errors
                    .iter()
                    .map(|f| {
                        let rule = if f.message.starts_with("required") {
                            "required"
                        } else {
                            "invalid_value"
                        };
                        (f.column.clone(), rule.to_string(), f.message.clone())
                    })
                    .collect();
                self.bad(line, e.entry_id.as_deref(), problems);
                return Ok(());
            }
        };
        let id = Some(entry.entry_id.as_str());
        if !matches!(entry.status, EntryStatus::Active | EntryStatus::Disputed)
        {
            self.skip("not_in_force");
            return Ok(());
        }
        let key =
            natural_key(&entry.authority, &entry.document_number, &entry.code);
        if !self.seen_keys.insert(key) {
            let msg = format!(
                "authority {} and document number {} with code {} appear \
                 on an earlier row: one decision, one subject, one row",
                entry.authority, entry.document_number, entry.code
            );
            self.bad(
                line,
                id,
                vec![problem("document_number", "duplicate_natural_key", msg)],
            );
            return Ok(());
        }
        let decided = match self.decide(&entry) {
            Ok(d) => d,
            Err(r) if r.rule == rule::PERIOD_ALREADY_ENDED => {
                self.skip(rule::PERIOD_ALREADY_ENDED);
                return Ok(());
            }
            Err(r) => {
                let column = r.field.unwrap_or("row").to_string();
                self.bad(
                    line,
                    id,
                    vec![(column, r.rule.to_string(), r.message)],
                );
                return Ok(());
            }
        };
        let (stage, data) = decided;
        match self.index.by_key.get(&key) {
            Some(ex) => {
                if ex.department != self.opts.department {
                    let msg = format!(
                        "this decision is entry {} of department {}; {} may \
                         not change it",
                        ex.entry_id, ex.department, self.opts.department
                    );
                    self.bad(
                        line,
                        id,
                        vec![problem("authority", "other_department", msg)],
                    );
                    return Ok(());
                }
                if ex.content == content(&data) {
                    self.report.unchanged += 1;
                    return Ok(());
                }
                if ex.stage.screening_status().is_none() {
                    let msg = format!(
                        "entry {} of this decision is {} in the store; a \
                         changed row cannot bring it back (list it anew \
                         with a new decision)",
                        ex.entry_id, ex.stage
                    );
                    self.bad(
                        line,
                        id,
                        vec![problem("row", "entry_not_in_force", msg)],
                    );
                    return Ok(());
                }
                let (entry_id, version) = (ex.entry_id.clone(), ex.version);
                // An objection open in the store stays open.
                let stage =
                    if ex.stage == Stage::Disputed { ex.stage } else { stage };
                self.report.updated += 1;
                if !self.writing() {
                    return Ok(());
                }
                let change = Change { stage, data, event: None };
                self.writes.push(Write::Update { entry_id, version, change });
            }
            None => {
                let hid = h(&[&entry.entry_id]);
                if self.index.ids.contains(&hid) {
                    let msg = format!(
                        "entry id {} is taken by another decision in the \
                         store",
                        entry.entry_id
                    );
                    self.bad(
                        line,
                        id,
                        vec![problem("entry_id", "entry_id_taken", msg)],
                    );
                    return Ok(());
                }
                if !self.seen_ids.insert(hid) {
                    let msg = format!(
                        "entry id {} appears on an earlier row",
                        entry.entry_id
                    );
                    self.bad(
                        line,
                        id,
                        vec![problem("entry_id", "duplicate_entry_id", msg)],
                    );
                    return Ok(());
                }
                self.report.inserted += 1;
                if !self.writing() {
                    return Ok(());
                }
                let new = NewEntry {
                    entry_id: entry.entry_id,
                    department: self.opts.department.clone(),
                    stage,
                    data,
                };
                self.writes.push(Write::Insert(PreparedEntry::new(new)?));
            }
        }
        Ok(())
    }

    /// The lifecycle's import of a row (and its objection, for a
    /// disputed row): the stage and the data to store.
    fn decide(
        &self,
        e: &Entry,
    ) -> Result<(Stage, EntryData), credgate_lifecycle::Refusal> {
        let category = Category::by_id(e.category).map_or("", |c| c.code);
        let designation = Designation {
            decided_on: e.listed_on,
            document_number: e.document_number.clone(),
            list: e.list,
            category: e.category,
            severity: e.severity,
            scenarios: self
                .scenarios
                .get(category)
                .cloned()
                .unwrap_or_default(),
            valid_until: if e.list == ListKind::Red {
                e.valid_until
            } else {
                None
            },
        };
        let lc = &self.lifecycle;
        let today = self.today;
        let command = Command::Import { designation, published_on: None };
        let d = lc.decide(None, &command, &self.actor, today)?;
        let mut data = EntryData::from_model(e);
        // The one converter of decisions into stored data (`mapping`).
        mapping::apply_decision(&d, &mut data);
        let mut stage = d.facts.stage;
        if e.status == EntryStatus::Disputed {
            let object = Command::Object {
                grounds: "imported as disputed (异议中) from the source file"
                    .into(),
                received_on: today,
            };
            let o = lc.decide(Some(&d.facts), &object, &self.actor, today)?;
            mapping::apply_decision(&o, &mut data);
            stage = o.facts.stage;
        }
        Ok((stage, data))
    }
}

fn problem(
    column: &str,
    rule: &str,
    message: String,
) -> (String, String, String) {
    (column.to_string(), rule.to_string(), message)
}

fn existing(e: &StoredEntry) -> Existing {
    Existing {
        entry_id: e.entry_id.clone(),
        department: e.department.clone(),
        stage: e.stage,
        version: e.version,
        content: content(&e.data),
    }
}

/// The report's problems as CSV (UTF-8 with a BOM, so that a spreadsheet
/// reads the Chinese): row, entry id, column, rule, message. Cells a
/// spreadsheet would evaluate are neutralised.
pub fn problems_csv(
    problems: &[RowProblem],
    out: impl std::io::Write,
) -> std::io::Result<()> {
    let mut out = out;
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["row", "entry_id", "column", "rule", "message"])?;
    for p in problems {
        w.write_record([
            p.row.to_string(),
            credgate_bulk::neutralise(p.entry_id.as_deref().unwrap_or(""))
                .into_owned(),
            p.column.clone(),
            p.rule.clone(),
            credgate_bulk::neutralise(&p.message).into_owned(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
