//! The SQLite back-end: a file in the data directory, WAL,
//! `synchronous=FULL` (a system of record loses no committed change on a
//! power cut), foreign keys on, a busy timeout for concurrent writers.
//! Statements are in `sql.rs`; this module binds and maps rows.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use credgate_model::{
    Category, IdType, ListKind, PartyRole, RelatedParty, Severity, SubjectKind,
};
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::chain::{
    self, Details, EncodedDetails, details_json, sha256_hex, ts,
};
use crate::sql::{self, Arg};
use crate::*;

type Result<T, E = StoreError> = std::result::Result<T, E>;
type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;
type Tx = Transaction<'static, Sqlite>;

/// The migrations, embedded: `sqlx::migrate!` would need sqlx's proc
/// macros, which build sqlx a second time for the host.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "lean", include_str!("../migrations/sqlite/0002_lean.sql")),
];

#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

static ENTRY_BY_ENTRY_ID: LazyLock<String> =
    LazyLock::new(sql::entry_by_entry_id);
static ENTRY_BY_ID: LazyLock<String> = LazyLock::new(sql::entry_by_id);
static BY_NATURAL_KEY: LazyLock<String> =
    LazyLock::new(sql::entries_by_natural_key);
/// What a snapshot needs of every entry in force, one row per entry in
/// internal-id order: its id and one JSON array ([`Packed`]) of the
/// columns an `Entry` is made of and its parties (SQLite's JSON1; the
/// PostgreSQL back-end will say it with `json_build_array`). One statement,
/// so one consistent state.
///
/// Why packed: sqlx-sqlite copies every column value of every row
/// (`sqlite3_value_dup`, a malloc and two mutexes each) and hands rows
/// over one at a time; with 24 columns and a row per related party, that
/// was most of publishing's store side (perf, 1M). Why `NOT INDEXED`
/// (SQLite's own syntax): through the stage index, SQLite sorted every
/// row of the result in a temporary B-tree before the first came out;
/// nearly every entry is in force, so the scan in id order reads little
/// more. The parties carry their position and are sorted on decoding
/// (an aggregate's order is not promised).
const IN_FORCE: &str = "SELECT e.id, json_array(e.entry_id, e.stage, \
     e.list, e.subject_kind, e.name, e.code, e.category, e.severity, \
     e.authority, e.document_number, e.listed_on, e.valid_until, \
     e.removed_on, json(e.secondary_ids), e.reason, e.basis, \
     e.removal_reason, e.removal_authority, \
     (SELECT json_group_array(json_array(p.position, p.role, p.name, \
       p.id_type, p.id_number)) FROM related_parties p \
      WHERE p.entry = e.id)) AS packed \
     FROM entries e NOT INDEXED \
     WHERE e.stage IN ('published', 'disputed') ORDER BY e.id";
static ALL_ENTRIES: LazyLock<String> = LazyLock::new(sql::all_entries);
static WITH_LAST_DIGEST: LazyLock<String> =
    LazyLock::new(sql::entries_with_last_digest);
static LIST_KEYS: LazyLock<String> = LazyLock::new(sql::list_keys);
static KEY_BY_HASH: LazyLock<String> = LazyLock::new(sql::key_by_hash);
static KEY_BY_ID: LazyLock<String> = LazyLock::new(sql::key_by_id);
static PUBLICATION_BY_ID: LazyLock<String> =
    LazyLock::new(sql::publication_by_id);
static PUBLICATIONS: LazyLock<String> = LazyLock::new(sql::publications);

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The WAL checkpointer's task, stopped when the last clone of the
    /// store goes.
    _checkpointer: Arc<Checkpointer>,
}

