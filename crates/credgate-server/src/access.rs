//! API keys, roles, per-key rate limits, the enumeration detector and the
//! PII audit log.
//!
//! A key's tokens pay for work, not requests: a request costs one, a
//! batch one per item, a bulk row `bulk_row_cost`. Its person-ID queries
//! are watched by a [`Detector`] (see [`EnumerationConfig`] for the rules
//! and the bounds they give).

use crate::config::{
    Config, EnumerationConfig, KeyConfig, Role, default_burst, default_rate,
};
use crate::error::ApiError;
use crate::view::{Pii, mask_id};
use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A caller, once its key is checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    /// A stored key's id; a configuration key's name.
    pub key_id: String,
    /// The department the key acts for in `/admin/v1`.
    pub department: Option<String>,
    pub roles: Vec<Role>,
    key: Arc<KeyState>,
}

impl Caller {
    /// `screen`, `screen_pii` and `admin` screen; the admin roles
    /// (`auditor`, `publisher`, `reviewer`, `operator`) do not.
    pub fn can_screen(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r, Role::Screen | Role::ScreenPii | Role::Admin))
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// 403 for a key that may not screen.
    pub fn require_screening(&self) -> Result<(), ApiError> {
        if self.can_screen() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this API key has no screening role (screen, screen_pii or \
                 admin): its roles read records or administer lists",
            ))
        }
    }

    /// Reads the check records of every key, not only its own.
    pub fn reads_all_checks(&self) -> bool {
        self.roles.iter().any(|r| matches!(r, Role::Auditor | Role::Admin))
    }

    pub fn sees_pii(&self) -> bool {
        self.roles.contains(&Role::ScreenPii)
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// How personal ID numbers are shown to this caller.
    pub fn pii(&self) -> Pii {
        if self.sees_pii() {
            Pii::Show
        } else {
            Pii::Mask { visible: self.key.shared.visible }
        }
    }

    /// Charges a batch of `items`: one token each, the request's own
    /// token included.
    pub fn charge_items(&self, items: usize) -> Result<(), ApiError> {
        let burst = self.key.burst.get();
        if items > burst as usize {
            // More than the bucket holds: no wait would let it pass.
            return Err(ApiError::bad_request(
                "too_many_items",
                format!(
                    "{items} items; this API key's burst allows at most \
                     {burst} per batch"
                ),
            )
            .field("items"));
        }
        let extra = u32::try_from(items.saturating_sub(1)).unwrap_or(burst);
        let Some(n) = NonZeroU32::new(extra) else {
            return Ok(());
        };
        match self.key.limiter.check_n(n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait =
                    not_until.wait_time_from(DefaultClock::default().now());
                Err(self.key.rate_limited(wait))
            }
            // n < items <= burst: cannot happen.
            Err(_) => Ok(()),
        }
    }

    /// Charges screened bulk rows, waiting for the tokens (the job runs
    /// on a blocking thread and paces itself to the key's rate), after
    /// showing their person-ID numbers to the enumeration detector. An
    /// error stops the job before these rows are written.
    pub fn charge_bulk_rows(
        &self,
        rows: &[credgate_bulk::RowResult],
    ) -> Result<(), ApiError> {
        let ids =
            rows.iter().flat_map(|r| &r.fields).filter_map(|f| person_id(f));
        self.screening("/v1/screen/bulk", ids)?;
        let cost = self.key.shared.row_cost;
        let mut owed = (rows.len() as f64 * cost).ceil() as u32;
        while owed > 0 {
            let n = owed.min(self.key.burst.get());
            let cells = NonZeroU32::new(n).expect("owed > 0");
            match self.key.limiter.check_n(cells) {
                Ok(Ok(())) => owed -= n,
                Ok(Err(not_until)) => std::thread::sleep(
                    not_until.wait_time_from(DefaultClock::default().now()),
                ),
                // n is at most the burst.
                Err(_) => owed -= n,
            }
        }
        Ok(())
    }

    /// Before screening: the person-ID numbers queried (normalised).
    /// Refuses the request when they look like the candidates of a
    /// masked number this key was shown.
    pub fn screening(
        &self,
        endpoint: &str,
        person_ids: impl IntoIterator<Item = String>,
    ) -> Result<(), ApiError> {
        let shared = &self.key.shared;
        // With nothing visible a mask tells nothing to enumerate against
        // (and every number would share it).
        if shared.visible == 0 {
            return Ok(());
        }
        let tripped = {
            let mut d = self.key.detector.lock().expect("detector lock");
            person_ids.into_iter().any(|id| {
                d.queried(
                    &id,
                    shared.visible,
                    &shared.enumeration,
                    Instant::now(),
                )
            })
        };
        if tripped {
            return Err(self.trip(endpoint, "mask_candidates"));
        }
        Ok(())
    }

    /// After screening, before answering: `misses` person-ID queries found
    /// nothing, and the answer shows the person-ID numbers `shown`
    /// (masked unless the caller sees PII). Past the miss budget the
    /// answer is withheld.
    pub fn screened(
        &self,
        endpoint: &str,
        shown: impl IntoIterator<Item = String>,
        misses: u32,
    ) -> Result<(), ApiError> {
        let shared = &self.key.shared;
        let masked = self.pii() != Pii::Show && shared.visible > 0;
        let tripped = {
            let mut d = self.key.detector.lock().expect("detector lock");
            let over = d.missed(misses, &shared.enumeration);
            if masked && !over {
                for id in shown {
                    d.shown(id, shared.visible, Instant::now());
                }
            }
            over
        };
        if tripped {
            return Err(self.trip(endpoint, "person_id_misses"));
        }
        Ok(())
    }

    /// Blocks the key, with an audit line, a metric and a log line.
    fn trip(&self, endpoint: &str, reason: &'static str) -> ApiError {
        let block = self.key.shared.enumeration.block_secs;
        self.key.detector.lock().expect("detector lock").blocked_until =
            Some(Instant::now() + Duration::from_secs(block));
        metrics::counter!("credgate_enumeration_suspected_total", "reason" => reason)
            .increment(1);
        tracing::warn!(key = %self.name, endpoint, reason, block_secs = block, "enumeration suspected; key blocked");
        if let Err(e) =
            self.key.shared.audit.enumeration(&self.name, endpoint, reason)
        {
            tracing::error!(error = %e, "PII audit log write failed");
        }
        ApiError::enumeration_suspected(block)
    }
}

