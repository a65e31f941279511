//! The HTTP handlers.

use crate::AppState;
use crate::access::{self, Caller};
use crate::checks::{
    Answered, AnsweredBatch, AnsweredBulk, AnsweredSubject, Asked, AskedBatch,
    AskedBulk, AskedRow, CHECK_ID_HEADER, CheckKind, CheckRecord, Checks,
    Lines, Matched, NotRecorded, SNAPSHOT_HEADER, Stamp,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::snapshots::{Live, StoreStatus, SwapError, Ticket};
use crate::view::{self, Pii, ScreenRequest, ScreenResponse};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use credgate_bulk::{
    BulkError, CsvEncoding, InputFormat, Lang, OutputFormat, OutputOptions,
    ReportMeta, RowWriter,
};
use credgate_entries::Encoding;
use credgate_screen::{MatchKind, Outcome, QueryField, china_date};
use futures_util::StreamExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

/// Runs `f` on the blocking pool: verification, bulk jobs and large
/// batches must not hold up the async workers.
async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("{what} worker: {e}")))
}

fn live(state: &AppState) -> Result<Arc<Live>, ApiError> {
    state.store.live().ok_or_else(ApiError::no_snapshot)
}

/// The person-ID numbers a request queries, by query field.
fn person_ids(req: &ScreenRequest) -> Vec<(QueryField, String)> {
    [
        (QueryField::Code, &req.code),
        (QueryField::LegalRepCode, &req.legal_rep_code),
    ]
    .into_iter()
    .filter_map(|(f, v)| Some((f, access::person_id(v.as_deref()?)?)))
    .collect()
}

/// What the enumeration detector learns from one answer.
#[derive(Debug, Default)]
struct Seen {
    /// Person-ID numbers of the entries shown (masked or not).
    shown: Vec<String>,
    /// Person-ID numbers queried that found no identifier hit.
    misses: u32,
}

fn seen(live: &Live, req: &ScreenRequest, outcome: &Outcome) -> Seen {
    let snap = &live.screener.snapshot;
    let misses = person_ids(req)
        .iter()
        .filter(|(field, _)| {
            !outcome.hits.iter().any(|h| {
                h.query_field == *field
                    && matches!(
                        h.kind,
                        MatchKind::Code | MatchKind::RelatedParty
                    )
            })
        })
        .count() as u32;
    let mut shown = Vec::new();
    // Similar entries are shown too (masked or not).
    for h in outcome.hits.iter().chain(&outcome.similar) {
        if let Ok(r) = snap.record(h.ordinal) {
            // The entry's own code, and the key it matched on (for a
            // related party: the person's ID).
            shown.extend(
                [r.code, h.entry_key.as_str()]
                    .into_iter()
                    .filter_map(access::person_id),
            );
        }
    }
    Seen { shown, misses }
}

fn screen_one(
    live: &Live,
    req: &ScreenRequest,
    today: chrono::NaiveDate,
    pii: Pii,
) -> Result<(ScreenResponse, view::Disclosed, Seen), ApiError> {
    let started = Instant::now();
    let query = req.query()?;
    let (outcome, warnings) = live.screener.screen_or_name(
        &query,
        req.scenario.as_deref(),
        today,
    )?;
    let took = started.elapsed();
    let decision = outcome.verdict.decision.code();
    metrics::histogram!("credgate_screen_duration_seconds", "decision" => decision)
        .record(took.as_secs_f64());
    let (mut resp, disclosed) = view::response(
        &live.screener.snapshot,
        &live.version,
        &outcome,
        pii,
        took.as_micros() as u64,
    );
    resp.warnings.extend(warnings);
    Ok((resp, disclosed, seen(live, req, &outcome)))
}

fn audit(
    state: &AppState,
    caller: &Caller,
    endpoint: &str,
    disclosed: &[(String, String)],
) -> Result<(), ApiError> {
    // No disclosure without its audit line.
    state.audit.record(caller, endpoint, disclosed).map_err(|e| {
        tracing::error!(error = %e, "PII audit log write failed");
        ApiError::internal(
            "the PII audit log cannot be written; unmasked data withheld",
        )
    })
}

/// 503 `check_not_recorded`: no record, no answer.
fn not_recorded(e: NotRecorded) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "check_not_recorded",
        format!(
            "{e}: the record of this check cannot be kept, so its answer \
             is withheld; retry later"
        ),
    );
    err.retry_after = Some(1);
    err
}

/// A header value: visible ASCII as is, other bytes percent-encoded (a
/// snapshot's file name may be Chinese).
fn header_value(s: &str) -> HeaderValue {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&out).expect("visible ASCII")
}

/// `body` with the check id and snapshot version headers.
fn checked(
    stamp: &Stamp,
    snapshot: &str,
    body: impl IntoResponse,
) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CHECK_ID_HEADER, header_value(&stamp.id));
    h.insert(SNAPSHOT_HEADER, header_value(snapshot));
    r
}

