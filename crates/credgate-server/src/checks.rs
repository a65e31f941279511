//! The record of checks (核查留痕): every screening answer gets a check
//! id, a time and its snapshot version, and an append-only log keeps what
//! was asked, by which key, and what was answered.
//!
//! **Ids.** `YYYYMMDD-HHMMSSmmm-SSSSS-IIIIII`: the instant in China time
//! to the millisecond, a 20-bit sequence (hex) and a 24-bit random
//! instance tag drawn at start. An officer can read the date off the id,
//! and ids sort as strings in the order they were issued: (millisecond,
//! sequence) is one atomic counter that never goes backwards, even when
//! the clock does (the id then runs a little ahead of `checked_at`). The
//! instance tag keeps ids unique across restarts whose clock overlaps
//! (a restart within the same millisecond, or after a clock step back).
//! A batch item or bulk row is `BASE.N` (item index, spreadsheet row) and
//! a bulk job's summary `BASE.end`. No crate: ULIDs are neither readable
//! nor in China time, and the scheme is twenty lines.
//!
//! **Files.** JSON lines in `checks.dir` (default `<data_dir>/checks`),
//! each line a [`CheckRecord`] whose first field is `check_id`. The file
//! being written is `checks-YYYYMMDD-NNNN.open`; it is rotated at the
//! China day's end and at `max_file_bytes`, then renamed
//! `checks-YYYYMMDD-NNNN_<min id>_<max id>.jsonl` (a start renames any
//! `.open` left by a crash the same way after reading its ids). Files of
//! days older than `retention_days` are removed, and the oldest files
//! beyond `max_total_bytes` (a removal before the retention is over is
//! logged as an error and counted).
//!
//! **Lookups** are bounded by a file: every file's id range is known in
//! memory (from its name, or kept by the writer for the open file), so a
//! lookup reads only the files whose range holds the id — normally one,
//! at most `max_file_bytes` — comparing each line's prefix. An id index
//! in memory would cost ~80 bytes per check for the whole retention
//! (gigabytes at 10⁷ checks); a per-file range costs nothing.
//!
//! **Writing** never blocks a handler on disk I/O: a handler serialises
//! its lines and puts them on a queue bounded in bytes (`queue_bytes`);
//! one writer thread gathers for 10 ms, appends what has queued in one
//! `write`, and syncs (`fdatasync`) at most every `flush_interval_ms`
//! (group commit). It polls rather than being woken per record: a
//! wake-up per check cost 18% of throughput (BENCHMARKS.md).
//! **Invariant: no record, no answer.** An answer leaves only once its
//! lines are queued; a queue still full after `enqueue_timeout_ms`, or a
//! writer whose last write failed, refuses the request with 503
//! `check_not_recorded`, as the PII audit log withholds unmasked data it
//! cannot log. A failed write is retried (every 500 ms) and its lines kept
//! until written, so an answered check is lost only by a crash: a process
//! crash loses the queue (normally under a millisecond of checks), a
//! machine crash also what was written since the last sync (at most
//! `flush_interval_ms`).
//!
//! **Personal ID numbers** asked about are stored as
//! `sha256:` + SHA-256(secret ‖ normalised number) unless the key has
//! `screen_pii`: the 256-bit secret, made at the first start in
//! `<data_dir>/checks-secret` (mode 0600), keeps the ~10⁹ valid resident
//! ID numbers from being hashed one by one and compared, while a hash
//! still finds every check of one number.

use crate::access::{Caller, person_id};
use crate::view::{ScreenRequest, ScreenResponse};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use credgate_screen::Clock;
use credgate_screen::clock::CHINA;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// The response header carrying an answer's check id.
pub const CHECK_ID_HEADER: &str = "x-credgate-check-id";
/// The response header carrying the snapshot version an answer used.
pub const SNAPSHOT_HEADER: &str = "x-credgate-snapshot";

/// The `[checks]` section of the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksConfig {
    /// Record checks. Off, answers still carry ids, but nothing is kept
    /// and `GET /v1/checks/{id}` finds nothing (for benchmarks).
    pub enabled: bool,
    /// Where the record files go (default `<data_dir>/checks`).
    pub dir: Option<PathBuf>,
    /// Days a record file is kept after the China day it was written.
    pub retention_days: u32,
    /// A file is rotated before it grows past this size; also the most
    /// one lookup reads.
    pub max_file_bytes: u64,
    /// All record files together; the oldest are removed beyond it.
    pub max_total_bytes: u64,
    /// Longest time written records wait for `fdatasync`: what a machine
    /// crash may lose.
    pub flush_interval_ms: u64,
    /// Serialised records waiting for the writer at most.
    pub queue_bytes: u32,
    /// How long a handler waits for room in a full queue before it
    /// refuses the request (503 `check_not_recorded`).
    pub enqueue_timeout_ms: u64,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig {
            enabled: true,
            dir: None,
            // Three years; procurement files must be kept 15 years
            // (政府采购法 第四十二条): export records for that.
            retention_days: 1_095,
            max_file_bytes: 64 << 20,
            max_total_bytes: 20 << 30,
            flush_interval_ms: 200,
            queue_bytes: 64 << 20,
            enqueue_timeout_ms: 100,
        }
    }
}

