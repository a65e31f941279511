//! The one error shape of the API: `{code, message, field}` with a stable
//! `code`, whatever went wrong (including the framework's own rejections,
//! panics and timeouts).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ErrorBody {
    /// Stable machine-readable code (see `docs/api.md`).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            body: ErrorBody { code, message: message.into(), field: None },
            retry_after: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "rate limit of this API key exceeded; retry in {retry_after} s"
            ),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// The key's person-ID queries look like an enumeration of masked
    /// numbers; it is blocked for `retry_after` seconds.
    pub fn enumeration_suspected(retry_after: u64) -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "enumeration_suspected",
            format!(
                "this API key's person-ID queries look like an enumeration; \
                 it is blocked for {retry_after} s"
            ),
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn too_large(limit: u64) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body larger than {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(expected: &str) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected Content-Type {expected}"),
        )
    }

    pub fn no_snapshot() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "snapshot_unavailable",
            "no snapshot is loaded yet",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<credgate_screen::ScreenError> for ApiError {
    fn from(e: credgate_screen::ScreenError) -> Self {
        use credgate_screen::{QueryError, ScreenError};
        match &e {
            ScreenError::UnknownScenario { .. } => {
                ApiError::bad_request("unknown_scenario", e.to_string())
                    .field("scenario")
            }
            ScreenError::Query(QueryError::InvalidCode { field, error }) => {
                // The identifier error names its rule and, for a bad check
                // character, the expected one; say them only if it does not.
                let mut message = format!("{field}: {error}");
                if !message.contains(error.rule()) {
                    message.push_str(&format!(" (rule: {})", error.rule()));
                }
                if let Some(c) = error.expected_check() {
                    if !message.contains(&format!("expected '{c}'")) {
                        message.push_str(&format!(
                            "; expected check character '{c}'"
                        ));
                    }
                }
                ApiError::bad_request("invalid_identifier", message)
                    .field(*field)
            }
            ScreenError::Query(QueryError::Empty) => {
                ApiError::bad_request("invalid_request", e.to_string())
                    .field("name")
            }
            ScreenError::Query(QueryError::NameTooLong { .. }) => {
                ApiError::bad_request("invalid_request", e.to_string())
                    .field("name")
            }
        }
    }
}
