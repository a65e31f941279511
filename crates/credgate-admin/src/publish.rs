//! Publishing (issue 10 item 7): the store's entries in force become a
//! screening snapshot.
//!
//! 1. The publication is recorded as `pending` (its id names its file:
//!    `publication-NNNNNN.snapshot`, so a restart can find it).
//! 2. The entries in force (`Store::in_force_entries`: published as
//!    `active`, disputed as `disputed`) stream straight into the builder
//!    (`credgate_index::build_entries`, on a blocking thread, fed in
//!    batches through a bounded channel): no intermediate file.
//! 3. The builder writes the snapshot into the service's inbox: a hidden
//!    temporary file, synced, renamed, the directory synced — the service
//!    never sees half a file.
//! 4. In one process, the caller's [`Activate`] has the service take,
//!    verify and swap to it at once; otherwise the service's watcher
//!    takes it.
//! 5. The publication is finished: `done` with counts, SHA-256 and file
//!    name, or `failed` with the error.
//!
//! **A crash at any step is resolved at the next start** ([`recover`]):
//! a pending publication whose file is complete and verifies is finished
//! as done (it is what the service serves or will serve); otherwise it is
//! failed and any temporary snapshot removed (and the work file that
//! publications before streaming wrote).

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use credgate_index::Snapshot;
use credgate_model::{Entry, EntryStatus};
use credgate_store::{
    Audit, Publication, PublicationCounts, PublicationOutcome,
    PublicationState, Store, StoreError,
};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::failpoint;

/// Where a publication writes.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    /// The snapshot inbox the screening service watches.
    pub inbox: PathBuf,
    /// The service's accepted directory, where a taken file moves (a
    /// restart looks for a pending publication's file there too).
    pub accepted: PathBuf,
    /// The publisher's own work directory (publications before streaming
    /// wrote their export file here; a restart still removes one).
    pub work_dir: PathBuf,
    /// Marks the snapshot as synthetic (the demo's).
    pub synthetic: bool,
}

/// Has the running service take a published file now (one process):
/// returns the version it serves afterwards, or why it refused the file.
/// Called on a blocking thread (it verifies the whole file).
pub trait Activate: Send + Sync + std::fmt::Debug {
    fn activate(&self, file_name: &str) -> Result<String, String>;
}

