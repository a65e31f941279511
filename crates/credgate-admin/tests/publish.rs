//! The publisher's memory of the last publication across a restart:
//! `Publisher::start` takes the store as published only when nothing was
//! recorded after the newest publication's finish record.

use chrono::Utc;
use credgate_admin::publish::{PublishConfig, Publisher};
use credgate_store::{Audit, Department, Store};

fn config(dir: &std::path::Path) -> PublishConfig {
    PublishConfig {
        inbox: dir.join("inbox"),
        accepted: dir.join("accepted"),
        work_dir: dir.join("work"),
        synthetic: true,
    }
}

async fn change(store: &Store, name: &str) {
    let a = Audit::new(Utc::now(), "t", "sc-fgw", "setup");
    let d = Department { code: "sc-fgw".into(), name_zh: name.into() };
    store.upsert_department(&a, &d).await.unwrap();
}

/// A new publisher over the store, started as a restarted service starts.
async fn restarted(store: &Store, dir: &std::path::Path) -> Publisher {
    let p = Publisher::new(config(dir), None);
    p.start(store, Utc::now()).await.unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_publishes_again_only_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_dir(dir.path()).await.unwrap();
    change(&store, "发改委").await;
    let first = Publisher::new(config(dir.path()), None);
    for _ in 0..3 {
        first.publish(&store, "k1", "sc-fgw", Utc::now()).await.unwrap();
    }

    // Nothing since the last publication: nothing to publish.
    let p = restarted(&store, dir.path()).await;
    assert!(p.publish_if_changed(&store, Utc::now()).await.unwrap().is_none());

    // A change after it: the restarted publisher publishes it.
    change(&store, "发展改革委").await;
    let p = restarted(&store, dir.path()).await;
    let made = p.publish_if_changed(&store, Utc::now()).await.unwrap();
    assert!(made.is_some());
    assert!(p.publish_if_changed(&store, Utc::now()).await.unwrap().is_none());
}