impl ChecksConfig {
    /// The first setting that cannot work, and why.
    pub fn problem(&self) -> Option<String> {
        if self.max_file_bytes == 0 || self.queue_bytes == 0 {
            return Some(
                "max_file_bytes and queue_bytes must be above 0".into(),
            );
        }
        if self.max_total_bytes < self.max_file_bytes.saturating_mul(2) {
            return Some(format!(
                "max_total_bytes ({}) must be at least twice max_file_bytes \
                 ({}): the file being written counts too",
                self.max_total_bytes, self.max_file_bytes
            ));
        }
        if self.retention_days == 0 {
            return Some("retention_days must be at least 1".into());
        }
        None
    }
}

/// What a record is the record of.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// `POST /v1/screen`.
    Screen,
    /// A `POST /v1/screen/batch` request; its items are `batch_item`.
    Batch,
    BatchItem,
    /// A `POST /v1/screen/bulk` job, recorded when it starts; its rows are
    /// `bulk_row`, its outcome `bulk_end`.
    BulkJob,
    BulkRow,
    BulkEnd,
}

/// One line of the record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckRecord {
    /// First: a lookup matches a line by its prefix.
    #[schema(example = "20261101-120000123-00000-3fa9c1")]
    pub check_id: String,
    /// RFC 3339, China time, from the server's clock.
    #[schema(example = "2026-11-01T12:00:00.123+08:00")]
    pub checked_at: String,
    pub kind: CheckKind,
    /// The name of the API key that asked.
    pub key: String,
    /// The snapshot version answered from.
    pub snapshot: String,
    /// A batch item's or bulk row's batch or job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_of: Option<String>,
    /// A batch item's index (from 0) or a bulk row's spreadsheet row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<Asked>,
    /// Absent for a bulk job when it starts; `GET` adds its outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered: Option<Answered>,
}

/// What was asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Asked {
    Subject(AskedSubject),
    Batch(AskedBatch),
    Bulk(AskedBulk),
    Row(AskedRow),
}

/// A screening request's fields; resident ID numbers as
/// `sha256:HEX` unless the key has `screen_pii`.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct AskedSubject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_related: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_rep_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AskedBatch {
    pub items: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AskedBulk {
    /// The upload's `Content-Type`.
    pub content_type: String,
    /// The answer's format (`format` parameter).
    pub format: String,
    pub upload_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The upload's header row.
    pub header: Vec<String>,
}

/// A bulk row's cells at the header's positions; resident ID numbers
/// hashed as in [`AskedSubject`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AskedRow {
    pub fields: Vec<String>,
}

/// What was answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Answered {
    Subject(AnsweredSubject),
    Batch(AnsweredBatch),
    Bulk(AnsweredBulk),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnsweredSubject {
    /// Empty when a bulk row could not be screened (see `error`).
    pub decision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// On the red and the black list at once (absent for bulk rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<bool>,
    /// The entries that matched, best first.
    pub matched: Vec<Matched>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Matched {
    pub entry_id: String,
    /// `code`, `name_exact`, `name_fuzzy` or `related_party`.
    pub kind: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnsweredBatch {
    pub items: u64,
    /// Items screened; the others were answered an error and have no
    /// record of their own.
    pub screened: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnsweredBulk {
    pub rows: u64,
    /// Decision → rows (`error`: rows that could not be screened).
    pub decisions: BTreeMap<String, u64>,
    /// False when the job stopped before its last row.
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AnsweredSubject {
    pub fn of(r: &ScreenResponse) -> AnsweredSubject {
        AnsweredSubject {
            decision: r.decision.as_str().to_string(),
            scenario: r.scenario.clone(),
            conflict: Some(r.conflict),
            matched: r
                .hits
                .iter()
                .map(|h| Matched {
                    entry_id: h.entry_id.clone(),
                    kind: h.kind.as_str().to_string(),
                    score: h.score,
                })
                .collect(),
            error: None,
        }
    }
}

/// An answer's id and time.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub id: String,
    /// RFC 3339 in China time, to the millisecond.
    pub at: String,
}

impl Stamp {
    /// The id of item or row `n` of this batch or job.
    pub fn item(&self, n: u64) -> String {
        format!("{}.{n}", self.id)
    }
}

/// The wall-clock time in China (UTC+8, no daylight saving) at `t`.
fn china_time(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.with_timezone(&CHINA).naive_local()
}

/// Bits of the per-millisecond sequence.
const SEQ_BITS: u32 = 20;

/// Issues ids: (milliseconds << SEQ_BITS | sequence) in one atomic, so
/// they increase even when the clock stands still or steps back.
#[derive(Debug)]
struct IdGen {
    last: AtomicU64,
    instance: String,
}

impl IdGen {
    fn new() -> IdGen {
        use rand::TryRngCore;
        let mut b = [0u8; 3];
        rand::rngs::OsRng
            .try_fill_bytes(&mut b)
            .expect("the operating system's random source");
        IdGen {
            last: AtomicU64::new(0),
            instance: format!("{:02x}{:02x}{:02x}", b[0], b[1], b[2]),
        }
    }

    fn next(&self, now: DateTime<Utc>) -> String {
        let floor = (now.timestamp_millis().max(0) as u64) << SEQ_BITS;
        let step = |p: u64| floor.max(p + 1);
        let prev = self
            .last
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(step(p))
            })
            .unwrap_or_else(|p| p);
        let v = step(prev);
        let ms = (v >> SEQ_BITS) as i64;
        let seq = v & ((1 << SEQ_BITS) - 1);
        let t = china_time(
            DateTime::from_timestamp_millis(ms).unwrap_or_default(),
        );
        // Fields, not a strftime pattern: parsing one per request showed
        // in the profile.
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}{:03}-{seq:05x}-{}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            ms.rem_euclid(1000),
            self.instance
        )
    }
}