/// Publishing in a running service: one publication at a time, and
/// whether anything changed since the last one (for publishing every N
/// minutes).
#[derive(Debug)]
pub struct Publisher {
    pub cfg: PublishConfig,
    pub activate: Option<Arc<dyn Activate>>,
    /// The audit head's sequence just after the last publication this
    /// process made or found done; `None`: unknown (publish on the next
    /// periodic turn). Held during a publication, which serialises them.
    last: tokio::sync::Mutex<Option<i64>>,
    /// The service's store write turn (`Admin::writes`), taken for the
    /// publication's two records (not for the build): they then queue
    /// with transitions and imports instead of meeting them in SQLite's
    /// busy handler.
    turn: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Publisher {
    pub fn new(
        cfg: PublishConfig,
        activate: Option<Arc<dyn Activate>>,
    ) -> Publisher {
        Publisher {
            cfg,
            activate,
            last: tokio::sync::Mutex::new(None),
            turn: None,
        }
    }

    /// Takes `turn` (the admin service's write turn) around the
    /// publication's store writes.
    pub fn with_write_turn(
        mut self,
        turn: Arc<tokio::sync::Mutex<()>>,
    ) -> Publisher {
        self.turn = Some(turn);
        self
    }

    /// At start: resolves publications a stop left pending, and takes
    /// the store as published if its newest publication is done and
    /// nothing was recorded since (the head is its finish record).
    pub async fn start(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<Vec<Publication>, StoreError> {
        let mut last = self.last.lock().await;
        let resolved = recover(store, &self.cfg, now).await?;
        let newest = store.publications(1).await?.into_iter().next();
        let (head, _) = store.audit_head().await?;
        if let Some(p) = newest.filter(|p| p.state == PublicationState::Done) {
            // The finish record of the newest publication is the head
            // when nothing changed since: one record is read, not every
            // publication ever made.
            let head_is_publish = store
                .audit_record(head)
                .await?
                .is_some_and(|r| r.action == "publish");
            if head_is_publish && p.finished_at.is_some() {
                *last = Some(head);
            }
        }
        Ok(resolved)
    }

    /// At start, when the published snapshot cannot be served (a newer
    /// credgate reads only its own format version, or the file was
    /// removed): publishes the store again, so that an upgrade serves
    /// what was live, but only when nothing was recorded since its last
    /// publication and that one is done (what [`Publisher::start`]
    /// found): the entries in force are then the ones that publication
    /// held. Changes since are a department's to publish, and a store
    /// never published stays so (an empty list served by default would
    /// clear everyone).
    pub async fn republish_if_lost(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<Republish, PublishError> {
        if store.publications(1).await?.is_empty() {
            return Ok(Republish::NeverPublished);
        }
        if self.last.lock().await.is_none() {
            return Ok(Republish::ChangedSince);
        }
        self.publish(store, "startup", "system", now)
            .await
            .map(Republish::Published)
    }

    /// Publishes now (waiting for a publication in progress).
    pub async fn publish(
        &self,
        store: &Store,
        key_id: &str,
        department: &str,
        now: DateTime<Utc>,
    ) -> Result<Publication, PublishError> {
        let mut last = self.last.lock().await;
        let result = publish_in_turn(
            store,
            &self.cfg,
            key_id,
            department,
            now,
            self.activate.clone(),
            self.turn.as_deref(),
        )
        .await;
        if result.is_ok() {
            *last = Some(store.audit_head().await?.0);
        }
        result
    }

    /// Publishes if anything was recorded since the last publication;
    /// `None` when nothing changed.
    pub async fn publish_if_changed(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<Option<Publication>, PublishError> {
        {
            let last = self.last.lock().await;
            if *last == Some(store.audit_head().await?.0) {
                return Ok(None);
            }
        }
        self.publish(store, "scheduler", "system", now).await.map(Some)
    }
}

/// What [`Publisher::republish_if_lost`] did.
#[derive(Debug)]
pub enum Republish {
    /// Published the store again: the publication made.
    Published(Publication),
    /// Nothing was ever published: nothing to serve until a department
    /// publishes.
    NeverPublished,
    /// Changes were recorded since the last publication, or it did not
    /// finish `done`: left for an operator to publish.
    ChangedSince,
}

/// Why a publication could not be made (it is recorded as failed when it
/// got as far as being recorded).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("publication {id} failed: {message}")]
    Failed { id: i64, message: String },
}

/// The file a publication writes.
pub fn file_name(id: i64) -> String {
    format!("publication-{id:06}.snapshot")
}

/// The work file of a publication made before publishing streamed (a
/// pending one from then is cleaned at restart).
fn export_path(cfg: &PublishConfig, id: i64) -> PathBuf {
    cfg.work_dir.join(format!("publication-{id:06}.entries.csv"))
}

/// Publishes the store's entries in force. `who` is the audit's key and
/// department; `now` the time recorded.
pub async fn publish(
    store: &Store,
    cfg: &PublishConfig,
    key_id: &str,
    department: &str,
    now: DateTime<Utc>,
    activate: Option<Arc<dyn Activate>>,
) -> Result<Publication, PublishError> {
    publish_in_turn(store, cfg, key_id, department, now, activate, None).await
}

/// [`publish`], taking `turn` (when given) around each store write.
async fn publish_in_turn(
    store: &Store,
    cfg: &PublishConfig,
    key_id: &str,
    department: &str,
    now: DateTime<Utc>,
    activate: Option<Arc<dyn Activate>>,
    turn: Option<&tokio::sync::Mutex<()>>,
) -> Result<Publication, PublishError> {
    async fn hold(
        turn: Option<&tokio::sync::Mutex<()>>,
    ) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match turn {
            Some(t) => Some(t.lock().await),
            None => None,
        }
    }
    let audit = Audit::new(now, key_id, department, "publish");
    let p = {
        let _turn = hold(turn).await;
        store.publication_begin(&audit).await?
    };
    let started = std::time::Instant::now();
    failpoint::hit("publish:after_begin");
    let outcome = match make(store, cfg, p.id, activate).await {
        Ok(done) => done,
        Err(message) => PublicationOutcome::Failed { error: message },
    };
    // The caller's time plus what the publication took.
    let took =
        chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let audit = Audit { at: now + took, ..audit };
    let finished = {
        let _turn = hold(turn).await;
        store.publication_finish(&audit, p.id, &outcome).await?
    };
    match outcome {
        PublicationOutcome::Failed { error } => {
            Err(PublishError::Failed { id: p.id, message: error })
        }
        PublicationOutcome::Done { .. } => Ok(finished),
    }
}

/// Steps 2–4; an error is the publication's failure.
async fn make(
    store: &Store,
    cfg: &PublishConfig,
    id: i64,
    activate: Option<Arc<dyn Activate>>,
) -> Result<PublicationOutcome, String> {
    let name = file_name(id);
    for d in [&cfg.inbox, &cfg.work_dir] {
        std::fs::create_dir_all(d)
            .map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    let out = cfg.inbox.join(&name);
    let opts = credgate_index::BuildOptions {
        synthetic: cfg.synthetic,
        // The build time orders snapshots in the service: a fact of the
        // file, from the machine's clock (never a test's fixed clock).
        built_at: Some(Utc::now().timestamp()),
        ..Default::default()
    };
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_BATCHES);
    let build = tokio::task::spawn_blocking(move || {
        let entries = Received { rx, batch: Vec::new().into_iter() };
        credgate_index::build_entries(entries, &out, &opts, &|_| {})
    });
    let fed = feed(store, tx).await;
    let built = build
        .await
        .map_err(|e| format!("building the snapshot: {e}"))?
        .map_err(|e| format!("building the snapshot: {e}"));
    // A store error is the cause of the build's own error about it.
    let counts = fed?;
    let report = built?;
    if report.entries != counts.entries as u64 {
        return Err(format!(
            "the snapshot has {} entries, the store streamed {}",
            report.entries, counts.entries
        ));
    }
    failpoint::hit("publish:after_build");

    let checksum = {
        let cfg = cfg.clone();
        let name = name.clone();
        tokio::task::spawn_blocking(move || checksum_of(&cfg, &name))
            .await
            .map_err(|e| e.to_string())??
    };
    if let Some(a) = activate {
        let n = name.clone();
        tokio::task::spawn_blocking(move || a.activate(&n))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("the service refused {name}: {e}"))?;
        failpoint::hit("publish:after_swap");
    }
    Ok(PublicationOutcome::Done { counts, checksum, file_name: name })
}

/// Entries per message from the store's reader to the builder: large
/// enough that the channel costs nothing per entry, small enough that the
/// builder starts at once.
const CHANNEL_BATCH: usize = 4_096;
/// Messages in flight: the reader runs at most this far ahead.
const CHANNEL_BATCHES: usize = 8;

type Message = Result<Vec<Entry>, String>;

/// Sends the entries in force to the builder in batches; returns their
/// counts. A store error is sent on too (the builder stops, writing
/// nothing) and returned. If the builder stops first (its own error), the
/// send fails and reading stops: the build's error says why.
async fn feed(
    store: &Store,
    tx: tokio::sync::mpsc::Sender<Message>,
) -> Result<PublicationCounts, String> {
    let mut counts = PublicationCounts::default();
    let mut stream = store.in_force_entries();
    let mut batch = Vec::with_capacity(CHANNEL_BATCH);
    loop {
        let e = match stream.try_next().await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                let message = format!("reading the store: {e}");
                let _ = tx.send(Err(message.clone())).await;
                return Err(message);
            }
        };
        counts.entries += 1;
        match e.status {
            EntryStatus::Disputed => counts.disputed += 1,
            _ => counts.active += 1,
        }
        batch.push(e);
        if batch.len() == CHANNEL_BATCH {
            let full = std::mem::replace(
                &mut batch,
                Vec::with_capacity(CHANNEL_BATCH),
            );
            if tx.send(Ok(full)).await.is_err() {
                return Ok(counts);
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch)).await;
    }
    Ok(counts)
}