/// How often the WAL is checkpointed off the writers' path.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies the WAL into the database file every [`CHECKPOINT_EVERY`],
/// on a connection of its own. SQLite's automatic checkpoint runs inside
/// the commit that crosses 1,000 WAL pages: about one lifecycle
/// transition in a hundred paid for copying and syncing 8 MB, which was
/// the transitions' p99. A passive checkpoint takes no writer's lock, so
/// commits go on while it runs.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    fn start(pool: SqlitePool) -> Checkpointer {
        Checkpointer(tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(
                tokio::time::MissedTickBehavior::Delay,
            );
            loop {
                every.tick().await;
                if pool.is_closed() {
                    return;
                }
                let done = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await;
                if let Err(e) = done {
                    if pool.is_closed() {
                        return;
                    }
                    log::warn!("checkpointing the store's WAL: {e}");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        use sqlx::ConnectOptions as _;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Writers queue on the audit head; a large import holds it
            // for seconds.
            .busy_timeout(Duration::from_secs(60))
            // 32 MiB of page cache per connection (the default is 2 MiB):
            // an import touches a dozen indexes per entry.
            .pragma("cache_size", "-32768")
            // Takes effect when the file is created (before the first
            // table). 8 KiB pages: the 100k import bench went from ~14.9k
            // to ~16.2k entries/s and the file shrank 8%; 16 KiB gained
            // nothing more.
            .page_size(8192)
            // Multi-row inserts keep a statement journal (to undo one
            // statement); in memory rather than in a temporary file.
            .pragma("temp_store", "memory")
            // Checkpoints run on their own connection ([`Checkpointer`]),
            // never inside a commit. The last connection to close still
            // checkpoints the whole WAL.
            .pragma("wal_autocheckpoint", "0")
            // Streaming every entry in force to a publication, or an
            // import's transaction, takes seconds by design: sqlx's default
            // (warn past 1 s) would log each as a slow statement.
            .log_slow_statements(
                log::LevelFilter::Warn,
                Duration::from_secs(30),
            );
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Migrator::new(Embedded).await?.run(&pool).await?;
        let checkpointer = Arc::new(Checkpointer::start(pool.clone()));
        Ok(SqliteStore { pool, _checkpointer: checkpointer })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- departments -----------------------------------------------

    pub async fn upsert_department(
        &self,
        audit: &Audit,
        d: &Department,
    ) -> Result<()> {
        if d.code.trim().is_empty() || d.name_zh.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "department",
                message: "code and Chinese name are required".into(),
            });
        }
        let mut tx = self.pool.begin().await?;
        let mut chain = Appender::claim(&mut tx, 1).await?;
        sqlx::query(sql::UPSERT_DEPARTMENT)
            .bind(&d.code)
            .bind(&d.name_zh)
            .bind(ts(audit.at_stored()))
            .execute(&mut *tx)
            .await?;
        let after = chain::department_json(d);
        let record = Record {
            department: Some(&d.code),
            after: Some(&after),
            ..Record::other(serde_json::Value::Null)
        };
        chain.append(&mut tx, audit, record).await?;
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn departments(&self) -> Result<Vec<Department>> {
        let rows =
            sqlx::query(sql::LIST_DEPARTMENTS).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(Department {
                    code: r.try_get("code")?,
                    name_zh: r.try_get("name_zh")?,
                })
            })
            .collect()
    }

    // ---- keys ------------------------------------------------------

    pub async fn create_key(
        &self,
        audit: &Audit,
        new: &NewKey,
    ) -> Result<CreatedKey> {
        if new.name.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "name",
                message: "a key needs a name saying who holds it".into(),
            });
        }
        if new.roles.is_empty() {
            return Err(StoreError::Invalid {
                field: "roles",
                message: "a key needs at least one role".into(),
            });
        }
        // Roles are a set: a role named twice is stored once, in the
        // order first given.
        let mut roles: Vec<Role> = Vec::with_capacity(new.roles.len());
        for r in &new.roles {
            if !roles.contains(r) {
                roles.push(*r);
            }
        }
        let secret = format!("cg_{}", chain::hex(&random::<32>()));
        let key = ApiKey {
            id: format!("key_{}", chain::hex(&random::<6>())),
            name: new.name.clone(),
            department: new.department.clone(),
            roles,
            sha256: sha256_hex(secret.as_bytes()),
            created_at: audit.at_stored(),
            revoked_at: None,
        };
        let roles = roles_text(&key.roles);
        let mut tx = self.pool.begin().await?;
        let mut chain = Appender::claim(&mut tx, 1).await?;
        sqlx::query(sql::INSERT_KEY)
            .bind(&key.id)
            .bind(&key.name)
            .bind(&key.department)
            .bind(&roles)
            .bind(&key.sha256)
            .bind(ts(key.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::constraint(e, "key department"))?;
        let after = chain::key_json(&key);
        let record = Record {
            key: Some(&key.id),
            after: Some(&after),
            ..Record::other(serde_json::Value::Null)
        };
        chain.append(&mut tx, audit, record).await?;
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(CreatedKey { key, secret })
    }

    pub async fn keys(&self) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(&LIST_KEYS).fetch_all(&self.pool).await?;
        rows.iter().map(key_from_row).collect()
    }

    pub async fn key_by_hash(&self, sha256: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(&KEY_BY_HASH)
            .bind(sha256.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    pub async fn revoke_key(&self, audit: &Audit, id: &str) -> Result<ApiKey> {
        let mut tx = self.pool.begin().await?;
        let mut chain = Appender::claim(&mut tx, 1).await?;
        let at = audit.at_stored();
        let done = sqlx::query(sql::REVOKE_KEY)
            .bind(id)
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&KEY_BY_ID)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "key",
                id: id.to_string(),
            })?;
        let key = key_from_row(&row)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid {
                field: "id",
                message: format!(
                    "key {id} was already revoked at {}",
                    key.revoked_at.map(ts).unwrap_or_default()
                ),
            });
        }
        chain
            .append(
                &mut tx,
                audit,
                Record {
                    key: Some(id),
                    after: Some(&chain::key_json(&key)),
                    ..Record::other(serde_json::Value::Null)
                },
            )
            .await?;
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(key)
    }

    // ---- entries ---------------------------------------------------

    pub async fn insert_entry(
        &self,
        audit: &Audit,
        new: &NewEntry,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<StoredEntry> {
        let mut tx = self.pool.begin().await?;
        let mut chain = Appender::claim(&mut tx, 1).await?;
        let stored = insert_one(&mut tx, &mut chain, audit, new).await?;
        if let Some(rec) = idempotency {
            let mut rec = rec.clone();
            rec.entry = Some(stored.id);
            put_idempotency(&mut tx, &rec).await?;
        }
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn insert_many(
        &self,
        audit: &Audit,
        entries: &[NewEntry],
    ) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        let mut chain = Appender::claim(&mut tx, n).await?;
        let mut next_id = next_entry_id(&mut tx).await?;
        let mut ids = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(BATCH) {
            let chunk = chunk
                .iter()
                .map(|e| PreparedEntry::new(e.clone()))
                .collect::<Result<Vec<_>>>()?;
            insert_batch(
                &mut tx,
                &mut chain,
                audit,
                &chunk,
                &mut next_id,
                &mut ids,
            )
            .await?;
        }
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn update_entry(
        &self,
        audit: &Audit,
        entry_id: &str,
        expected_version: i64,
        change: &Change,
    ) -> Result<StoredEntry> {
        let mut tx = self.pool.begin().await?;
        // The head first: the write lock is taken before the entry is
        // read, so a concurrent writer waits and then sees the new version.
        let mut chain = Appender::claim(&mut tx, 1).await?;
        let next = update_in_tx(
            &mut tx,
            &mut chain,
            audit,
            entry_id,
            expected_version,
            change,
        )
        .await?;
        chain.close(&mut tx).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Opens one transaction for a bulk change (an import): the audit
    /// head is taken first, so the writer holds the write lock until it
    /// commits or is dropped (rolled back).
    pub async fn begin_bulk(&self) -> Result<SqliteBulk> {
        let mut tx = self.pool.begin().await?;
        // A bulk change touches far more pages than the 32 MiB cache:
        // once it is full, SQLite spills dirty pages to the WAL in the
        // middle of the transaction and reads them back for every index
        // insert (1M rows: 127 s with 32 MiB). The cache is not
        // transactional; `commit` sets it back. It grows only with the
        // pages the change touches.
        sqlx::query(BULK_CACHE).execute(&mut *tx).await?;
        let chain = Appender::claim(&mut tx, 0).await?;
        let next_id = next_entry_id(&mut tx).await?;
        Ok(SqliteBulk { tx, chain, next_id })
    }

    /// The rows of one entry's child table (`query` binds the entry's row
    /// id), each decoded by `decode`.
    async fn rows_of<T>(
        conn: &mut sqlx::SqliteConnection,
        query: &'static str,
        id: i64,
        decode: impl Fn(&SqliteRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = sqlx::query(query).bind(id).fetch_all(conn).await?;
        rows.iter().map(decode).collect()
    }

    /// An entry with its history, interviews, objections and repairs,
    /// read in one transaction: one state of the store, never an entry of
    /// one version with the history of the next.
    pub async fn entry(&self, entry_id: &str) -> Result<Option<EntryDetail>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&ENTRY_BY_ENTRY_ID)
            .bind(entry_id)
            .fetch_all(&mut *tx)
            .await?;
        let Some(entry) = group_all(&rows)?.pop() else { return Ok(None) };
        let id = entry.id;
        let history = complete_history(
            &entry,
            Self::rows_of(&mut tx, sql::HISTORY, id, history_from_row).await?,
        )?;
        let interviews = Self::rows_of(&mut tx, sql::INTERVIEWS, id, |r| {
            Ok(interview_from_row(r)?.1)
        })
        .await?;
        let objections = Self::rows_of(&mut tx, sql::OBJECTIONS, id, |r| {
            Ok(objection_from_row(r)?.1)
        })
        .await?;
        let repairs = Self::rows_of(&mut tx, sql::REPAIRS, id, |r| {
            Ok(repair_from_row(r)?.1)
        })
        .await?;
        tx.rollback().await?;
        Ok(Some(EntryDetail {
            entry,
            history,
            interviews,
            objections,
            repairs,
        }))
    }

    pub async fn entry_by_id(&self, id: i64) -> Result<Option<StoredEntry>> {
        let rows =
            sqlx::query(&ENTRY_BY_ID).bind(id).fetch_all(&self.pool).await?;
        Ok(group_all(&rows)?.pop())
    }

    pub async fn entries_by_natural_key(
        &self,
        authority: &str,
        document_number: &str,
    ) -> Result<Vec<StoredEntry>> {
        let rows = sqlx::query(&BY_NATURAL_KEY)
            .bind(authority)
            .bind(document_number)
            .fetch_all(&self.pool)
            .await?;
        group_all(&rows)
    }

    pub async fn list_entries(
        &self,
        filter: &EntryFilter,
        cursor: Option<&str>,
    ) -> Result<Page<StoredEntry>> {
        let after = cursor.map(|c| decode_cursor(c, 'e')).transpose()?;
        let built = sql::entry_page_joined(filter, after.unwrap_or(0));
        let rows = bind_args(sqlx::query(&built.sql), &built.args)
            .fetch_all(&self.pool)
            .await?;
        let mut items = group_all(&rows)?;
        let limit = sql::page_limit(filter.limit) as usize;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|e| format!("e{}", e.id))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    pub fn in_force_entries(
        &self,
    ) -> BoxStream<'_, Result<credgate_model::Entry>> {
        sqlx::query(IN_FORCE)
            .fetch(&self.pool)
            .map(|row| in_force_entry(&row?))
            .boxed()
    }

    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let head = sqlx::query(sql::HEAD).fetch_one(&self.pool).await?;
        Ok((head.try_get("seq")?, head.try_get("hash")?))
    }

    // ---- idempotency -----------------------------------------------

    pub async fn idempotency_get(
        &self,
        key_id: &str,
        idem_key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        let row = sqlx::query(sql::IDEMPOTENCY_GET)
            .bind(key_id)
            .bind(idem_key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(idempotency_from_row).transpose()
    }

    pub async fn idempotency_put(
        &self,
        rec: &IdempotencyRecord,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        put_idempotency(&mut tx, rec).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- publications ----------------------------------------------

    pub async fn publication_begin(
        &self,
        audit: &Audit,
    ) -> Result<Publication> {
        let mut tx = self.pool.begin().await?;
        let mut chain = Appender::claim(&mut tx, 1).await?;
        let id: i64 = sqlx::query(sql::PUBLICATION_BEGIN)
            .bind(ts(audit.at_stored()))
            .bind(&audit.key_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        let info = serde_json::json!({"publication": id, "state": "pending"});
        chain.append(&mut tx, audit, Record::other(info)).await?;
        chain.close(&mut tx).await?;
        let row = sqlx::query(&PUBLICATION_BY_ID)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let p = publication_from_row(&row)?;
        tx.commit().await?;
        Ok(p)
    }

    pub async fn publication_finish(
        &self,
        audit: &Audit,
        id: i64,
        outcome: &PublicationOutcome,
    ) -> Result<Publication> {
        let mut tx = self.pool.begin().await?;
        let mut chain = Appender::claim(&mut tx, 1).await?;
        let (state, counts, checksum, file, error) = match outcome {
            PublicationOutcome::Done { counts, checksum, file_name } => (
                PublicationState::Done,
                Some(*counts),
                Some(checksum.as_str()),
                Some(file_name.as_str()),
                None,
            ),
            PublicationOutcome::Failed { error } => (
                PublicationState::Failed,
                None,
                None,
                None,
                Some(error.as_str()),
            ),
        };
        let done = sqlx::query(sql::PUBLICATION_FINISH)
            .bind(id)
            .bind(ts(audit.at_stored()))
            .bind(state.code())
            .bind(counts.map(|c| c.entries))
            .bind(counts.map(|c| c.active))
            .bind(counts.map(|c| c.disputed))
            .bind(checksum)
            .bind(file)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Invalid {
                field: "publication",
                message: format!("publication {id} is not pending"),
            });
        }
        let info = serde_json::json!({
            "publication": id, "state": state.code(),
            "entries": counts.map(|c| c.entries), "checksum": checksum,
            "file_name": file, "error": error,
        });
        chain.append(&mut tx, audit, Record::other(info)).await?;
        chain.close(&mut tx).await?;
        let row = sqlx::query(&PUBLICATION_BY_ID)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let p = publication_from_row(&row)?;
        tx.commit().await?;
        Ok(p)
    }

    pub async fn publications(&self, limit: u32) -> Result<Vec<Publication>> {
        let rows = sqlx::query(&PUBLICATIONS)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(publication_from_row).collect()
    }

    // ---- audit -----------------------------------------------------

    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
    ) -> Result<Page<AuditRecord>> {
        let after = cursor.map(|c| decode_cursor(c, 'a')).transpose()?;
        let built = sql::audit_page(filter, after.unwrap_or(0));
        let rows = bind_args(sqlx::query(&built.sql), &built.args)
            .fetch_all(&self.pool)
            .await?;
        let mut items: Vec<AuditRecord> =
            rows.iter().map(audit_from_row).collect::<Result<_>>()?;
        let limit = sql::page_limit(filter.limit) as usize;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|r| format!("a{}", r.seq))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    pub async fn audit_record(&self, seq: i64) -> Result<Option<AuditRecord>> {
        // The first record after `seq - 1`: one step down the primary key.
        let one = AuditFilter { limit: Some(1), ..Default::default() };
        let built = sql::audit_page(&one, seq - 1);
        let row = bind_args(sqlx::query(&built.sql), &built.args)
            .fetch_optional(&self.pool)
            .await?;
        let record = row.as_ref().map(audit_from_row).transpose()?;
        Ok(record.filter(|r| r.seq == seq))
    }

    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let mut breaks: Vec<Break> = Vec::new();
        let mut first = |b: Break| breaks.push(b);

        // 1. The chain: contiguous sequence, links, hashes, head.
        let mut rows = sqlx::query(sql::AUDIT_ALL).fetch(&self.pool);
        let mut expected = 1i64;
        let mut prev = chain::GENESIS.to_string();
        let mut records = 0i64;
        let mut chain_ok = true;
        // The last digest of each key and department (few: kept here).
        let mut keys: HashMap<String, (i64, Option<String>)> = HashMap::new();
        let mut departments: HashMap<String, (i64, Option<String>)> =
            HashMap::new();
        while let Some(row) = rows.try_next().await? {
            records += 1;
            let seq: i64 = row.try_get("seq")?;
            let at: String = row.try_get("at")?;
            let key_id: String = row.try_get("key_id")?;
            let department: String = row.try_get("department")?;
            let action: String = row.try_get("action")?;
            let entry: Option<i64> = row.try_get("entry")?;
            let before: Option<String> = row.try_get("digest_before")?;
            let after: Option<String> = row.try_get("digest_after")?;
            let details: String = row.try_get("details")?;
            let prev_hash: String = row.try_get("prev_hash")?;
            let hash: String = row.try_get("hash")?;
            let kind = if seq != expected {
                Some(BreakKind::Gap { expected })
            } else if prev_hash != prev {
                Some(BreakKind::PrevLink {
                    stored: prev_hash.clone(),
                    expected: prev.clone(),
                })
            } else {
                let computed = chain::record_hash(&chain::RecordFields {
                    seq,
                    at: &at,
                    key_id: &key_id,
                    department: &department,
                    action: &action,
                    entry,
                    digest_before: before.as_deref(),
                    digest_after: after.as_deref(),
                    details: &details,
                    prev_hash: &prev_hash,
                });
                (computed != hash).then(|| BreakKind::Hash {
                    stored: hash.clone(),
                    computed,
                })
            };
            if let Some(kind) = kind {
                first(Break { seq, kind });
                chain_ok = false;
                break;
            }
            if entry.is_none() {
                if let Ok(d) = serde_json::from_str::<RecordDetails>(&details)
                {
                    if let Some(k) = d.key {
                        keys.insert(k, (seq, after.clone()));
                    }
                    if let Some(c) = d.department {
                        departments.insert(c, (seq, after.clone()));
                    }
                }
            }
            expected = seq + 1;
            prev = hash;
        }
        drop(rows);
        if chain_ok {
            let head = sqlx::query(sql::HEAD).fetch_one(&self.pool).await?;
            let head_seq: i64 = head.try_get("seq")?;
            let head_hash: String = head.try_get("hash")?;
            if head_seq != expected - 1 || head_hash != prev {
                first(Break {
                    seq: expected - 1,
                    kind: BreakKind::Head { head_seq, head_hash },
                });
            }
        }

        // 2. Every entry against the digest of its last record.
        let mut entries = 0i64;
        let mut stream =
            grouped(sqlx::query(WITH_LAST_DIGEST.as_str()).fetch(&self.pool));
        while let Some((e, row)) = stream.try_next().await? {
            entries += 1;
            let last_seq: Option<i64> = row.try_get("last_seq")?;
            let last: Option<String> = row.try_get("last_digest")?;
            let computed = sha256_hex(chain::canonical_of(&e).as_bytes());
            match (last_seq, last) {
                (None, _) => first(Break {
                    seq: 0,
                    kind: BreakKind::Unaudited { entry_id: e.entry_id },
                }),
                (Some(seq), stored)
                    if stored.as_deref() != Some(&computed) =>
                {
                    first(Break {
                        seq,
                        kind: BreakKind::EntryDigest {
                            entry_id: e.entry_id,
                            stored: stored.unwrap_or_default(),
                            computed,
                        },
                    })
                }
                _ => {}
            }
        }
        drop(stream);

        // 3. Records whose entry was deleted.
        if let Some(row) =
            sqlx::query(sql::VERIFY_ORPHANS).fetch_optional(&self.pool).await?
        {
            first(Break {
                seq: row.try_get("seq")?,
                kind: BreakKind::MissingEntry { entry: row.try_get("entry")? },
            });
        }

        // 4. History rows against their records' digests, before and
        // after. A first version's row has no after (its state is the
        // entry row, checked in 2., or the next row's before, checked
        // here).
        let mut rows = sqlx::query(sql::VERIFY_HISTORY).fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let matches = |text: Option<String>,
                           digest: &str|
             -> Result<bool> {
                let stored: Option<String> = row.try_get(digest)?;
                Ok(match text {
                    None => true,
                    Some(t) => {
                        stored.as_deref() == Some(&sha256_hex(t.as_bytes()))
                    }
                })
            };
            let after_ok = matches(row.try_get("after")?, "digest_after")?;
            let before_ok = matches(row.try_get("before")?, "digest_before")?;
            if !(after_ok && before_ok) {
                first(Break {
                    seq: row.try_get("audit_seq")?,
                    kind: BreakKind::History {
                        entry_id: row
                            .try_get::<Option<String>, _>("entry_id")?
                            .unwrap_or_default(),
                        version: row.try_get("version")?,
                    },
                });
                break;
            }
        }
        drop(rows);

        // 5. Event rows against the copies in their records.
        for (table, q) in [
            ("interviews", sql::VERIFY_INTERVIEWS),
            ("objections", sql::VERIFY_OBJECTIONS),
            ("repairs", sql::VERIFY_REPAIRS),
        ] {
            let mut rows = sqlx::query(q).fetch(&self.pool);
            while let Some(row) = rows.try_next().await? {
                let (id, row_copy) = match table {
                    "interviews" => interview_from_row(&row)
                        .map(|(id, i)| (id, EventCopy::Interview(i)))?,
                    "objections" => objection_from_row(&row)
                        .map(|(id, o)| (id, EventCopy::Objection(o)))?,
                    _ => repair_from_row(&row)
                        .map(|(id, r)| (id, EventCopy::Repair(r)))?,
                };
                let details: Option<String> = row.try_get("details")?;
                let copy = details
                    .and_then(|d| {
                        serde_json::from_str::<RecordDetails>(&d).ok()
                    })
                    .and_then(|d| d.event)
                    .map(EventCopy::undecided);
                if copy.as_ref() != Some(&row_copy) {
                    first(Break {
                        seq: row.try_get("audit_seq")?,
                        kind: BreakKind::EventRow { table, id },
                    });
                    break;
                }
            }
        }

        // 6. Keys and departments against their last records (a role or
        // department changed in the file is a privilege gained); only
        // once the whole chain was read, which found their records.
        for k in self.keys().await?.into_iter().filter(|_| chain_ok) {
            let digest = sha256_hex(chain::key_json(&k).as_bytes());
            let (seq, last) = keys.remove(&k.id).unwrap_or((0, None));
            if last.as_deref() != Some(&digest) {
                first(Break { seq, kind: BreakKind::KeyRow { id: k.id } });
            }
        }
        for d in self.departments().await?.into_iter().filter(|_| chain_ok) {
            let digest = sha256_hex(chain::department_json(&d).as_bytes());
            let (seq, last) = departments.remove(&d.code).unwrap_or((0, None));
            if last.as_deref() != Some(&digest) {
                first(Break {
                    seq,
                    kind: BreakKind::DepartmentRow { code: d.code },
                });
            }
        }

        // Broken records first, by seq; then rows no record covers (seq 0).
        Ok(match breaks.into_iter().min_by_key(|b| (b.seq == 0, b.seq)) {
            Some(b) => Err(b),
            None => Ok(VerifyCounts { records, entries }),
        })
    }
}