/// A screening answer's record line.
fn subject_record(
    checks: &Checks,
    stamp: &Stamp,
    kind: CheckKind,
    caller: &Caller,
    snapshot: &str,
    req: &ScreenRequest,
    resp: &ScreenResponse,
) -> Option<CheckRecord> {
    let hasher = checks.hasher()?;
    Some(CheckRecord {
        check_id: resp.check_id.clone().unwrap_or_default(),
        asked: Some(Asked::Subject(hasher.asked(req, caller.sees_pii()))),
        answered: Some(Answered::Subject(AnsweredSubject::of(resp))),
        ..Checks::record_of(stamp, kind, caller, snapshot)
    })
}

/// Screen one subject.
#[utoipa::path(
    post, path = "/v1/screen", tag = "screening",
    request_body = ScreenRequest,
    responses(
        (status = 200, description = "Decision, measures and explained hits", body = ScreenResponse,
            headers(
                ("X-Credgate-Check-Id" = String, description = "The check's id (also `check_id`)"),
                ("X-Credgate-Snapshot" = String, description = "The snapshot version answered from (percent-encoded beyond visible ASCII)"),
            )),
        (status = 400, description = "Invalid identifier, unknown scenario or malformed body", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "No snapshot, or `check_not_recorded`: the check's record cannot be kept, so the answer is withheld", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn screen(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ScreenRequest>,
) -> Result<Response, ApiError> {
    caller.require_screening()?;
    let live = live(&state)?;
    const ENDPOINT: &str = "/v1/screen";
    caller
        .screening(ENDPOINT, person_ids(&req).into_iter().map(|(_, id)| id))?;
    // One instant: the date screened on and the check's time agree.
    let now = state.clock.now();
    let (mut resp, disclosed, seen) =
        screen_one(&live, &req, china_date(now), caller.pii())?;
    caller.screened(ENDPOINT, seen.shown, seen.misses)?;
    let stamp = state.checks.stamp(now);
    resp.check_id = Some(stamp.id.clone());
    resp.checked_at = Some(stamp.at.clone());
    let record = subject_record(
        &state.checks,
        &stamp,
        CheckKind::Screen,
        &caller,
        &live.version,
        &req,
        &resp,
    );
    if let Some(record) = record {
        let mut lines = Lines::default();
        lines.push(&record);
        state.checks.record(lines).await.map_err(not_recorded)?;
    }
    audit(&state, &caller, ENDPOINT, &disclosed)?;
    Ok(checked(&stamp, &live.version, Json(resp)))
}

/// Many subjects in one request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub items: Vec<ScreenRequest>,
    /// The scenario of every item that names none: an id or Chinese name.
    #[schema(example = "政府采购")]
    pub scenario: Option<String>,
}

/// One item's answer: a result or an error, never both.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
    /// The item's `id`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ScreenResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// In the order of the request's items.
    pub results: Vec<BatchItem>,
}

