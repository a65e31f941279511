//! The metrics, read through `GET /metrics`.
//!
//! The `metrics` crate has one recorder per process, shared by every
//! server a test starts. So metric assertions live here, in a test binary
//! (a process) of their own, and each test holds [`RECORDER`] for its
//! whole run: no other test writes the recorder while one asserts.
//! Counters are compared before and after, since earlier tests of this
//! binary have counted too.

mod common;

use common::{ADMIN, Harness, SCREEN, SLOW};
use serde_json::json;

static RECORDER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scrape(h: &Harness) -> String {
    h.get("/metrics", None).await.text().await.unwrap()
}

/// The sum of the samples of `name` whose labels include every one of
/// `labels` (`key="value"` each).
fn sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = match series.split_once('{') {
                Some((n, rest)) => (n, rest),
                None => (series, ""),
            };
            (n == name && labels.iter().all(|want| rest.contains(want)))
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

#[tokio::test]
async fn the_service_exports_its_metrics() {
    let _only = RECORDER.lock().await;
    let mut h = Harness::start().await;
    let _ = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"name": "南京恒瑞科技有限公司"}),
        )
        .await;
    let m = scrape(&h).await;
    for name in [
        "credgate_requests_total",
        "credgate_request_duration_seconds_bucket",
        "credgate_screen_duration_seconds_bucket",
        "credgate_snapshot_entries",
        "credgate_snapshot_age_seconds",
        "credgate_snapshot_swaps_total",
        "credgate_snapshot_info{version=\"first.snapshot\"}",
        "credgate_connections_open",
        // Help text, build information, and counters that exist before
        // their first event.
        "# HELP credgate_requests_total HTTP requests answered",
        "# HELP credgate_snapshot_swaps_total",
        "credgate_build_info{",
        "credgate_panics_total",
        "credgate_rate_limited_total",
        "credgate_enumeration_suspected_total{reason=\"person_id_misses\"}",
        "credgate_connections_timed_out_total{phase=\"header_read\"}",
    ] {
        assert!(m.contains(name), "metrics lack {name}");
    }

    // A refused snapshot counts as refused.
    let refused = |m: &str| {
        sum(m, "credgate_snapshot_swaps_total", &["result=\"refused\""])
    };
    let before = refused(&m);
    let mut bytes =
        std::fs::read(h.accepted_dir.join("first.snapshot")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(h.snapshot_dir.join("zz-bad.snapshot"), &bytes).unwrap();
    let (s, _) =
        h.post_json("/admin/v1/snapshots/reload", ADMIN, json!({})).await;
    assert_eq!(s, 422);
    assert_eq!(refused(&scrape(&h).await), before + 1.0);
    h.stop().await;
}