// ---- the audit chain ---------------------------------------------------

/// Appends records to the chain inside one transaction: it claimed its
/// sequence numbers from the head first and writes the last hash back.
struct Appender {
    next_seq: i64,
    last_claimed: i64,
    prev: String,
}

impl Appender {
    async fn claim(tx: &mut Tx, n: i64) -> Result<Appender> {
        let row =
            sqlx::query(sql::CLAIM_SEQ).bind(n).fetch_one(&mut **tx).await?;
        let last: i64 = row.try_get("seq")?;
        Ok(Appender {
            next_seq: last - n + 1,
            last_claimed: last,
            prev: row.try_get("hash")?,
        })
    }

    /// The next record: its sequence number and hash, chained on the
    /// previous one (written by `append` or `insert_audit_rows`).
    fn make(&mut self, audit: &Audit, r: Record<'_>) -> Result<AuditRow> {
        let before = r.before.map(|s| sha256_hex(s.as_bytes()));
        let after = r.after.map(|s| sha256_hex(s.as_bytes()));
        self.make_digested(audit, r, before, after)
    }

    /// `make` with the digests of `before` and `after` already taken
    /// (a [`PreparedEntry`]'s).
    fn make_digested(
        &mut self,
        audit: &Audit,
        r: Record<'_>,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<AuditRow> {
        let seq = self.next_seq;
        if seq > self.last_claimed {
            return Err(StoreError::Invalid {
                field: "audit",
                message: "more records than sequence numbers claimed".into(),
            });
        }
        let at = ts(audit.at_stored());
        let details = RecordDetails {
            entry_id: r.entry_id.map(str::to_string),
            version: r.version,
            event: r.event.cloned(),
            info: r.info.or_else(|| audit.details.clone()),
            key: r.key.map(str::to_string),
            department: r.department.map(str::to_string),
        };
        let details = serde_json::to_string(&details).map_err(|e| {
            StoreError::Invalid { field: "details", message: e.to_string() }
        })?;
        let hash = chain::record_hash(&chain::RecordFields {
            seq,
            at: &at,
            key_id: &audit.key_id,
            department: &audit.department,
            action: &audit.action,
            entry: r.entry,
            digest_before: before.as_deref(),
            digest_after: after.as_deref(),
            details: &details,
            prev_hash: &self.prev,
        });
        let prev = std::mem::replace(&mut self.prev, hash.clone());
        self.next_seq += 1;
        Ok(AuditRow {
            seq,
            at,
            entry: r.entry,
            before,
            after,
            details,
            prev,
            hash,
        })
    }