/// Screen up to `batch_max_items` subjects, answered in input order; a
/// bad item gets its own error and does not fail the others.
#[utoipa::path(
    post, path = "/v1/screen/batch", tag = "screening",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "Item `i`'s check id is `BATCH_ID.i`", body = BatchResponse,
            headers(
                ("X-Credgate-Check-Id" = String, description = "The batch's check id"),
                ("X-Credgate-Snapshot" = String, description = "The snapshot version answered from"),
            )),
        (status = 400, description = "Malformed body or too many items", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, description = "No snapshot, or `check_not_recorded`", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Response, ApiError> {
    caller.require_screening()?;
    let max = state.config.batch_max_items;
    if req.items.len() > max {
        return Err(ApiError::bad_request(
            "too_many_items",
            format!("{} items; at most {max} per batch", req.items.len()),
        )
        .field("items"));
    }
    const ENDPOINT: &str = "/v1/screen/batch";
    caller.charge_items(req.items.len())?;
    caller.screening(
        ENDPOINT,
        req.items.iter().flat_map(person_ids).map(|(_, id)| id),
    )?;
    let live = live(&state)?;
    live.screener
        .check_scenario(req.scenario.as_deref())
        .map_err(|e| ApiError::from(e).field("scenario"))?;
    let pii = caller.pii();
    // One date for the whole batch: its items are one question.
    let now = state.clock.now();
    let today = china_date(now);
    let stamp = state.checks.stamp(now);
    let version = live.version.clone();
    let mut items = req.items;
    if let Some(scenario) = &req.scenario {
        for item in items.iter_mut().filter(|i| i.scenario.is_none()) {
            item.scenario = Some(scenario.clone());
        }
    }
    let ids: Vec<Option<String>> =
        items.iter().map(|i| i.id.clone()).collect();
    let (checks, who, batch_stamp) =
        (state.checks.clone(), caller.clone(), stamp.clone());
    let scenario = req.scenario.clone();
    let (answers, lines) = blocking("batch", move || {
        let mut answers = items
            .par_iter()
            .map(|item| screen_one(&live, item, today, pii))
            .collect::<Vec<_>>();
        for (i, a) in answers.iter_mut().enumerate() {
            if let Ok((r, _, _)) = a {
                r.check_id = Some(batch_stamp.item(i as u64));
                r.checked_at = Some(batch_stamp.at.clone());
            }
        }
        let lines = batch_lines(
            &checks,
            &batch_stamp,
            &who,
            &live.version,
            scenario,
            &items,
            &answers,
        );
        (answers, lines)
    })
    .await?;
    let mut disclosed = Vec::new();
    let mut seen = Seen::default();
    let results = answers
        .into_iter()
        .zip(ids)
        .map(|(a, id)| match a {
            Ok((r, d, s)) => {
                disclosed.extend(d);
                seen.shown.extend(s.shown);
                seen.misses += s.misses;
                BatchItem { id, result: Some(r), error: None }
            }
            Err(e) => BatchItem { id, result: None, error: Some(e.body) },
        })
        .collect();
    caller.screened(ENDPOINT, seen.shown, seen.misses)?;
    state.checks.record(lines).await.map_err(not_recorded)?;
    audit(&state, &caller, ENDPOINT, &disclosed)?;
    Ok(checked(&stamp, &version, Json(BatchResponse { results })))
}

type Answer = Result<(ScreenResponse, view::Disclosed, Seen), ApiError>;

/// A batch's record lines: the batch, then each item screened (an item
/// answered an error was not checked).
fn batch_lines(
    checks: &Checks,
    stamp: &Stamp,
    caller: &Caller,
    snapshot: &str,
    scenario: Option<String>,
    items: &[ScreenRequest],
    answers: &[Answer],
) -> Lines {
    let mut lines = Lines::default();
    if !checks.enabled() {
        return lines;
    }
    let screened = answers.iter().filter(|a| a.is_ok()).count() as u64;
    lines.push(&CheckRecord {
        asked: Some(Asked::Batch(AskedBatch {
            items: items.len() as u64,
            scenario,
        })),
        answered: Some(Answered::Batch(AnsweredBatch {
            items: items.len() as u64,
            screened,
        })),
        ..Checks::record_of(stamp, CheckKind::Batch, caller, snapshot)
    });
    for (i, (item, a)) in items.iter().zip(answers).enumerate() {
        let Ok((r, _, _)) = a else { continue };
        let kind = CheckKind::BatchItem;
        if let Some(record) =
            subject_record(checks, stamp, kind, caller, snapshot, item, r)
        {
            lines.push(&CheckRecord {
                part_of: Some(stamp.id.clone()),
                item: Some(i as u64),
                ..record
            });
        }
    }
    lines
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BulkParams {
    /// Scenario of every row; all scenarios when absent.
    pub scenario: Option<String>,
    /// `csv` (default), `xlsx` (a workbook: cover, bidders, hits with
    /// measures and legal basis, shared legal representatives) or
    /// `ndjson`.
    pub format: Option<String>,
    /// `zh` (default: Chinese headers and decision words, for officers) or
    /// `en` (English names and codes, for programs).
    pub lang: Option<String>,
    /// CSV answer encoding: `utf-8-bom` (default with `lang=zh`, what
    /// Excel reads), `utf-8` (default with `lang=en`) or `gbk`.
    pub output_encoding: Option<String>,
    /// Sheet of a workbook, by name or 1-based position; the first sheet
    /// with a header when absent.
    pub sheet: Option<String>,
    /// The name column, by header text or 1-based position (overrides
    /// detection; see `X-Credgate-Columns` in the answer).
    pub name_column: Option<String>,
    /// The code column (USCC or ID number), by header text or position.
    pub code_column: Option<String>,
    /// The legal representative's name column.
    pub rep_name_column: Option<String>,
    /// The legal representative's ID number column.
    pub rep_code_column: Option<String>,
}

impl BulkParams {
    fn input_options(&self) -> credgate_bulk::InputOptions {
        use credgate_bulk::{ColumnOverrides, ColumnRef, SheetRef};
        let column = |c: &Option<String>| c.as_deref().map(ColumnRef::parse);
        credgate_bulk::InputOptions {
            sheet: self.sheet.as_deref().map(SheetRef::parse),
            columns: ColumnOverrides {
                name: column(&self.name_column),
                code: column(&self.code_column),
                rep_name: column(&self.rep_name_column),
                rep_code: column(&self.rep_code_column),
            },
        }
    }
}

/// Forwards written bytes to the response body in chunks; a client that
/// went away makes the next write fail, which stops the job.
struct ChunkSender {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    /// A client that stops reading must not hold the job (its slot, its
    /// thread, its spool file) past the job's time limit.
    deadline: tokio::time::Instant,
    runtime: tokio::runtime::Handle,
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 64 << 10 {
            self.flush()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::take(&mut self.buf));
        let send =
            tokio::time::timeout_at(self.deadline, self.tx.send(Ok(chunk)));
        match self.runtime.block_on(send) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(std::io::Error::other("the client went away")),
            Err(_) => Err(std::io::Error::other(
                "the client stopped reading the answer until \
                 bulk_timeout_secs ran out",
            )),
        }
    }
}

