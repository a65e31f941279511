//! `/admin/v1`: the admin module's HTTP face (issue 10). The rules live
//! in `credgate-lifecycle`, the records in `credgate-store`, the glue in
//! `credgate-admin`; handlers here parse, authorise by role, call the
//! service and shape the answer.
//!
//! Shared pieces for every admin handler file: [`AdminCaller`] (the
//! authenticated caller with its department and roles, and the service),
//! [`IfMatch`] (the entry version a change is based on; 428 when
//! missing) and the mapping of the service's errors to [`ApiError`]
//! (403 with the rule, 409 with the rule, 412 stale, 422 invalid).

pub mod entries;
pub mod manage;
pub mod publishing;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use credgate_admin::service::{Admin, AdminError, Caller};
use credgate_lifecycle::RefusalKind;
use credgate_store::StoreError;

use crate::AppState;
use crate::config::Role;
use crate::error::ApiError;

/// The routes of the admin module, mounted at the root (their paths
/// start with `/admin/v1`). Handler files add theirs here.
pub fn router() -> Router<AppState> {
    use entries as e;
    use manage as m;
    Router::new()
        .route("/admin/v1/entries", post(e::propose).get(e::list))
        .route("/admin/v1/entries/export", get(e::export))
        .route("/admin/v1/entries/{id}", get(e::get_entry))
        .route("/admin/v1/entries/{id}/statement", post(e::statement))
        .route("/admin/v1/entries/{id}/designate", post(e::designate))
        .route("/admin/v1/entries/{id}/publish", post(e::publish))
        .route("/admin/v1/entries/{id}/rectification", post(e::rectification))
        .route("/admin/v1/entries/{id}/interviews", post(e::interviews))
        .route("/admin/v1/entries/{id}/ban", post(e::ban))
        .route("/admin/v1/entries/{id}/objections", post(e::objections))
        .route("/admin/v1/entries/{id}/uphold", post(e::uphold))
        .route("/admin/v1/entries/{id}/correct", post(e::correct))
        .route("/admin/v1/entries/{id}/revoke", post(e::revoke))
        .route("/admin/v1/entries/{id}/repair", post(e::repair))
        .route("/admin/v1/entries/{id}/withdraw", post(e::withdraw))
        .route("/admin/v1/reports/double-publicity", get(e::double_publicity))
        .route("/admin/v1/keys", post(m::create_key).get(m::list_keys))
        .route("/admin/v1/keys/{id}", delete(m::revoke_key))
        .route("/admin/v1/departments", get(m::list_departments))
        .route("/admin/v1/departments/{code}", put(m::put_department))
        .route("/admin/v1/audit", get(m::audit))
        .route("/admin/v1/sweep", post(m::sweep))
        .merge(publishing::router())
}

/// The admin endpoints' OpenAPI paths, merged into `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        entries::propose, entries::list, entries::get_entry,
        entries::statement, entries::designate, entries::publish,
        entries::rectification, entries::interviews, entries::ban,
        entries::objections, entries::uphold, entries::correct,
        entries::revoke, entries::repair, entries::withdraw,
        entries::export, entries::double_publicity,
        manage::create_key, manage::list_keys, manage::revoke_key,
        manage::list_departments, manage::put_department, manage::audit,
        manage::sweep,
        publishing::import, publishing::publish, publishing::publications,
    ),
    tags((name = "admin", description = "The admin module (issue 10): the lifecycle of list entries, departments, keys, the audit chain"))
)]
#[derive(Debug)]
pub struct AdminDoc;

/// The caller of an admin endpoint: its key (id, department, roles) and
/// the admin service. 404 when the admin module is off (`--role
/// screening`), 401 without a valid key.
#[derive(Debug, Clone)]
pub struct AdminCaller {
    pub key: crate::access::Caller,
    pub admin: Arc<Admin>,
    /// The PII audit log: every unmasked ID number an admin answer shows
    /// is recorded there first.
    pub audit: Arc<crate::access::AuditLog>,
}

impl AdminCaller {
    /// The service's view of the caller.
    pub fn caller(&self) -> Caller {
        Caller {
            key_id: self.key.key_id.clone(),
            department: self.key.department.clone(),
            roles: self.key.roles.iter().map(|r| r.to_store()).collect(),
        }
    }

    /// Personal ID numbers in an admin answer follow the screening rule:
    /// masked (at most the last four characters) unless the key has
    /// `screen_pii`; for a key that has it, every number shown is written
    /// to the PII audit log first — a failed write withholds the answer.
    /// `each` walks the answer's numbers through the given function
    /// (entry id, number) → what to show.
    pub fn disclose(
        &self,
        endpoint: &str,
        each: impl FnOnce(&mut dyn FnMut(&str, &str) -> String),
    ) -> Result<(), ApiError> {
        match self.key.pii() {
            crate::view::Pii::Mask { visible } => {
                each(&mut |_, id| crate::view::mask_id(id, visible));
                Ok(())
            }
            crate::view::Pii::Show => {
                let mut disclosed = Vec::new();
                each(&mut |entry, id| {
                    disclosed.push((entry.to_string(), id.to_string()));
                    id.to_string()
                });
                self.audit.record(&self.key, endpoint, &disclosed).map_err(
                    |e| {
                        tracing::error!(error = %e, "PII audit log write failed");
                        ApiError::internal(
                            "the PII audit log cannot be written; unmasked \
                             data withheld",
                        )
                    },
                )
            }
        }
    }