    async fn append(
        &mut self,
        tx: &mut Tx,
        audit: &Audit,
        r: Record<'_>,
    ) -> Result<i64> {
        let row = self.make(audit, r)?;
        insert_audit_rows(tx, audit, std::slice::from_ref(&row)).await?;
        Ok(row.seq)
    }

    /// Claims `n` more sequence numbers in the same transaction (a bulk
    /// change does not know its count up front); the head's hash is
    /// written once, by `close`.
    async fn extend(&mut self, tx: &mut Tx, n: i64) -> Result<()> {
        let row =
            sqlx::query(sql::CLAIM_SEQ).bind(n).fetch_one(&mut **tx).await?;
        self.last_claimed = row.try_get("seq")?;
        Ok(())
    }

    async fn close(self, tx: &mut Tx) -> Result<()> {
        if self.next_seq != self.last_claimed + 1 {
            return Err(StoreError::Invalid {
                field: "audit",
                message: format!(
                    "claimed up to seq {} but wrote up to {}",
                    self.last_claimed,
                    self.next_seq - 1
                ),
            });
        }
        sqlx::query(sql::SET_HEAD_HASH)
            .bind(&self.prev)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// An audit record made by `Appender::make`, to be written.
struct AuditRow {
    seq: i64,
    at: String,
    entry: Option<i64>,
    before: Option<String>,
    after: Option<String>,
    details: String,
    prev: String,
    hash: String,
}

/// Rows per round trip: 64 rows of 30 columns stay far below SQLite's
/// 32,766 arguments (and PostgreSQL's 65,535).
const BATCH: usize = 64;

/// Multi-row inserts bind by position (see `sql::Placeholders`).
const ANON: sql::Placeholders = sql::Placeholders::Anonymous;

async fn insert_audit_rows(
    tx: &mut Tx,
    audit: &Audit,
    rows: &[AuditRow],
) -> Result<()> {
    for chunk in rows.chunks(BATCH) {
        let sql = sql::insert_rows(sql::AUDIT_HEAD, chunk.len(), "", ANON);
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(r.at.as_str())
                .bind(audit.key_id.as_str())
                .bind(audit.department.as_str())
                .bind(audit.action.as_str())
                .bind(r.entry)
                .bind(r.before.as_deref())
                .bind(r.after.as_deref())
                .bind(r.details.as_str())
                .bind(r.prev.as_str())
                .bind(r.hash.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// What one audit record says beyond its context.
struct Record<'a> {
    entry: Option<i64>,
    entry_id: Option<&'a str>,
    version: Option<i64>,
    /// Canonical JSON before and after; the record keeps their digests.
    before: Option<&'a str>,
    after: Option<&'a str>,
    event: Option<&'a EventCopy>,
    info: Option<serde_json::Value>,
    /// The key or department a record changed (its `after` is theirs).
    key: Option<&'a str>,
    department: Option<&'a str>,
}

impl Record<'_> {
    fn other(info: serde_json::Value) -> Record<'static> {
        Record {
            entry: None,
            entry_id: None,
            version: None,
            before: None,
            after: None,
            event: None,
            info: (!info.is_null()).then_some(info),
            key: None,
            department: None,
        }
    }
}

/// The `details` of an audit record (serde structs: canonical order).
#[derive(Debug, Serialize, Deserialize)]
struct RecordDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<EventCopy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    info: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
}

/// An event row as its audit record copies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EventCopy {
    Interview(Interview),
    Objection(Objection),
    /// The decided objection (with its row id) replacing the open one.
    DecidedObjection(i64, Objection),
    Repair(Repair),
}