/// The bulk input format of a Content-Type: `text/csv` (a `charset`
/// parameter choosing the encoding), the XLSX, XLS or ODS MIME type, or
/// `application/octet-stream` (the file's first bytes decide: see
/// [`sniffed`]). HTTP's names stay here; `credgate-bulk` knows formats,
/// not MIME types.
pub fn input_format(ct: &str) -> Option<InputFormat> {
    let mut parts = ct.split(';').map(str::trim);
    let mime = parts.next()?.to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .and_then(|(_, v)| Encoding::parse(v.trim_matches('"')));
    match mime.as_str() {
        "text/csv" | "application/csv" | "text/plain" => {
            Some(InputFormat::Csv(charset.unwrap_or(Encoding::Auto)))
        }
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            Some(InputFormat::Xlsx)
        }
        "application/vnd.ms-excel" => Some(InputFormat::Xls),
        "application/vnd.oasis.opendocument.spreadsheet" => {
            Some(InputFormat::Ods)
        }
        // Decided by the file's first bytes once spooled.
        "application/octet-stream" => Some(InputFormat::Xlsx),
        _ => None,
    }
}

/// The format of a spooled upload: a workbook's signature (a compound
/// file, a ZIP) wins over the declared type, so that an `.xls` sent as
/// `text/csv` or `application/octet-stream` is read as a workbook, not as
/// GBK text.
fn sniffed(path: &Path, declared: InputFormat) -> InputFormat {
    use std::io::Read;
    let mut head = [0u8; 96];
    let n = std::fs::File::open(path)
        .and_then(|mut f| {
            let mut n = 0;
            while n < head.len() {
                match f.read(&mut head[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .unwrap_or(0);
    InputFormat::sniff(&head[..n]).unwrap_or(declared)
}

/// Characters kept as they are in the `X-Credgate-*` headers (RFC 3986
/// unreserved); every other byte of a header text is `%XX`-encoded, so
/// that the value is ASCII and safe in a URL.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The answer's headers that say how the upload was read:
/// `X-Credgate-Columns` (`role=position:header`, comma-separated, the
/// header percent-encoded), `X-Credgate-Header-Row`, `X-Credgate-Sheet`
/// and `X-Credgate-Unused-Columns` (`position:header` of columns that
/// look like names or ID numbers but were not used).
fn reading_headers(
    source: &credgate_bulk::Source,
) -> Vec<(&'static str, String)> {
    // A header of a spreadsheet may be long: each is cut for the answer.
    let cut = |h: &str| pct(&h.chars().take(64).collect::<String>());
    let used: Vec<String> = source
        .columns()
        .used(source.headers())
        .into_iter()
        .map(|(role, i, h)| format!("{}={}:{}", role.key(), i + 1, cut(h)))
        .collect();
    let mut out = vec![
        ("x-credgate-columns", used.join(",")),
        ("x-credgate-header-row", source.header_row().to_string()),
    ];
    if let Some(sheet) = source.sheet() {
        out.push(("x-credgate-sheet", cut(sheet)));
    }
    let unused: Vec<String> = source
        .unused_columns()
        .iter()
        .take(32)
        .map(|u| format!("{}:{}", u.index + 1, cut(&u.header)))
        .collect();
    if !unused.is_empty() {
        out.push(("x-credgate-unused-columns", unused.join(",")));
    }
    out
}

/// Prefix of spool files, so that emptying the spool directory at start
/// removes nothing else.
const SPOOL_PREFIX: &str = "upload-";

/// Creates the spool directory and removes the uploads that a killed
/// process left there (no job survives a restart).
pub fn prepare_spool(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut removed = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let ours = e.file_name().to_string_lossy().starts_with(SPOOL_PREFIX);
        if ours && e.file_type()?.is_file() {
            std::fs::remove_file(e.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Writes the upload to a spool file, counting its bytes against
/// `bulk_limit_bytes`; the file is removed when dropped.
pub(crate) async fn spool(
    state: &AppState,
    body: Body,
) -> Result<tempfile::NamedTempFile, ApiError> {
    let err =
        |e: std::io::Error| ApiError::internal(format!("spool file: {e}"));
    let spool = tempfile::Builder::new()
        .prefix(SPOOL_PREFIX)
        .tempfile_in(state.config.spool_dir())
        .map_err(err)?;
    let mut file = tokio::fs::File::from_std(spool.reopen().map_err(err)?);
    let limit = state.config.bulk_limit_bytes;
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("malformed_body", format!("upload: {e}"))
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::too_large(limit));
        }
        file.write_all(&chunk).await.map_err(err)?;
    }
    file.flush().await.map_err(err)?;
    Ok(spool)
}

/// An upload that cannot be screened: 400 `invalid_upload`, its message
/// naming the limit or the problem (and echoing little of the input).
fn invalid_upload(e: BulkError) -> ApiError {
    match e {
        BulkError::Io { .. } => {
            tracing::error!(error = %e, "reading a spooled upload");
            ApiError::internal("the upload could not be read back")
        }
        e => ApiError::bad_request(
            "invalid_upload",
            // Messages quote at most ECHO_BYTES of input; a library's
            // error (the XLSX reader's) is cut here as well.
            credgate_bulk::clip(&e.to_string()),
        ),
    }
}

/// Spools and opens an upload within the job's time limit.
async fn prepare(
    state: &AppState,
    body: Body,
    format: InputFormat,
    options: credgate_bulk::InputOptions,
    deadline: Instant,
) -> Result<(tempfile::NamedTempFile, credgate_bulk::Source), ApiError> {
    let work = async {
        let spool = spool(state, body).await?;
        let path = spool.path().to_path_buf();
        let limits = state.config.bulk_limits();
        let source = blocking("bulk", move || {
            let format = sniffed(&path, format);
            credgate_bulk::open_with(&path, format, &limits, &options)
        })
        .await?
        .map_err(invalid_upload)?;
        Ok((spool, source))
    };
    let left = deadline.saturating_duration_since(Instant::now());
    tokio::time::timeout(left, work).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the upload was not received and checked within {} s \
                 (bulk_timeout_secs)",
                state.config.bulk_timeout_secs
            ),
        ))
    })
}