/// `s` normalised when it is a valid resident ID number.
pub fn person_id(s: &str) -> Option<String> {
    credgate_ident::validate_as(s, credgate_ident::IdKind::ResidentId)
        .ok()
        .map(|v| v.normalized)
}

/// Masked forms remembered per key: a bound on the detector's memory.
const MAX_SHOWN: usize = 10_000;

/// Time buckets of the miss window.
const BUCKETS: u64 = 60;

/// One key's recent person-ID activity.
#[derive(Debug)]
struct Detector {
    start: Instant,
    /// Misses per bucket (`window / BUCKETS` long), oldest first.
    misses: VecDeque<(u64, u32)>,
    /// Masked forms shown to the key, by mask.
    shown: HashMap<String, Shown>,
    blocked_until: Option<Instant>,
}

/// A masked number shown to a key, and the other numbers with its mask
/// queried since.
#[derive(Debug)]
struct Shown {
    id: String,
    at: Instant,
    tries: Vec<(Instant, String)>,
}

impl Detector {
    fn new() -> Detector {
        Detector {
            start: Instant::now(),
            misses: VecDeque::new(),
            shown: HashMap::new(),
            blocked_until: None,
        }
    }

    /// Counts a query for `id` at `now`; true when it trips the
    /// detector. A mask stays watched for as long as it is remembered,
    /// however long ago it was shown: an attacker who waited out the
    /// window after seeing it would otherwise enumerate unhindered.
    fn queried(
        &mut self,
        id: &str,
        visible: usize,
        cfg: &EnumerationConfig,
        now: Instant,
    ) -> bool {
        let window = Duration::from_secs(cfg.window_secs);
        let Some(s) = self.shown.get_mut(&mask_id(id, visible)) else {
            return false;
        };
        if s.id == id {
            return false;
        }
        s.tries.retain(|(t, _)| now.duration_since(*t) <= window);
        if !s.tries.iter().any(|(_, x)| x == id) {
            s.tries.push((now, id.to_string()));
        }
        s.tries.len() >= cfg.max_queries_per_mask as usize
    }

    /// Remembers that the key was shown `id` masked at `now`; past
    /// `MAX_SHOWN` masks the one shown longest ago is forgotten.
    fn shown(&mut self, id: String, visible: usize, now: Instant) {
        if self.shown.len() >= MAX_SHOWN
            && !self.shown.contains_key(&mask_id(&id, visible))
        {
            let oldest = self
                .shown
                .iter()
                .min_by_key(|(_, s)| s.at)
                .map(|(m, _)| m.clone());
            if let Some(m) = oldest {
                self.shown.remove(&m);
            }
        }
        let s = self.shown.entry(mask_id(&id, visible)).or_insert_with(|| {
            Shown { id: id.clone(), at: now, tries: Vec::new() }
        });
        if s.id != id {
            // Another number with the same mask: the newer one is watched.
            *s = Shown { id, at: now, tries: Vec::new() };
        } else {
            s.at = now;
        }
    }

