//! `/admin/v1/entries`: the lifecycle transitions, reading, exports and
//! the 双公示 report. Every change answers the entry with its new
//! `ETag`; every change but propose needs `If-Match`.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use credgate_admin::export::{self, ExportFormat};
use credgate_admin::requests::*;
use credgate_admin::views::{
    EntryDetailView, EntryPage, EntryView, PublicityReport,
};

use super::{AdminCaller, IfMatch, etag};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

/// The answer to a change: the entry, its ETag.
fn entry_response(status: StatusCode, view: &EntryView) -> Response {
    let mut r = (status, axum::Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(view.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// The entry id of a path, bounded before it reaches the store.
fn entry_id(id: &str) -> Result<&str, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Err(ApiError::not_found(
            "no such entry (entry ids are 1 to 64 characters)",
        ));
    }
    Ok(id)
}

#[utoipa::path(
    post, path = "/admin/v1/entries", tag = "admin",
    request_body = ProposeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the first answer and makes no second entry; the same key with another body is 422 `idempotency_key_reused`")),
    responses(
        (status = 201, description = "The entry, `noticed` (告知)", body = EntryView,
            headers(("ETag" = String, description = "The entry's version, quoted"), ("Location" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`publisher_role_required`, `department_required`", body = ErrorBody),
        (status = 409, description = "`duplicate` entry id", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "A rule of the input, named with its field", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn propose(
    a: AdminCaller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ProposeRequest>,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be visible ASCII",
            )
            .field("Idempotency-Key")
        })?),
        None => None,
    };
    let mut done = a.admin.propose(&a.caller(), &req, key).await?;
    a.disclose_views("/admin/v1/entries", [&mut done.entry])?;
    let mut r = entry_response(StatusCode::CREATED, &done.entry);
    let location = format!("/admin/v1/entries/{}", done.entry.entry_id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if done.replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(r)
}

#[utoipa::path(
    get, path = "/admin/v1/entries", tag = "admin",
    params(ListQuery),
    responses(
        (status = 200, description = "One page; `next` is the cursor of the following one", body = EntryPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`not_own_department`, `read_role_required`", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn list(
    a: AdminCaller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<axum::Json<EntryPage>, ApiError> {
    if q.format.is_some() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "format is for /admin/v1/entries/export",
        )
        .field("format"));
    }
    let mut page = a.admin.list(&a.caller(), &q).await?;
    a.disclose_views("/admin/v1/entries", &mut page.items)?;
    Ok(axum::Json(page))
}

#[utoipa::path(
    get, path = "/admin/v1/entries/{id}", tag = "admin",
    params(("id" = String, Path, description = "The entry id")),
    responses(
        (status = 200, description = "The entry with its full history", body = EntryDetailView,
            headers(("ETag" = String, description = "The entry's version, quoted"))),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`not_own_department`", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn get_entry(
    a: AdminCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut detail = a.admin.entry(&a.caller(), entry_id(&id)?).await?;
    a.disclose_views("/admin/v1/entries/{id}", [&mut detail.entry])?;
    let mut r = axum::Json(&detail).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(detail.entry.version)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// Declares one transition endpoint: its OpenAPI path and handler.
macro_rules! transition {
    ($name:ident, $path:literal, $method:ident, $body:ty, $doc:literal) => {
        #[utoipa::path(
            post, path = $path, tag = "admin",
            request_body = $body,
            params(
                ("id" = String, Path, description = "The entry id"),
                ("If-Match" = String, Header, description = "The entry's version as its ETag, `\"3\"`"),
            ),
            responses(
                (status = 200, description = $doc, body = EntryView,
                    headers(("ETag" = String, description = "The new version, quoted"))),
                (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                (status = 403, description = "A department or role rule (`not_designating_department`, `publisher_role_required`, `reviewer_role_required`)", body = ErrorBody),
                (status = 404, body = ErrorBody),
                (status = 409, description = "The stage or a date forbids it (`illegal_transition`, `statement_period_open`, `minimum_period_not_reached`, …)", body = ErrorBody),
                (status = 412, description = "`stale_version`: the entry changed since that version", body = ErrorBody),
                (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
                (status = 422, description = "A rule of the input, named with its field", body = ErrorBody),
                (status = 428, description = "`if_match_required`", body = ErrorBody),
                (status = 429, body = ErrorBody),
            ),
            security(("api_key" = []), ("bearer" = []))
        )]
        pub async fn $name(
            a: AdminCaller,
            Path(id): Path<String>,
            IfMatch(version): IfMatch,
            ApiJson(req): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let mut view =
                a.admin.$method(&a.caller(), entry_id(&id)?, version, &req).await?;
            a.disclose_views($path, [&mut view])?;
            Ok(entry_response(StatusCode::OK, &view))
        }
    };
}

transition!(
    statement,
    "/admin/v1/entries/{id}/statement",
    record_statement,
    StatementRequest,
    "陈述申辩 recorded"
);
transition!(
    designate,
    "/admin/v1/entries/{id}/designate",
    designate,
    DesignateRequest,
    "认定: `designated`, periods and the 双公示 deadline set"
);
transition!(
    rectification,
    "/admin/v1/entries/{id}/rectification",
    set_rectification,
    RectificationRequest,
    "限期整改 deadline set"
);
transition!(
    interviews,
    "/admin/v1/entries/{id}/interviews",
    record_interview,
    InterviewRequest,
    "约谈 recorded"
);
transition!(
    ban,
    "/admin/v1/entries/{id}/ban",
    set_ban,
    BanRequest,
    "市场和行业禁入 set"
);
transition!(
    objections,
    "/admin/v1/entries/{id}/objections",
    object,
    ObjectionRequest,
    "异议: `disputed` (measures wait in screening)"
);
transition!(
    uphold,
    "/admin/v1/entries/{id}/uphold",
    uphold,
    UpholdRequest,
    "Objection decided: the entry stands (`published`)"
);
transition!(
    correct,
    "/admin/v1/entries/{id}/correct",
    correct,
    CorrectRequest,
    "Objection decided: fields corrected (`published`)"
);
transition!(
    revoke,
    "/admin/v1/entries/{id}/revoke",
    revoke,
    RevokeRequest,
    "撤销: `revoked`"
);
transition!(
    repair,
    "/admin/v1/entries/{id}/repair",
    repair,
    RepairRequest,
    "信用修复: `exited`"
);
transition!(
    withdraw,
    "/admin/v1/entries/{id}/withdraw",
    withdraw,
    WithdrawRequest,
    "撤回: `withdrawn`"
);

#[utoipa::path(
    post, path = "/admin/v1/entries/{id}/publish", tag = "admin",
    params(
        ("id" = String, Path, description = "The entry id"),
        ("If-Match" = String, Header, description = "The entry's version as its ETag, `\"3\"`"),
    ),
    responses(
        (status = 200, description = "公示: `published` (in screening from the next snapshot); `publicity_met` says whether the 双公示 deadline was met", body = EntryView,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 428, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn publish(
    a: AdminCaller,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
) -> Result<Response, ApiError> {
    let mut view =
        a.admin.publish(&a.caller(), entry_id(&id)?, version).await?;
    a.disclose_views("/admin/v1/entries/{id}/publish", [&mut view])?;
    Ok(entry_response(StatusCode::OK, &view))
}

#[utoipa::path(
    get, path = "/admin/v1/entries/export", tag = "admin",
    params(ListQuery),
    responses(
        (status = 200, description = "The filtered entries with Chinese headers: CSV (UTF-8 with BOM; `format=csv`, the default) or XLSX (`format=xlsx`)",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "Unknown filter value, or more entries than `admin.max_export_rows`", body = ErrorBody),
        (status = 503, description = "`bulk_busy`: `bulk_max_jobs` bulk jobs or exports are running", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn export(
    a: AdminCaller,
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    ApiQuery(mut q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let format = match q.format.take().as_deref() {
        None => ExportFormat::Csv,
        Some(f) => ExportFormat::parse(f).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_request",
                "format must be csv or xlsx",
            )
            .field("format")
        })?,
    };
    if q.cursor.is_some() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "an export has every matching entry; cursor is for listings",
        )
        .field("cursor"));
    }
    // An export holds up to `max_export_rows` entries and their file in
    // memory: it takes a bulk slot, so concurrent exports cannot add up.
    let _permit = crate::api::bulk_permit(&state)?;
    let max = state.config.admin.max_export_rows as usize;
    let mut entries = a.admin.list_all(&a.caller(), &q, max).await?;
    a.disclose("/admin/v1/entries/export", |f| {
        for e in &mut entries {
            if e.data.subject_kind == credgate_model::SubjectKind::Person {
                e.data.code = f(&e.entry_id, &e.data.code);
            }
        }
    })?;
    let bytes =
        tokio::task::spawn_blocking(move || export::write(&entries, format))
            .await
            .map_err(|e| ApiError::internal(format!("export worker: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "export failed");
                ApiError::internal("the export could not be written")
            })?;
    let name = format!(
        "attachment; filename=\"entries-{}.{}\"",
        a.admin.today(),
        format.extension()
    );
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[utoipa::path(
    get, path = "/admin/v1/reports/double-publicity", tag = "admin",
    responses(
        (status = 200, description = "双公示: per department, decisions not published within 7 working days (`overdue`: still unpublished; `published_late`)", body = PublicityReport),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn double_publicity(
    a: AdminCaller,
) -> Result<axum::Json<PublicityReport>, ApiError> {
    Ok(axum::Json(a.admin.publicity_report(&a.caller()).await?))
}
