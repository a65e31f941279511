//! The store suite on SQLite files in temporary directories, and what is
//! particular to SQLite (migrations on a file, its pragmas).

mod suite;

use credgate_store::{SQLITE_FILE, Store};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};
use std::path::PathBuf;
use suite::Harness;

struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    fn new() -> Sqlite {
        Sqlite { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join(SQLITE_FILE)
    }

    /// A plain connection, as the sqlite3 shell opens one (foreign keys
    /// off), beside the store's pool.
    async fn plain(&self) -> sqlx::SqliteConnection {
        SqliteConnectOptions::new()
            .filename(self.path())
            .foreign_keys(false)
            .connect()
            .await
            .unwrap()
    }
}

impl Harness for Sqlite {
    async fn store(&self) -> Store {
        Store::open_dir(self.dir.path()).await.unwrap()
    }

    async fn tamper(&self, sql: &str) {
        let mut c = self.plain().await;
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }
}

macro_rules! suite {
    ($($name:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            suite::$name(&Sqlite::new()).await;
        }
    )+};
}

suite!(
    an_entry_reads_back_as_written,
    a_stale_version_is_refused,
    concurrent_updates_on_one_version_one_wins,
    an_idempotency_key_is_used_once,
    keyset_pagination_returns_every_entry_once_under_inserts,
    filters_select_entries,
    in_force_entries_are_published_and_disputed_ones,
    a_published_entry_without_a_decision_stops_the_stream,
    a_corrupt_in_force_row_is_named_not_guessed,
    the_in_force_stream_carries_every_field,
    history_and_events_are_recorded,
    foreign_keys_are_enforced,
    a_duplicate_entry_id_is_refused,
    keys_are_created_looked_up_and_revoked,
    publications_are_recorded,
    the_audit_pages_and_filters,
    a_name_edited_in_the_file_is_found_at_its_record,
    a_related_party_edited_in_the_file_is_found,
    a_deleted_audit_row_is_named_as_a_gap,
    a_deleted_last_audit_row_is_named,
    an_edited_audit_record_breaks_its_hash,
    edited_history_and_event_rows_are_found,
    an_entry_inserted_behind_the_store_is_unaudited,
    a_key_given_a_role_in_the_file_is_found,
    a_department_renamed_in_the_file_is_found,
);

#[tokio::test]
async fn migrations_apply_on_a_fresh_and_an_existing_file() {
    let h = Sqlite::new();
    assert!(!h.path().exists());
    let store = suite::setup(&h).await;
    store.close().await;
    // Reopening an existing file applies nothing twice and keeps the data.
    let store = h.store().await;
    assert_eq!(store.departments().await.unwrap().len(), 2);
    store.close().await;
    let mut c = h.plain().await;
    let applied: i64 =
        sqlx::query("SELECT count(*) AS n FROM _sqlx_migrations")
            .fetch_one(&mut c)
            .await
            .unwrap()
            .get("n");
    // 0001 (init) and 0002 (lean rows).
    assert_eq!(applied, 2);
}

#[tokio::test]
async fn the_file_is_in_wal_mode_and_declares_its_references() {
    let h = Sqlite::new();
    let _store = h.store().await;
    let mut c = h.plain().await;
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    // Foreign keys and synchronous are per connection: the store's own
    // connections are checked by foreign_keys_are_enforced; here, that the
    // schema declares the references the pragma enforces.
    let refs: i64 =
        sqlx::query("SELECT count(*) FROM pragma_foreign_key_list('entries')")
            .fetch_one(&mut c)
            .await
            .unwrap()
            .get(0);
    assert_eq!(refs, 1);
}