impl EventCopy {
    /// A decided objection compares as the row it left.
    fn undecided(self) -> EventCopy {
        match self {
            EventCopy::DecidedObjection(_, o) => EventCopy::Objection(o),
            other => other,
        }
    }
}

async fn insert_event(
    tx: &mut Tx,
    entry: i64,
    seq: i64,
    copy: &EventCopy,
) -> Result<()> {
    let q = match copy {
        EventCopy::Interview(i) => sqlx::query(sql::INSERT_INTERVIEW)
            .bind(entry)
            .bind(seq)
            .bind(i.held_on)
            .bind(i.kind.code())
            .bind(i.note.clone()),
        EventCopy::Objection(o) => sqlx::query(sql::INSERT_OBJECTION)
            .bind(entry)
            .bind(seq)
            .bind(o.received_on)
            .bind(o.applicant.clone())
            .bind(o.grounds.clone())
            .bind(o.review_deadline),
        EventCopy::DecidedObjection(id, o) => {
            sqlx::query(sql::DECIDE_OBJECTION)
                .bind(*id)
                .bind(seq)
                .bind(o.decided_on)
                .bind(o.outcome.map(|o| o.code()))
                .bind(o.decision.clone())
        }
        EventCopy::Repair(r) => sqlx::query(sql::INSERT_REPAIR)
            .bind(entry)
            .bind(seq)
            .bind(r.repaired_on)
            .bind(r.commitment.clone())
            .bind(r.note.clone()),
    };
    q.execute(&mut **tx).await?;
    Ok(())
}

// ---- bulk changes ------------------------------------------------------

/// One open transaction of a bulk change; dropped without `commit`, it
/// rolls back (and a killed process leaves nothing of it: SQLite's WAL
/// drops an uncommitted transaction at the next open).
#[derive(Debug)]
pub struct SqliteBulk {
    tx: Tx,
    chain: Appender,
    /// The id of the next inserted entry (`insert_batch`).
    next_id: i64,
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender")
            .field("next_seq", &self.next_seq)
            .field("last_claimed", &self.last_claimed)
            .finish_non_exhaustive()
    }
}

impl SqliteBulk {
    pub fn all_entries(&mut self) -> BoxStream<'_, Result<StoredEntry>> {
        let rows = sqlx::query(ALL_ENTRIES.as_str()).fetch(&mut *self.tx);
        grouped(rows).map_ok(|(e, _)| e).boxed()
    }

    pub async fn insert(
        &mut self,
        audit: &Audit,
        entries: &[PreparedEntry],
    ) -> Result<Vec<i64>> {
        let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        self.chain.extend(&mut self.tx, n).await?;
        let mut ids = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(BATCH) {
            insert_batch(
                &mut self.tx,
                &mut self.chain,
                audit,
                chunk,
                &mut self.next_id,
                &mut ids,
            )
            .await?;
        }
        Ok(ids)
    }

    pub async fn update(
        &mut self,
        audit: &Audit,
        entry_id: &str,
        expected_version: i64,
        change: &Change,
    ) -> Result<StoredEntry> {
        self.chain.extend(&mut self.tx, 1).await?;
        update_in_tx(
            &mut self.tx,
            &mut self.chain,
            audit,
            entry_id,
            expected_version,
            change,
        )
        .await
    }

    pub async fn commit(self) -> Result<()> {
        let SqliteBulk { mut tx, chain, .. } = self;
        chain.close(&mut tx).await?;
        // Back to the usual cache before the commit, which writes every
        // dirty page to the WAL anyway. (A bulk change rolled back leaves
        // its connection with the large cache until the pool closes it
        // when idle.)
        sqlx::query(USUAL_CACHE).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The page cache of a bulk change's connection (KiB, negative as SQLite
/// takes it) and the pool's usual one (`open`).
const BULK_CACHE: &str = "PRAGMA cache_size = -1048576";
const USUAL_CACHE: &str = "PRAGMA cache_size = -32768";

// ---- writing entries ---------------------------------------------------

async fn update_in_tx(
    tx: &mut Tx,
    chain: &mut Appender,
    audit: &Audit,
    entry_id: &str,
    expected_version: i64,
    change: &Change,
) -> Result<StoredEntry> {
    let rows = sqlx::query(&ENTRY_BY_ENTRY_ID)
        .bind(entry_id)
        .fetch_all(&mut **tx)
        .await?;
    let current = group_all(&rows)?.pop().ok_or_else(|| {
        StoreError::NotFound { what: "entry", id: entry_id.to_string() }
    })?;
    if current.version != expected_version {
        return Err(StoreError::Stale {
            entry_id: entry_id.to_string(),
            expected: expected_version,
            actual: current.version,
        });
    }
    let at = audit.at_stored();
    let next = StoredEntry {
        id: current.id,
        entry_id: current.entry_id.clone(),
        department: current.department.clone(),
        stage: change.stage,
        version: current.version + 1,
        data: change.data.clone(),
        created_at: current.created_at,
        updated_at: at,
    };
    let details = details_json(&next.data)?;
    let q = sqlx::query(sql::UPDATE_ENTRY).bind(current.id);
    let done = bind_entry(
        q,
        (&next.department, next.stage, next.version),
        &next.data,
        &details,
        ts(at),
    )
    .bind(expected_version)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Stale {
            entry_id: entry_id.to_string(),
            expected: expected_version,
            actual: expected_version + 1,
        });
    }
    if current.data.related != next.data.related {
        sqlx::query(sql::DELETE_PARTIES)
            .bind(current.id)
            .execute(&mut **tx)
            .await?;
        insert_parties(tx, current.id, &next.data.related).await?;
    }
    // What the event table will hold, copied into the audit record.
    let copy = match &change.event {
        None => None,
        Some(Event::Interview(i)) => Some(EventCopy::Interview(i.clone())),
        Some(Event::ObjectionOpened(o)) => {
            Some(EventCopy::Objection(o.clone()))
        }
        Some(Event::Repair(r)) => Some(EventCopy::Repair(r.clone())),
        Some(Event::ObjectionDecided { decided_on, outcome, decision }) => {
            let row = sqlx::query(sql::OPEN_OBJECTION)
                .bind(current.id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::Invalid {
                    field: "event",
                    message: format!(
                        "entry {entry_id} has no open objection to decide"
                    ),
                })?;
            let (id, mut o) = objection_from_row(&row)?;
            o.decided_on = Some(*decided_on);
            o.outcome = Some(*outcome);
            o.decision = Some(decision.clone());
            Some(EventCopy::DecidedObjection(id, o))
        }
    };
    let before = chain::canonical_of(&current);
    let after = chain::canonical_of(&next);
    let seq = chain
        .append(
            tx,
            audit,
            Record {
                entry: Some(current.id),
                entry_id: Some(&next.entry_id),
                version: Some(next.version),
                before: Some(&before),
                after: Some(&after),
                event: copy.as_ref(),
                info: None,
                key: None,
                department: None,
            },
        )
        .await?;
    insert_history(tx, &next, audit, seq, Some(&before), Some(&after)).await?;
    if let Some(copy) = &copy {
        insert_event(tx, current.id, seq, copy).await?;
    }
    Ok(next)
}