/// One of the `bulk_max_jobs` slots for work whose memory and time grow
/// with the input (bulk checks, admin exports), or 503 `bulk_busy`.
pub(crate) fn bulk_permit(
    state: &AppState,
) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state.bulk_jobs.clone().try_acquire_owned().map_err(|_| {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "bulk_busy",
            format!(
                "{} bulk jobs or exports are running, the most allowed \
                 (bulk_max_jobs); retry later",
                state.config.bulk_max_jobs
            ),
        );
        e.retry_after = Some(5);
        e
    })
}

/// Cross-compare a whole bidder list: a CSV (`text/csv`, UTF-8 or
/// GBK/GB18030), XLSX, XLS or ODS upload within the configured limits,
/// streamed back as CSV or NDJSON with a decision per row and shared legal
/// representatives flagged; the headers of the answer say which columns
/// were screened. At most `bulk_max_jobs` run at once.
#[utoipa::path(
    post, path = "/v1/screen/bulk", tag = "screening",
    params(BulkParams),
    request_body(
        description = "A bidder list (CSV; or an XLSX, XLS or ODS workbook under its MIME type or application/octet-stream) with a name and/or code column (名称, 单位名称, 投标人名称, 统一社会信用代码, 证件号码, name, code, …) and optional legal representative columns (法定代表人, 法定代表人身份证号, …); the header may sit below title rows; other columns are kept",
        content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.ms-excel"),
            (Vec<u8> = "application/vnd.oasis.opendocument.spreadsheet"),
        ),
    ),
    responses(
        (status = 200, description = "One row per non-blank input row, in input order: CSV (`format=csv`, the default), an XLSX workbook (`format=xlsx`) or one JSON object per line (`format=ndjson`); row `N`'s check id is `JOB_ID.N` (its spreadsheet row) and the job's outcome `JOB_ID.end`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "application/x-ndjson")),
            headers(
                ("x-credgate-columns" = String, description = "Columns screened: `role=position:header`, comma-separated (roles name, code, legal_rep_name, legal_rep_code; header percent-encoded)"),
                ("x-credgate-header-row" = String, description = "The header's row number in the sheet (1-based)"),
                ("x-credgate-sheet" = String, description = "The sheet read (workbooks), percent-encoded"),
                ("x-credgate-unused-columns" = String, description = "`position:header` of columns not screened that look like names or ID numbers"),
                ("X-Credgate-Check-Id" = String, description = "The job's check id"),
                ("X-Credgate-Snapshot" = String, description = "The snapshot version answered from"),
            )),
        (status = 400, description = "Malformed query, or an upload that cannot be screened or is over a limit (`invalid_upload`)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "No snapshot, `bulk_busy` (all bulk slots taken), `timeout` or `check_not_recorded`", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<BulkParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require_screening()?;
    let deadline =
        Instant::now() + Duration::from_secs(state.config.bulk_timeout_secs);
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = input_format(ct).ok_or_else(|| {
        ApiError::unsupported_media_type(
            "text/csv (charset utf-8, gbk or gb18030), application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/vnd.ms-excel, application/vnd.oasis.opendocument.spreadsheet or application/octet-stream",
        )
    })?;
    let bad = |field: &'static str, value: &str, expected: &str| {
        ApiError::bad_request(
            "invalid_request",
            format!(
                "{field}: '{}' is not one of {expected}",
                credgate_bulk::clip(value)
            ),
        )
        .field(field)
    };
    let out_format = match params.format.as_deref() {
        None => OutputFormat::Csv,
        Some(f) => OutputFormat::parse(f)
            .ok_or_else(|| bad("format", f, "csv, xlsx, ndjson"))?,
    };
    let lang = match params.lang.as_deref() {
        None => Lang::Zh,
        Some(l) => Lang::parse(l).ok_or_else(|| bad("lang", l, "zh, en"))?,
    };
    let out_encoding = match params.output_encoding.as_deref() {
        None if lang == Lang::Zh => CsvEncoding::Utf8Bom,
        None => CsvEncoding::Utf8,
        Some(e) => CsvEncoding::parse(e).ok_or_else(|| {
            bad("output_encoding", e, "utf-8-bom, utf-8, gbk")
        })?,
    };
    let live = live(&state)?;
    let scenario_shown = live
        .screener
        .resolve_scenario(params.scenario.as_deref())?
        .and_then(|id| live.screener.catalogue.scenario(id))
        .map(|s| format!("{} ({})", s.name_zh, s.id));
    // Held until the job ends, in the blocking task below.
    let permit = bulk_permit(&state)?;
    let (spool, mut source) =
        prepare(&state, body, format, params.input_options(), deadline)
            .await?;
    let reading = reading_headers(&source);
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let scenario = params.scenario.clone();
    // One reading of the clock: the screening date, the check's id and
    // time, and the report's cover agree.
    let now = state.clock.now();
    let today = china_date(now);
    let stamp = state.checks.stamp(now);
    let snap = &live.screener.snapshot;
    let output = OutputOptions {
        format: Some(out_format),
        lang,
        encoding: out_encoding,
        meta: ReportMeta {
            check_id: stamp.id.clone(),
            checked_at: stamp.at.clone(),
            snapshot_version: live.version.clone(),
            snapshot_built_at: credgate_screen::clock::china_rfc3339(
                snap.header().built_at,
            ),
            scenario: scenario_shown,
            source: String::new(),
        },
        name_column: source.columns().name,
    };
    let version = live.version.clone();
    // The job is on record before its first row is answered.
    let job = CheckRecord {
        asked: Some(Asked::Bulk(AskedBulk {
            content_type: ct.to_string(),
            format: params.format.clone().unwrap_or_else(|| "csv".into()),
            upload_bytes: spool.as_file().metadata().map_or(0, |m| m.len()),
            scenario: scenario.clone(),
            header: source.headers().to_vec(),
        })),
        ..Checks::record_of(&stamp, CheckKind::BulkJob, &caller, &version)
    };
    if state.checks.enabled() {
        let mut lines = Lines::default();
        lines.push(&job);
        state.checks.record(lines).await.map_err(not_recorded)?;
    }
    let (checks, job_stamp) = (state.checks.clone(), stamp.clone());
    // Set when the job fails: the body then ends with an error even if
    // the error itself could not be queued, never as a complete file.
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let job_failed = failed.clone();
    tokio::task::spawn_blocking(move || {
        // The spool file is removed and the slot freed when the job ends.
        let held = (spool, permit);
        let runtime = tokio::runtime::Handle::current();
        let sender = ChunkSender {
            buf: Vec::new(),
            tx: tx.clone(),
            deadline: deadline.into(),
            runtime: runtime.clone(),
        };
        let mut written = 0u64;
        let result = (|| {
            let mut w =
                RowWriter::with_options(sender, &output, source.headers())?;
            let summary = credgate_bulk::run(
                &mut source,
                &live.screener,
                scenario.as_deref(),
                Some(deadline),
                today,
                |rows| {
                    // Rate limit and enumeration detector, per batch.
                    caller
                        .charge_bulk_rows(rows)
                        .map_err(|e| BulkError::Output(e.body.message))?;
                    // No record, no answer: the rows are queued first.
                    let lines = row_lines(
                        &checks,
                        &job_stamp,
                        &caller,
                        &job.snapshot,
                        scenario.as_deref(),
                        rows,
                    );
                    checks.record_blocking(lines, &runtime).map_err(|e| {
                        BulkError::Output(format!(
                            "{e}: the rows' check records cannot be kept"
                        ))
                    })?;
                    rows.iter().try_for_each(|r| w.write(r))?;
                    written += rows.len() as u64;
                    w.flush()
                },
                &|_| {},
            )?;
            w.finish_with(&summary)?;
            Ok::<_, BulkError>(summary)
        })();
        let outcome = match &result {
            Ok(s) => AnsweredBulk {
                rows: s.rows,
                decisions: s.decisions.clone(),
                completed: true,
                error: None,
            },
            Err(e) => AnsweredBulk {
                rows: written,
                decisions: Default::default(),
                completed: false,
                error: Some(e.to_string()),
            },
        };
        if checks.enabled() {
            let mut lines = Lines::default();
            lines.push(&CheckRecord {
                check_id: format!("{}.end", job_stamp.id),
                part_of: Some(job_stamp.id.clone()),
                asked: None,
                answered: Some(Answered::Bulk(outcome)),
                ..Checks::record_of(
                    &job_stamp,
                    CheckKind::BulkEnd,
                    &caller,
                    &job.snapshot,
                )
            });
            // The answer has gone: a lost summary is logged, the rows are
            // on record.
            if let Err(e) = checks.record_blocking(lines, &runtime) {
                tracing::error!(error = %e, job = %job_stamp.id, "a bulk job's summary could not be recorded");
            }
        }
        match result {
            Ok(s) => {
                metrics::counter!("credgate_bulk_rows_total")
                    .increment(s.rows);
                tracing::info!(rows = s.rows, "bulk upload screened");
            }
            Err(e) => {
                tracing::warn!(error = %e, "bulk upload stopped");
                // The status line is sent: end the body with an error so
                // the client sees a broken transfer, not a short file. The
                // error waits behind what the channel holds, for a while:
                // dropping it would end the body as if it were complete.
                // A client that reads nothing for that long gets its
                // connection dropped with the job either way.
                job_failed.store(true, std::sync::atomic::Ordering::SeqCst);
                // The slot and the spool file are free before the wait.
                drop(held);
                let error = Err(std::io::Error::other(e.to_string()));
                let _ = tokio::runtime::Handle::current().block_on(
                    tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        tx.send(error),
                    ),
                );
            }
        }
    });
    let mut reported = false;
    let stream =
        futures_util::stream::poll_fn(move |cx| match rx.poll_recv(cx) {
            std::task::Poll::Ready(None)
                if !reported
                    && failed.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                reported = true;
                std::task::Poll::Ready(Some(Err(std::io::Error::other(
                    "the bulk job stopped before its last row",
                ))))
            }
            other => {
                if matches!(other, std::task::Poll::Ready(Some(Err(_)))) {
                    reported = true;
                }
                other
            }
        });
    let mut response = checked(
        &stamp,
        &version,
        (
            [(header::CONTENT_TYPE, out_format.content_type())],
            Body::from_stream(stream),
        ),
    );
    for (name, value) in reading {
        // Percent-encoded: always a valid header value.
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    Ok(response)
}

