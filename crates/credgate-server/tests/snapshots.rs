//! Publishing, swapping and rolling back snapshots over real HTTP, and
//! what a careless or hostile publisher can do to the snapshot inbox.

mod common;

use common::{ADMIN, FIRST_BUILT_AT, Harness, SCREEN};
use credgate_model::{Entry, EntryStatus};
use serde_json::{Value, json};
use std::time::Duration;

const DAY: i64 = 86_400;

/// In force for the rest of the test run (a day's margin either way of
/// any time zone).
fn in_force(e: &Entry) -> bool {
    let soon = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    e.status == EntryStatus::Active && e.valid_until.is_none_or(|u| u > soon)
}

async fn reload(h: &Harness) -> (u16, Value) {
    h.post_json("/admin/v1/snapshots/reload", ADMIN, json!({})).await
}

async fn activate(h: &Harness, version: &str) -> (u16, Value) {
    h.post_json(
        "/admin/v1/snapshots/activate",
        ADMIN,
        json!({ "version": version }),
    )
    .await
}

async fn live_version(h: &Harness) -> Value {
    let info: Value =
        h.get("/v1/snapshot", Some(ADMIN)).await.json().await.unwrap();
    info["version"].clone()
}

/// The entry id that a screen of `code` finds first, and the version.
async fn screen_code(h: &Harness, code: &str) -> (Value, Value) {
    let (s, b) =
        h.post_json("/v1/screen", SCREEN, json!({"code": code})).await;
    assert_eq!(s, 200, "{b}");
    (b["hits"][0]["entry_id"].clone(), b["snapshot"]["version"].clone())
}

#[tokio::test]
async fn snapshots_swap_refuse_bad_files_and_roll_back() {
    let mut h = Harness::start().await;
    let second =
        common::publish(&h, 8, 500, "second.snapshot", FIRST_BUILT_AT + DAY);
    let (s, b) = reload(&h).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["activated"], "second.snapshot");
    let only_second = second.iter().find(|e| in_force(e)).unwrap();
    let (id, version) = screen_code(&h, &only_second.code).await;
    assert_eq!(version, "second.snapshot");
    assert_eq!(id, only_second.entry_id.as_str());
    // The file left the inbox for the service's own directory.
    assert!(!h.snapshot_dir.join("second.snapshot").exists());
    assert!(h.accepted_dir.join("second.snapshot").exists());

    // A corrupt file is refused; the live snapshot stays.
    let mut bytes =
        std::fs::read(h.accepted_dir.join("second.snapshot")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(h.snapshot_dir.join("third.snapshot"), &bytes).unwrap();
    let (s, b) = reload(&h).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (422, Some("snapshot_refused")),
        "{b}"
    );
    assert!(b["message"].as_str().unwrap().contains("third.snapshot"));
    let info: Value =
        h.get("/v1/snapshot", Some(ADMIN)).await.json().await.unwrap();
    assert_eq!(info["version"], "second.snapshot");
    assert_eq!(info["last_refusal"]["version"], "third.snapshot");
    assert!(info["swaps_refused"].as_u64().unwrap() >= 1);
    assert_eq!(
        info["available"],
        json!(["second.snapshot", "first.snapshot"])
    );

    // Roll back to the first; the refused one cannot be activated.
    let (s, b) = activate(&h, "first.snapshot").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["snapshot"]["version"], "first.snapshot");
    let (s, b) = activate(&h, "third.snapshot").await;
    assert_eq!((s, b["code"].as_str()), (404, Some("not_found")));
    h.stop().await;
}

/// Snapshots mapped (the default, every other test here) or read into
/// the service's memory (`snapshot_residence = "memory"`): the same swaps
/// and answers.
#[tokio::test]
async fn a_service_holding_snapshots_in_memory_swaps_and_answers_alike() {
    use credgate_server::config::SnapshotResidence;
    let mut h = Harness::start_with(
        |c| c.snapshot_residence = SnapshotResidence::Memory,
        axum::Router::new(),
    )
    .await;
    let second =
        common::publish(&h, 8, 500, "second.snapshot", FIRST_BUILT_AT + DAY);
    let (s, b) = reload(&h).await;
    assert_eq!((s, b["activated"].as_str()), (200, Some("second.snapshot")));
    let e = second.iter().find(|e| in_force(e)).unwrap();
    let (id, version) = screen_code(&h, &e.code).await;
    assert_eq!((id, version), (json!(e.entry_id), json!("second.snapshot")));
    h.stop().await;
}

