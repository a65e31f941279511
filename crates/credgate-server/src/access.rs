//! API keys, roles, per-key rate limits and the PII audit log.

use crate::config::{KeyConfig, Role};
use crate::error::ApiError;
use axum::http::HeaderMap;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;

/// A caller, once its key is checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn can_screen(&self) -> bool {
        !self.roles.is_empty()
    }

    pub fn sees_pii(&self) -> bool {
        self.roles.contains(&Role::ScreenPii)
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

struct Key {
    caller: Caller,
    limiter: DefaultDirectRateLimiter,
}

/// The configured keys, by hash.
pub struct Keys {
    by_hash: HashMap<String, Key>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("count", &self.by_hash.len()).finish()
    }
}

/// SHA-256 of a key, hex.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random key (256 bits, hex).
pub fn new_key() -> String {
    use rand::TryRngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("cg_{hex}")
}

impl Keys {
    pub fn new(keys: &[KeyConfig]) -> Keys {
        let by_hash = keys
            .iter()
            .map(|k| {
                let quota = Quota::per_second(
                    NonZeroU32::new(k.rate_per_second)
                        .unwrap_or(NonZeroU32::MIN),
                )
                .allow_burst(
                    NonZeroU32::new(k.burst).unwrap_or(NonZeroU32::MIN),
                );
                (
                    k.sha256.to_ascii_lowercase(),
                    Key {
                        caller: Caller {
                            name: k.name.clone(),
                            roles: k.roles.clone(),
                        },
                        limiter: RateLimiter::direct(quota),
                    },
                )
            })
            .collect();
        Keys { by_hash }
    }

    /// The caller presenting `Authorization: Bearer <key>` or
    /// `X-API-Key: <key>`, within its rate limit.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Caller, ApiError> {
        let presented = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
                )
            })?;
        let key = self
            .by_hash
            .get(&hash_key(presented))
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        if let Err(not_until) = key.limiter.check() {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            // Key names stay out of metrics: `/metrics` is unauthenticated.
            metrics::counter!("credgate_rate_limited_total").increment(1);
            tracing::warn!(key = %key.caller.name, "rate limited");
            return Err(ApiError::rate_limited(
                wait.as_secs_f64().ceil().max(1.0) as u64,
            ));
        }
        Ok(key.caller.clone())
    }
}

/// Append-only log of every disclosure of unmasked personal data: who,
/// when, which subject, through which endpoint. One JSON object per line,
/// flushed as written.
pub struct AuditLog {
    file: Mutex<std::fs::File>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(AuditLog { file: Mutex::new(file) })
    }

    /// Records that `caller` saw the ID numbers `disclosed` unmasked.
    pub fn record(
        &self,
        caller: &Caller,
        endpoint: &str,
        disclosed: &[(String, String)],
    ) -> std::io::Result<()> {
        if disclosed.is_empty() {
            return Ok(());
        }
        let line = serde_json::json!({
            "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "key": caller.name,
            "endpoint": endpoint,
            "subjects": disclosed
                .iter()
                .map(|(entry, id)| serde_json::json!({"entry_id": entry, "id_number": id}))
                .collect::<Vec<_>>(),
        });
        let mut f = self.file.lock().expect("audit lock");
        writeln!(f, "{line}")?;
        drop(f);
        // Only once the line is written: a failed write discloses nothing.
        tracing::info!(target: "audit", key = %caller.name, endpoint, subjects = disclosed.len(), "unmasked personal data disclosed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(f: impl FnOnce()) -> String {
        let out = Captured::default();
        let w = out.clone();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || w.clone())
            .finish();
        tracing::subscriber::with_default(sub, f);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    fn investigator() -> Caller {
        Caller { name: "investigators".into(), roles: vec![Role::ScreenPii] }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_audit_write_logs_no_disclosure() {
        // Every write to /dev/full fails (ENOSPC).
        let audit = AuditLog::open(Path::new("/dev/full")).unwrap();
        let disclosed = [("E1".to_string(), "11010519491231002X".into())];
        let mut result = Ok(());
        let log = logged(|| {
            result = audit.record(&investigator(), "/v1/screen", &disclosed);
        });
        assert!(result.is_err());
        assert!(!log.contains("disclosed"), "{log}");
    }

    #[test]
    fn a_written_audit_line_is_logged() {
        let dir = tempfile::tempdir().unwrap();
        let audit = AuditLog::open(&dir.path().join("audit.log")).unwrap();
        let disclosed = [("E1".to_string(), "11010519491231002X".into())];
        let log = logged(|| {
            audit.record(&investigator(), "/v1/screen", &disclosed).unwrap();
        });
        assert!(log.contains("unmasked personal data disclosed"), "{log}");
    }
}
