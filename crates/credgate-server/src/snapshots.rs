//! The live snapshot and its replacements.
//!
//! Publishers write snapshot files into an **inbox** (`snapshot_dir`).
//! The service never maps a file there: a publisher could rewrite it in
//! place under the map (SIGBUS) or swap a FIFO or a symlink in. Each new
//! regular file is moved (renamed, or copied when it has other names or
//! lies on another filesystem) into the **accepted** directory, which
//! only the service writes; only then is it opened, fully verified and
//! smoke tested, off the request path, and swapped in with `arc-swap`.
//! Requests never wait for a swap and each sees one snapshot throughout.
//!
//! Snapshots are ordered by what they say of themselves — the build time
//! in their header, then their source digest — never by file times, so a
//! `chmod` or `touch` cannot bring old data back: the watcher activates a
//! file only if it is newer than the live one, and an older one goes live
//! only by an explicit activation. The version last activated is written
//! to `ACTIVE` in the accepted directory, so a rollback survives a
//! restart.
//!
//! Every operation on the store holds one lock and carries a [`Ticket`]:
//! it commits (swaps) only while its ticket is valid, so an activation
//! whose HTTP answer has already timed out can never happen later and
//! override a newer one.
//!
//! A file taken from the inbox waits in `incoming/` (inside the accepted
//! directory) until its check has been decided: activated, kept
//! available (older than the live one) or refused. An operation that
//! expires before deciding leaves it there, and the next check (the
//! watcher's, or the first after a restart) takes it up again; were it
//! moved straight among the accepted files, an expired reload would
//! leave a newer snapshot there for good, never activated.

use arc_swap::ArcSwapOption;
use credgate_index::format::Header;
use credgate_index::{Residence, Snapshot};
use credgate_screen::{Catalogue, MatchKind, Query, Screener};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};
use utoipa::ToSchema;

/// The file in the accepted directory naming the version to serve after a
/// restart.
const ACTIVE_FILE: &str = "ACTIVE";
/// Refused files are moved here (inside the accepted directory), the
/// newest few kept for inspection.
const REFUSED_DIR: &str = "refused";
const REFUSED_KEEP: usize = 5;
/// Files taken from the inbox and not yet decided on (inside the
/// accepted directory).
const INCOMING_DIR: &str = "incoming";

/// A snapshot in service.
#[derive(Debug)]
pub struct Live {
    pub screener: Screener,
    /// The file name: the snapshot's version in the API.
    pub version: String,
    pub path: PathBuf,
    pub activated_at: chrono::DateTime<chrono::Utc>,
}

/// A snapshot file that was refused, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refusal {
    pub version: String,
    pub error: String,
    /// RFC 3339.
    pub at: String,
}

/// Where a snapshot stands in publication order: what its header says,
/// never a file time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Order {
    pub built_at: i64,
    pub source_digest: u128,
}

impl Order {
    fn of(h: &Header) -> Order {
        Order { built_at: h.built_at, source_digest: h.source_digest }
    }

    /// Whether a file with this order may replace `live` without an
    /// explicit activation. Files built in the same second with other
    /// content count as newer (they arrived later); an identical one does
    /// not.
    fn supersedes(self, live: Order) -> bool {
        self.built_at > live.built_at
            || (self.built_at == live.built_at
                && self.source_digest != live.source_digest)
    }
}

#[derive(Debug, Default)]
struct History {
    /// Inbox files refused before they were moved, with their
    /// modification time and length: not retried until they change.
    /// Looked up once per inbox file and check (a map: an inbox can hold
    /// thousands), and pruned to what the inbox still holds.
    tried: HashMap<PathBuf, (Option<SystemTime>, u64)>,
    last_refusal: Option<Refusal>,
    swaps_done: u64,
    swaps_refused: u64,
}

/// Counters of the store, for `GET /v1/snapshot` and metrics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreStatus {
    pub swaps_done: u64,
    pub swaps_refused: u64,
    pub last_refusal: Option<Refusal>,
    /// Versions available to `POST /admin/v1/snapshots/activate`, newest
    /// first (by build time).
    pub available: Vec<String>,
}

/// Why a snapshot could not be activated.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("{0}")]
    Refused(String),
    #[error("no snapshot named '{0}' is available; see GET /v1/snapshot")]
    Unknown(String),
    #[error(
        "the operation ran past its time limit and was abandoned; \
         nothing was changed"
    )]
    Expired,
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

/// The permission of one store operation to commit: valid until its
/// deadline and while nobody cancelled it (an HTTP handler cancels when
/// its answer is no longer awaited).
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    deadline: Option<Instant>,
    cancelled: Arc<AtomicBool>,
}