#[tokio::test]
async fn the_watcher_picks_up_a_published_snapshot() {
    let mut h = Harness::start_with(
        |c| c.watch_interval_secs = 1,
        axum::Router::new(),
    )
    .await;
    let mut versions = h.store.subscribe();
    common::publish(&h, 9, 300, "watched.snapshot", FIRST_BUILT_AT + DAY);
    tokio::time::timeout(
        Duration::from_secs(30),
        versions.wait_for(|v| v.as_deref() == Some("watched.snapshot")),
    )
    .await
    .expect("the watcher activates the published snapshot")
    .unwrap();
    assert_eq!(live_version(&h).await, "watched.snapshot");
    h.stop().await;
}

/// Issue 8, item 9: file times do not order snapshots; what the snapshot
/// says of itself does. An older snapshot is kept available but goes live
/// only by an explicit activation.
#[tokio::test]
async fn an_older_snapshot_goes_live_only_by_explicit_activation() {
    let mut h = Harness::start().await;
    common::publish(&h, 8, 300, "newer.snapshot", FIRST_BUILT_AT + 2 * DAY);
    assert_eq!(reload(&h).await.1["activated"], "newer.snapshot");

    // Published later, but built before the live one.
    common::publish(&h, 9, 300, "older.snapshot", FIRST_BUILT_AT + DAY);
    let (s, b) = reload(&h).await;
    assert_eq!((s, &b["activated"]), (200, &Value::Null), "{b}");
    assert_eq!(live_version(&h).await, "newer.snapshot");

    // chmod and touch change inode times: nothing moves.
    for dir in [&h.accepted_dir, &h.snapshot_dir] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "snapshot") {
                let mut perm = std::fs::metadata(&p).unwrap().permissions();
                perm.set_readonly(true);
                std::fs::set_permissions(&p, perm).unwrap();
            }
        }
    }
    let first = h.accepted_dir.join("first.snapshot");
    std::fs::File::options()
        .append(true)
        .open(&first)
        .map(|f| f.set_modified(std::time::SystemTime::now()))
        .ok();
    let (_, b) = reload(&h).await;
    assert_eq!(b["activated"], Value::Null, "{b}");
    assert_eq!(live_version(&h).await, "newer.snapshot");

    let info: Value =
        h.get("/v1/snapshot", Some(ADMIN)).await.json().await.unwrap();
    assert_eq!(
        info["available"],
        json!(["newer.snapshot", "older.snapshot", "first.snapshot"])
    );
    let (s, _) = activate(&h, "older.snapshot").await;
    assert_eq!(s, 200);
    assert_eq!(live_version(&h).await, "older.snapshot");
    h.stop().await;
}

/// Issue 8, item 10: a publisher rewriting the file it published (in
/// place, through any of its names) cannot touch what the service maps.
#[tokio::test]
async fn rewriting_a_published_file_in_place_does_not_touch_the_live_one() {
    let mut h = Harness::start().await;
    // Published by hard link: the publisher keeps a second name.
    let own = h.dir.path().join("publisher-copy.snapshot");
    let entries = common::build_snapshot_at(
        h.dir.path(),
        8,
        400,
        &own,
        Some(FIRST_BUILT_AT + DAY),
    );
    std::fs::hard_link(&own, h.snapshot_dir.join("linked.snapshot")).unwrap();
    assert_eq!(reload(&h).await.1["activated"], "linked.snapshot");
    let e = entries.iter().find(|e| in_force(e)).unwrap();

    // The publisher truncates and rewrites its own name in place: with a
    // shared inode the mapped file would shrink under the server (SIGBUS).
    std::fs::write(&own, b"rewritten").unwrap();
    // And overwrites the published name.
    std::fs::write(h.snapshot_dir.join("linked.snapshot"), b"garbage")
        .unwrap();
    for _ in 0..3 {
        let (id, version) = screen_code(&h, &e.code).await;
        assert_eq!(version, "linked.snapshot");
        assert_eq!(id, e.entry_id.as_str());
    }
    // The overwritten name is a new, refused publication.
    let (s, b) = reload(&h).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(live_version(&h).await, "linked.snapshot");
    h.stop().await;
}

