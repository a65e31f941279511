//! The screening service: an axum HTTP API over the live snapshot.
//!
//! [`Server::start`] loads the snapshot to serve (the one last activated,
//! else the newest published), binds, and serves until the shutdown future
//! resolves, then drains in-flight requests. With nothing published yet it
//! still starts and answers 503 until a snapshot is. A background task
//! watches the snapshot inbox and swaps in new snapshots
//! ([`snapshots::Store`]). The zero-configuration demo (synthetic data and
//! a demo key) is the `credgate serve` binary's business, not the
//! library's.

pub mod access;
pub mod admin;
pub mod api;
pub mod checks;
pub mod config;
pub mod error;
mod extract;
pub mod pii_log;
pub mod serve;
pub mod snapshots;
pub mod view;

use access::{AuditLog, Keys};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use config::Config;
use credgate_screen::{Clock, SystemClock};
use error::ApiError;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use snapshots::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use utoipa::OpenApi;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub keys: Arc<Keys>,
    pub audit: Arc<AuditLog>,
    pub metrics: PrometheusHandle,
    /// Slots for bulk jobs (`bulk_max_jobs`).
    pub bulk_jobs: Arc<tokio::sync::Semaphore>,
    /// Where every screening request takes its date (China's date, per
    /// request); tests set it.
    pub clock: Arc<dyn Clock>,
    /// Check ids and the record of checks.
    pub checks: Arc<checks::Checks>,
    /// The admin module (`/admin/v1`): `None` when it is off
    /// (`admin.enabled = false`, `credgate serve --role screening`).
    pub admin: Option<Arc<credgate_admin::service::Admin>>,
    /// Publishing the store's entries into this service's snapshots
    /// (`admin/publishing.rs`); `None` with the admin module off.
    pub publisher: Option<Arc<credgate_admin::publish::Publisher>>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "credgate",
        description = "Screening of market subjects against the credit-supervision black, focus and red lists. Errors are always `{code, message, field}`."
    ),
    paths(
        api::screen, api::batch, api::bulk, api::snapshot, api::healthz,
        api::readyz, api::metrics, api::reload, api::activate,
        api::check
    ),
    components(schemas(checks::CheckRecord)),
    modifiers(&SecurityAddon)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The whole API's description: screening and the admin module.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(admin::AdminDoc::openapi());
    doc
}

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme,
        };
        let components =
            openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(
                "X-API-Key",
            ))),
        );
        // The same key as `Authorization: Bearer <key>`.
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The process-wide Prometheus recorder (installed once; several servers
/// in one process, as in the tests, share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005,
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets(&buckets)
                .expect("static buckets")
                .install_recorder()
                .expect("the only metrics recorder of the process");
            describe_metrics();
            handle
        })
        .clone()
}

/// HELP text for every metric, a build-info gauge, and every counter
/// created at zero: a dashboard or an alert on `rate()` needs the series
/// before the first event.
fn describe_metrics() {
    use metrics::{
        Unit, counter, describe_counter, describe_gauge, describe_histogram,
        gauge,
    };
    describe_gauge!(
        "credgate_build_info",
        "Always 1; the labels say which credgate this is"
    );
    gauge!("credgate_build_info", "version" => env!("CARGO_PKG_VERSION"),
        "format_version" => credgate_index::format::VERSION.to_string())
    .set(1.0);
    describe_counter!(
        "credgate_requests_total",
        "HTTP requests answered, by route pattern, method and status"
    );
    describe_histogram!(
        "credgate_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern"
    );
    describe_histogram!(
        "credgate_screen_duration_seconds",
        Unit::Seconds,
        "Time to screen one subject, by decision"
    );
    describe_counter!(
        "credgate_snapshot_swaps_total",
        "Snapshots activated (done) or refused by verification (refused)"
    );
    for result in ["done", "refused"] {
        counter!("credgate_snapshot_swaps_total", "result" => result)
            .absolute(0);
    }
    describe_gauge!(
        "credgate_snapshot_entries",
        "Entries of the live snapshot"
    );
    describe_gauge!(
        "credgate_snapshot_info",
        "1 for the live snapshot's version, 0 for those it replaced"
    );
    describe_gauge!(
        "credgate_snapshot_age_seconds",
        Unit::Seconds,
        "Time since the live snapshot was built"
    );
    describe_gauge!(
        "credgate_snapshot_built_at_seconds",
        Unit::Seconds,
        "Build time of the live snapshot, seconds since the epoch"
    );
    describe_counter!(
        "credgate_bulk_rows_total",
        "Rows of bulk uploads screened"
    );
    counter!("credgate_bulk_rows_total").absolute(0);
    describe_counter!(
        "credgate_rate_limited_total",
        "Requests refused by a key's rate limit"
    );
    counter!("credgate_rate_limited_total").absolute(0);
    describe_counter!(
        "credgate_enumeration_suspected_total",
        "Keys blocked for enumerating personal ID numbers, by reason"
    );
    for reason in ["mask_candidates", "person_id_misses"] {
        counter!("credgate_enumeration_suspected_total", "reason" => reason)
            .absolute(0);
    }
    describe_counter!(
        "credgate_panics_total",
        "Handler panics caught (answered 500; each is a bug)"
    );
    counter!("credgate_panics_total").absolute(0);
    describe_gauge!("credgate_connections_open", "Open HTTP connections");
    describe_counter!(
        "credgate_connections_timed_out_total",
        "Connections closed for slow headers or idleness, by phase"
    );
    for phase in ["header_read", "keep_alive_idle"] {
        counter!("credgate_connections_timed_out_total", "phase" => phase)
            .absolute(0);
    }
}