/// A batch of bulk rows' record lines, each `JOB_ID.ROW`.
fn row_lines(
    checks: &Checks,
    job: &Stamp,
    caller: &Caller,
    snapshot: &str,
    scenario: Option<&str>,
    rows: &[credgate_bulk::RowResult],
) -> Lines {
    let mut lines = Lines::default();
    let Some(hasher) = checks.hasher() else { return lines };
    let show = caller.sees_pii();
    for r in rows {
        let error = (!r.error.is_empty()).then(|| r.error.clone());
        lines.push(&CheckRecord {
            check_id: job.item(r.row),
            part_of: Some(job.id.clone()),
            item: Some(r.row),
            asked: Some(Asked::Row(AskedRow {
                fields: r
                    .fields
                    .iter()
                    .map(|f| hasher.field(f, show))
                    .collect(),
            })),
            answered: Some(Answered::Subject(AnsweredSubject {
                decision: r.decision.clone(),
                scenario: scenario.map(str::to_string),
                conflict: None,
                matched: r.hits.iter().filter_map(|h| matched(h)).collect(),
                error,
            })),
            ..Checks::record_of(job, CheckKind::BulkRow, caller, snapshot)
        });
    }
    lines
}

/// A bulk row's hit, `entry_id:kind:score`.
fn matched(hit: &str) -> Option<Matched> {
    let mut parts = hit.rsplitn(3, ':');
    let score = parts.next()?.parse().ok()?;
    let kind = parts.next()?.to_string();
    let entry_id = parts.next()?.to_string();
    Some(Matched { entry_id, kind, score })
}