/// Whether `s` has the shape of a check id (`BASE`, `BASE.N`,
/// `BASE.end`): a lookup of anything else finds nothing without reading.
pub fn is_check_id(s: &str) -> bool {
    let (base, sub) = match s.split_once('.') {
        Some((b, s)) => (b, Some(s)),
        None => (s, None),
    };
    let parts: Vec<&str> = base.split('-').collect();
    let digits = |p: &str, n: usize| {
        p.len() == n && p.bytes().all(|b| b.is_ascii_digit())
    };
    let hex = |p: &str, n: usize| {
        p.len() == n
            && p.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let base_ok = parts.len() == 4
        && digits(parts[0], 8)
        && digits(parts[1], 9)
        && hex(parts[2], 5)
        && hex(parts[3], 6);
    let sub_ok = match sub {
        None => true,
        Some("end") => true,
        Some(n) => (1..=12).contains(&n.len()) && digits(n, n.len()),
    };
    base_ok && sub_ok
}

/// Hashes resident ID numbers with the installation's secret.
#[derive(Clone)]
pub struct PiiHasher {
    secret: [u8; 32],
}

impl std::fmt::Debug for PiiHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiHasher(..)")
    }
}

impl PiiHasher {
    /// The secret in `path`, made (32 random bytes, hex, mode 0600) when
    /// absent. A damaged file stops the start: a new secret would make
    /// earlier hashes unmatchable.
    pub fn load_or_create(path: &Path) -> std::io::Result<PiiHasher> {
        if !path.exists() {
            use rand::TryRngCore;
            let mut secret = [0u8; 32];
            rand::rngs::OsRng
                .try_fill_bytes(&mut secret)
                .expect("the operating system's random source");
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            // Temporary files are created 0600.
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            writeln!(tmp, "{}", hex(&secret))?;
            tmp.as_file().sync_all()?;
            // Another process may have made one meanwhile: keep theirs.
            if tmp.persist_noclobber(path).is_ok() {
                return Ok(PiiHasher { secret });
            }
        }
        let text = std::fs::read_to_string(path)?;
        let t = text.trim();
        let mut secret = [0u8; 32];
        let ok = t.len() == 64
            && t.is_ascii()
            && secret.iter_mut().enumerate().all(|(i, b)| {
                u8::from_str_radix(&t[2 * i..2 * i + 2], 16)
                    .map(|v| *b = v)
                    .is_ok()
            });
        if !ok {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: expected 64 hex digits; restore it from a backup \
                     (the hashes in the check records depend on it)",
                    path.display()
                ),
            ));
        }
        Ok(PiiHasher { secret })
    }

    /// `sha256:HEX` of a normalised resident ID number.
    pub fn hash(&self, id: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(id.as_bytes());
        format!("sha256:{}", hex(&h.finalize()))
    }

    /// `v` as stored: a resident ID number hashed unless `show`. So is
    /// one that fails its check but has the shape of one (18 characters,
    /// a birth year in 7-10) and is not a valid USCC: a mistyped number
    /// is now screened (its name is), and its other 17 characters still
    /// name the person.
    pub fn field(&self, v: &str, show: bool) -> String {
        if show {
            return v.to_string();
        }
        if let Some(id) = person_id(v) {
            return self.hash(&id);
        }
        let cleaned = credgate_ident::clean(v);
        let uscc = credgate_ident::validate_as(
            &cleaned,
            credgate_ident::IdKind::Uscc,
        )
        .is_ok();
        if !uscc && credgate_ident::resident_id::looks_like(&cleaned) {
            return self.hash(&cleaned);
        }
        v.to_string()
    }

    fn opt(&self, v: &Option<String>, show: bool) -> Option<String> {
        v.as_deref().map(|v| self.field(v, show))
    }

    /// A screening request as stored.
    pub fn asked(&self, r: &ScreenRequest, show: bool) -> AskedSubject {
        AskedSubject {
            id: r.id.clone(),
            code: self.opt(&r.code, show),
            name: r.name.clone(),
            subject_type: r.subject_type.clone(),
            scenario: r.scenario.clone(),
            lists: r.lists.clone(),
            categories: r.categories.clone(),
            include_related: r.include_related,
            legal_rep_code: self.opt(&r.legal_rep_code, show),
        }
    }
}

fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

/// Serialised records for the writer, with their id range.
#[derive(Debug, Default)]
pub struct Lines {
    bytes: Vec<u8>,
    min: String,
    max: String,
    count: u64,
}

impl Lines {
    pub fn push(&mut self, r: &CheckRecord) {
        serde_json::to_writer(&mut self.bytes, r)
            .expect("a record serialises");
        self.bytes.push(b'\n');
        if self.count == 0 || r.check_id < self.min {
            self.min = r.check_id.clone();
        }
        if self.count == 0 || r.check_id > self.max {
            self.max = r.check_id.clone();
        }
        self.count += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Why a check could not be recorded; the answer is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotRecorded {
    #[error("the queue of check records stayed full")]
    QueueFull,
    #[error("the check record writer is failing")]
    WriterFailed,
    #[error("the check record writer has stopped")]
    Stopped,
}

impl NotRecorded {
    fn label(self) -> &'static str {
        match self {
            NotRecorded::QueueFull => "queue_full",
            NotRecorded::WriterFailed => "writer_failed",
            NotRecorded::Stopped => "stopped",
        }
    }
}

/// The check ids and, when enabled, the record.
pub struct Checks {
    ids: IdGen,
    recorder: Option<Recorder>,
}

impl std::fmt::Debug for Checks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checks")
            .field("enabled", &self.recorder.is_some())
            .finish()
    }
}

