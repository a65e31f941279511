//! The JSON request bodies of the service (`POST /v1/screen`,
//! `/v1/screen/batch`, `/admin/v1/snapshots/activate`), sent through the
//! real router, extractor and handlers over a small snapshot; and each
//! body deserialised directly with the query built from it.
//!
//! The first byte picks the endpoint; the rest is the body. Properties:
//! nothing panics, every answer is JSON, and no body makes a 500 (bad
//! input is a 4xx).
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use credgate_server::api::{ActivateRequest, BatchRequest};
use credgate_server::config::{Config, KeyConfig, Role};
use credgate_server::view::ScreenRequest;
use credgate_server::{AppState, Server};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

const SCREEN_KEY: &str = "cg_fuzz_screen";
const ADMIN_KEY: &str = "cg_fuzz_admin";

struct Service {
    rt: tokio::runtime::Runtime,
    state: AppState,
    app: axum::Router,
}

fn key(name: &str, key: &str, role: Role) -> KeyConfig {
    KeyConfig {
        name: name.into(),
        sha256: credgate_server::access::hash_key(key),
        roles: vec![role],
        department: None,
        // The fuzzer is the only client: never rate-limited.
        rate_per_second: 1_000_000_000,
        burst: 1_000_000_000,
    }
}

fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        credgate_fuzz::one_thread();
        let dir = credgate_fuzz::scratch().join("server");
        let snapshots = dir.join("snapshots");
        std::fs::create_dir_all(&snapshots).expect("snapshot dir");
        credgate_fuzz::build_snapshot(&snapshots.join("first.snapshot"));
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: dir,
            demo_entries: 0,
            watch_interval_secs: 3_600,
            keys: vec![
                key("portal", SCREEN_KEY, Role::Screen),
                key("ops", ADMIN_KEY, Role::Admin),
            ],
            ..Config::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(Server::start(config)).expect("starting");
        let app = credgate_server::router(server.state.clone());
        Service { rt, state: server.state, app }
    })
}

/// The direct path: the models and `query()`.
fn deserialise(endpoint: u8, body: &[u8]) {
    match endpoint {
        0 => {
            if let Ok(r) = serde_json::from_slice::<ScreenRequest>(body) {
                let _ = r.query();
            }
        }
        1 => {
            if let Ok(r) = serde_json::from_slice::<BatchRequest>(body) {
                for item in &r.items {
                    let _ = item.query();
                }
            }
        }
        _ => {
            let _ = serde_json::from_slice::<ActivateRequest>(body);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let endpoint = sel % 3;
    deserialise(endpoint, body);
    let (path, api_key) = match endpoint {
        0 => ("/v1/screen", SCREEN_KEY),
        1 => ("/v1/screen/batch", SCREEN_KEY),
        _ => ("/admin/v1/snapshots/activate", ADMIN_KEY),
    };
    let svc = service();
    let req = Request::post(path)
        .header("content-type", "application/json")
        .header("x-api-key", api_key)
        .body(Body::from(body.to_vec()))
        .expect("request");
    let app = svc.app.clone();
    let (status, bytes) = svc.rt.block_on(async {
        let resp = app.oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes)
    });
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .expect("every answer is JSON");
    // Histogram samples are folded in on upkeep (the server does it on a
    // timer): without it they pile up over millions of runs.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    if RUNS.fetch_add(1, Ordering::Relaxed) % 1024 == 0 {
        svc.state.metrics.run_upkeep();
    }
});