/// Writes one chunk of new entries (at most [`BATCH`]) with their
/// parties, audit records and history rows, assigning them the ids from
/// `next_id` on; each table's rows in one round trip. The entries go as
/// single-row statements ([`sql::insert_each`]): a multi-row one kept a
/// statement journal of every index page it changed, and the entries'
/// random-keyed indexes (name, code, natural key …) change a page per
/// row. The other tables are appended in key order (a page or two per
/// statement to journal), so they stay multi-row: sqlx-sqlite answers
/// every statement with a message from its thread, and each message
/// wakes this task (3.5 per entry cost more than those journals).
async fn insert_batch(
    tx: &mut Tx,
    chain: &mut Appender,
    audit: &Audit,
    chunk: &[PreparedEntry],
    next_id: &mut i64,
    ids: &mut Vec<i64>,
) -> Result<()> {
    let at_text = ts(audit.at_stored());
    let first = *next_id;
    let sql = sql::insert_each(sql::ENTRIES_ID_HEAD, chunk.len());
    let mut q = sqlx::query(&sql);
    for (id, p) in (first..).zip(chunk) {
        let e = &p.new;
        q = bind_entry(
            q.bind(id).bind(e.entry_id.as_str()),
            (&e.department, e.stage, 1),
            &e.data,
            &p.details,
            at_text.clone(),
        )
        .bind(at_text.as_str());
    }
    q.execute(&mut **tx).await.map_err(|e| {
        match StoreError::constraint(e, "entry") {
            StoreError::ForeignKey { .. } => StoreError::ForeignKey {
                what: "department",
                detail: "an entry of the batch names an unknown department"
                    .into(),
            },
            e => e,
        }
    })?;
    *next_id += chunk.len() as i64;
    let parties: Vec<(i64, i64, &RelatedParty)> = (first..)
        .zip(chunk)
        .flat_map(|(id, p)| {
            p.new
                .data
                .related
                .iter()
                .enumerate()
                .map(move |(i, r)| (id, i as i64, r))
        })
        .collect();
    for pc in parties.chunks(BATCH) {
        let sql = sql::insert_rows(sql::PARTIES_HEAD, pc.len(), "", ANON);
        let mut q = sqlx::query(&sql);
        for (entry, position, p) in pc {
            q = q
                .bind(*entry)
                .bind(*position)
                .bind(p.role.code())
                .bind(p.name.as_str())
                .bind(p.id_type.code())
                .bind(p.id_number.as_deref());
        }
        q.execute(&mut **tx).await?;
    }
    let mut records = Vec::with_capacity(chunk.len());
    for (id, p) in (first..).zip(chunk) {
        records.push(chain.make_digested(
            audit,
            Record {
                entry: Some(id),
                entry_id: Some(&p.new.entry_id),
                version: Some(1),
                before: None,
                after: None,
                event: None,
                info: None,
                key: None,
                department: None,
            },
            None,
            Some(p.after_digest.clone()),
        )?);
    }
    insert_audit_rows(tx, audit, &records).await?;
    let sql = sql::insert_rows(sql::HISTORY_HEAD, chunk.len(), "", ANON);
    let mut q = sqlx::query(&sql);
    for (id, r) in (first..).zip(&records) {
        q = q
            .bind(id)
            .bind(1i64)
            .bind(audit.action.as_str())
            .bind(at_text.as_str())
            .bind(audit.key_id.as_str())
            .bind(audit.department.as_str())
            .bind(r.seq)
            .bind(None::<&str>)
            // A first version's state is the entry row (migration 0002).
            .bind(None::<&str>);
    }
    q.execute(&mut **tx).await?;
    ids.extend(first..*next_id);
    Ok(())
}

/// The id the next inserted entry gets: after the largest, as SQLite
/// assigns it. Read under the write lock (after the audit head).
async fn next_entry_id(tx: &mut Tx) -> Result<i64> {
    let row = sqlx::query(sql::MAX_ENTRY_ID).fetch_one(&mut **tx).await?;
    Ok(row.try_get::<i64, _>("id")? + 1)
}

async fn insert_one(
    tx: &mut Tx,
    chain: &mut Appender,
    audit: &Audit,
    new: &NewEntry,
) -> Result<StoredEntry> {
    if new.entry_id.trim().is_empty() {
        return Err(StoreError::Invalid {
            field: "entry_id",
            message: "an entry needs its 记录编号".into(),
        });
    }
    let at = audit.at_stored();
    let mut stored = StoredEntry {
        id: 0,
        entry_id: new.entry_id.clone(),
        department: new.department.clone(),
        stage: new.stage,
        version: 1,
        data: new.data.clone(),
        created_at: at,
        updated_at: at,
    };
    let details = details_json(&stored.data)?;
    let q = sqlx::query(sql::INSERT_ENTRY).bind(&stored.entry_id);
    let row = bind_entry(
        q,
        (&stored.department, stored.stage, 1),
        &stored.data,
        &details,
        ts(at),
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| match StoreError::constraint(e, "entry") {
        StoreError::Duplicate { .. } => StoreError::Duplicate {
            what: "entry",
            detail: format!("entry id {}", new.entry_id),
        },
        StoreError::ForeignKey { .. } => StoreError::ForeignKey {
            what: "department",
            detail: format!("{} is not a known department", new.department),
        },
        e => e,
    })?;
    stored.id = row.try_get("id")?;
    insert_parties(tx, stored.id, &stored.data.related).await?;
    let after = chain::canonical_of(&stored);
    let seq = chain
        .append(
            tx,
            audit,
            Record {
                entry: Some(stored.id),
                entry_id: Some(&stored.entry_id),
                version: Some(1),
                before: None,
                after: Some(&after),
                event: None,
                info: None,
                key: None,
                department: None,
            },
        )
        .await?;
    // A first version's state is the entry row (migration 0002).
    insert_history(tx, &stored, audit, seq, None, None).await?;
    Ok(stored)
}

/// Binds the entry's columns $2..$28 of INSERT_ENTRY / UPDATE_ENTRY.
fn bind_entry<'q>(
    q: Query<'q>,
    (department, stage, version): (&'q str, Stage, i64),
    d: &'q EntryData,
    details: &'q EncodedDetails,
    at: String,
) -> Query<'q> {
    let f = &d.facts;
    q.bind(department)
        .bind(stage.code())
        .bind(version)
        .bind(d.list.code())
        .bind(d.subject_kind.code())
        .bind(&d.name)
        .bind(&d.code)
        .bind(chain::category_code(d))
        .bind(d.severity.map(|s| s.code()))
        .bind(&d.authority)
        .bind(d.document_number.as_deref())
        .bind(d.listed_on)
        .bind(d.valid_until)
        .bind(d.removed_on)
        .bind(f.min_period_end)
        .bind(f.max_period_end)
        .bind(f.publicity_deadline)
        .bind(f.published_on)
        .bind(f.rectification_deadline)
        .bind(f.review_deadline)
        .bind(&details.json)
        .bind(at)
        .bind(details.secondary_ids.as_deref())
        .bind(&d.reason)
        .bind(&d.basis)
        .bind(d.removal_reason.as_deref())
        .bind(d.removal_authority.as_deref())
}

async fn insert_parties(
    tx: &mut Tx,
    entry: i64,
    parties: &[RelatedParty],
) -> Result<()> {
    for (i, p) in parties.iter().enumerate() {
        sqlx::query(sql::INSERT_PARTY)
            .bind(entry)
            .bind(i as i64)
            .bind(p.role.code())
            .bind(&p.name)
            .bind(p.id_type.code())
            .bind(p.id_number.as_deref())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn insert_history(
    tx: &mut Tx,
    e: &StoredEntry,
    audit: &Audit,
    seq: i64,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<()> {
    sqlx::query(sql::INSERT_HISTORY)
        .bind(e.id)
        .bind(e.version)
        .bind(&audit.action)
        .bind(ts(audit.at_stored()))
        .bind(&audit.key_id)
        .bind(&audit.department)
        .bind(seq)
        .bind(before)
        .bind(after)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn put_idempotency(tx: &mut Tx, rec: &IdempotencyRecord) -> Result<()> {
    sqlx::query(sql::IDEMPOTENCY_PUT)
        .bind(&rec.key_id)
        .bind(&rec.idem_key)
        .bind(&rec.request_digest)
        .bind(i64::from(rec.status))
        .bind(&rec.response)
        .bind(rec.entry)
        .bind(ts(rec.created_at))
        .execute(&mut **tx)
        .await
        .map_err(|e| match StoreError::constraint(e, "idempotency key") {
            StoreError::Duplicate { what, .. } => StoreError::Duplicate {
                what,
                detail: format!(
                    "key {} already used {}",
                    rec.key_id, rec.idem_key
                ),
            },
            e => e,
        })?;
    Ok(())
}

fn bind_args<'q>(mut q: Query<'q>, args: &'q [Arg]) -> Query<'q> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(i) => q.bind(*i),
            Arg::Date(d) => q.bind(*d),
        };
    }
    q
}

fn decode_cursor(c: &str, kind: char) -> Result<i64> {
    c.strip_prefix(kind)
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| StoreError::Invalid {
            field: "cursor",
            message: format!(
                "'{c}' is not a cursor this listing returned (pass the \
                 `next` of the previous page unchanged)"
            ),
        })
}