struct Recorder {
    tx: mpsc::Sender<Msg>,
    queue: Arc<tokio::sync::Semaphore>,
    queue_bytes: u32,
    enqueue_timeout: Duration,
    hasher: PiiHasher,
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Second of the last refusal logged (one line a second at most).
    logged_at: AtomicI64,
}

enum Msg {
    Lines(Lines, tokio::sync::OwnedSemaphorePermit),
    /// Answered once everything queued before it is written.
    Barrier(tokio::sync::oneshot::Sender<()>),
    Stop,
}

/// What the writer and lookups share.
#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    /// Every record file, oldest first; the open one last.
    files: Mutex<Vec<FileInfo>>,
    /// The last write failed: refuse checks until one succeeds.
    failed: AtomicBool,
    /// Held by the writer while it writes; tests hold it to stall the
    /// writer as a slow disk would.
    stall: Mutex<()>,
}

#[derive(Debug, Clone)]
struct FileInfo {
    path: PathBuf,
    day: NaiveDate,
    seq: u32,
    min: String,
    max: String,
    bytes: u64,
}

impl FileInfo {
    fn extend(&mut self, min: &str, max: &str) {
        if self.min.is_empty() || min < self.min.as_str() {
            self.min = min.to_string();
        }
        if max > self.max.as_str() {
            self.max = max.to_string();
        }
    }
}

impl Checks {
    /// Ids only, nothing recorded (`checks.enabled = false`).
    pub fn disabled() -> Checks {
        Checks { ids: IdGen::new(), recorder: None }
    }