/// Commits never checkpoint (the automatic checkpoint made one
/// transition in a hundred copy and sync 8 MB); the store's own task
/// copies the WAL into the database file within a second. Seen from the
/// main file alone: a copy of it without its WAL holds the changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_off_the_commit_path() {
    use credgate_store::{Audit, Department};
    let h = Sqlite::new();
    let store = h.store().await;
    let mut c = h.plain().await;
    let auto: i64 = sqlx::query("PRAGMA wal_autocheckpoint")
        .fetch_one(&mut c)
        .await
        .unwrap()
        .get(0);
    assert_eq!(auto, 1000, "a plain connection keeps SQLite's default");
    c.close().await.unwrap();
    let audit = Audit::new(chrono::Utc::now(), "test", "t", "setup");
    for n in 0..20 {
        let d = Department {
            code: format!("dept-{n}"),
            name_zh: format!("部门{n}"),
        };
        store.upsert_department(&audit, &d).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(h.path(), copy.path().join(SQLITE_FILE)).unwrap();
    let mut c = SqliteConnectOptions::new()
        .filename(copy.path().join(SQLITE_FILE))
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT count(*) FROM departments")
        .fetch_one(&mut c)
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 20, "the WAL's pages reached the database file");
    store.close().await;
}

/// Migration 0002 on rows written in 0001's layout: the snapshot texts
/// leave `details` for their columns, and a first version's history row
/// loses its `after` (the next row's `before` holds that state).
#[tokio::test]
async fn migration_0002_moves_details_and_drops_first_afters() {
    let h = Sqlite::new();
    let mut c = SqliteConnectOptions::new()
        .filename(h.path())
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(include_str!("../migrations/sqlite/0001_init.sql"))
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO departments VALUES ('d', '部门', 't', 't');
         INSERT INTO entries (id, entry_id, department, stage, version, \
           list, subject_kind, name, code, category, authority, details, \
           created_at, updated_at) VALUES
           (1, 'E1', 'd', 'published', 2, 'black', 'organisation', 'n', \
            'c', 'x', 'a', '{\"secondary_ids\":[\"OLD1\",\"旧\\\"2\"],\
            \"reason\":\"理由\",\"basis\":\"依据\",\"removal_reason\":null,\
            \"removal_authority\":\"机关\",\"notice\":null,\
            \"statement\":null,\"scenarios\":[\"s\"],\"ban\":null,\
            \"extra\":{}}', 't', 't'),
           (2, 'E2', 'd', 'published', 1, 'black', 'organisation', 'n', \
            'c', 'x', 'a', '{\"secondary_ids\":[],\"reason\":\"r\",\
            \"basis\":\"b\",\"scenarios\":[],\"extra\":{}}', 't', 't');
         INSERT INTO audit (seq, at, key_id, department, action, details, \
           prev_hash, hash) VALUES (1, 't', 'k', 'd', 'a', '{}', 'p', 'h');
         INSERT INTO entry_history (entry, version, action, at, key_id, \
           department, audit_seq, before, after) VALUES
           (1, 1, 'import', 't', 'k', 'd', 1, NULL, 'v1'),
           (1, 2, 'correct', 't', 'k', 'd', 1, 'v1', 'v2'),
           (2, 1, 'import', 't', 'k', 'd', 1, NULL, 'w1');",
    )
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../migrations/sqlite/0002_lean.sql"))
        .execute(&mut c)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT secondary_ids, reason, basis, removal_reason, \
         removal_authority, details FROM entries ORDER BY id",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let col = |i: usize, name: &str| -> Option<String> { rows[i].get(name) };
    assert_eq!(
        col(0, "secondary_ids").as_deref(),
        Some("[\"OLD1\",\"旧\\\"2\"]")
    );
    assert_eq!(col(0, "reason").as_deref(), Some("理由"));
    assert_eq!(col(0, "basis").as_deref(), Some("依据"));
    assert_eq!(col(0, "removal_reason"), None);
    assert_eq!(col(0, "removal_authority").as_deref(), Some("机关"));
    let details = col(0, "details").unwrap();
    assert!(!details.contains("reason") && details.contains("scenarios"));
    assert_eq!(col(1, "secondary_ids"), None, "an empty list is NULL");
    let history: Vec<(i64, i64, Option<String>, Option<String>)> =
        sqlx::query("SELECT entry, version, before, after FROM entry_history")
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
    let s = |t: &str| Some(t.to_string());
    assert_eq!(
        history,
        [(1, 1, None, None), (1, 2, s("v1"), s("v2")), (2, 1, None, None)]
    );
}