/// The method as a metrics label. Any token is a valid method, and every
/// distinct label value is a series kept for the life of the process:
/// only the standard methods get their own label.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Counts and times every request by endpoint and status. Labels come
/// from bounded sets only (routes, standard methods, status codes), so
/// no client can grow the metrics.
async fn track(req: Request, next: Next) -> Response {
    // A route pattern, never the client's path.
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method());
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("credgate_requests_total", "endpoint" => endpoint.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("credgate_request_duration_seconds", "endpoint" => endpoint)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// Answers 503 `timeout` when a request takes longer than allowed.
async fn time_limit(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(panic = %what, "handler panicked");
    metrics::counter!("credgate_panics_total").increment(1);
    ApiError::internal("internal error; it has been logged").into_response()
}

/// The application's routes and middleware.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application with `extra` routes under the same middleware (error
/// shape, panic catching, metrics); tests add failing routes this way.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let limit = Duration::from_secs(state.config.request_timeout_secs);
    let json = Router::new()
        .route("/v1/screen", post(api::screen))
        .route("/v1/screen/batch", post(api::batch))
        .route("/v1/snapshot", get(api::snapshot))
        .route("/v1/checks/{id}", get(api::check))
        .route("/admin/v1/snapshots/reload", post(api::reload))
        .route("/admin/v1/snapshots/activate", post(api::activate))
        .merge(admin::router())
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(|| async { axum::Json(openapi()) }))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(axum::middleware::from_fn_with_state(limit, time_limit));
    // Bulk counts its own bytes against `bulk_limit_bytes` and is bounded
    // by `bulk_timeout_secs` inside the job (its body streams).
    let bulk = Router::new()
        .route("/v1/screen/bulk", post(api::bulk))
        .layer(DefaultBodyLimit::disable());
    // Imports and publications last as long as the list is large: bounded
    // by `bulk_timeout_secs`; an import's upload counts its own bytes
    // against `bulk_limit_bytes` (`api::spool`).
    let long_limit = Duration::from_secs(state.config.bulk_timeout_secs);
    let long = admin::publishing::long_router()
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(long_limit, time_limit));
    json.merge(bulk)
        .merge(long)
        .merge(
            extra.layer(axum::middleware::from_fn_with_state(
                limit, time_limit,
            )),
        )
        .fallback(|| async {
            ApiError::not_found("no such endpoint; see /openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this endpoint; see /openapi.json",
            )
        })
        .layer(axum::middleware::from_fn(track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// A started server.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    listener: tokio::net::TcpListener,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("binding {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("{0}")]
    Snapshot(#[from] snapshots::SwapError),
    #[error("{0}")]
    Catalogue(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error(
        "no API keys configured: add [[keys]] to the configuration \
         (`credgate hash-key` makes one) or, with the admin module on, \
         create one in the store (`credgate admin keys create`)"
    )]
    NoKeys,
    #[error("loading the snapshot: {0}")]
    Worker(String),
    #[error("opening the admin store: {0}")]
    AdminStore(#[from] credgate_store::StoreError),
}

impl Server {
    /// Loads the snapshot to serve, if any, and binds; screens by the
    /// system clock.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        Server::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Server::start`] with the clock that dates every screening.
    pub async fn start_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Server, StartError> {
        let io = |what: String| move |source| StartError::Io { what, source };
        // Installed before the first snapshot loads, so its metrics count.
        let metrics = metrics_handle();
        let catalogue = Arc::new(match &config.measures {
            Some(p) => credgate_screen::Catalogue::load(p)
                .map_err(|e| StartError::Catalogue(e.to_string()))?,
            None => credgate_screen::Catalogue::builtin(),
        });
        let admin_store = if config.admin.enabled {
            std::fs::create_dir_all(&config.data_dir).map_err(io(format!(
                "creating {}",
                config.data_dir.display()
            )))?;
            Some(credgate_store::Store::open_dir(&config.data_dir).await?)
        } else {
            None
        };
        // Keys come from the configuration or, with the admin module, the
        // store (`credgate admin keys create`).
        let stored_keys = match &admin_store {
            Some(s) => s.keys().await?.iter().any(|k| k.is_active()),
            None => false,
        };
        if config.keys.is_empty() && !stored_keys {
            return Err(StartError::NoKeys);
        }
        let store = Arc::new(
            Store::new(
                config.store_dirs(),
                config.keep_snapshots,
                catalogue.clone(),
            )
            .with_residence(config.snapshot_residence.into()),
        );
        // Publications a stop left pending are resolved before the
        // snapshots are loaded (their files are then whole or gone).
        // One write turn for the admin service and the publisher (one
        // SQLite writer: they queue instead of meeting in its busy handler).
        let write_turn = Arc::new(tokio::sync::Mutex::new(()));
        let publisher = match &admin_store {
            Some(a) => {
                let p = admin::publishing::publisher(&config, store.clone())
                    .with_write_turn(write_turn.clone());
                for r in p.start(a, clock.now()).await? {
                    tracing::warn!(
                        publication = r.id,
                        state = r.state.code(),
                        "publication left pending by a stop, resolved"
                    );
                }
                Some(Arc::new(p))
            }
            None => None,
        };
        let s = store.clone();
        let started = tokio::task::spawn_blocking(move || s.start())
            .await
            .map_err(|e| StartError::Worker(e.to_string()))??;
        let mut version = started.version;
        // What the last publication made cannot be served (another
        // format version after an upgrade, removed, damaged): nothing, or
        // an older file, went live. Publish the store again when that
        // gives what was live.
        let lost = version.is_none() || started.active_unreadable;
        if let (true, Some(a), Some(p)) = (lost, &admin_store, &publisher) {
            use credgate_admin::publish::Republish;
            // A failure leaves the service as it started, and says why;
            // it does not stop the start.
            match p.republish_if_lost(a, clock.now()).await {
                Ok(Republish::Published(made)) => {
                    tracing::warn!(
                        publication = made.id,
                        file = made.file_name.as_deref().unwrap_or(""),
                        "the published snapshot could not be served \
                         (another format version, removed or damaged): \
                         published the store again"
                    );
                    version = store.live().map(|l| l.version.clone());
                }
                Ok(Republish::NeverPublished) => {}
                Ok(Republish::ChangedSince) => tracing::error!(
                    live = version.as_deref().unwrap_or("none"),
                    "the published snapshot could not be served, and the \
                     store changed since its last publication (or that \
                     failed): not published automatically; publish to \
                     serve it"
                ),
                Err(e) => tracing::error!(
                    error = %e,
                    "the published snapshot could not be served, and \
                     publishing the store again failed"
                ),
            }
        }
        match &version {
            Some(v) => tracing::info!(version = %v, "serving snapshot"),
            None => tracing::warn!(
                inbox = %config.snapshot_dir().display(),
                "no snapshot published yet: not ready (503) until one is"
            ),
        }
        let spooled = api::prepare_spool(&config.spool_dir()).map_err(io(
            format!("emptying {}", config.spool_dir().display()),
        ))?;
        if spooled > 0 {
            tracing::info!(files = spooled, "removed uploads left by a stop");
        }
        let audit = AuditLog::open(&config.audit_log()).map_err(io(
            format!("opening {}", config.audit_log().display()),
        ))?;
        let checks_dir = config.checks_dir();
        let checks = checks::Checks::open(
            &config.checks,
            &checks_dir,
            &config.checks_secret(),
            clock.clone(),
        )
        .map_err(io(format!("opening {}", checks_dir.display())))?;
        let listener = tokio::net::TcpListener::bind(config.listen.as_str())
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen.clone(),
                source,
            })?;
        let addr =
            listener.local_addr().map_err(io("local address".into()))?;
        let audit = Arc::new(audit);
        let mut keys = Keys::new(&config, audit.clone());
        if let Some(s) = &admin_store {
            keys = keys.with_store(
                s.clone(),
                Duration::from_secs(config.admin.key_cache_secs),
            );
        }
        let admin = admin_store.map(|s| {
            Arc::new(
                credgate_admin::service::Admin::new(
                    s,
                    credgate_lifecycle::Lifecycle::builtin(),
                    clock.clone(),
                    catalogue.clone(),
                )
                .with_write_turn(write_turn),
            )
        });
        let state = AppState {
            bulk_jobs: Arc::new(tokio::sync::Semaphore::new(
                config.bulk_max_jobs.max(1),
            )),
            keys: Arc::new(keys),
            admin,
            publisher,
            config: Arc::new(config),
            store,
            audit,
            metrics,
            clock,
            checks: Arc::new(checks),
        };
        Ok(Server { addr, state, listener })
    }

    /// Serves until `shutdown` resolves, then stops accepting, drains
    /// in-flight requests and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.run_with(Router::new(), shutdown).await
    }

    /// [`Server::run`] with extra routes (see [`router_with`]).
    pub async fn run_with(
        self,
        extra: Router<AppState>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let watcher = tokio::spawn(watch(
            self.state.store.clone(),
            Duration::from_secs(self.state.config.watch_interval_secs.max(1)),
            Duration::from_secs(self.state.config.load_timeout_secs.max(1)),
        ));
        // Histogram samples queue up until they are folded into buckets:
        // without a scrape they would grow without bound.
        let metrics = self.state.metrics.clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                metrics.run_upkeep();
            }
        });
        let limits = serve::Limits {
            max_connections: self.state.config.max_connections,
            header_read_timeout: Duration::from_millis(
                self.state.config.header_read_timeout_ms,
            ),
            keep_alive_idle: Duration::from_millis(
                self.state.config.keep_alive_idle_ms,
            ),
        };
        let sweeper = self.state.admin.clone().and_then(|admin| {
            let minutes = self.state.config.admin.sweep_interval_minutes;
            (minutes > 0).then(|| {
                tokio::spawn(sweep(admin, Duration::from_secs(minutes * 60)))
            })
        });
        let publishing = admin::publishing::every(&self.state);
        let checks = self.state.checks.clone();
        let app = router_with(self.state, extra);
        let result = serve::serve(self.listener, app, limits, shutdown).await;
        watcher.abort();
        upkeep.abort();
        if let Some(s) = sweeper {
            s.abort();
        }
        if let Some(p) = publishing {
            p.abort();
        }
        // The last records written and synced before the process ends.
        let _ = tokio::task::spawn_blocking(move || checks.close()).await;
        tracing::info!("stopped: in-flight requests drained");
        result
    }
}

/// Checks the snapshot inbox for a new file every `every`; a load taking
/// longer than `limit` is abandoned without effect.
async fn watch(store: Arc<Store>, every: Duration, limit: Duration) {
    // `start` just loaded the newest file: the first check is one period
    // later.
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = store.clone();
        let ticket = snapshots::Ticket::until(Instant::now() + limit);
        // Errors are logged and counted by the store.
        let _ =
            tokio::task::spawn_blocking(move || s.check_dir(&ticket)).await;
    }
}

/// Runs the expiry sweep every `every` (the first one at start: entries
/// that expired while the service was down leave at once), on the
/// admin's clock's China date. Failures are logged; the next run retries.
async fn sweep(admin: Arc<credgate_admin::service::Admin>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match admin.sweep(admin.today()).await {
            Ok(r) if r.expired.is_empty() && r.skipped.is_empty() => {}
            Ok(r) => tracing::info!(
                expired = r.expired.len(),
                skipped = r.skipped.len(),
                "expiry sweep: entries past their maximum period exited"
            ),
            Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: draining in-flight requests");
}
