//! `/admin/v1/imports`, `/admin/v1/publish`, `/admin/v1/publications`:
//! moving lists in and publishing the store to screening (issue 10 items
//! 6 and 7). The work is `credgate_admin::{import, publish}`; here the
//! upload is spooled, roles checked, and a publication handed to this
//! process's snapshot store at once ([`ServiceActivate`]) instead of
//! waiting for the inbox watcher.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use credgate_admin::import::{
    ImportContext, ImportOptions, ImportReport, InputFormat, import_file,
    problems_csv,
};
use credgate_admin::publish::{
    Activate, PublishConfig, PublishError, Publisher,
};
use credgate_entries::Encoding;
use credgate_store::Publication;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AdminCaller, store_error};
use crate::AppState;
use crate::config::{Config, Role};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiQuery;
use crate::snapshots::{Store, Ticket};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/v1/publications", get(publications))
}

/// Imports and publications: they take as long as the list is large
/// (minutes at 10M entries), so the server bounds them by
/// `bulk_timeout_secs` rather than the request time limit (30 s), which
/// answered 503 to any import or publication of a few hundred thousand
/// entries (`lib.rs`, `router_with`).
pub fn long_router() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/imports", post(import))
        .route("/admin/v1/publish", post(publish))
}

/// Has this process's snapshot store take a published file now: the
/// inbox is checked (the file moved, verified, smoke-tested and swapped
/// in if newer), and a file that is not the newest by build time is
/// activated explicitly — a publication is always what is served after.
#[derive(Debug)]
pub struct ServiceActivate {
    store: Arc<Store>,
    limit: Duration,
}

impl Activate for ServiceActivate {
    fn activate(&self, file_name: &str) -> Result<String, String> {
        let ticket = Ticket::until(Instant::now() + self.limit);
        self.store.check_dir(&ticket).map_err(|e| e.to_string())?;
        if self.store.live().is_some_and(|l| l.version == file_name) {
            return Ok(file_name.to_string());
        }
        self.store.activate(file_name, &ticket).map_err(|e| e.to_string())
    }
}

/// The publisher of a service with the admin module.
pub fn publisher(config: &Config, store: Arc<Store>) -> Publisher {
    let cfg = PublishConfig {
        inbox: config.snapshot_dir(),
        accepted: config.accepted_dir(),
        work_dir: config.data_dir.join("publish"),
        synthetic: config.admin.publish_synthetic,
    };
    let limit = Duration::from_secs(config.load_timeout_secs.max(1));
    Publisher::new(cfg, Some(Arc::new(ServiceActivate { store, limit })))
}

