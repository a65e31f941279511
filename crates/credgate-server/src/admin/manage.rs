//! `/admin/v1` keys, departments, the audit chain and the expiry sweep.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use credgate_admin::views::AuditPage;
use credgate_store::{AuditFilter, Department, NewKey};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AdminCaller;
use crate::AppState;
use crate::config::Role;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

/// A stored key (the secret is never shown again).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&credgate_store::ApiKey> for KeyView {
    fn from(k: &credgate_store::ApiKey) -> KeyView {
        KeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            department: k.department.clone(),
            roles: k.roles.iter().map(|r| r.code().to_string()).collect(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just made: `secret` is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedKeyView {
    pub key: KeyView,
    /// Send as `X-API-Key` or `Authorization: Bearer`; only its SHA-256
    /// is kept.
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// Who holds the key.
    pub name: String,
    /// An existing department's code.
    pub department: String,
    /// Any of `screen`, `screen_pii`, `admin`, `publisher`, `reviewer`,
    /// `auditor`, `operator`.
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DepartmentView {
    pub code: String,
    pub name_zh: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    /// The department's Chinese name (e.g. 江苏省市场监督管理局).
    pub name_zh: String,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub key_id: Option<String>,
    pub department: Option<String>,
    /// An action code (`propose`, `designate`, `key_create`, …).
    pub action: Option<String>,
    pub entry_id: Option<String>,
    /// From this time (RFC 3339, inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Page size (default 100, at most 1,000).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// What a sweep did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SweepView {
    /// The China date swept for.
    pub today: NaiveDate,
    pub expired: Vec<String>,
    /// Changed meanwhile; the next sweep retries them.
    pub skipped: Vec<String>,
}

fn bounded(field: &str, v: &Option<String>) -> Result<(), ApiError> {
    match v {
        Some(s) if s.chars().count() > 200 => Err(ApiError::bad_request(
            "invalid_request",
            format!("{field} is longer than 200 characters"),
        )
        .field(field)),
        _ => Ok(()),
    }
}

#[utoipa::path(
    post, path = "/admin/v1/keys", tag = "admin",
    request_body = NewKeyRequest,
    responses(
        (status = 201, description = "The key and its secret, shown once", body = CreatedKeyView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`admin_role_required`", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "Unknown role or department", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn create_key(
    a: AdminCaller,
    ApiJson(req): ApiJson<NewKeyRequest>,
) -> Result<Response, ApiError> {
    if req.roles.len() > 7 {
        return Err(ApiError::bad_request(
            "invalid_request",
            "roles: at most the 7 roles",
        )
        .field("roles"));
    }
    let roles = req
        .roles
        .iter()
        .map(|r| credgate_store::Role::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(super::store_error)?;
    let key = NewKey { name: req.name, department: req.department, roles };
    let made = a.admin.create_key(&a.caller(), &key).await?;
    let view =
        CreatedKeyView { key: KeyView::from(&made.key), secret: made.secret };
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

#[utoipa::path(
    get, path = "/admin/v1/keys", tag = "admin",
    responses(
        (status = 200, description = "Every stored key, revoked ones too", body = [KeyView]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn list_keys(
    a: AdminCaller,
) -> Result<axum::Json<Vec<KeyView>>, ApiError> {
    let keys = a.admin.keys(&a.caller()).await?;
    Ok(axum::Json(keys.iter().map(KeyView::from).collect()))
}

#[utoipa::path(
    delete, path = "/admin/v1/keys/{id}", tag = "admin",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key, revoked: refused from now on", body = KeyView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn revoke_key(
    a: AdminCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<KeyView>, ApiError> {
    bounded("id", &Some(id.clone()))?;
    let key = a.admin.revoke_key(&a.caller(), &id).await?;
    // Effective at once in this process, whatever the cache holds.
    state.keys.forget(&key.id);
    Ok(axum::Json(KeyView::from(&key)))
}

#[utoipa::path(
    get, path = "/admin/v1/departments", tag = "admin",
    responses(
        (status = 200, body = [DepartmentView]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn list_departments(
    a: AdminCaller,
) -> Result<axum::Json<Vec<DepartmentView>>, ApiError> {
    let all = a.admin.departments(&a.caller()).await?;
    Ok(axum::Json(
        all.into_iter()
            .map(|d| DepartmentView { code: d.code, name_zh: d.name_zh })
            .collect(),
    ))
}

#[utoipa::path(
    put, path = "/admin/v1/departments/{code}", tag = "admin",
    params(("code" = String, Path, description = "The department code, e.g. js-scjg")),
    request_body = DepartmentRequest,
    responses(
        (status = 200, description = "Created or renamed", body = DepartmentView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn put_department(
    a: AdminCaller,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<DepartmentRequest>,
) -> Result<axum::Json<DepartmentView>, ApiError> {
    let d = Department { code, name_zh: req.name_zh };
    a.admin.upsert_department(&a.caller(), &d).await?;
    Ok(axum::Json(DepartmentView { code: d.code, name_zh: d.name_zh }))
}

#[utoipa::path(
    get, path = "/admin/v1/audit", tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of the audit chain in sequence order", body = AuditPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`auditor_role_required`", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn audit(
    a: AdminCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<axum::Json<AuditPage>, ApiError> {
    for (f, v) in [
        ("key_id", &q.key_id),
        ("department", &q.department),
        ("action", &q.action),
        ("entry_id", &q.entry_id),
        ("cursor", &q.cursor),
    ] {
        bounded(f, v)?;
    }
    let filter = AuditFilter {
        key_id: q.key_id,
        department: q.department,
        action: q.action,
        entry_id: q.entry_id,
        from: q.from,
        to: q.to,
        limit: q.limit,
    };
    let page =
        a.admin.audit_page(&a.caller(), &filter, q.cursor.as_deref()).await?;
    Ok(axum::Json(page))
}

#[utoipa::path(
    post, path = "/admin/v1/sweep", tag = "admin",
    responses(
        (status = 200, description = "Entries past their maximum period exited (the background sweep does the same every `admin.sweep_interval_minutes`)", body = SweepView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`role_required`: operator", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
pub async fn sweep(a: AdminCaller) -> Result<axum::Json<SweepView>, ApiError> {
    a.require(&[Role::Operator])?;
    let today = a.admin.today();
    let done = a.admin.sweep(today).await?;
    Ok(axum::Json(SweepView {
        today,
        expired: done.expired,
        skipped: done.skipped,
    }))
}