    /// Adds `n` misses; true when the window's total reaches the budget.
    fn missed(&mut self, n: u32, cfg: &EnumerationConfig) -> bool {
        let width = (cfg.window_secs / BUCKETS).max(1);
        let bucket = self.start.elapsed().as_secs() / width;
        while self.misses.front().is_some_and(|(b, _)| b + BUCKETS <= bucket) {
            self.misses.pop_front();
        }
        match self.misses.back_mut() {
            Some((b, c)) if *b == bucket => *c = c.saturating_add(n),
            _ => self.misses.push_back((bucket, n)),
        }
        let total: u64 = self.misses.iter().map(|(_, c)| u64::from(*c)).sum();
        n > 0 && total >= u64::from(cfg.max_person_id_misses)
    }
}

/// Settings every key shares.
#[derive(Debug)]
struct Shared {
    visible: usize,
    row_cost: f64,
    enumeration: EnumerationConfig,
    audit: Arc<AuditLog>,
}

/// One key's limiter and detector, shared by its requests.
struct KeyState {
    name: String,
    limiter: DefaultDirectRateLimiter,
    burst: NonZeroU32,
    detector: Mutex<Detector>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyState").field("name", &self.name).finish()
    }
}

impl KeyState {
    fn new(
        name: &str,
        rate_per_second: u32,
        burst: u32,
        shared: &Arc<Shared>,
    ) -> Arc<KeyState> {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(
            NonZeroU32::new(rate_per_second).unwrap_or(NonZeroU32::MIN),
        )
        .allow_burst(burst);
        Arc::new(KeyState {
            name: name.to_string(),
            limiter: RateLimiter::direct(quota),
            burst,
            detector: Mutex::new(Detector::new()),
            shared: shared.clone(),
        })
    }