impl Ticket {
    /// No deadline: start-up.
    pub fn unbounded() -> Ticket {
        Ticket::default()
    }

    pub fn until(deadline: Instant) -> Ticket {
        Ticket { deadline: Some(deadline), ..Ticket::default() }
    }

    /// Cancels the ticket when the returned guard is dropped, unless
    /// [`CancelOnDrop::disarm`] was called first.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Some(self.cancelled.clone()))
    }

    pub fn is_valid(&self) -> bool {
        !self.cancelled.load(Ordering::SeqCst)
            && self.deadline.is_none_or(|d| Instant::now() < d)
    }
}

/// See [`Ticket::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(Option<Arc<AtomicBool>>);

impl CancelOnDrop {
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

/// The two directories of a store.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Where publishers put new snapshot files.
    pub inbox: PathBuf,
    /// Owned by the service: the only files it maps.
    pub accepted: PathBuf,
}

/// Holds the live snapshot and the means to replace it.
#[derive(Debug)]
pub struct Store {
    dirs: Dirs,
    keep: usize,
    /// Where a loaded snapshot's bytes live (`snapshot_residence`).
    residence: Residence,
    catalogue: Arc<Catalogue>,
    live: ArcSwapOption<Live>,
    history: Mutex<History>,
    /// One operation at a time (the watcher, reloads and activations).
    ops: Mutex<()>,
    /// The live version, for whoever waits for a swap (tests, later the
    /// monitoring of watched subjects).
    version_tx: tokio::sync::watch::Sender<Option<String>>,
}

fn version_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_snapshot_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "snapshot")
}

/// Opens a file of the inbox for reading without following a symlink and
/// without blocking on a FIFO, and checks that it is a regular file.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut opts,
        libc::O_NONBLOCK | libc::O_NOFOLLOW,
    );
    let file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

#[cfg(unix)]
fn link_count(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(m)
}

#[cfg(not(unix))]
fn link_count(_: &std::fs::Metadata) -> u64 {
    1
}

