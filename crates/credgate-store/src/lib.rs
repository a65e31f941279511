//! The admin system of record (issue 10): departments, keys, entries with
//! their related parties, the history of every transition, interviews,
//! objections, repairs, publications, idempotency records and the audit
//! chain, in a database behind [`Store`].
//!
//! **Invariant: every mutation appends its audit record in the same
//! transaction** (the [`Audit`] it is given: time, key, department,
//! action). The record carries the SHA-256 of the entry's canonical JSON
//! before and after, and a hash over its fields and the previous hash;
//! [`Store::verify_audit`] recomputes the chain and every entry's digest
//! and names the first broken record. The one mutation outside the chain
//! is [`Store::idempotency_put`], a cache of answers (a put made with
//! [`Store::insert_entry`] is covered by the entry's record).
//!
//! **No lifecycle rules here**: the store takes an entry's whole new state
//! and its expected version; `credgate-lifecycle` decides what the state
//! may be. A change on another version is [`StoreError::Stale`].
//!
//! Back-ends: SQLite (a file; WAL, `synchronous=FULL`, foreign keys) now,
//! PostgreSQL next. Every statement is in `sql.rs` and portable; a back-end
//! is one module that binds and maps rows, plus its migrations. Tests are
//! functions over [`Store`] (`tests/suite/`) that each back-end runs.

mod chain;
mod error;
mod sql;
mod sqlite;
mod types;

use std::path::Path;

use futures_util::stream::BoxStream;

pub use chain::{GENESIS, PreparedEntry};
pub use error::StoreError;
pub use types::*;

/// The system of record. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($s) => $call,
        }
    };
}

/// The SQLite file of a data directory.
pub const SQLITE_FILE: &str = "credgate.db";