fn random<const N: usize>() -> [u8; N] {
    use rand::TryRngCore;
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source");
    bytes
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

// ---- reading rows ------------------------------------------------------

fn corrupt(
    table: &'static str,
    row: impl ToString,
    column: &'static str,
    message: impl ToString,
) -> StoreError {
    StoreError::Corrupt {
        table,
        row: row.to_string(),
        column,
        message: message.to_string(),
    }
}

fn time(
    table: &'static str,
    row: &str,
    column: &'static str,
    s: &str,
) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(table, row, column, format!("'{s}': {e}")))
}

fn entry_from_row(r: &SqliteRow) -> Result<StoredEntry> {
    let id: i64 = r.try_get("id")?;
    let bad =
        |column, e: &dyn std::fmt::Display| corrupt("entries", id, column, e);
    let text =
        |column: &'static str| -> Result<String> { Ok(r.try_get(column)?) };
    let stage = parse_stage(&text("stage")?).map_err(|e| bad("stage", &e))?;
    let list = ListKind::parse(&text("list")?).map_err(|e| bad("list", &e))?;
    let subject_kind = SubjectKind::parse(&text("subject_kind")?)
        .map_err(|e| bad("subject_kind", &e))?;
    let category = Category::parse(&text("category")?)
        .map_err(|e| bad("category", &e))?
        .id();
    let severity = r
        .try_get::<Option<String>, _>("severity")?
        .map(|s| Severity::parse(&s))
        .transpose()
        .map_err(|e| bad("severity", &e))?;
    let details: Details = serde_json::from_str(&text("details")?)
        .map_err(|e| bad("details", &e))?;
    let secondary_ids = secondary_ids(r.try_get("secondary_ids")?)
        .map_err(|e| bad("secondary_ids", &e))?;
    let date = |column: &'static str| -> Result<Option<NaiveDate>> {
        Ok(r.try_get(column)?)
    };
    let created_at =
        time("entries", &id.to_string(), "created_at", &text("created_at")?)?;
    let updated_at =
        time("entries", &id.to_string(), "updated_at", &text("updated_at")?)?;
    Ok(StoredEntry {
        id,
        entry_id: text("entry_id")?,
        department: text("department")?,
        stage,
        version: r.try_get("version")?,
        data: EntryData {
            list,
            subject_kind,
            name: text("name")?,
            code: text("code")?,
            secondary_ids,
            category,
            reason: text("reason")?,
            basis: text("basis")?,
            authority: text("authority")?,
            document_number: r.try_get("document_number")?,
            listed_on: date("listed_on")?,
            valid_until: date("valid_until")?,
            severity,
            removal_reason: r.try_get("removal_reason")?,
            removed_on: date("removed_on")?,
            removal_authority: r.try_get("removal_authority")?,
            related: Vec::new(),
            facts: Facts {
                notice: details.notice,
                statement: details.statement,
                scenarios: details.scenarios,
                min_period_end: date("min_period_end")?,
                max_period_end: date("max_period_end")?,
                publicity_deadline: date("publicity_deadline")?,
                published_on: date("published_on")?,
                rectification_deadline: date("rectification_deadline")?,
                ban: details.ban,
                review_deadline: date("review_deadline")?,
                extra: details.extra,
            },
        },
        created_at,
        updated_at,
    })
}

/// The `secondary_ids` column: a JSON array of strings, or NULL for none.
fn secondary_ids(
    column: Option<&str>,
) -> Result<Vec<String>, serde_json::Error> {
    column.map_or(Ok(Vec::new()), serde_json::from_str)
}

fn party_from_row(r: &SqliteRow, entry: i64) -> Result<Option<RelatedParty>> {
    let Some(position) = r.try_get::<Option<i64>, _>("p_position")? else {
        return Ok(None);
    };
    let row = format!("{entry}/{position}");
    let role: String = r.try_get("p_role")?;
    let id_type: String = r.try_get("p_id_type")?;
    Ok(Some(RelatedParty {
        role: PartyRole::parse(&role)
            .map_err(|e| corrupt("related_parties", &row, "role", e))?,
        name: r.try_get("p_name")?,
        id_type: IdType::parse(&id_type)
            .map_err(|e| corrupt("related_parties", &row, "id_type", e))?,
        id_number: r.try_get("p_id_number")?,
    }))
}

/// Groups joined rows (one per related party) into entries.
fn group_all(rows: &[SqliteRow]) -> Result<Vec<StoredEntry>> {
    let mut out: Vec<StoredEntry> = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        if out.last().is_none_or(|e| e.id != id) {
            out.push(entry_from_row(row)?);
        }
        let e = out.last_mut().expect("pushed above");
        if let Some(p) = party_from_row(row, id)? {
            e.data.related.push(p);
        }
    }
    Ok(out)
}

/// Groups a stream of joined rows into entries, each with its first row
/// (for the extra columns a query adds).
fn grouped<'a>(
    rows: BoxStream<'a, Result<SqliteRow, sqlx::Error>>,
) -> BoxStream<'a, Result<(StoredEntry, SqliteRow)>> {
    struct State<'a> {
        rows: BoxStream<'a, Result<SqliteRow, sqlx::Error>>,
        pending: Option<(StoredEntry, SqliteRow)>,
        done: bool,
    }
    async fn step(
        st: &mut State<'_>,
    ) -> Option<Result<(StoredEntry, SqliteRow)>> {
        loop {
            let row = match st.rows.next().await {
                None => {
                    st.done = true;
                    return st.pending.take().map(Ok);
                }
                Some(Err(e)) => return Some(Err(e.into())),
                Some(Ok(row)) => row,
            };
            let id: i64 = match row.try_get("id") {
                Ok(id) => id,
                Err(e) => return Some(Err(e.into())),
            };
            let party = match party_from_row(&row, id) {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            if let Some((e, _)) =
                st.pending.as_mut().filter(|(e, _)| e.id == id)
            {
                e.data.related.extend(party);
                continue;
            }
            let mut entry = match entry_from_row(&row) {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            entry.data.related.extend(party);
            if let Some(prev) = st.pending.replace((entry, row)) {
                return Some(Ok(prev));
            }
        }
    }
    let state = State { rows, pending: None, done: false };
    stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let item = step(&mut st).await?;
        if item.is_err() {
            st.done = true;
        }
        Some((item, st))
    })
    .boxed()
}

/// The JSON array of an in-force row (`IN_FORCE`), in column order.
#[derive(Deserialize)]
struct Packed<'a> {
    entry_id: String,
    #[serde(borrow)]
    stage: Cow<'a, str>,
    #[serde(borrow)]
    list: Cow<'a, str>,
    #[serde(borrow)]
    subject_kind: Cow<'a, str>,
    name: String,
    code: String,
    #[serde(borrow)]
    category: Cow<'a, str>,
    #[serde(borrow)]
    severity: Option<Cow<'a, str>>,
    authority: String,
    document_number: Option<String>,
    listed_on: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    removed_on: Option<NaiveDate>,
    secondary_ids: Option<Vec<String>>,
    reason: String,
    basis: String,
    removal_reason: Option<String>,
    removal_authority: Option<String>,
    #[serde(borrow)]
    parties: Vec<PackedParty<'a>>,
}

/// A related party in [`Packed`]: position, role, name, id type, number.
#[derive(Deserialize)]
struct PackedParty<'a>(
    i64,
    #[serde(borrow)] Cow<'a, str>,
    String,
    #[serde(borrow)] Cow<'a, str>,
    Option<String>,
);

