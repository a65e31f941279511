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