#[tokio::test]
async fn request_labels_are_standard_methods_and_route_patterns_only() {
    let _only = RECORDER.lock().await;
    let mut h = Harness::start().await;
    let other =
        |m: &str| sum(m, "credgate_requests_total", &["method=\"other\""]);
    let unmatched = |m: &str| {
        sum(m, "credgate_requests_total", &["endpoint=\"unmatched\""])
    };
    let before = scrape(&h).await;
    // Any token is a valid method; each used to become a label (and a
    // series kept forever).
    for i in 0..20 {
        let method = format!("M{i}{}", "X".repeat(1_000));
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = h
            .client
            .request(m, h.url(&format!("/random/{i}/{}", "p".repeat(100))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = h.client.request(m, h.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 405);
    }
    let after = scrape(&h).await;
    assert!(!after.contains("XXXXXXXX"), "a client's method is a label");
    assert!(!after.contains("/random/"), "a client's path is a label");
    assert_eq!(other(&after), other(&before) + 40.0);
    assert_eq!(unmatched(&after), unmatched(&before) + 20.0);
    h.stop().await;
}

#[tokio::test]
async fn metrics_name_no_api_key() {
    let _only = RECORDER.lock().await;
    let mut h = Harness::start().await;
    let limited = |m: &str| sum(m, "credgate_rate_limited_total", &[]);
    let before = limited(&scrape(&h).await);
    let mut n = 0.0;
    for _ in 0..10 {
        let (s, _) =
            h.post_json("/v1/screen", SLOW, json!({"name": "x公司"})).await;
        if s == 429 {
            n += 1.0;
        }
    }
    assert!(n > 0.0, "the 2/s key was never limited");
    let m = scrape(&h).await;
    assert_eq!(limited(&m), before + n);
    // The harness's key names: none is shown to an unauthenticated
    // scraper.
    for name in ["slow", "portal", "investigators", "ops"] {
        assert!(!m.contains(&format!("\"{name}\"")), "{name} in {m}");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_suspected_enumeration_is_counted() {
    let _only = RECORDER.lock().await;
    let mut h = Harness::start_with(
        |c| c.enumeration.max_person_id_misses = 5,
        axum::Router::new(),
    )
    .await;
    let suspected = |m: &str| {
        sum(
            m,
            "credgate_enumeration_suspected_total",
            &["reason=\"person_id_misses\""],
        )
    };
    let before = suspected(&scrape(&h).await);
    let items: Vec<_> = (0..5)
        .map(|i| {
            let id = credgate_ident::generate::resident_id(
                110_105,
                (1999, 1, 1 + i),
                i,
            )
            .unwrap();
            json!({"code": id})
        })
        .collect();
    let (s, b) =
        h.post_json("/v1/screen/batch", SCREEN, json!({"items": items})).await;
    assert_eq!((s, b["code"].as_str()), (429, Some("enumeration_suspected")));
    let m = scrape(&h).await;
    assert_eq!(suspected(&m), before + 1.0);
    assert!(!m.contains("portal"), "a key name in the metrics");
    h.stop().await;
}

#[tokio::test]
async fn check_records_are_counted_and_a_withheld_answer_too() {
    let _only = RECORDER.lock().await;
    let mut h = Harness::start_with(
        |c| {
            c.checks.queue_bytes = 2048;
            c.checks.enqueue_timeout_ms = 20;
        },
        axum::Router::new(),
    )
    .await;
    let body = json!({"name": "南京恒瑞科技有限公司"});
    let before = scrape(&h).await;
    let recorded = |m: &str| sum(m, "credgate_checks_recorded_total", &[]);
    let refused = |m: &str| {
        sum(m, "credgate_checks_refused_total", &["reason=\"queue_full\""])
    };
    assert!(
        before.contains(
            "credgate_checks_refused_total{reason=\"writer_failed\"} "
        ),
        "exists before its first event"
    );
    let (status, answer) =
        h.post_json("/v1/screen", SCREEN, body.clone()).await;
    assert_eq!(status, 200);
    // A lookup waits until the record is written.
    let id = answer["check_id"].as_str().unwrap();
    let r = h.get(&format!("/v1/checks/{id}"), Some(SCREEN)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(recorded(&scrape(&h).await), recorded(&before) + 1.0);

    // A stalled writer: the queue fills and answers are withheld.
    let checks = h.checks.clone();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, holding) = std::sync::mpsc::channel::<()>();
    let staller = std::thread::spawn(move || {
        let _stalled = checks.stall();
        held.send(()).unwrap();
        let _ = released.recv();
    });
    holding.recv().unwrap();
    let mut withheld = 0;
    for _ in 0..30 {
        let (status, _) =
            h.post_json("/v1/screen", SCREEN, body.clone()).await;
        withheld += u32::from(status == 503);
    }
    release.send(()).unwrap();
    staller.join().unwrap();
    assert!(withheld > 0);
    let after = scrape(&h).await;
    assert_eq!(refused(&after), refused(&before) + f64::from(withheld));
    h.stop().await;
}
