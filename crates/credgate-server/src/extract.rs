//! Extractors that answer in the API's error shape instead of the
//! framework's plain text: the caller (API key), JSON bodies and query
//! strings.

use crate::AppState;
use crate::access::Caller;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.keys.authenticate_any(&parts.headers).await
    }
}

/// A JSON body: 415 unless `Content-Type: application/json`, 413 past the
/// configured size, 400 naming the field on a malformed or mistyped body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(ct: &str) -> bool {
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(
        req: Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(ct) {
            return Err(ApiError::unsupported_media_type("application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(state.config.body_limit_bytes as u64)
            } else {
                ApiError::bad_request("malformed_body", e.body_text())
            }
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value =
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let code = if inner.is_syntax() || inner.is_eof() {
                    "malformed_json"
                } else {
                    "invalid_request"
                };
                let err = ApiError::bad_request(
                    code,
                    format!("request body: {inner}"),
                );
                if path == "." { err } else { err.field(path) }
            })?;
        de.end().map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("request body: {e}"),
            )
        })?;
        Ok(ApiJson(value))
    }
}

/// A query string: 400 `invalid_request` naming the parameter when it is
/// repeated, unknown or of the wrong type (axum's `Query` answers those in
/// plain text).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|e| {
            let inner = e.to_string();
            // serde names a repeated or unknown parameter in backquotes.
            let field = inner.split('`').nth(1).map(str::to_string);
            let err = ApiError::bad_request(
                "invalid_request",
                format!("query string: {}", credgate_bulk::clip(&inner)),
            );
            match field {
                Some(f) => err.field(credgate_bulk::clip(&f)),
                None => err,
            }
        })
    }
}