    fn rate_limited(&self, wait: Duration) -> ApiError {
        // Key names stay out of metrics: `/metrics` is unauthenticated.
        metrics::counter!("credgate_rate_limited_total").increment(1);
        tracing::warn!(key = %self.name, "rate limited");
        ApiError::rate_limited(wait.as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// The configured keys, by hash, and the store's keys (looked up by
/// hash, cached for `ttl`).
pub struct Keys {
    by_hash: HashMap<String, Caller>,
    stored: Option<StoredKeys>,
    shared: Arc<Shared>,
}

/// Keys kept in the admin store. A lookup is cached briefly; a key
/// revoked through this process is forgotten at once ([`Keys::forget`]).
/// Its limiter and detector live as long as the process, across cache
/// refreshes, so a refresh never resets a rate limit.
struct StoredKeys {
    store: credgate_store::Store,
    ttl: Duration,
    /// By hash: the caller and when it was read from the store.
    cache: Mutex<HashMap<String, (Caller, Instant)>>,
    /// Hashes the store did not know or had revoked, and when: a client
    /// retrying with a revoked key costs one store read per `ttl`, not one
    /// per request. A secret exists only once its key is made, so no
    /// remembered hash can become a key. At most [`MAX_MISSES`].
    misses: Mutex<HashMap<String, Instant>>,
    /// By key id.
    states: Mutex<HashMap<String, Arc<KeyState>>>,
}

/// How many unknown key hashes [`StoredKeys`] remembers: past it, the
/// expired ones are dropped, and all of them if none has expired (a flood
/// of random keys then costs store reads, never memory).
const MAX_MISSES: usize = 4_096;

impl StoredKeys {
    fn missed(&self, hash: &str) -> bool {
        let misses = self.misses.lock().expect("key misses lock");
        misses.get(hash).is_some_and(|at| at.elapsed() < self.ttl)
    }

    fn miss(&self, hash: String) {
        let mut misses = self.misses.lock().expect("key misses lock");
        if misses.len() >= MAX_MISSES {
            misses.retain(|_, at| at.elapsed() < self.ttl);
            if misses.len() >= MAX_MISSES {
                misses.clear();
            }
        }
        misses.insert(hash, Instant::now());
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("count", &self.by_hash.len()).finish()
    }
}

/// SHA-256 of a key, hex. Every request hashes its key: one `format!`
/// per byte was 32 allocations a request.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
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
    /// The keys of `config`; enumeration suspicions go to `audit`.
    pub fn new(config: &Config, audit: Arc<AuditLog>) -> Keys {
        let shared = Arc::new(Shared {
            visible: config.pii_visible_chars.min(crate::view::MASK_VISIBLE),
            row_cost: config.bulk_row_cost,
            enumeration: config.enumeration,
            audit,
        });
        let by_hash = config
            .keys
            .iter()
            .map(|k: &KeyConfig| {
                let state = KeyState::new(
                    &k.name,
                    k.rate_per_second,
                    k.burst,
                    &shared,
                );
                let caller = Caller {
                    name: k.name.clone(),
                    key_id: k.name.clone(),
                    department: k.department.clone(),
                    roles: k.roles.clone(),
                    key: state,
                };
                (k.sha256.to_ascii_lowercase(), caller)
            })
            .collect();
        Keys { by_hash, stored: None, shared }
    }

    /// Also accepts the active keys of `store`, each read again after
    /// `ttl`.
    pub fn with_store(
        mut self,
        store: credgate_store::Store,
        ttl: Duration,
    ) -> Keys {
        self.stored = Some(StoredKeys {
            store,
            ttl,
            cache: Mutex::new(HashMap::new()),
            misses: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
        });
        self
    }

    /// Drops the cached lookup of the stored key `key_id`: its next use
    /// reads the store (a revocation takes effect at once).
    pub fn forget(&self, key_id: &str) {
        if let Some(s) = &self.stored {
            s.cache
                .lock()
                .expect("key cache lock")
                .retain(|_, (c, _)| c.key_id != key_id);
        }
    }

    /// [`Keys::authenticate`], then the store's keys: the caller of a
    /// configuration key or of an active stored key.
    pub async fn authenticate_any(
        &self,
        headers: &HeaderMap,
    ) -> Result<Caller, ApiError> {
        let presented = presented(headers)?;
        let hash = hash_key(presented);
        if let Some(caller) = self.by_hash.get(&hash) {
            return admit(caller);
        }
        let Some(stored) = &self.stored else {
            return Err(ApiError::unauthorized("unknown API key"));
        };
        let cached = stored
            .cache
            .lock()
            .expect("key cache lock")
            .get(&hash)
            .filter(|(_, at)| at.elapsed() < stored.ttl)
            .map(|(c, _)| c.clone());
        if let Some(caller) = cached {
            return admit(&caller);
        }
        let unknown = || ApiError::unauthorized("unknown or revoked API key");
        if stored.missed(&hash) {
            return Err(unknown());
        }
        let key = stored.store.key_by_hash(&hash).await.map_err(|e| {
            tracing::error!(error = %e, "reading a stored key");
            ApiError::internal("the key store could not be read")
        })?;
        let Some(key) = key.filter(|k| k.is_active()) else {
            stored.cache.lock().expect("key cache lock").remove(&hash);
            stored.miss(hash);
            return Err(unknown());
        };
        let state = stored
            .states
            .lock()
            .expect("key states lock")
            .entry(key.id.clone())
            .or_insert_with(|| {
                KeyState::new(
                    &key.name,
                    default_rate(),
                    default_burst(),
                    &self.shared,
                )
            })
            .clone();
        let caller = Caller {
            name: key.name.clone(),
            key_id: key.id.clone(),
            department: Some(key.department.clone()),
            roles: key.roles.iter().map(|r| Role::from_store(*r)).collect(),
            key: state,
        };
        stored
            .cache
            .lock()
            .expect("key cache lock")
            .insert(hash, (caller.clone(), Instant::now()));
        admit(&caller)
    }

    /// The caller presenting `Authorization: Bearer <key>` or
    /// `X-API-Key: <key>`, within its rate limit and not blocked.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Caller, ApiError> {
        let caller = self
            .by_hash
            .get(&hash_key(presented(headers)?))
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        admit(caller)
    }
}

/// The key a request presents.
fn presented(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            )
        })
}

/// A known key's request: refused while the key is blocked or over its
/// rate.
fn admit(caller: &Caller) -> Result<Caller, ApiError> {
    let key = &caller.key;
    let blocked = key.detector.lock().expect("detector lock").blocked_until;
    if let Some(left) =
        blocked.and_then(|t| t.checked_duration_since(Instant::now()))
    {
        return Err(ApiError::enumeration_suspected(
            left.as_secs_f64().ceil().max(1.0) as u64,
        ));
    }
    if let Err(not_until) = key.limiter.check() {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return Err(key.rate_limited(wait));
    }
    Ok(caller.clone())
}