/// The record of a check: to the key that made it, and to `auditor` and
/// `admin` keys. Anyone else gets 404, as for an id never issued, so ids
/// cannot be probed. A bulk job's record carries its outcome once the
/// job has ended; its rows are `JOB_ID.ROW`.
#[utoipa::path(
    get, path = "/v1/checks/{id}", tag = "records",
    params(("id" = String, Path, description = "A check id: `X-Credgate-Check-Id`, `check_id`, or `BATCH_OR_JOB_ID.N`")),
    responses(
        (status = 200, description = "The record, as written", body = CheckRecord),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such record for this key (or recording is off)", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "`checks_unavailable`: the record cannot be read now", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unavailable = |e: NotRecorded| {
        let mut err = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "checks_unavailable",
            format!("{e}: check records cannot be read now; retry later"),
        );
        err.retry_after = Some(1);
        err
    };
    let missing = || {
        ApiError::not_found("no check with this id is on record for this key")
            .field("id")
    };
    let mut record = state
        .checks
        .find(&id)
        .await
        .map_err(unavailable)?
        .ok_or_else(missing)?;
    if record["key"] != caller.name.as_str() && !caller.reads_all_checks() {
        return Err(missing());
    }
    if record["kind"] == "bulk_job" {
        let end = state.checks.find(&format!("{id}.end")).await;
        if let Some(end) = end.map_err(unavailable)? {
            record["answered"] = end["answered"].clone();
        }
    }
    // A record made by a `screen_pii` key keeps ID numbers in clear; a
    // reader without that role (an auditor, an admin) sees them hashed,
    // as a masked key's record stores them.
    if !caller.sees_pii() {
        if let Some(hasher) = state.checks.hasher() {
            hash_ids(&mut record, hasher);
        }
    }
    Ok(Json(record))
}

/// Every string in `v` that is a personal ID number, hashed.
fn hash_ids(v: &mut serde_json::Value, hasher: &crate::checks::PiiHasher) {
    match v {
        serde_json::Value::String(s) => {
            let hashed = hasher.field(s, false);
            if hashed != *s {
                *s = hashed;
            }
        }
        serde_json::Value::Array(a) => {
            a.iter_mut().for_each(|x| hash_ids(x, hasher));
        }
        serde_json::Value::Object(o) => {
            o.values_mut().for_each(|x| hash_ids(x, hasher));
        }
        _ => {}
    }
}

/// The live snapshot and the swap history.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotInfo {
    /// `null` before the first snapshot is loaded.
    pub version: Option<String>,
    pub built_at: Option<String>,
    pub entries: Option<u64>,
    pub activated_at: Option<String>,
    /// Seconds since the snapshot was built.
    pub age_seconds: Option<i64>,
    #[serde(flatten)]
    pub status: StoreStatus,
}