/// Niceness of the threads that verify a new snapshot and drop an old
/// one: the lowest priority, so that a swap under load takes CPU the
/// request threads leave idle rather than theirs (issue 11: a swap every
/// 10 s raised p99 1.28× when it ran at the requests' priority).
const BACKGROUND_NICE: i32 = 19;

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`] (on Linux
/// the nice value is per thread). Best effort: a failure costs latency,
/// not correctness.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(
        Some(rustix::thread::gettid()),
        BACKGROUND_NICE,
    ) {
        tracing::warn!(error = %e, "could not lower a background thread's priority");
    }
}

/// Opens, verifies and smoke-tests a snapshot: every section checksum,
/// the records' UTF-8, every FST node, and a few screens that must find
/// their own entries. Runs on a pool of low-priority threads of its own
/// (`verify` checks chunks in parallel), off the request threads; reading
/// every byte also brings the file into the page cache and the new map's
/// page tables, so the first requests after the swap do not fault.
pub fn load(
    path: &Path,
    residence: Residence,
    catalogue: Arc<Catalogue>,
) -> Result<Live, String> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("snapshot-verify-{i}"))
        .start_handler(|_| lower_priority())
        .build()
        .map_err(|e| format!("starting the verification threads: {e}"))?;
    pool.install(|| load_here(path, residence, catalogue))
}

fn load_here(
    path: &Path,
    residence: Residence,
    catalogue: Arc<Catalogue>,
) -> Result<Live, String> {
    // Read into memory, the file's pieces are read on this low-priority
    // pool too.
    let snap =
        Snapshot::open_in(path, residence).map_err(|e| e.to_string())?;
    snap.verify().map_err(|e| e.to_string())?;
    // `Screener::new` builds the in-force set here, off the request path.
    let screener = Screener::new(Arc::new(snap), catalogue);
    let snap = &screener.snapshot;
    let n = snap.len();
    for ord in [0, n / 2, n.saturating_sub(1)].into_iter().filter(|_| n > 0) {
        let r = snap.record(ord).map_err(|e| format!("record {ord}: {e}"))?;
        let q = Query {
            code: Some(r.code.to_string()),
            include_related: true,
            ..Default::default()
        };
        let hits = credgate_screen::matcher::find(
            snap,
            &Query { include_exited: true, ..q },
            &screener.options,
            r.listed_on,
        )
        .map_err(|e| format!("smoke query on entry {}: {e}", r.entry_id))?;
        if !hits.iter().any(|h| h.ordinal == ord && h.kind == MatchKind::Code)
        {
            return Err(format!(
                "smoke query: entry {} is not found by its own code",
                r.entry_id
            ));
        }
    }
    Ok(Live {
        version: version_of(path),
        path: path.to_path_buf(),
        activated_at: chrono::Utc::now(),
        screener,
    })
}

/// Runs a store operation (taking files in, copying, verifying) on a
/// low-priority thread of its own and waits for it: the caller is a
/// blocking-pool thread that other work reuses, and a thread's priority
/// cannot be raised back without privileges.
fn in_background<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    // `Scope::spawn` panics only when the system refuses a thread, as
    // tokio's `spawn_blocking` would.
    std::thread::scope(|s| {
        s.spawn(|| {
            lower_priority();
            f()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Drops a replaced snapshot once no request holds it, on a low-priority
/// thread of its own. Unmapping gigabytes takes tens of milliseconds of
/// page-table teardown; left to the last `Arc`, it would fall on
/// whichever request finished last with the old snapshot.
fn reap(old: Arc<Live>) {
    let spawned = std::thread::Builder::new()
        .name("snapshot-reaper".into())
        .spawn(move || {
            lower_priority();
            // `ArcSwap::swap` has turned every outstanding guard into a
            // counted reference, so the count is exact; requests are short.
            while Arc::strong_count(&old) > 1 {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            drop(old);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no reaper thread: the old snapshot is dropped by its last user");
    }
}

/// The header of an accepted file, or why it has none.
fn read_header(path: &Path) -> Result<Header, String> {
    let mut f = open_regular(path).map_err(|e| e.to_string())?;
    Header::read_from(&mut f, path).map_err(|e| e.to_string())
}

/// Accepted snapshots with a valid header, oldest first.
fn accepted_files(dir: &Path) -> Vec<(Order, String, PathBuf)> {
    scan_accepted(dir).0
}

/// The accepted snapshots of `dir`, each header read once: those with a
/// valid header (oldest first), and those whose header cannot be read (a
/// file of another format version after an upgrade, a damaged one),
/// with why: left in place, so that going back to the build that wrote
/// them still works.
#[allow(clippy::type_complexity)]
fn scan_accepted(
    dir: &Path,
) -> (Vec<(Order, String, PathBuf)>, Vec<(PathBuf, String)>) {
    let (mut readable, mut unreadable) = (Vec::new(), Vec::new());
    let Ok(rd) = std::fs::read_dir(dir) else {
        return (readable, unreadable);
    };
    for p in rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| is_snapshot_name(p))
    {
        match read_header(&p) {
            Ok(h) => readable.push((Order::of(&h), version_of(&p), p)),
            Err(e) => unreadable.push((p, e)),
        }
    }
    readable.sort();
    (readable, unreadable)
}

/// What [`Store::start`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The live version; `None` when there is nothing to serve.
    pub version: Option<String>,
    /// Whether the file `ACTIVE` named could not be read.
    pub active_unreadable: bool,
}

/// Snapshot files waiting in an inbox: regular files only, never
/// symlinks or FIFOs.
fn inbox_files(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| is_snapshot_name(p))
        .filter_map(|p| {
            let m = std::fs::symlink_metadata(&p).ok()?;
            Some((p, m.modified().ok(), m.len()))
        })
        .collect();
    v.sort();
    v
}

/// Whether any snapshot is published or accepted.
pub fn any_published(dirs: &Dirs) -> bool {
    !inbox_files(&dirs.inbox).is_empty()
        || !accepted_files(&dirs.accepted).is_empty()
        || !accepted_files(&dirs.accepted.join(INCOMING_DIR)).is_empty()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    pub fn new(dirs: Dirs, keep: usize, catalogue: Arc<Catalogue>) -> Store {
        Store {
            dirs,
            keep: keep.max(1),
            residence: Residence::Mapped,
            catalogue,
            live: ArcSwapOption::empty(),
            history: Mutex::default(),
            ops: Mutex::new(()),
            version_tx: tokio::sync::watch::Sender::new(None),
        }
    }

    /// Loads snapshots into `residence` (mapped until told otherwise).
    pub fn with_residence(mut self, residence: Residence) -> Store {
        self.residence = residence;
        self
    }

    /// The inbox publishers write to.
    pub fn dir(&self) -> &Path {
        &self.dirs.inbox
    }

    pub fn dirs(&self) -> &Dirs {
        &self.dirs
    }

    /// The live snapshot, if any: one atomic load, no lock.
    pub fn live(&self) -> Option<Arc<Live>> {
        self.live.load_full()
    }

    /// Follows the live version.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.version_tx.subscribe()
    }

    pub fn status(&self) -> StoreStatus {
        let available =
            self.accepted().into_iter().rev().map(|(_, v, _)| v).collect();
        let h = self.history.lock().expect("history lock");
        StoreStatus {
            swaps_done: h.swaps_done,
            swaps_refused: h.swaps_refused,
            last_refusal: h.last_refusal.clone(),
            available,
        }
    }

    fn lock_ops(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves nothing half-done that a
        // later operation could trip on: the store's state is the files
        // and the live pointer, each changed atomically.
        self.ops.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn accepted(&self) -> Vec<(Order, String, PathBuf)> {
        accepted_files(&self.dirs.accepted)
    }

    fn inbox(&self) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
        inbox_files(&self.dirs.inbox)
    }

    /// Whether any snapshot is published or accepted.
    pub fn has_files(&self) -> bool {
        any_published(&self.dirs)
    }

    fn incoming_dir(&self) -> PathBuf {
        self.dirs.accepted.join(INCOMING_DIR)
    }

    fn create_dirs(&self) -> Result<(), SwapError> {
        for d in [&self.dirs.inbox, &self.dirs.accepted, &self.incoming_dir()]
        {
            std::fs::create_dir_all(d).map_err(|source| SwapError::Io {
                what: format!("creating {}", d.display()),
                source,
            })?;
        }
        Ok(())
    }

    /// At start: serves the version named in `ACTIVE` (or else the newest
    /// accepted file that passes), then takes what waits in the inbox.
    /// Returns the live version (`None` when there is nothing to serve
    /// yet: the service answers 503 until a snapshot is published), and
    /// whether the file `ACTIVE` named could not be read (another format
    /// version, damaged): then what is served is older, or nothing, and
    /// the caller may publish again. Each unreadable accepted file is
    /// logged.
    pub fn start(&self) -> Result<Started, SwapError> {
        self.create_dirs()?;
        let ticket = Ticket::unbounded();
        let active =
            std::fs::read_to_string(self.dirs.accepted.join(ACTIVE_FILE))
                .ok()
                .map(|s| s.trim().to_string());
        let mut active_unreadable = false;
        {
            let _ops = self.lock_ops();
            let (accepted, unreadable) = scan_accepted(&self.dirs.accepted);
            for (file, error) in unreadable {
                active_unreadable |=
                    active.as_deref() == Some(&version_of(&file));
                tracing::warn!(file = %file.display(), %error, "accepted snapshot not served");
            }
            let mut order: Vec<&PathBuf> = Vec::new();
            if let Some(a) = &active {
                order.extend(
                    accepted.iter().filter(|(_, v, _)| v == a).map(|x| &x.2),
                );
            }
            order.extend(
                accepted
                    .iter()
                    .rev()
                    .filter(|(_, v, _)| Some(v) != active.as_ref())
                    .map(|x| &x.2),
            );
            for path in order {
                match self.load_accepted(path) {
                    Ok(live) => {
                        self.commit(live, &ticket)?;
                        break;
                    }
                    Err(e) => self.refuse(path, e),
                }
            }
        }
        self.check_dir(&ticket)?;
        Ok(Started {
            version: self.live().map(|l| l.version.clone()),
            active_unreadable,
        })
    }

    /// Takes every new file of the inbox into the accepted directory and
    /// activates the newest if it is newer than the live one. Files taken
    /// by an earlier check that expired before deciding (in `incoming/`)
    /// are checked again. Returns the version activated, `None` when
    /// nothing newer arrived.
    pub fn check_dir(
        &self,
        ticket: &Ticket,
    ) -> Result<Option<String>, SwapError> {
        in_background(|| {
            let _ops = self.lock_ops();
            if !ticket.is_valid() {
                return Err(SwapError::Expired);
            }
            let last_error = self.take_inbox();
            self.decide(ticket, last_error)
        })
    }

    /// Moves every new inbox file into `incoming/`; returns the last
    /// refusal, if any. Called with the operations lock held.
    fn take_inbox(&self) -> Option<String> {
        let mut last_error = None;
        let inbox = self.inbox();
        let untried: Vec<_> = {
            let mut h = self.history.lock().expect("history lock");
            let now: HashMap<&Path, _> = inbox
                .iter()
                .map(|(p, m, l)| (p.as_path(), (*m, *l)))
                .collect();
            h.tried.retain(|p, seen| now.get(p.as_path()) == Some(seen));
            inbox
                .iter()
                .filter(|(p, m, l)| h.tried.get(p) != Some(&(*m, *l)))
                .cloned()
                .collect()
        };
        for file in untried {
            if let Err(e) = self.take(&file.0) {
                self.history
                    .lock()
                    .expect("history lock")
                    .tried
                    .insert(file.0.clone(), (file.1, file.2));
                let version = version_of(&file.0);
                self.record_refusal(&version, &e);
                last_error = Some(format!("{version}: {e}"));
            }
        }
        last_error
    }

    /// Checks the files of `incoming/` and, while `ticket` holds, moves
    /// them among the accepted files and activates the newest if it is
    /// newer than the live one. Called with the operations lock held.
    fn decide(
        &self,
        ticket: &Ticket,
        mut last_error: Option<String>,
    ) -> Result<Option<String>, SwapError> {
        let mut newest: Option<(Order, Live)> = None;
        let mut loaded = Vec::new();
        let incoming = std::fs::read_dir(self.incoming_dir())
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| is_snapshot_name(p))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for path in incoming {
            match read_header(&path)
                .and_then(|h| Ok((Order::of(&h), self.load_accepted(&path)?)))
            {
                Ok((order, live)) => {
                    loaded.push(path);
                    if newest.as_ref().is_none_or(|(o, _)| order > *o) {
                        newest = Some((order, live));
                    }
                }
                Err(e) => {
                    last_error = Some(format!("{}: {e}", version_of(&path)));
                    self.refuse(&path, e);
                }
            }
        }
        // Deciding moves the files out of `incoming/`: only while the
        // ticket holds, or they stay there for the next check.
        if !ticket.is_valid() {
            return Err(SwapError::Expired);
        }
        for path in &loaded {
            let to = self.dirs.accepted.join(version_of(path));
            std::fs::rename(path, &to).map_err(|source| SwapError::Io {
                what: format!("moving {} in", path.display()),
                source,
            })?;
            if let Some((_, live)) = newest.as_mut() {
                if live.path == *path {
                    live.path = to;
                }
            }
        }
        let live_order =
            self.live().map(|l| Order::of(l.screener.snapshot.header()));
        match newest {
            Some((order, live))
                if live_order.is_none_or(|l| order.supersedes(l)) =>
            {
                let v = live.version.clone();
                self.swap_in(live);
                Ok(Some(v))
            }
            Some((_, older)) => {
                tracing::warn!(
                    version = %older.version,
                    "published snapshot is older than the live one: kept \
                     available, not activated (activate it explicitly)"
                );
                Ok(None)
            }
            None => match last_error {
                Some(e) => Err(SwapError::Refused(e)),
                None => Ok(None),
            },
        }
    }

    /// Activates an accepted version (rollback or roll forward),
    /// verifying it again.
    pub fn activate(
        &self,
        version: &str,
        ticket: &Ticket,
    ) -> Result<String, SwapError> {
        in_background(|| self.activate_here(version, ticket))
    }

    fn activate_here(
        &self,
        version: &str,
        ticket: &Ticket,
    ) -> Result<String, SwapError> {
        let _ops = self.lock_ops();
        if !ticket.is_valid() {
            return Err(SwapError::Expired);
        }
        let path = self
            .accepted()
            .into_iter()
            .find(|(_, v, _)| v == version)
            .map(|(_, _, p)| p)
            .ok_or_else(|| SwapError::Unknown(version.to_string()))?;
        match self.load_accepted(&path) {
            Ok(live) => {
                self.commit(live, ticket)?;
                Ok(version.to_string())
            }
            Err(e) => {
                self.refuse(&path, e.clone());
                Err(SwapError::Refused(format!("{version}: {e}")))
            }
        }
    }

    /// Moves an inbox file into the accepted directory. A file with one
    /// name on the same filesystem is renamed (instant, whatever its
    /// size); one with other names (a hard link a publisher could still
    /// rewrite) or on another filesystem is copied through the descriptor
    /// that was checked.
    fn take(&self, from: &Path) -> Result<PathBuf, String> {
        self.take_racing(from, &|| ())
    }

    /// [`Store::take`], running `before_move` between the check of the
    /// inbox file and its move: tests replace the file there, as a
    /// publisher can at any time.
    fn take_racing(
        &self,
        from: &Path,
        before_move: &dyn Fn(),
    ) -> Result<PathBuf, String> {
        let version = version_of(from);
        let mut file = open_regular(from).map_err(|e| format!("{e}"))?;
        // Refuse an incomplete or foreign file while it is still in the
        // inbox: a publisher copying in place is not finished yet.
        Header::read_from(&mut file, from).map_err(|e| e.to_string())?;
        let to = self.incoming_dir().join(&version);
        if to.exists() || self.dirs.accepted.join(&version).exists() {
            return Err(format!(
                "a snapshot named {version} was published before; publish \
                 new data under a new name"
            ));
        }
        let meta = file.metadata().map_err(|e| e.to_string())?;
        before_move();
        if link_count(&meta) == 1 && std::fs::rename(from, &to).is_ok() {
            // The rename moved whatever bore the name by then, not
            // necessarily the file checked: check what arrived.
            return self.own(&to);
        }
        self.copy_in(&mut file, &to, false)?;
        // The inbox name is consumed; a newer file published under it
        // meanwhile (another inode) is left alone.
        let same = std::fs::symlink_metadata(from).is_ok_and(|m| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                m.ino() == meta.ino() && m.dev() == meta.dev()
            }
            #[cfg(not(unix))]
            {
                m.len() == meta.len()
            }
        });
        if same {
            let _ = std::fs::remove_file(from);
        }
        Ok(to)
    }

    /// Makes sure the file just renamed to `to` is the service's alone: a
    /// regular file with no other name (else copied), never a symlink, a
    /// FIFO or another kind of file (removed: the name only).
    fn own(&self, to: &Path) -> Result<PathBuf, String> {
        let mut file = match open_regular(to) {
            Ok(f) => f,
            Err(e) => {
                let _ = std::fs::remove_file(to);
                return Err(format!("replaced while being taken: {e}"));
            }
        };
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if link_count(&meta) > 1 {
            // Never left in place shared: `decide` would map it.
            self.copy_in(&mut file, to, true).inspect_err(|_| {
                let _ = std::fs::remove_file(to);
            })?;
        }
        Ok(to.to_path_buf())
    }

    /// Copies `file` from its start into `to` (a new file of the service;
    /// `replace`: over the name `to` already has).
    fn copy_in(
        &self,
        file: &mut std::fs::File,
        to: &Path,
        replace: bool,
    ) -> Result<(), String> {
        use std::io::Seek;
        let err = |e: &dyn std::fmt::Display| {
            format!("copying into the accepted directory: {e}")
        };
        file.seek(std::io::SeekFrom::Start(0)).map_err(|e| err(&e))?;
        let tmp = tempfile::NamedTempFile::new_in(self.incoming_dir())
            .map_err(|e| err(&e))?;
        credgate_index::copy_in_pieces(file, tmp.as_file())
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| err(&e))?;
        if replace {
            tmp.persist(to).map_err(|e| err(&e))?;
        } else {
            tmp.persist_noclobber(to).map_err(|e| err(&e))?;
        }
        Ok(())
    }

    fn load_accepted(&self, path: &Path) -> Result<Live, String> {
        load(path, self.residence, self.catalogue.clone())
    }

    /// Makes `live` the live snapshot if `ticket` still allows it, records
    /// it as the one to serve after a restart, and prunes old files.
    fn commit(&self, live: Live, ticket: &Ticket) -> Result<(), SwapError> {
        if !ticket.is_valid() {
            return Err(SwapError::Expired);
        }
        self.swap_in(live);
        Ok(())
    }

    /// The swap itself, once the ticket was checked.
    fn swap_in(&self, live: Live) {
        let version = live.version.clone();
        let entries = live.screener.snapshot.len();
        let old = self.live.swap(Some(Arc::new(live)));
        let old_version = old.as_ref().map(|o| o.version.clone());
        if let Some(old) = old {
            reap(old);
        }
        self.history.lock().expect("history lock").swaps_done += 1;
        self.version_tx.send_replace(Some(version.clone()));
        if let Err(e) = self.write_active(&version) {
            tracing::error!(%version, error = %e, "could not record the active snapshot; a restart may serve another");
        }
        self.prune(&version);
        metrics::counter!("credgate_snapshot_swaps_total", "result" => "done")
            .increment(1);
        metrics::gauge!("credgate_snapshot_entries").set(entries as f64);
        if let Some(old) = old_version {
            metrics::gauge!("credgate_snapshot_info", "version" => old)
                .set(0.0);
        }
        metrics::gauge!("credgate_snapshot_info", "version" => version.clone())
            .set(1.0);
        tracing::info!(%version, entries, "snapshot activated");
    }

    fn write_active(&self, version: &str) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dirs.accepted)?;
        std::io::Write::write_all(&mut tmp, version.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.dirs.accepted.join(ACTIVE_FILE))?;
        Ok(())
    }

    /// Keeps the live file and the `keep` newest others.
    fn prune(&self, live: &str) {
        let others: Vec<_> = self
            .accepted()
            .into_iter()
            .rev()
            .filter(|(_, v, _)| v != live)
            .skip(self.keep)
            .collect();
        for (_, v, p) in others {
            // Requests still holding an old snapshot keep their memory
            // map: unlinking does not unmap it.
            match std::fs::remove_file(&p) {
                Ok(()) => tracing::info!(version = %v, "removed old snapshot"),
                Err(e) => {
                    tracing::warn!(version = %v, error = %e, "could not remove old snapshot")
                }
            }
        }
    }

    fn record_refusal(&self, version: &str, error: &str) {
        let mut h = self.history.lock().expect("history lock");
        h.swaps_refused += 1;
        h.last_refusal = Some(Refusal {
            version: version.to_string(),
            error: error.to_string(),
            at: now_rfc3339(),
        });
        drop(h);
        metrics::counter!("credgate_snapshot_swaps_total", "result" => "refused")
            .increment(1);
        tracing::error!(%version, %error, "snapshot refused; the live snapshot stays");
    }

    /// Records a refused accepted file and moves it aside.
    fn refuse(&self, path: &Path, error: String) {
        let version = version_of(path);
        self.record_refusal(&version, &error);
        let dir = self.dirs.accepted.join(REFUSED_DIR);
        let moved = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::rename(path, dir.join(&version)));
        if moved.is_err() {
            let _ = std::fs::remove_file(path);
        }
        // Keep the newest few refused files.
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut files: Vec<_> = rd
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    Some((m.modified().ok()?, e.path()))
                })
                .collect();
            files.sort();
            let excess = files.len().saturating_sub(REFUSED_KEEP);
            for (_, p) in files.into_iter().take(excess) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credgate_entries::{EntryWriter, Format};
    use credgate_gen::{GenOptions, Generator};

    /// Builds a small snapshot named `name` straight into `dir`.
    fn build(dir: &Path, name: &str, seed: u64, built_at: i64) {
        let csv = dir.join(format!("{name}.csv"));
        let mut w = EntryWriter::new(
            std::fs::File::create(&csv).unwrap(),
            Format::Csv,
        )
        .unwrap();
        for e in Generator::new(GenOptions::new(seed)).take(100) {
            w.write(&e).unwrap();
        }
        w.into_inner().unwrap();
        let opts = credgate_index::BuildOptions {
            built_at: Some(built_at),
            ..Default::default()
        };
        credgate_index::build(&csv, &dir.join(name), &opts, &|_| {}).unwrap();
        std::fs::remove_file(csv).unwrap();
    }

    /// A store serving `second.snapshot`, with `first.snapshot` older and
    /// available.
    fn store(dir: &Path) -> Arc<Store> {
        let dirs =
            Dirs { inbox: dir.join("inbox"), accepted: dir.join("accepted") };
        std::fs::create_dir_all(&dirs.inbox).unwrap();
        build(&dirs.inbox, "first.snapshot", 1, 1_000);
        build(&dirs.inbox, "second.snapshot", 2, 2_000);
        let s = Arc::new(Store::new(dirs, 3, Arc::new(Catalogue::builtin())));
        assert_eq!(
            s.start().unwrap().version.as_deref(),
            Some("second.snapshot")
        );
        s
    }

    fn live(s: &Store) -> String {
        s.live().unwrap().version.clone()
    }

    #[test]
    fn an_operation_past_its_deadline_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let expired = Ticket::until(Instant::now());
        assert!(matches!(
            s.activate("first.snapshot", &expired),
            Err(SwapError::Expired)
        ));
        assert_eq!(live(&s), "second.snapshot");
        assert!(s.activate("first.snapshot", &Ticket::unbounded()).is_ok());
        assert_eq!(live(&s), "first.snapshot");
    }

    /// Issue 8, item 12: an activation whose answer timed out while it
    /// waited behind another operation must not happen afterwards and
    /// override what that operation did.
    #[test]
    fn a_timed_out_activation_never_overrides_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let ops = s.lock_ops();
        let ticket = Ticket::unbounded();
        let guard = ticket.cancel_on_drop();
        let waiting = {
            let s = s.clone();
            std::thread::spawn(move || s.activate("first.snapshot", &ticket))
        };
        // The HTTP handler gives up (its time limit answered 503): its
        // guard is dropped while the activation still waits.
        drop(guard);
        drop(ops);
        let result = waiting.join().unwrap();
        assert!(matches!(result, Err(SwapError::Expired)), "{result:?}");
        assert_eq!(live(&s), "second.snapshot");
        // A ticket that was disarmed stays valid.
        let t = Ticket::unbounded();
        t.cancel_on_drop().disarm();
        assert!(t.is_valid());
    }

    /// A check whose ticket expires after it took a file from the inbox
    /// (a reload whose client gave up, or past its time limit) leaves the
    /// file to the next check: a newer snapshot is never stranded among
    /// the accepted files, not activated, until an explicit activation.
    #[test]
    fn a_check_that_expires_after_taking_a_file_leaves_it_to_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        build(&s.dirs.inbox, "third.snapshot", 3, 3_000);
        {
            let _ops = s.lock_ops();
            assert_eq!(s.take_inbox(), None);
            let expired = Ticket::until(Instant::now());
            assert!(matches!(
                s.decide(&expired, None),
                Err(SwapError::Expired)
            ));
        }
        assert!(!s.dirs.inbox.join("third.snapshot").exists());
        assert_eq!(live(&s), "second.snapshot");
        // A restart takes it up too.
        let again =
            Store::new(s.dirs.clone(), 3, Arc::new(Catalogue::builtin()));
        assert_eq!(
            again.start().unwrap().version.as_deref(),
            Some("third.snapshot")
        );
        // And so does the next check of a running store.
        assert_eq!(
            s.check_dir(&Ticket::unbounded()).unwrap().as_deref(),
            None,
            "the restarted store took it: nothing left in incoming/"
        );
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        build(&s.dirs.inbox, "third.snapshot", 3, 3_000);
        {
            let _ops = s.lock_ops();
            s.take_inbox();
            let _ = s.decide(&Ticket::until(Instant::now()), None);
        }
        assert_eq!(
            s.check_dir(&Ticket::unbounded()).unwrap().as_deref(),
            Some("third.snapshot")
        );
        assert!(s.dirs.accepted.join("third.snapshot").exists());
        assert_eq!(
            s.live().unwrap().path,
            s.dirs.accepted.join("third.snapshot")
        );
        assert!(s.status().available.contains(&"third.snapshot".into()));
    }

    /// Issue 8 review: a publisher that leaves thousands of bad files in
    /// the inbox must not make every later check quadratic (each file was
    /// looked up in a list of all refused files, holding the operations
    /// lock: reloads and activations timed out), and files that are gone
    /// are forgotten.
    #[test]
    fn many_refused_inbox_files_keep_checks_fast_and_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let junk: Vec<PathBuf> = (0..20_000)
            .map(|i| s.dirs.inbox.join(format!("junk{i:05}.snapshot")))
            .collect();
        for p in &junk {
            std::fs::write(p, "x").unwrap();
        }
        assert!(s.check_dir(&Ticket::unbounded()).is_err());
        let started = Instant::now();
        assert!(matches!(s.check_dir(&Ticket::unbounded()), Ok(None)));
        let took = started.elapsed();
        assert!(took.as_secs_f64() < 2.0, "a check took {took:?}");
        for p in &junk {
            std::fs::remove_file(p).unwrap();
        }
        s.check_dir(&Ticket::unbounded()).unwrap();
        assert_eq!(s.history.lock().unwrap().tried.len(), 0);
    }

    /// Issue 8 review: the inbox name is renamed, not the descriptor that
    /// was checked. A publisher who swaps a symlink or a hard link to a
    /// file it keeps writing in after the check must not get the service
    /// to map that file (a rewrite under the map is a SIGBUS).
    #[cfg(unix)]
    #[test]
    fn a_file_swapped_in_after_the_check_is_not_mapped() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        build(&outside, "kept.snapshot", 5, 5_000);
        let kept = outside.join("kept.snapshot");
        let from = s.dirs.inbox.join("third.snapshot");

        build(&s.dirs.inbox, "third.snapshot", 3, 3_000);
        let symlink = || {
            std::fs::remove_file(&from).unwrap();
            std::os::unix::fs::symlink(&kept, &from).unwrap();
        };
        let taken = s.take_racing(&from, &symlink);
        assert!(taken.is_err(), "{taken:?}");
        let incoming = s.incoming_dir().join("third.snapshot");
        assert!(std::fs::symlink_metadata(&incoming).is_err());

        build(&s.dirs.inbox, "fourth.snapshot", 4, 4_000);
        let from = s.dirs.inbox.join("fourth.snapshot");
        let hard_link = || {
            std::fs::remove_file(&from).unwrap();
            std::fs::hard_link(&kept, &from).unwrap();
        };
        let taken = s.take_racing(&from, &hard_link).unwrap();
        let m = std::fs::symlink_metadata(&taken).unwrap();
        assert!(m.is_file());
        assert_eq!(m.nlink(), 1, "the service's file has no other name");
        assert_ne!(m.ino(), std::fs::metadata(&kept).unwrap().ino());
    }

    #[test]
    fn publication_order_comes_from_the_header() {
        let older = Order { built_at: 1, source_digest: 9 };
        let newer = Order { built_at: 2, source_digest: 1 };
        assert!(newer.supersedes(older));
        assert!(!older.supersedes(newer));
        assert!(!older.supersedes(older), "the same content is not new");
        let same_second = Order { built_at: 1, source_digest: 3 };
        assert!(same_second.supersedes(older));
    }
}
