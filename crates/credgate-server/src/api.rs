//! The HTTP handlers.

use crate::AppState;
use crate::access::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::snapshots::{Live, StoreStatus, SwapError};
use crate::view::{self, ScreenRequest, ScreenResponse};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use credgate_bulk::{InputFormat, OutputFormat, RowWriter};
use futures_util::StreamExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;
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

fn screen_one(
    live: &Live,
    req: &ScreenRequest,
    today: chrono::NaiveDate,
    show_pii: bool,
) -> Result<(ScreenResponse, view::Disclosed), ApiError> {
    let started = Instant::now();
    let query = req.query()?;
    let outcome =
        live.screener.screen(&query, req.scenario.as_deref(), today)?;
    let took = started.elapsed();
    let decision = outcome.verdict.decision.code();
    metrics::histogram!("credgate_screen_duration_seconds", "decision" => decision)
        .record(took.as_secs_f64());
    Ok(view::response(
        &live.screener.snapshot,
        &live.version,
        &outcome,
        show_pii,
        took.as_micros() as u64,
    ))
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

/// Screen one subject.
#[utoipa::path(
    post, path = "/v1/screen", tag = "screening",
    request_body = ScreenRequest,
    responses(
        (status = 200, description = "Decision, measures and explained hits", body = ScreenResponse),
        (status = 400, description = "Invalid identifier, unknown scenario or malformed body", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn screen(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ScreenRequest>,
) -> Result<Json<ScreenResponse>, ApiError> {
    let live = live(&state)?;
    let today = state.clock.today();
    let (resp, disclosed) = screen_one(&live, &req, today, caller.sees_pii())?;
    audit(&state, &caller, "/v1/screen", &disclosed)?;
    Ok(Json(resp))
}

/// Many subjects in one request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub items: Vec<ScreenRequest>,
}

/// One item's answer: a result or an error, never both.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
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
        (status = 200, body = BatchResponse),
        (status = 400, description = "Malformed body or too many items", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    let max = state.config.batch_max_items;
    if req.items.len() > max {
        return Err(ApiError::bad_request(
            "too_many_items",
            format!("{} items; at most {max} per batch", req.items.len()),
        )
        .field("items"));
    }
    let live = live(&state)?;
    let show = caller.sees_pii();
    // One date for the whole batch: its items are one question.
    let today = state.clock.today();
    let answers = blocking("batch", move || {
        req.items
            .par_iter()
            .map(|item| screen_one(&live, item, today, show))
            .collect::<Vec<_>>()
    })
    .await?;
    let mut disclosed = Vec::new();
    let results = answers
        .into_iter()
        .map(|a| match a {
            Ok((r, d)) => {
                disclosed.extend(d);
                BatchItem { result: Some(r), error: None }
            }
            Err(e) => BatchItem { result: None, error: Some(e.body) },
        })
        .collect();
    audit(&state, &caller, "/v1/screen/batch", &disclosed)?;
    Ok(Json(BatchResponse { results }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulkParams {
    /// Scenario of every row; all scenarios when absent.
    pub scenario: Option<String>,
    /// `csv` (default) or `ndjson`.
    pub format: Option<String>,
}

/// Forwards written bytes to the response body in chunks; a client that
/// went away makes the next write fail, which stops the job.
struct ChunkSender {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
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
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}

/// Cross-compare a whole bidder list: a CSV (`text/csv`, UTF-8 or
/// GBK/GB18030) or XLSX upload of any size, streamed back as CSV or NDJSON
/// with a decision per row and shared legal representatives flagged.
#[utoipa::path(
    post, path = "/v1/screen/bulk", tag = "screening",
    params(BulkParams),
    request_body(content = String, content_type = "text/csv", description = "The bulk CLI's columns: name and/or code, optional legal_rep_name / legal_rep_code; other columns are kept"),
    responses(
        (status = 200, description = "One row per input row", content_type = "text/csv", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn bulk(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<BulkParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = InputFormat::from_content_type(ct).ok_or_else(|| {
        ApiError::unsupported_media_type(
            "text/csv (charset utf-8, gbk or gb18030) or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    })?;
    let out_format = match params.format.as_deref() {
        None | Some("csv") => OutputFormat::Csv,
        Some("ndjson") => OutputFormat::Ndjson,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                format!("format: '{other}' is neither csv nor ndjson"),
            )
            .field("format"));
        }
    };
    let live = live(&state)?;
    live.screener.check_scenario(params.scenario.as_deref())?;
    // Spool the upload to disk: constant memory, and the bulk reader needs
    // two passes (legal representatives, then screening).
    let spool = tempfile::NamedTempFile::new_in(&state.config.data_dir)
        .map_err(|e| ApiError::internal(format!("spool file: {e}")))?;
    let mut file = tokio::fs::File::from_std(
        spool
            .reopen()
            .map_err(|e| ApiError::internal(format!("spool file: {e}")))?,
    );
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
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("spool file: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::internal(format!("spool file: {e}")))?;
    drop(file);
    let path = spool.path().to_path_buf();
    let mut source =
        blocking("bulk", move || credgate_bulk::open(&path, format))
            .await?
            .map_err(|e| {
                ApiError::bad_request("invalid_upload", e.to_string())
            })?;

    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let scenario = params.scenario.clone();
    let today = state.clock.today();
    let deadline = Instant::now()
        + std::time::Duration::from_secs(state.config.bulk_timeout_secs);
    tokio::task::spawn_blocking(move || {
        // The spool file is removed when the job ends (and a rewind of
        // the CSV source reopens it until then).
        let _spool = spool;
        let sender = ChunkSender { buf: Vec::new(), tx: tx.clone() };
        let result = (|| {
            let mut w = RowWriter::new(sender, out_format, source.headers())?;
            let summary = credgate_bulk::run(
                &mut source,
                &live.screener,
                scenario.as_deref(),
                today,
                |rows| {
                    if Instant::now() > deadline {
                        return Err(credgate_bulk::BulkError::Output(
                            "bulk_timeout_secs exceeded".into(),
                        ));
                    }
                    rows.iter().try_for_each(|r| w.write(r))?;
                    w.flush()
                },
                &|_| {},
            )?;
            w.finish()?;
            Ok::<_, credgate_bulk::BulkError>(summary)
        })();
        match result {
            Ok(s) => {
                metrics::counter!("credgate_bulk_rows_total")
                    .increment(s.rows);
                tracing::info!(rows = s.rows, "bulk upload screened");
            }
            Err(e) => {
                tracing::warn!(error = %e, "bulk upload stopped");
                // The status line is sent: end the body with an error so
                // the client sees a broken transfer, not a short file.
                let _ = tx
                    .blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok((
        [(header::CONTENT_TYPE, out_format.content_type())],
        Body::from_stream(stream),
    )
        .into_response())
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

fn snapshot_info(state: &AppState) -> SnapshotInfo {
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
        status: state.store.status(),
    }
}

/// The snapshot in service.
#[utoipa::path(
    get, path = "/v1/snapshot", tag = "operations",
    responses((status = 200, body = SnapshotInfo), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("api_key" = []))
)]
pub async fn snapshot(
    State(state): State<AppState>,
    _caller: Caller,
) -> Json<SnapshotInfo> {
    Json(snapshot_info(&state))
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

/// A snapshot is loaded and requests can be answered.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody))
)]
pub async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<Health>, ApiError> {
    live(&state)?;
    Ok(Json(Health { status: "ready".into() }))
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
        Err(ApiError::forbidden(format!(
            "API key '{}' lacks the admin role",
            caller.name
        )))
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
        SwapError::Empty(_) => ApiError::not_found(e.to_string()),
    }
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
    security(("api_key" = []))
)]
pub async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SwapResult>, ApiError> {
    require_admin(&caller)?;
    let store = state.store.clone();
    let activated = blocking("reload", move || store.check_dir())
        .await?
        .map_err(swap_error)?;
    tracing::info!(key = %caller.name, ?activated, "reload requested");
    Ok(Json(SwapResult { activated, snapshot: snapshot_info(&state) }))
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
    security(("api_key" = []))
)]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ActivateRequest>,
) -> Result<Json<SwapResult>, ApiError> {
    require_admin(&caller)?;
    let store = state.store.clone();
    let version = req.version.clone();
    let activated = blocking("activate", move || store.activate(&version))
        .await?
        .map_err(swap_error)?;
    tracing::info!(key = %caller.name, %activated, "snapshot activated by request");
    Ok(Json(SwapResult {
        activated: Some(activated),
        snapshot: snapshot_info(&state),
    }))
}