fn snapshot_info(state: &AppState, caller: &Caller) -> SnapshotInfo {
    let mut status = state.store.status();
    if !caller.is_admin() {
        // A refusal's error names server paths and file details: for
        // operators only.
        for r in status.last_refusal.iter_mut() {
            r.error = "refused; the reason is shown to admin keys".into();
        }
    }
    let live = state.store.live();
    let built = live.as_ref().map(|l| l.screener.snapshot.header().built_at);
    SnapshotInfo {
        version: live.as_ref().map(|l| l.version.clone()),
        built_at: built.map(view::rfc3339),
        entries: live.as_ref().map(|l| l.screener.snapshot.len() as u64),
        activated_at: live.as_ref().map(|l| {
            l.activated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        }),
        age_seconds: built.map(|b| chrono::Utc::now().timestamp() - b),
        status,
    }
}

/// The snapshot in service.
#[utoipa::path(
    get, path = "/v1/snapshot", tag = "operations",
    responses((status = 200, body = SnapshotInfo), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn snapshot(
    State(state): State<AppState>,
    caller: Caller,
) -> Json<SnapshotInfo> {
    Json(snapshot_info(&state, &caller))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness, and what is served.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: String,
    /// The live snapshot's version.
    pub version: String,
    /// Seconds since the live snapshot was built.
    pub age_seconds: i64,
    /// The live snapshot is synthetic demo data, not real list data.
    pub demo: bool,
}

/// A snapshot is loaded and requests can be answered (503
/// `snapshot_unavailable` until one is published).
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Ready), (status = 503, body = ErrorBody))
)]
pub async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<Ready>, ApiError> {
    let live = live(&state)?;
    let snap = &live.screener.snapshot;
    Ok(Json(Ready {
        status: "ready".into(),
        version: live.version.clone(),
        age_seconds: state.clock.now().timestamp() - snap.header().built_at,
        demo: snap.meta()["synthetic"].as_bool().unwrap_or(false),
    }))
}

/// Prometheus metrics.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Some(live) = state.store.live() {
        let built = live.screener.snapshot.header().built_at;
        metrics::gauge!("credgate_snapshot_age_seconds")
            .set((chrono::Utc::now().timestamp() - built) as f64);
        metrics::gauge!("credgate_snapshot_built_at_seconds")
            .set(built as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// The result of a reload or activation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SwapResult {
    /// The version activated; `null` when nothing new was found.
    pub activated: Option<String>,
    pub snapshot: SnapshotInfo,
}

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        // The key's name is configuration, not the caller's business.
        Err(ApiError::forbidden("this API key lacks the admin role"))
    }
}

fn swap_error(e: SwapError) -> ApiError {
    match e {
        SwapError::Refused(m) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "snapshot_refused",
            m,
        ),
        SwapError::Unknown(_) => {
            ApiError::not_found(e.to_string()).field("version")
        }
        SwapError::Expired => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            e.to_string(),
        ),
        SwapError::Io { .. } => {
            tracing::error!(error = %e, "snapshot store");
            ApiError::internal("the snapshot store failed; see the log")
        }
    }
}

/// Runs a store operation on the blocking pool so that it takes effect
/// only if it completes within the request's answer: its ticket expires
/// before the request's time limit and is cancelled if the answer is no
/// longer awaited (time-out, client gone).
async fn store_op<T: Send + 'static>(
    state: &AppState,
    what: &str,
    op: impl FnOnce(&Ticket) -> Result<T, SwapError> + Send + 'static,
) -> Result<T, ApiError> {
    let limit =
        std::time::Duration::from_secs(state.config.request_timeout_secs);
    // Leave time to answer before the request's own time limit fires.
    let margin = (limit / 4).min(std::time::Duration::from_secs(1));
    let ticket = Ticket::until(Instant::now() + limit - margin);
    let guard = ticket.cancel_on_drop();
    let result = blocking(what, move || op(&ticket)).await;
    guard.disarm();
    result?.map_err(swap_error)
}

/// Look for a newly published snapshot now (the directory is also
/// watched); it is verified and smoke tested before it goes live.
#[utoipa::path(
    post, path = "/admin/v1/snapshots/reload", tag = "administration",
    responses(
        (status = 200, body = SwapResult),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The new snapshot was refused; the old one stays", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SwapResult>, ApiError> {
    require_admin(&caller)?;
    let store = state.store.clone();
    let activated =
        store_op(&state, "reload", move |t| store.check_dir(t)).await?;
    tracing::info!(key = %caller.name, ?activated, "reload requested");
    Ok(Json(SwapResult {
        activated,
        snapshot: snapshot_info(&state, &caller),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// A version listed in `available` of `GET /v1/snapshot`.
    pub version: String,
}

/// Roll back (or forward) to a kept snapshot.
#[utoipa::path(
    post, path = "/admin/v1/snapshots/activate", tag = "administration",
    request_body = ActivateRequest,
    responses(
        (status = 200, body = SwapResult),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ActivateRequest>,
) -> Result<Json<SwapResult>, ApiError> {
    require_admin(&caller)?;
    let store = state.store.clone();
    let version = req.version.clone();
    let activated =
        store_op(&state, "activate", move |t| store.activate(&version, t))
            .await?;
    tracing::info!(key = %caller.name, %activated, "snapshot activated by request");
    Ok(Json(SwapResult {
        activated: Some(activated),
        snapshot: snapshot_info(&state, &caller),
    }))
}