/// Issue 8, items 6 and 11: only regular files are taken; a FIFO blocks
/// nothing and a symlink out of the inbox is not followed.
#[tokio::test]
async fn fifos_and_symlinks_in_the_inbox_are_ignored() {
    let mut h = Harness::start().await;
    let fifo = h.snapshot_dir.join("zz-fifo.snapshot");
    let ok = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(ok.success());
    let outside = h.dir.path().join("outside.snapshot");
    common::build_snapshot_at(
        h.dir.path(),
        5,
        200,
        &outside,
        Some(FIRST_BUILT_AT + 3 * DAY),
    );
    std::os::unix::fs::symlink(
        &outside,
        h.snapshot_dir.join("zz-link.snapshot"),
    )
    .unwrap();
    common::publish(&h, 9, 300, "real.snapshot", FIRST_BUILT_AT + DAY);

    let (s, b) = tokio::time::timeout(Duration::from_secs(20), reload(&h))
        .await
        .expect("a FIFO in the inbox does not block a reload");
    assert_eq!((s, &b["activated"]), (200, &json!("real.snapshot")), "{b}");
    assert!(outside.exists(), "the symlink target is left alone");
    let info: Value =
        h.get("/v1/snapshot", Some(ADMIN)).await.json().await.unwrap();
    assert!(!info["available"].to_string().contains("zz-"), "{info}");
    h.stop().await;
}

/// A rollback survives a restart: the service comes back on the version
/// last activated, not the newest file.
#[tokio::test]
async fn a_rollback_survives_a_restart() {
    let mut h = Harness::start().await;
    common::publish(&h, 8, 300, "second.snapshot", FIRST_BUILT_AT + DAY);
    assert_eq!(reload(&h).await.1["activated"], "second.snapshot");
    assert_eq!(activate(&h, "first.snapshot").await.0, 200);
    h.stop().await;

    let config = credgate_server::config::Config {
        data_dir: h.dir.path().to_path_buf(),
        keys: vec![common::key(
            "ops",
            ADMIN,
            vec![credgate_server::config::Role::Admin],
            100,
        )],
        ..Default::default()
    };
    let store = credgate_server::snapshots::Store::new(
        config.store_dirs(),
        3,
        std::sync::Arc::new(credgate_screen::Catalogue::builtin()),
    );
    assert_eq!(
        store.start().unwrap().version.as_deref(),
        Some("first.snapshot")
    );
}

/// Issue 8, item 14: a configured service with nothing published serves
/// no demo data: it starts unready and becomes ready when a snapshot is
/// published.
#[tokio::test]
async fn a_configured_service_without_a_snapshot_waits_unready() {
    let dir = tempfile::tempdir().unwrap();
    let config = credgate_server::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        demo_entries: 20_000,
        watch_interval_secs: 1,
        keys: vec![common::key(
            "portal",
            SCREEN,
            vec![credgate_server::config::Role::Screen],
            1_000,
        )],
        ..Default::default()
    };
    let inbox = config.snapshot_dir();
    let server = credgate_server::Server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let mut versions = server.state.store.subscribe();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::new();
    let r = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let r = client
        .post(format!("{base}/v1/screen"))
        .header("X-API-Key", SCREEN)
        .json(&json!({"name": "南京恒瑞科技有限公司"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "snapshot_unavailable"
    );
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 0, "no demo data");

    let tmp = dir.path().join("real.tmp");
    common::build_snapshot(dir.path(), 3, 200, &tmp);
    std::fs::rename(&tmp, inbox.join("real.snapshot")).unwrap();
    tokio::time::timeout(
        Duration::from_secs(30),
        versions.wait_for(|v| v.is_some()),
    )
    .await
    .expect("the published snapshot goes live")
    .unwrap();
    let r = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}