    /// Opens the record in `dir` (sealing what a crash left open and
    /// removing what is past retention or budget) and starts its writer.
    pub fn open(
        cfg: &ChecksConfig,
        dir: &Path,
        secret: &Path,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Checks> {
        if !cfg.enabled {
            return Ok(Checks::disabled());
        }
        if let Some(what) = cfg.problem() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("[checks] {what}"),
            ));
        }
        describe_metrics();
        let hasher = PiiHasher::load_or_create(secret)?;
        std::fs::create_dir_all(dir)?;
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            files: Mutex::new(recover(dir)?),
            failed: AtomicBool::new(false),
            stall: Mutex::new(()),
        });
        let mut writer = Writer {
            cfg: cfg.clone(),
            clock,
            shared: shared.clone(),
            active: None,
            unsynced: false,
            last_sync: Instant::now(),
            day: NaiveDate::MIN,
        };
        writer.maintain();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("check-records".into())
            .spawn(move || writer.run(rx))?;
        Ok(Checks {
            ids: IdGen::new(),
            recorder: Some(Recorder {
                tx,
                queue: Arc::new(tokio::sync::Semaphore::new(
                    cfg.queue_bytes as usize,
                )),
                queue_bytes: cfg.queue_bytes,
                enqueue_timeout: Duration::from_millis(cfg.enqueue_timeout_ms),
                hasher,
                shared,
                thread: Mutex::new(Some(thread)),
                logged_at: AtomicI64::new(0),
            }),
        })
    }

    pub fn enabled(&self) -> bool {
        self.recorder.is_some()
    }

    /// A new id and the time `now`, for one answer (or one batch or job).
    pub fn stamp(&self, now: DateTime<Utc>) -> Stamp {
        Stamp {
            id: self.ids.next(now),
            at: {
                let t = china_time(now);
                format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+08:00",
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    now.timestamp_subsec_millis().min(999)
                )
            },
        }
    }

    /// The hasher of personal ID numbers; `None` when nothing is recorded.
    pub fn hasher(&self) -> Option<&PiiHasher> {
        self.recorder.as_ref().map(|r| &r.hasher)
    }

    /// A record of `kind` made by `caller` against `snapshot`.
    pub fn record_of(
        stamp: &Stamp,
        kind: CheckKind,
        caller: &Caller,
        snapshot: &str,
    ) -> CheckRecord {
        CheckRecord {
            check_id: stamp.id.clone(),
            checked_at: stamp.at.clone(),
            kind,
            key: caller.name.clone(),
            snapshot: snapshot.to_string(),
            part_of: None,
            item: None,
            asked: None,
            answered: None,
        }
    }

    /// Queues `lines`: at once when there is room, else after waiting up
    /// to `enqueue_timeout_ms` for it. An error means the answer must be
    /// withheld.
    pub async fn record(&self, lines: Lines) -> Result<(), NotRecorded> {
        let Some(r) = &self.recorder else { return Ok(()) };
        if lines.is_empty() {
            return Ok(());
        }
        if r.shared.failed.load(Ordering::Relaxed) {
            return Err(r.refused(NotRecorded::WriterFailed));
        }
        // A message larger than the whole queue waits for all of it.
        let n = lines.bytes.len().clamp(1, r.queue_bytes as usize) as u32;
        let permit = match r.queue.clone().try_acquire_many_owned(n) {
            Ok(p) => p,
            Err(_) => {
                let wait = r.queue.clone().acquire_many_owned(n);
                match tokio::time::timeout(r.enqueue_timeout, wait).await {
                    Ok(Ok(p)) => p,
                    _ => return Err(r.refused(NotRecorded::QueueFull)),
                }
            }
        };
        r.tx.send(Msg::Lines(lines, permit))
            .map_err(|_| r.refused(NotRecorded::Stopped))
    }

    /// [`Checks::record`] from a blocking thread (a bulk job).
    pub fn record_blocking(
        &self,
        lines: Lines,
        runtime: &tokio::runtime::Handle,
    ) -> Result<(), NotRecorded> {
        runtime.block_on(self.record(lines))
    }

    /// The record line of `id` as JSON, once everything queued before the
    /// call is written. `Ok(None)`: no such record (or recording is off).
    pub async fn find(
        &self,
        id: &str,
    ) -> Result<Option<serde_json::Value>, NotRecorded> {
        let Some(r) = &self.recorder else { return Ok(None) };
        if !is_check_id(id) {
            return Ok(None);
        }
        if r.shared.failed.load(Ordering::Relaxed) {
            return Err(NotRecorded::WriterFailed);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        r.tx.send(Msg::Barrier(tx)).map_err(|_| NotRecorded::Stopped)?;
        rx.await.map_err(|_| NotRecorded::Stopped)?;
        let shared = r.shared.clone();
        let id = id.to_string();
        let found = tokio::task::spawn_blocking(move || shared.find(&id))
            .await
            .map_err(|_| NotRecorded::Stopped)?;
        match found {
            Ok(line) => Ok(line.and_then(|l| serde_json::from_slice(&l).ok())),
            Err(e) => {
                tracing::error!(error = %e, "reading the check records");
                Err(NotRecorded::WriterFailed)
            }
        }
    }

    /// Writes what is queued, syncs, seals the open file and stops the
    /// writer (at shutdown, after the last request).
    pub fn close(&self) {
        let Some(r) = &self.recorder else { return };
        let _ = r.tx.send(Msg::Stop);
        let thread = r.thread.lock().expect("thread lock").take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// Stalls the writer while the guard lives, as a slow disk would
    /// (tests of a full queue).
    #[doc(hidden)]
    pub fn stall(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.recorder
            .as_ref()
            .map(|r| r.shared.stall.lock().expect("stall lock"))
    }
}

impl Recorder {
    fn refused(&self, why: NotRecorded) -> NotRecorded {
        metrics::counter!("credgate_checks_refused_total", "reason" => why.label())
            .increment(1);
        let now = Utc::now().timestamp();
        if self.logged_at.swap(now, Ordering::Relaxed) != now {
            tracing::error!(
                reason = why.label(),
                "a check could not be recorded: answer withheld (503 check_not_recorded)"
            );
        }
        why
    }
}

fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge};
    describe_counter!(
        "credgate_checks_recorded_total",
        "Check records written to the record files."
    );
    describe_counter!(
        "credgate_checks_refused_total",
        "Answers withheld because their check record could not be queued, by reason."
    );
    describe_counter!(
        "credgate_checks_write_errors_total",
        "Failed writes or syncs of check records (retried)."
    );
    describe_counter!(
        "credgate_checks_files_removed_total",
        "Check record files removed, by reason (retention or disk_budget)."
    );
    describe_gauge!(
        "credgate_checks_disk_bytes",
        "Bytes of check record files on disk."
    );
    for reason in ["queue_full", "writer_failed", "stopped"] {
        metrics::counter!("credgate_checks_refused_total", "reason" => reason)
            .increment(0);
    }
    for reason in ["retention", "disk_budget"] {
        metrics::counter!("credgate_checks_files_removed_total", "reason" => reason)
            .increment(0);
    }
    metrics::counter!("credgate_checks_recorded_total").increment(0);
    metrics::counter!("credgate_checks_write_errors_total").increment(0);
}

impl Shared {
    /// The line of `id` in the files whose range holds it.
    fn find(&self, id: &str) -> std::io::Result<Option<Vec<u8>>> {
        let prefix = format!("{{\"check_id\":\"{id}\"");
        // The open file is renamed when sealed: look again if a
        // candidate vanished meanwhile.
        for _ in 0..3 {
            let candidates: Vec<PathBuf> = {
                let files = self.files.lock().expect("files lock");
                files
                    .iter()
                    .rev()
                    .filter(|f| f.min.as_str() <= id && id <= f.max.as_str())
                    .map(|f| f.path.clone())
                    .collect()
            };
            let mut vanished = false;
            for path in candidates {
                match scan(&path, prefix.as_bytes()) {
                    Ok(Some(line)) => return Ok(Some(line)),
                    Ok(None) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        vanished = true;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !vanished {
                break;
            }
        }
        Ok(None)
    }
}

/// The first complete line of `path` starting with `prefix`.
fn scan(path: &Path, prefix: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let f = std::fs::File::open(path)?;
    let mut r = std::io::BufReader::with_capacity(256 << 10, f);
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        // A line cut short by a crash has no newline: never an answer.
        if line.starts_with(prefix) && line.ends_with(b"\n") {
            return Ok(Some(line));
        }
    }
}

/// The check id a line starts with.
fn line_id(line: &[u8]) -> Option<&str> {
    let rest = line.strip_prefix(b"{\"check_id\":\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&rest[..end]).ok()
}

const PREFIX: &str = "checks-";

fn open_name(day: NaiveDate, seq: u32) -> String {
    format!("{PREFIX}{}-{seq:04}.open", day.format("%Y%m%d"))
}

fn sealed_name(day: NaiveDate, seq: u32, min: &str, max: &str) -> String {
    format!("{PREFIX}{}-{seq:04}_{min}_{max}.jsonl", day.format("%Y%m%d"))
}

/// What a record file's name says.
struct Name<'a> {
    day: NaiveDate,
    seq: u32,
    /// The id range of a sealed file.
    range: Option<(&'a str, &'a str)>,
}

fn parse_name(name: &str) -> Option<Name<'_>> {
    let rest = name.strip_prefix(PREFIX)?;
    let day = NaiveDate::parse_from_str(rest.get(..8)?, "%Y%m%d").ok()?;
    let rest = rest.get(8..)?.strip_prefix('-')?;
    if let Some(seq) = rest.strip_suffix(".open") {
        return Some(Name { day, seq: seq.parse().ok()?, range: None });
    }
    let rest = rest.strip_suffix(".jsonl")?;
    let mut parts = rest.split('_');
    let seq = parts.next()?.parse().ok()?;
    let (min, max) = (parts.next()?, parts.next()?);
    (parts.next().is_none() && is_check_id(min) && is_check_id(max))
        .then_some(Name { day, seq, range: Some((min, max)) })
}