impl Store {
    /// Opens (creating if missing) a SQLite store at `path` and applies
    /// any migration it lacks.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(sqlite::SqliteStore::open(path).await?),
        })
    }

    /// Opens the store of a data directory (`<dir>/credgate.db`).
    pub async fn open_dir(dir: &Path) -> Result<Store, StoreError> {
        Store::open_sqlite(&dir.join(SQLITE_FILE)).await
    }

    /// Waits for connections to finish and closes them.
    pub async fn close(&self) {
        dispatch!(self, s => s.close().await)
    }

    /// Creates a department or renames it.
    pub async fn upsert_department(
        &self,
        audit: &Audit,
        department: &Department,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.upsert_department(audit, department).await)
    }

    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        dispatch!(self, s => s.departments().await)
    }

    /// Makes a key: a random 256-bit secret (`cg_` + 64 hex digits, as
    /// `credgate hash-key` makes) returned once; only its SHA-256 is kept.
    pub async fn create_key(
        &self,
        audit: &Audit,
        key: &NewKey,
    ) -> Result<CreatedKey, StoreError> {
        dispatch!(self, s => s.create_key(audit, key).await)
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        dispatch!(self, s => s.keys().await)
    }

    /// The key whose secret hashes to `sha256` (hex, any case); revoked
    /// keys are returned too: check [`ApiKey::is_active`].
    pub async fn key_by_hash(
        &self,
        sha256: &str,
    ) -> Result<Option<ApiKey>, StoreError> {
        dispatch!(self, s => s.key_by_hash(sha256).await)
    }

    /// Revokes a key (an error if it is unknown or already revoked).
    pub async fn revoke_key(
        &self,
        audit: &Audit,
        id: &str,
    ) -> Result<ApiKey, StoreError> {
        dispatch!(self, s => s.revoke_key(audit, id).await)
    }

    /// Inserts a new entry at version 1. With `idempotency`, its record is
    /// written in the same transaction (its `entry` set to the new id): a
    /// retry finds it, and a key used twice fails the insert whole with
    /// [`StoreError::Duplicate`].
    pub async fn insert_entry(
        &self,
        audit: &Audit,
        entry: &NewEntry,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<StoredEntry, StoreError> {
        dispatch!(self, s => s.insert_entry(audit, entry, idempotency).await)
    }

    /// Inserts many entries in one transaction (all or none), one audit
    /// record and history row each; returns their internal ids in order.
    pub async fn insert_many(
        &self,
        audit: &Audit,
        entries: &[NewEntry],
    ) -> Result<Vec<i64>, StoreError> {
        dispatch!(self, s => s.insert_many(audit, entries).await)
    }

    /// Replaces an entry's state if it is still at `expected_version`;
    /// the version goes up by one, the history and the audit chain get
    /// the before and after, and `change.event` is recorded.
    pub async fn update_entry(
        &self,
        audit: &Audit,
        entry_id: &str,
        expected_version: i64,
        change: &Change,
    ) -> Result<StoredEntry, StoreError> {
        dispatch!(self, s =>
            s.update_entry(audit, entry_id, expected_version, change).await)
    }

    /// An entry with its related parties, full history and events.
    pub async fn entry(
        &self,
        entry_id: &str,
    ) -> Result<Option<EntryDetail>, StoreError> {
        dispatch!(self, s => s.entry(entry_id).await)
    }

    /// An entry by internal id (e.g. an idempotency record's `entry`).
    pub async fn entry_by_id(
        &self,
        id: i64,
    ) -> Result<Option<StoredEntry>, StoreError> {
        dispatch!(self, s => s.entry_by_id(id).await)
    }

    /// The entries of a decision (authority + document number: the
    /// natural key of an import). Several when one case lists several
    /// subjects.
    pub async fn entries_by_natural_key(
        &self,
        authority: &str,
        document_number: &str,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        dispatch!(self, s =>
            s.entries_by_natural_key(authority, document_number).await)
    }

    /// One page of entries in internal-id order (insertion order), after
    /// `cursor` (the `next` of the previous page). Entries inserted while
    /// paging appear at the end; none is returned twice.
    pub async fn list_entries(
        &self,
        filter: &EntryFilter,
        cursor: Option<&str>,
    ) -> Result<Page<StoredEntry>, StoreError> {
        dispatch!(self, s => s.list_entries(filter, cursor).await)
    }

    /// Every entry in force as screening sees it: published entries as
    /// `active`, disputed ones as `disputed`, in internal-id order, read
    /// in one statement (one consistent state).
    pub fn in_force_entries(
        &self,
    ) -> BoxStream<'_, Result<credgate_model::Entry, StoreError>> {
        dispatch!(self, s => s.in_force_entries())
    }

    /// The audit chain's head: the last sequence number and its hash.
    /// It moves with every change, so a publisher compares it to tell
    /// whether anything changed since its last publication.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        dispatch!(self, s => s.audit_head().await)
    }

    /// Opens one transaction for a bulk change (an import): everything
    /// written through the [`BulkWriter`] is committed together by
    /// [`BulkWriter::commit`], or not at all (dropped, or the process
    /// killed). It holds the write lock until then.
    pub async fn begin_bulk(&self) -> Result<BulkWriter, StoreError> {
        Ok(BulkWriter {
            inner: match &self.backend {
                Backend::Sqlite(s) => BulkInner::Sqlite(s.begin_bulk().await?),
            },
        })
    }

    pub async fn idempotency_get(
        &self,
        key_id: &str,
        idem_key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        dispatch!(self, s => s.idempotency_get(key_id, idem_key).await)
    }

    /// Stores the first answer to a request; a second put of the same
    /// (key id, idempotency key) is [`StoreError::Duplicate`].
    pub async fn idempotency_put(
        &self,
        record: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.idempotency_put(record).await)
    }

    /// Records a publication as pending; its id is its sequence number.
    pub async fn publication_begin(
        &self,
        audit: &Audit,
    ) -> Result<Publication, StoreError> {
        dispatch!(self, s => s.publication_begin(audit).await)
    }

    /// Ends a pending publication (an error if it is not pending).
    pub async fn publication_finish(
        &self,
        audit: &Audit,
        id: i64,
        outcome: &PublicationOutcome,
    ) -> Result<Publication, StoreError> {
        dispatch!(self, s => s.publication_finish(audit, id, outcome).await)
    }

    /// The latest `limit` publications, newest first.
    pub async fn publications(
        &self,
        limit: u32,
    ) -> Result<Vec<Publication>, StoreError> {
        dispatch!(self, s => s.publications(limit).await)
    }

    /// One page of audit records in sequence order.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
    ) -> Result<Page<AuditRecord>, StoreError> {
        dispatch!(self, s => s.audit_page(filter, cursor).await)
    }

    /// The audit record with this sequence number, if there is one.
    pub async fn audit_record(
        &self,
        seq: i64,
    ) -> Result<Option<AuditRecord>, StoreError> {
        dispatch!(self, s => s.audit_record(seq).await)
    }

    /// Recomputes the chain (sequence, links, hashes, head), every entry's
    /// digest against its last record, every history row and every event
    /// row: `Ok(Err(break))` names the first broken record.
    pub async fn verify_audit(&self) -> Result<VerifyReport, StoreError> {
        dispatch!(self, s => s.verify_audit().await)
    }
}

/// A bulk change in one transaction ([`Store::begin_bulk`]): inserts and
/// updates as [`Store::insert_many`] and [`Store::update_entry`] make
/// them (an audit record and a history row each), committed together.
#[derive(Debug)]
pub struct BulkWriter {
    inner: BulkInner,
}

#[derive(Debug)]
enum BulkInner {
    Sqlite(sqlite::SqliteBulk),
}

impl BulkWriter {
    /// Every entry (any stage, with its parties) as this transaction sees
    /// it, in internal-id order.
    pub fn all_entries(
        &mut self,
    ) -> BoxStream<'_, Result<StoredEntry, StoreError>> {
        match &mut self.inner {
            BulkInner::Sqlite(b) => b.all_entries(),
        }
    }

    /// Inserts new entries at version 1 (made ready by
    /// [`PreparedEntry::new`], on any thread); returns their internal ids.
    pub async fn insert(
        &mut self,
        audit: &Audit,
        entries: &[PreparedEntry],
    ) -> Result<Vec<i64>, StoreError> {
        match &mut self.inner {
            BulkInner::Sqlite(b) => b.insert(audit, entries).await,
        }
    }

    /// Changes an entry as [`Store::update_entry`] does.
    pub async fn update(
        &mut self,
        audit: &Audit,
        entry_id: &str,
        expected_version: i64,
        change: &Change,
    ) -> Result<StoredEntry, StoreError> {
        match &mut self.inner {
            BulkInner::Sqlite(b) => {
                b.update(audit, entry_id, expected_version, change).await
            }
        }
    }

    /// Writes the chain's head and commits everything.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            BulkInner::Sqlite(b) => b.commit().await,
        }
    }
}