/// An entry of the in-force query, decoded straight into the snapshot's
/// `Entry` (no `StoredEntry` between, no lifecycle dates or details).
fn in_force_entry(r: &SqliteRow) -> Result<credgate_model::Entry> {
    let id: i64 = r.try_get(0)?;
    let bad =
        |column, e: &dyn std::fmt::Display| corrupt("entries", id, column, e);
    let text: &str = r.try_get(1)?;
    let p: Packed<'_> =
        serde_json::from_str(text).map_err(|e| bad("(in force)", &e))?;
    let stage = parse_stage(&p.stage).map_err(|e| bad("stage", &e))?;
    // The query selects only stages in force, so a `None` is a bug in it.
    let status = stage
        .screening_status()
        .ok_or_else(|| bad("stage", &format!("{stage} is not in force")))?;
    // An entry in force without its decision: an error, never a silent
    // skip.
    let (Some(document_number), Some(listed_on)) =
        (p.document_number, p.listed_on)
    else {
        return Err(StoreError::Invalid {
            field: "document_number",
            message: format!(
                "entry {} is {stage} without a decision (document number \
                 and decision date are required in force)",
                p.entry_id
            ),
        });
    };
    let severity = p
        .severity
        .map(|s| Severity::parse(&s))
        .transpose()
        .map_err(|e| bad("severity", &e))?;
    let mut parties = p.parties;
    parties.sort_unstable_by_key(|q| q.0);
    let related = parties
        .into_iter()
        .map(|PackedParty(position, role, name, id_type, id_number)| {
            let bad = |column, e: &dyn std::fmt::Display| {
                corrupt(
                    "related_parties",
                    format!("{id}/{position}"),
                    column,
                    e,
                )
            };
            Ok(RelatedParty {
                role: PartyRole::parse(&role).map_err(|e| bad("role", &e))?,
                name,
                id_type: IdType::parse(&id_type)
                    .map_err(|e| bad("id_type", &e))?,
                id_number,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(credgate_model::Entry {
        entry_id: p.entry_id,
        list: ListKind::parse(&p.list).map_err(|e| bad("list", &e))?,
        subject_kind: SubjectKind::parse(&p.subject_kind)
            .map_err(|e| bad("subject_kind", &e))?,
        name: p.name,
        code: p.code,
        secondary_ids: p.secondary_ids.unwrap_or_default(),
        category: Category::parse(&p.category)
            .map_err(|e| bad("category", &e))?
            .id(),
        reason: p.reason,
        basis: p.basis,
        authority: p.authority,
        document_number,
        listed_on,
        valid_until: p.valid_until,
        severity,
        status,
        removal_reason: p.removal_reason,
        removed_on: p.removed_on,
        removal_authority: p.removal_authority,
        related,
    })
}

/// A history row; its `after` is `None` on a first version (migration
/// 0002), filled in by [`complete_history`].
fn history_from_row(r: &SqliteRow) -> Result<(HistoryItem, Option<String>)> {
    let at: String = r.try_get("at")?;
    let version: i64 = r.try_get("version")?;
    Ok((
        HistoryItem {
            version,
            action: r.try_get("action")?,
            at: time("entry_history", &version.to_string(), "at", &at)?,
            key_id: r.try_get("key_id")?,
            department: r.try_get("department")?,
            audit_seq: r.try_get("audit_seq")?,
            before: r.try_get("before")?,
            after: String::new(),
        },
        r.try_get("after")?,
    ))
}

/// An entry's history (oldest first) with every `after`: a row stored
/// without one (a first version) takes the next version's `before`, or,
/// at the entry's current version, the entry's own canonical JSON.
fn complete_history(
    entry: &StoredEntry,
    rows: Vec<(HistoryItem, Option<String>)>,
) -> Result<Vec<HistoryItem>> {
    let befores: Vec<Option<String>> =
        rows.iter().skip(1).map(|(h, _)| h.before.clone()).collect();
    let mut out = Vec::with_capacity(rows.len());
    for (i, (mut item, after)) in rows.into_iter().enumerate() {
        item.after = match after {
            Some(a) => a,
            None => match befores.get(i) {
                Some(Some(b)) => b.clone(),
                Some(None) => {
                    return Err(corrupt(
                        "entry_history",
                        format!("{}/{}", entry.entry_id, item.version + 1),
                        "before",
                        "a later version without the state before it",
                    ));
                }
                None if item.version == entry.version => {
                    chain::canonical_of(entry)
                }
                None => {
                    return Err(corrupt(
                        "entry_history",
                        format!("{}/{}", entry.entry_id, item.version),
                        "after",
                        format!(
                            "absent, and the entry is at version {}",
                            entry.version
                        ),
                    ));
                }
            },
        };
        out.push(item);
    }
    Ok(out)
}

fn interview_from_row(r: &SqliteRow) -> Result<(i64, Interview)> {
    let id: i64 = r.try_get("id")?;
    let kind: String = r.try_get("kind")?;
    Ok((
        id,
        Interview {
            held_on: r.try_get("held_on")?,
            kind: parse_interview_kind(&kind)
                .map_err(|e| corrupt("interviews", id, "kind", e))?,
            note: r.try_get("note")?,
        },
    ))
}

fn objection_from_row(r: &SqliteRow) -> Result<(i64, Objection)> {
    let id: i64 = r.try_get("id")?;
    let outcome = r
        .try_get::<Option<String>, _>("outcome")?
        .map(|s| ObjectionOutcome::parse(&s))
        .transpose()
        .map_err(|e| corrupt("objections", id, "outcome", e))?;
    Ok((
        id,
        Objection {
            received_on: r.try_get("received_on")?,
            applicant: r.try_get("applicant")?,
            grounds: r.try_get("grounds")?,
            review_deadline: r.try_get("review_deadline")?,
            decided_on: r.try_get("decided_on")?,
            outcome,
            decision: r.try_get("decision")?,
        },
    ))
}

fn repair_from_row(r: &SqliteRow) -> Result<(i64, Repair)> {
    Ok((
        r.try_get("id")?,
        Repair {
            repaired_on: r.try_get("repaired_on")?,
            commitment: r.try_get("commitment")?,
            note: r.try_get("note")?,
        },
    ))
}

fn key_from_row(r: &SqliteRow) -> Result<ApiKey> {
    let id: String = r.try_get("id")?;
    let roles: String = r.try_get("roles")?;
    let roles = roles
        .split(',')
        .filter(|s| !s.is_empty())
        .map(Role::parse)
        .collect::<Result<Vec<_>>>()
        .map_err(|e| corrupt("api_keys", &id, "roles", e))?;
    let created: String = r.try_get("created_at")?;
    let revoked: Option<String> = r.try_get("revoked_at")?;
    Ok(ApiKey {
        name: r.try_get("name")?,
        department: r.try_get("department")?,
        roles,
        sha256: r.try_get("sha256")?,
        created_at: time("api_keys", &id, "created_at", &created)?,
        revoked_at: revoked
            .map(|s| time("api_keys", &id, "revoked_at", &s))
            .transpose()?,
        id,
    })
}

fn idempotency_from_row(r: &SqliteRow) -> Result<IdempotencyRecord> {
    let key_id: String = r.try_get("key_id")?;
    let created: String = r.try_get("created_at")?;
    let status: i64 = r.try_get("status")?;
    Ok(IdempotencyRecord {
        idem_key: r.try_get("idem_key")?,
        request_digest: r.try_get("request_digest")?,
        status: u16::try_from(status)
            .map_err(|e| corrupt("idempotency", &key_id, "status", e))?,
        response: r.try_get("response")?,
        entry: r.try_get("entry")?,
        created_at: time("idempotency", &key_id, "created_at", &created)?,
        key_id,
    })
}

fn publication_from_row(r: &SqliteRow) -> Result<Publication> {
    let id: i64 = r.try_get("id")?;
    let row = id.to_string();
    let started: String = r.try_get("started_at")?;
    let finished: Option<String> = r.try_get("finished_at")?;
    let state: String = r.try_get("state")?;
    let entries: Option<i64> = r.try_get("entries")?;
    Ok(Publication {
        id,
        started_at: time("publications", &row, "started_at", &started)?,
        finished_at: finished
            .map(|s| time("publications", &row, "finished_at", &s))
            .transpose()?,
        state: PublicationState::parse(&state)
            .map_err(|e| corrupt("publications", &row, "state", e))?,
        key_id: r.try_get("key_id")?,
        counts: match entries {
            None => None,
            Some(entries) => Some(PublicationCounts {
                entries,
                active: r.try_get::<Option<i64>, _>("active")?.unwrap_or(0),
                disputed: r
                    .try_get::<Option<i64>, _>("disputed")?
                    .unwrap_or(0),
            }),
        },
        checksum: r.try_get("checksum")?,
        file_name: r.try_get("file_name")?,
        error: r.try_get("error")?,
    })
}

fn audit_from_row(r: &SqliteRow) -> Result<AuditRecord> {
    let seq: i64 = r.try_get("seq")?;
    let at: String = r.try_get("at")?;
    Ok(AuditRecord {
        seq,
        at: time("audit", &seq.to_string(), "at", &at)?,
        key_id: r.try_get("key_id")?,
        department: r.try_get("department")?,
        action: r.try_get("action")?,
        entry_id: r.try_get("entry_id")?,
        digest_before: r.try_get("digest_before")?,
        digest_after: r.try_get("digest_after")?,
        details: r.try_get("details")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