    /// [`AdminCaller::disclose`] over entry views.
    pub fn disclose_views<'a>(
        &self,
        endpoint: &str,
        views: impl IntoIterator<Item = &'a mut credgate_admin::views::EntryView>,
    ) -> Result<(), ApiError> {
        self.disclose(endpoint, |f| {
            for v in views {
                v.map_person_ids(f);
            }
        })
    }

    /// 403 `role_required` unless the key has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.key.has(*r)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| role_code(*r)).collect();
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "role_required",
            format!(
                "this endpoint needs a key with the role {}; this key has {}",
                names.join(" or "),
                if self.key.roles.is_empty() {
                    "none".to_string()
                } else {
                    self.key
                        .roles
                        .iter()
                        .map(|r| role_code(*r))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        ))
    }
}

/// The snake_case code of a role (as in the configuration file).
pub fn role_code(r: Role) -> &'static str {
    r.to_store().code()
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(admin) = state.admin.clone() else {
            return Err(ApiError::not_found(
                "the admin module is off on this server (screening only)",
            ));
        };
        let key =
            crate::access::Caller::from_request_parts(parts, state).await?;
        Ok(AdminCaller { key, admin, audit: state.audit.clone() })
    }
}

/// `If-Match: "<version>"`: the entry version a change is based on.
/// Missing: 428 `if_match_required`; not a quoted version: 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "this change needs `If-Match: \"<version>\"` with the \
                 entry's version (its ETag) so that it cannot overwrite a \
                 change made since it was read",
            )
            .field("If-Match"));
        };
        parse_etag(v.to_str().unwrap_or("")).map(IfMatch).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_if_match",
                "If-Match must be one entry version in quotes, like \"3\" \
                 (weak tags and lists are not accepted)",
            )
            .field("If-Match")
        })
    }
}

/// The version in an ETag `"<n>"` (quotes optional for curl users).
pub fn parse_etag(s: &str) -> Option<i64> {
    let s = s.trim();
    let inner =
        s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    // The exact text of an ETag this server sends: digits without a sign
    // or leading zeros ("01" and "+1" are other tags, not version 1).
    let canonical = !inner.is_empty()
        && !inner.starts_with('0')
        && inner.bytes().all(|b| b.is_ascii_digit());
    if !canonical {
        return None;
    }
    inner.parse::<i64>().ok().filter(|v| *v >= 1 && inner.len() <= 19)
}

/// The ETag of an entry version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The HTTP answer to a service error: refusals keep their rule as the
/// code (403 department/role rules, 409 stage and date guards, 422 bad
/// input); a stale version is 412.
impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> ApiError {
        match e {
            AdminError::Refused(r) => {
                let status = match r.kind {
                    RefusalKind::Forbidden => StatusCode::FORBIDDEN,
                    RefusalKind::Conflict => StatusCode::CONFLICT,
                    RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let err = ApiError::new(status, r.rule, r.message);
                match r.field {
                    Some(f) => err.field(f),
                    None => err,
                }
            }
            AdminError::Forbidden { rule, message } => {
                ApiError::new(StatusCode::FORBIDDEN, rule, message)
            }
            AdminError::Invalid { rule, field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, rule, message)
                    .field(field)
            }
            e @ AdminError::IdempotencyKeyReused { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                e.to_string(),
            )
            .field("Idempotency-Key"),
            e @ AdminError::NotFound { .. } => {
                ApiError::not_found(e.to_string())
            }
            AdminError::Store(e) => store_error(e),
        }
    }
}

/// The HTTP answer to a store error.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        e @ StoreError::Stale { .. } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_version",
            format!("{e}; read the entry again and retry on its version"),
        )
        .field("If-Match"),
        e @ StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
        e @ StoreError::Duplicate { .. } => {
            ApiError::new(StatusCode::CONFLICT, "duplicate", e.to_string())
        }
        StoreError::ForeignKey { what, detail } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            format!("{what}: {detail}"),
        )
        .field(what),
        StoreError::Invalid { field, message } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            format!("{field}: {message}"),
        )
        .field(field),
        e => {
            tracing::error!(error = %e, "admin store failure");
            ApiError::internal("the admin store failed; it has been logged")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_parse_quoted_versions_only() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("3"), Some(3));
        assert_eq!(parse_etag("W/\"3\""), None);
        assert_eq!(parse_etag("\"0\""), None);
        assert_eq!(parse_etag("\"1\", \"2\""), None);
        // Other strong tags than the one sent are not version 1.
        assert_eq!(parse_etag("\"01\""), None);
        assert_eq!(parse_etag("\"+1\""), None);
        assert_eq!(etag(7), "\"7\"");
    }
}