/// The record files of `dir`, oldest first; an `.open` file left by a
/// crash is read for its ids and sealed (an empty one removed).
fn recover(dir: &Path) -> std::io::Result<Vec<FileInfo>> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some(Name { day, seq, range }) =
            name.to_str().and_then(parse_name)
        else {
            continue;
        };
        let path = e.path();
        let bytes = e.metadata()?.len();
        if let Some((min, max)) = range {
            let (min, max) = (min.to_string(), max.to_string());
            files.push(FileInfo { path, day, seq, min, max, bytes });
            continue;
        }
        let mut info = FileInfo {
            path: path.clone(),
            day,
            seq,
            min: String::new(),
            max: String::new(),
            bytes,
        };
        let mut r = std::io::BufReader::new(std::fs::File::open(&path)?);
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if let Some(id) = line_id(&line) {
                info.extend(id, id);
            }
        }
        if info.min.is_empty() {
            std::fs::remove_file(&path)?;
            continue;
        }
        let sealed = dir.join(sealed_name(day, seq, &info.min, &info.max));
        std::fs::rename(&path, &sealed)?;
        info.path = sealed;
        tracing::warn!(file = %info.path.display(), "sealed a check record file left open by a stop");
        files.push(info);
    }
    files.sort_by_key(|f| (f.day, f.seq));
    sync_dir(dir);
    Ok(files)
}

/// Makes a created, renamed or removed file's name durable.
fn sync_dir(dir: &Path) {
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(error = %e, dir = %dir.display(), "syncing a directory");
    }
}

/// The file being appended to: the last of `Shared::files`.
struct Active {
    file: std::fs::File,
    day: NaiveDate,
    bytes: u64,
}

struct Writer {
    cfg: ChecksConfig,
    clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
    active: Option<Active>,
    unsynced: bool,
    last_sync: Instant,
    /// The China day of the last maintenance.
    day: NaiveDate,
}