/// The builder's side of the channel: the entries, one at a time, on its
/// blocking thread.
struct Received {
    rx: tokio::sync::mpsc::Receiver<Message>,
    batch: std::vec::IntoIter<Entry>,
}

impl Iterator for Received {
    type Item = Result<Entry, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.batch.next() {
                return Some(Ok(e));
            }
            match self.rx.blocking_recv() {
                Some(Ok(batch)) => self.batch = batch.into_iter(),
                Some(Err(message)) => return Some(Err(message)),
                None => {
                    // Every entry is in the builder; its temporary file
                    // is not yet complete (the kill tests stop here).
                    failpoint::hit("publish:after_stream");
                    return None;
                }
            }
        }
    }
}

/// Where a published file is now: in the inbox, or moved by the service
/// into its accepted directory (or its `incoming/` while being checked).
pub fn locate(cfg: &PublishConfig, name: &str) -> Option<PathBuf> {
    [
        cfg.inbox.join(name),
        cfg.accepted.join("incoming").join(name),
        cfg.accepted.join(name),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// SHA-256 of the published file, wherever it is now (the service may
/// move it while this runs: an open file keeps being readable).
fn checksum_of(cfg: &PublishConfig, name: &str) -> Result<String, String> {
    let mut file = None;
    for _ in 0..3 {
        if let Some(p) = locate(cfg, name) {
            if let Ok(f) = std::fs::File::open(&p) {
                file = Some(f);
                break;
            }
        }
    }
    let mut f =
        file.ok_or_else(|| format!("{name} vanished after its build"))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| format!("{name}: {e}"))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves the publications a crash left pending: done when the file is
/// complete and verifies, failed otherwise (its work file and temporary
/// snapshot files removed). Returns the publications resolved.
pub async fn recover(
    store: &Store,
    cfg: &PublishConfig,
    now: DateTime<Utc>,
) -> Result<Vec<Publication>, StoreError> {
    let pending: Vec<Publication> = store
        .publications(1000)
        .await?
        .into_iter()
        .filter(|p| p.state == PublicationState::Pending)
        .collect();
    let mut out = Vec::new();
    for p in pending {
        let name = file_name(p.id);
        let (cfg2, name2) = (cfg.clone(), name.clone());
        let checked = tokio::task::spawn_blocking(move || {
            check_published(&cfg2, &name2)
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        let outcome = match checked {
            Ok((counts, checksum)) => {
                PublicationOutcome::Done { counts, checksum, file_name: name }
            }
            Err(why) => {
                remove_leftovers(cfg, p.id);
                PublicationOutcome::Failed {
                    error: format!("interrupted (found at restart): {why}"),
                }
            }
        };
        let _ = std::fs::remove_file(export_path(cfg, p.id));
        let audit = Audit::new(now, &p.key_id, "system", "publish_recover");
        out.push(store.publication_finish(&audit, p.id, &outcome).await?);
    }
    Ok(out)
}

/// Opens and fully verifies a publication's file: its counts and SHA-256.
fn check_published(
    cfg: &PublishConfig,
    name: &str,
) -> Result<(PublicationCounts, String), String> {
    let path = locate(cfg, name).ok_or("its snapshot was never completed")?;
    let snap = Snapshot::open(&path).map_err(|e| e.to_string())?;
    snap.verify().map_err(|e| e.to_string())?;
    let count = |s: &str| {
        snap.bitmap(&format!("status:{s}")).map_or(0, |b| b.len() as i64)
    };
    let counts = PublicationCounts {
        entries: i64::from(snap.len()),
        active: count("active"),
        disputed: count("disputed"),
    };
    drop(snap);
    Ok((counts, checksum_of(cfg, name)?))
}

/// A failed publication's partial files: a builder's temporary file
/// (`.publication-NNNNNN.snapshot.XXXXXX.tmp`, left by a kill) and a
/// published file that did not verify.
fn remove_leftovers(cfg: &PublishConfig, id: i64) {
    let name = file_name(id);
    let temp = format!(".{name}.");
    if let Ok(dir) = std::fs::read_dir(&cfg.inbox) {
        for f in dir.flatten() {
            let n = f.file_name().to_string_lossy().into_owned();
            if n.starts_with(&temp) && n.ends_with(".tmp") {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
    let _ = std::fs::remove_file(cfg.inbox.join(&name));
}