/// Publishes every `admin.publish_every_minutes` when something changed;
/// `None` when that is off or the admin module is.
pub fn every(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let minutes = state.config.admin.publish_every_minutes;
    let (admin, publisher) = (state.admin.clone()?, state.publisher.clone()?);
    (minutes > 0).then(|| {
        tokio::spawn(async move {
            let every = Duration::from_secs(minutes * 60);
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + every,
                every,
            );
            tick.set_missed_tick_behavior(
                tokio::time::MissedTickBehavior::Delay,
            );
            loop {
                tick.tick().await;
                let now = admin.clock.now();
                match publisher.publish_if_changed(&admin.store, now).await {
                    Ok(Some(p)) => tracing::info!(
                        publication = p.id,
                        file = p.file_name.as_deref().unwrap_or(""),
                        "published the changes"
                    ),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "publishing"),
                }
            }
        })
    })
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv`, `jsonl` or `xlsx`; by default from the Content-Type
    /// (`text/csv`, `application/x-ndjson`, the XLSX type).
    pub format: Option<String>,
    /// CSV: `auto` (default: UTF-8 or GB18030 detected), `utf-8`, `gbk`.
    pub encoding: Option<String>,
    /// Keep the good rows when some are bad (default: all or nothing).
    #[serde(default)]
    pub skip_invalid: bool,
    /// Check and report, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `csv`: answer with the bad rows as CSV (row, entry_id, column,
    /// rule, message) instead of the JSON report.
    pub errors: Option<String>,
}

const XLSX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn import_format(
    q: &ImportQuery,
    content_type: Option<&str>,
) -> Result<InputFormat, ApiError> {
    let encoding = match q.encoding.as_deref() {
        None => Encoding::Auto,
        Some(e) => Encoding::parse(e).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_encoding",
                format!("encoding '{e}' is not auto, utf-8 or gbk"),
            )
            .field("encoding")
        })?,
    };
    let mime = content_type.map(|c| {
        c.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
    });
    let given = q.format.as_deref().map(str::to_ascii_lowercase);
    match (given.as_deref(), mime.as_deref()) {
        (Some("csv"), _) | (None, Some("text/csv")) => {
            Ok(InputFormat::Csv(encoding))
        }
        (Some("jsonl" | "ndjson"), _)
        | (None, Some("application/x-ndjson" | "application/jsonl")) => {
            Ok(InputFormat::Jsonl)
        }
        (Some("xlsx"), _) | (None, Some(XLSX_TYPE)) => Ok(InputFormat::Xlsx),
        (Some(other), _) => Err(ApiError::bad_request(
            "invalid_format",
            format!("format '{other}' is not csv, jsonl or xlsx"),
        )
        .field("format")),
        (None, _) => Err(ApiError::bad_request(
            "invalid_format",
            "name the format (format=csv|jsonl|xlsx) or send Content-Type \
             text/csv, application/x-ndjson or the XLSX type",
        )
        .field("format")),
    }
}

#[utoipa::path(
    post, path = "/admin/v1/imports", tag = "admin",
    params(ImportQuery),
    request_body(
        description = "An entries file (docs/formats.md): CSV (UTF-8 or GBK), JSON Lines, or XLSX with the same headers",
        content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    ),
    responses(
        (status = 200, description = "The import's report: imported (`committed`), or refused whole (`rejected`) with every bad row; with `errors=csv` the bad rows as CSV", body = ImportReport),
        (status = 400, description = "A file that cannot be read (format, header, size)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`role_required`: publisher; `department_required`", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn import(
    State(state): State<AppState>,
    a: AdminCaller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    a.require(&[Role::Publisher])?;
    let department =
        a.key.department.clone().filter(|d| !d.trim().is_empty()).ok_or_else(
            || {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "department_required",
                    "the key belongs to no department; entries are imported \
                 as a department's",
                )
            },
        )?;
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let format = import_format(&q, content_type)?;
    let errors_csv = match q.errors.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_errors",
                format!("errors '{other}' is not csv or json"),
            )
            .field("errors"));
        }
    };
    let file = crate::api::spool(&state, body).await?;
    let admin = a.admin.clone();
    let now = admin.clock.now();
    let opts = ImportOptions {
        department,
        key_id: a.key.key_id.clone(),
        skip_invalid: q.skip_invalid,
        dry_run: q.dry_run,
        format: Some(format),
        source_name: Some("upload".into()),
    };
    // On a task of its own: a client that leaves or a time limit that
    // answers does not drop the import between its commit and the answer.
    let report = tokio::spawn(async move {
        // Store writes take turns (`Admin::write_turn`): a transition
        // arriving during the import waits here, not in SQLite's busy
        // handler, whose time-out would answer it 500 on a long import.
        let _turn = admin.write_turn().await;
        let cx = ImportContext {
            store: &admin.store,
            lifecycle: &admin.lifecycle,
            catalogue: &admin.catalogue,
            now,
            today: credgate_screen::china_date(now),
        };
        import_file(cx, file.path(), &opts, &|_| {}).await
    })
    .await
    .map_err(|e| ApiError::internal(format!("import task: {e}")))?
    .map_err(|e| match e {
        credgate_admin::import::ImportError::Store(e) => store_error(e),
        e => ApiError::bad_request(
            "invalid_upload",
            credgate_bulk::clip(&e.to_string()),
        ),
    })?;
    if errors_csv {
        let mut out = Vec::new();
        problems_csv(&report.problems, &mut out).map_err(|e| {
            ApiError::internal(format!("writing the errors: {e}"))
        })?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"import-errors.csv\"",
                ),
            ],
            out,
        )
            .into_response());
    }
    Ok(axum::Json(report).into_response())
}

/// A publication as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicationView {
    pub id: i64,
    /// `pending`, `done` or `failed`.
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub key_id: String,
    /// Entries in the snapshot: all, active, disputed.
    pub entries: Option<i64>,
    pub active: Option<i64>,
    pub disputed: Option<i64>,
    /// SHA-256 of the snapshot file.
    pub checksum: Option<String>,
    /// The snapshot's file name: its version in `/v1/snapshot`.
    pub file_name: Option<String>,
    pub error: Option<String>,
}

impl From<Publication> for PublicationView {
    fn from(p: Publication) -> Self {
        PublicationView {
            id: p.id,
            state: p.state.code().into(),
            started_at: p.started_at,
            finished_at: p.finished_at,
            key_id: p.key_id,
            entries: p.counts.map(|c| c.entries),
            active: p.counts.map(|c| c.active),
            disputed: p.counts.map(|c| c.disputed),
            checksum: p.checksum,
            file_name: p.file_name,
            error: p.error,
        }
    }
}

#[utoipa::path(
    post, path = "/admin/v1/publish", tag = "admin",
    responses(
        (status = 200, description = "Published: the entries in force built into a snapshot that this service now serves", body = PublicationView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`role_required`: publisher or operator", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 500, description = "`publication_failed`: recorded as failed, the live snapshot unchanged", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn publish(
    State(state): State<AppState>,
    a: AdminCaller,
) -> Result<axum::Json<PublicationView>, ApiError> {
    a.require(&[Role::Publisher, Role::Operator])?;
    let publisher = state.publisher.clone().ok_or_else(|| {
        ApiError::not_found("publishing is off on this server")
    })?;
    let now = a.admin.clock.now();
    let department = a.key.department.clone().unwrap_or_default();
    let (admin, key_id) = (a.admin.clone(), a.key.key_id.clone());
    // On a task of its own, so that it always finishes: dropped half-way
    // (the client left, or a time limit answered), a publication stayed
    // `pending` until the next start, its work file left behind, while
    // the snapshot it had built went live through the inbox watcher.
    let done = tokio::spawn(async move {
        publisher.publish(&admin.store, &key_id, &department, now).await
    })
    .await
    .map_err(|e| ApiError::internal(format!("publication task: {e}")))?;
    match done {
        Ok(p) => Ok(axum::Json(p.into())),
        Err(PublishError::Store(e)) => Err(store_error(e)),
        Err(e @ PublishError::Failed { .. }) => {
            tracing::error!(error = %e, "publication failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "publication_failed",
                e.to_string(),
            ))
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicationsQuery {
    /// How many, newest first (default 20, at most 1,000).
    pub limit: Option<u32>,
}

#[utoipa::path(
    get, path = "/admin/v1/publications", tag = "admin",
    params(PublicationsQuery),
    responses(
        (status = 200, description = "The latest publications, newest first", body = Vec<PublicationView>),
        (status = 400, description = "`invalid_request`: a query parameter is malformed (`limit` is a whole number; it is clamped to 1 to 1000)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`role_required`: publisher, operator, auditor or admin", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn publications(
    a: AdminCaller,
    ApiQuery(q): ApiQuery<PublicationsQuery>,
) -> Result<axum::Json<Vec<PublicationView>>, ApiError> {
    a.require(&[Role::Publisher, Role::Operator, Role::Auditor, Role::Admin])?;
    let limit = q.limit.unwrap_or(20).clamp(1, 1000);
    let list = a.admin.store.publications(limit).await.map_err(store_error)?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}