/// How long a failed write waits before it is tried again.
const RETRY: Duration = Duration::from_millis(500);
/// How long the writer lets records gather before it writes them; also
/// the longest a lookup waits for the records queued before it.
const GATHER: Duration = Duration::from_millis(10);
/// Bytes gathered into one write at most.
const GROUP_BYTES: usize = 4 << 20;

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let flush = Duration::from_millis(self.cfg.flush_interval_ms.max(1));
        let mut pending: Vec<(Lines, tokio::sync::OwnedSemaphorePermit)> =
            Vec::new();
        let mut barriers = Vec::new();
        let mut stopping = false;
        let mut failures = 0u32;
        let shared = self.shared.clone();
        loop {
            // Sorts a message; true for `Stop`.
            let mut take = |m: Msg, pending: &mut Vec<_>| match m {
                Msg::Lines(l, p) => {
                    pending.push((l, p));
                    false
                }
                Msg::Barrier(b) => {
                    barriers.push(b);
                    false
                }
                Msg::Stop => true,
            };
            if pending.is_empty() && !stopping {
                // Polled, not woken per message: a wake-up per check cost
                // more CPU than the record itself (see BENCHMARKS.md).
                std::thread::sleep(GATHER);
            }
            let mut gathered: usize =
                pending.iter().map(|(l, _)| l.bytes.len()).sum();
            while gathered < GROUP_BYTES {
                match rx.try_recv() {
                    Ok(m) => {
                        if let Msg::Lines(l, _) = &m {
                            gathered += l.bytes.len();
                        }
                        stopping |= take(m, &mut pending);
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        stopping = true;
                        break;
                    }
                }
            }
            let stall = shared.stall.lock().expect("stall lock");
            if !pending.is_empty() {
                match self.write(&mut pending) {
                    Ok(()) => {
                        if self.shared.failed.swap(false, Ordering::Relaxed) {
                            tracing::info!("check records are written again");
                        }
                        failures = 0;
                    }
                    Err(e) => {
                        self.failed(&e, "writing");
                        failures += 1;
                        drop(stall);
                        if stopping && failures >= 3 {
                            let lost: u64 =
                                pending.iter().map(|(l, _)| l.count).sum();
                            tracing::error!(
                                lost,
                                "check records lost at shutdown: the record files cannot be written"
                            );
                            return;
                        }
                        std::thread::sleep(RETRY);
                        continue;
                    }
                }
            }
            for b in barriers.drain(..) {
                let _ = b.send(());
            }
            self.maintain();
            if self.unsynced && (stopping || self.last_sync.elapsed() >= flush)
            {
                self.sync();
            }
            drop(stall);
            if stopping && pending.is_empty() {
                self.seal();
                return;
            }
        }
    }

    fn failed(&mut self, e: &std::io::Error, what: &str) {
        metrics::counter!("credgate_checks_write_errors_total").increment(1);
        if !self.shared.failed.swap(true, Ordering::Relaxed) {
            tracing::error!(error = %e, dir = %self.shared.dir.display(), "{what} check records failed: checks are refused (503) until a write succeeds");
        }
        // Go on in a new file: the state of this one is unknown.
        self.active = None;
        self.unsynced = false;
    }

    fn sync(&mut self) {
        let Some(a) = &self.active else { return };
        if let Err(e) = a.file.sync_data() {
            self.failed(&e, "syncing");
            return;
        }
        self.unsynced = false;
        self.last_sync = Instant::now();
    }

    /// Appends `pending` in as few writes as the file limits allow,
    /// removing from it what was written (a retry writes the rest).
    fn write(
        &mut self,
        pending: &mut Vec<(Lines, tokio::sync::OwnedSemaphorePermit)>,
    ) -> std::io::Result<()> {
        let mut buf = Vec::new();
        // Messages [0, done) are written; [done, next) are in `buf`.
        let mut done = 0;
        let mut result = Ok(());
        for (next, (l, _)) in pending.iter().enumerate() {
            let len = l.bytes.len() as u64;
            if self.must_rotate(len) {
                result = self.append(&mut buf).and_then(|()| {
                    done = next;
                    self.rotate()
                });
                if result.is_err() {
                    break;
                }
            }
            let mut files = self.shared.files.lock().expect("files lock");
            let info = files.last_mut().expect("the open file is listed");
            info.extend(&l.min, &l.max);
            info.bytes += len;
            drop(files);
            if let Some(a) = &mut self.active {
                a.bytes += len;
            }
            buf.extend_from_slice(&l.bytes);
        }
        if result.is_ok() {
            result = self.append(&mut buf);
            if result.is_ok() {
                done = pending.len();
            }
        }
        let n: u64 = pending[..done].iter().map(|(l, _)| l.count).sum();
        metrics::counter!("credgate_checks_recorded_total").increment(n);
        // Dropping their permits makes room in the queue.
        pending.drain(..done);
        result
    }

    /// Writes `buf` to the open file and empties it.
    fn append(&mut self, buf: &mut Vec<u8>) -> std::io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let a = self.active.as_mut().expect("a file is open");
        a.file.write_all(buf)?;
        buf.clear();
        self.unsynced = true;
        Ok(())
    }

    /// No file is open, the China day changed, or `len` more bytes would
    /// pass `max_file_bytes` (a file holds at least one request's lines,
    /// so one larger than that makes a larger file).
    fn must_rotate(&self, len: u64) -> bool {
        let today = self.clock.today();
        self.active.as_ref().is_none_or(|a| {
            a.day != today
                || (a.bytes > 0 && a.bytes + len > self.cfg.max_file_bytes)
        })
    }

    /// Seals the open file and opens a new one for today.
    fn rotate(&mut self) -> std::io::Result<()> {
        let today = self.clock.today();
        self.seal();
        let dir = &self.shared.dir;
        let mut files = self.shared.files.lock().expect("files lock");
        let seq = files
            .iter()
            .filter(|f| f.day == today)
            .map(|f| f.seq + 1)
            .max()
            .unwrap_or(1);
        let path = dir.join(open_name(today, seq));
        let file = std::fs::File::options()
            .create_new(true)
            .append(true)
            .open(&path)?;
        files.push(FileInfo {
            path,
            day: today,
            seq,
            min: String::new(),
            max: String::new(),
            bytes: 0,
        });
        drop(files);
        sync_dir(dir);
        self.active = Some(Active { file, day: today, bytes: 0 });
        self.prune(today);
        Ok(())
    }

    /// Syncs the open file and renames it with its id range (an empty
    /// one is removed). A failed rename leaves it open-named, found by
    /// its path until the next start seals it.
    fn seal(&mut self) {
        let Some(a) = self.active.take() else { return };
        if self.unsynced {
            if let Err(e) = a.file.sync_data() {
                metrics::counter!("credgate_checks_write_errors_total")
                    .increment(1);
                tracing::error!(error = %e, "syncing a check record file");
            }
            self.unsynced = false;
        }
        drop(a.file);
        let dir = &self.shared.dir;
        let mut files = self.shared.files.lock().expect("files lock");
        let Some(info) = files.last_mut() else { return };
        let result = if info.min.is_empty() {
            let r = std::fs::remove_file(&info.path);
            if r.is_ok() {
                files.pop();
            }
            r
        } else {
            let to = dir
                .join(sealed_name(info.day, info.seq, &info.min, &info.max));
            std::fs::rename(&info.path, &to).map(|()| info.path = to)
        };
        drop(files);
        match result {
            Ok(()) => sync_dir(dir),
            Err(e) => {
                tracing::error!(error = %e, dir = %dir.display(), "sealing a check record file")
            }
        }
    }

    /// At a new China day: seals yesterday's file and applies the
    /// retention.
    fn maintain(&mut self) {
        let today = self.clock.today();
        if today == self.day {
            return;
        }
        self.day = today;
        if self.active.as_ref().is_some_and(|a| a.day != today) {
            self.seal();
        }
        self.prune(today);
    }

    /// Removes files past the retention, then the oldest beyond the disk
    /// budget (never the open one). The open file may grow to
    /// `max_file_bytes`, so the others keep within the budget less that.
    fn prune(&self, today: NaiveDate) {
        let cutoff = today - chrono::Days::new(self.cfg.retention_days.into());
        let open = self.active.is_some();
        let mut files = self.shared.files.lock().expect("files lock");
        let closed = files.len() - usize::from(open);
        let budget =
            self.cfg.max_total_bytes.saturating_sub(self.cfg.max_file_bytes);
        let mut remove = Vec::new();
        let mut total: u64 = files.iter().take(closed).map(|f| f.bytes).sum();
        for (i, f) in files.iter().enumerate().take(closed) {
            if f.day < cutoff {
                remove.push((i, "retention"));
                total -= f.bytes;
            } else if total > budget {
                remove.push((i, "disk_budget"));
                total -= f.bytes;
            }
        }
        for &(i, reason) in remove.iter().rev() {
            let f = files.remove(i);
            if let Err(e) = std::fs::remove_file(&f.path) {
                tracing::error!(error = %e, file = %f.path.display(), "removing a check record file");
            }
            metrics::counter!("credgate_checks_files_removed_total", "reason" => reason)
                .increment(1);
            if reason == "disk_budget" {
                tracing::error!(file = %f.path.display(), day = %f.day, max_total_bytes = self.cfg.max_total_bytes, "check records removed before their retention to stay within the disk budget");
            }
        }
        let open_bytes = files.last().filter(|_| open).map_or(0, |f| f.bytes);
        metrics::gauge!("credgate_checks_disk_bytes")
            .set((total + open_bytes) as f64);
        drop(files);
        if !remove.is_empty() {
            sync_dir(&self.shared.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credgate_screen::TestClock;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ids_read_in_china_time_and_increase_when_the_clock_stands_or_steps_back()
     {
        let g = IdGen::new();
        let t = utc("2026-11-01T16:00:00.123Z");
        let a = g.next(t);
        assert!(a.starts_with("20261102-000000123-00000-"), "{a}");
        assert!(is_check_id(&a), "{a}");
        let b = g.next(t);
        assert!(b.starts_with("20261102-000000123-00001-"), "{b}");
        let c = g.next(utc("2026-11-01T15:00:00Z"));
        assert!(a < b && b < c, "{a} {b} {c}");
        let d = g.next(utc("2026-11-01T16:00:01Z"));
        assert!(d.starts_with("20261102-000001000-00000-"), "{d}");
        for bad in [
            "",
            "../x",
            "20261102-000000123-00000",
            "20261102-000000123-00000-3FA9C1",
            "20261102-000000123-00000-3fa9c1.x",
            "20261102-000000123-00000-3fa9c1.",
        ] {
            assert!(!is_check_id(bad), "{bad}");
        }
        for good in [
            "20261102-000000123-00000-3fa9c1.17",
            "20261102-000000123-00000-3fa9c1.end",
        ] {
            assert!(is_check_id(good), "{good}");
        }
    }

    #[test]
    fn a_file_left_open_by_a_crash_is_sealed_and_found() {
        let dir = tempfile::tempdir().unwrap();
        let checks = dir.path().join("checks");
        std::fs::create_dir_all(&checks).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let id = "20261101-120000000-00000-abcdef";
        let line = format!(
            "{{\"check_id\":\"{id}\",\"checked_at\":\"x\",\"kind\":\"screen\",\"key\":\"k\",\"snapshot\":\"s\"}}\n"
        );
        // The second line was cut short by the crash.
        let text = format!("{line}{{\"check_id\":\"20261101-12");
        std::fs::write(checks.join(open_name(day, 1)), text).unwrap();
        std::fs::write(checks.join(open_name(day, 2)), "").unwrap();
        let clock = Arc::new(TestClock::at(utc("2026-11-01T06:00:00Z")));
        let c = Checks::open(
            &ChecksConfig::default(),
            &checks,
            &dir.path().join("secret"),
            clock,
        )
        .unwrap();
        let names: Vec<String> = std::fs::read_dir(&checks)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names,
            [format!("checks-20261101-0001_{id}_{id}.jsonl")],
            "sealed under its range; the empty file removed"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let found = rt.block_on(c.find(id)).unwrap().unwrap();
        assert_eq!(found["key"], "k");
        let other = "20261101-120000000-00001-abcdef";
        assert!(rt.block_on(c.find(other)).unwrap().is_none());
        c.close();
    }

    #[test]
    fn a_damaged_secret_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checks-secret");
        let h = PiiHasher::load_or_create(&path).unwrap();
        let again = PiiHasher::load_or_create(&path).unwrap();
        assert_eq!(h.hash("x"), again.hash("x"), "the same secret is kept");
        std::fs::write(&path, "not hex\n").unwrap();
        let err = PiiHasher::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("expected 64 hex digits"), "{err}");
    }
}