/// Append-only log of every disclosure of unmasked personal data: who,
/// when, which subject, through which endpoint. One JSON object per line,
/// written before the answer leaves, hash-chained ([`crate::pii_log`]):
/// `credgate audit verify --pii-log` names the first line changed.
pub struct AuditLog {
    log: crate::pii_log::ChainedLog,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

fn now_text() -> serde_json::Value {
    chrono::Utc::now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        .into()
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        Ok(AuditLog { log: crate::pii_log::ChainedLog::open(path)? })
    }

    /// Records that the key `key` was blocked as a suspected enumerator.
    pub fn enumeration(
        &self,
        key: &str,
        endpoint: &str,
        reason: &str,
    ) -> std::io::Result<()> {
        let mut line = serde_json::Map::new();
        line.insert("at".into(), now_text());
        line.insert("key".into(), key.into());
        line.insert("endpoint".into(), endpoint.into());
        line.insert("event".into(), "enumeration_suspected".into());
        line.insert("reason".into(), reason.into());
        self.log.append(&line)
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
        let mut line = serde_json::Map::new();
        line.insert("at".into(), now_text());
        line.insert("key".into(), caller.name.clone().into());
        line.insert("endpoint".into(), endpoint.into());
        line.insert(
            "subjects".into(),
            disclosed
                .iter()
                .map(|(entry, id)| serde_json::json!({"entry_id": entry, "id_number": id}))
                .collect(),
        );
        self.log.append(&line)?;
        // Only once the line is written: a failed write discloses nothing.
        tracing::info!(target: "audit", key = %caller.name, endpoint, subjects = disclosed.len(), "unmasked personal data disclosed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
        let mut config = Config::default();
        config.keys.push(KeyConfig {
            name: "investigators".into(),
            sha256: hash_key("k"),
            roles: vec![Role::ScreenPii],
            department: None,
            rate_per_second: 1,
            burst: 1,
        });
        let dir = tempfile::tempdir().unwrap();
        let audit = AuditLog::open(&dir.path().join("a.log")).unwrap();
        let keys = Keys::new(&config, Arc::new(audit));
        keys.by_hash.values().next().unwrap().clone()
    }

    /// An unknown key is refused from memory after its first lookup: the
    /// store is not read again (here it is closed, so a read would fail
    /// with 500), and the remembered hashes stay bounded.
    #[tokio::test]
    async fn an_unknown_stored_key_is_refused_without_a_second_store_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = credgate_store::Store::open_dir(dir.path()).await.unwrap();
        let audit = AuditLog::open(&dir.path().join("a.log")).unwrap();
        let keys = Keys::new(&Config::default(), Arc::new(audit))
            .with_store(store.clone(), Duration::from_secs(3_600));
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", "cg_revoked_long_ago".parse().unwrap());
        let e = keys.authenticate_any(&headers).await.unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
        store.close().await;
        let e = keys.authenticate_any(&headers).await.unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
        let stored = keys.stored.as_ref().unwrap();
        for n in 0..MAX_MISSES + 10 {
            stored.miss(format!("h{n}"));
        }
        assert!(stored.misses.lock().unwrap().len() <= MAX_MISSES);
    }

    /// Issue 8 review: a key that saw a masked number and waited out the
    /// window before sending its candidates (say, as a bulk upload, where
    /// misses are not counted) went unnoticed.
    #[test]
    fn a_mask_stays_watched_after_the_window() {
        let cfg = EnumerationConfig::default();
        let mut d = Detector::new();
        let t0 = Instant::now();
        let id = "11010519491231002X";
        d.shown(id.to_string(), 4, t0);
        let later = t0 + Duration::from_secs(cfg.window_secs * 24);
        // Other numbers ending in 002X (the check character fits the
        // first 17 characters of each).
        let jan1 = chrono::NaiveDate::from_ymd_opt(1949, 1, 1).unwrap();
        let candidates: Vec<String> = (0..365)
            .map(|n| jan1 + chrono::Days::new(n))
            .map(|d| format!("110105{}002", d.format("%Y%m%d")))
            .filter(|body| {
                credgate_ident::resident_id::check_char(body) == Some('X')
            })
            .map(|body| body + "X")
            .filter(|c| c != id)
            .take(cfg.max_queries_per_mask as usize)
            .collect();
        assert_eq!(candidates.len(), cfg.max_queries_per_mask as usize);
        let tripped =
            candidates.iter().position(|c| d.queried(c, 4, &cfg, later));
        assert_eq!(
            tripped,
            Some(cfg.max_queries_per_mask as usize - 1),
            "the detector must trip on the last candidate"
        );
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
