//! The live snapshot and its replacements. A new file in the snapshot
//! directory (or a reload request) is opened, fully verified and smoke
//! tested off the request path, then swapped in with `arc-swap`: requests
//! never wait for a swap, and each sees one consistent snapshot for its
//! whole duration. A bad file is refused and the old snapshot stays.

use arc_swap::ArcSwapOption;
use credgate_index::Snapshot;
use credgate_screen::{Catalogue, MatchKind, Query, Screener};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use utoipa::ToSchema;

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

#[derive(Debug, Default)]
struct History {
    /// Files tried, by (path, modification time, length): a refused file
    /// is not retried until it changes.
    tried: Vec<(PathBuf, Option<SystemTime>, u64)>,
    /// Versions that passed verification, newest last (rollback targets).
    good: Vec<(String, PathBuf)>,
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
    /// Versions available to `POST /admin/v1/snapshots/activate`.
    pub available: Vec<String>,
}

/// Why a snapshot could not be activated.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("{0}")]
    Refused(String),
    #[error("no snapshot named '{0}' is available; see GET /v1/snapshot")]
    Unknown(String),
    #[error("no snapshot file in {0}")]
    Empty(String),
}

/// Holds the live snapshot and the means to replace it.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    keep: usize,
    catalogue: Arc<Catalogue>,
    live: ArcSwapOption<Live>,
    history: Mutex<History>,
    /// One load at a time (the watcher and reload requests share it).
    loading: Mutex<()>,
}

fn version_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(unix)]
fn published(m: &std::fs::Metadata) -> Option<SystemTime> {
    use std::os::unix::fs::MetadataExt;
    let nanos = u64::try_from(m.ctime()).ok()? * 1_000_000_000
        + u64::try_from(m.ctime_nsec()).ok()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
}

#[cfg(not(unix))]
fn published(m: &std::fs::Metadata) -> Option<SystemTime> {
    m.modified().ok()
}

fn is_snapshot(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "snapshot")
}

/// Opens, verifies and smoke-tests a snapshot: every section checksum,
/// every record, and a few screens that must find their own entries.
pub fn load(path: &Path, catalogue: Arc<Catalogue>) -> Result<Live, String> {
    let snap = Snapshot::open(path).map_err(|e| e.to_string())?;
    snap.verify().map_err(|e| e.to_string())?;
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

impl Store {
    pub fn new(dir: PathBuf, keep: usize, catalogue: Arc<Catalogue>) -> Store {
        Store {
            dir,
            keep: keep.max(1),
            catalogue,
            live: ArcSwapOption::empty(),
            history: Mutex::default(),
            loading: Mutex::new(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The live snapshot, if any: one atomic load, no lock.
    pub fn live(&self) -> Option<Arc<Live>> {
        self.live.load_full()
    }

    pub fn status(&self) -> StoreStatus {
        let h = self.history.lock().expect("history lock");
        StoreStatus {
            swaps_done: h.swaps_done,
            swaps_refused: h.swaps_refused,
            last_refusal: h.last_refusal.clone(),
            available: h.good.iter().rev().map(|(v, _)| v.clone()).collect(),
        }
    }

    /// Snapshot files in the directory, most recently published first.
    /// Publication time is the inode change time on Unix: `rename` into
    /// the directory and `link` both set it, while a hard link or a copy
    /// that preserves times keeps an old modification time.
    fn candidates(&self) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut v: Vec<_> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_snapshot(p))
            .filter_map(|p| {
                let m = std::fs::metadata(&p).ok()?;
                Some((p, published(&m), m.len()))
            })
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        v
    }

    /// Activates the newest snapshot file not tried yet, if any. Returns
    /// the version activated, `None` when nothing is new.
    pub fn check_dir(&self) -> Result<Option<String>, SwapError> {
        let _guard = self.loading.lock().expect("loading lock");
        let newest = self.candidates().into_iter().next();
        let Some(file) = newest else {
            return if self.live().is_some() {
                Ok(None)
            } else {
                Err(SwapError::Empty(self.dir.display().to_string()))
            };
        };
        {
            let mut h = self.history.lock().expect("history lock");
            if h.tried.contains(&file) {
                return Ok(None);
            }
            h.tried.push(file.clone());
        }
        self.activate_path(&file.0).map(Some)
    }

    /// Whether the directory holds any snapshot file.
    pub fn has_files(&self) -> bool {
        !self.candidates().is_empty()
    }

    /// At start: activates the newest file that passes, trying older ones
    /// when newer ones are refused.
    pub fn start(&self) -> Result<String, SwapError> {
        let files = self.candidates();
        if files.is_empty() {
            return Err(SwapError::Empty(self.dir.display().to_string()));
        }
        let _guard = self.loading.lock().expect("loading lock");
        let mut last = None;
        for file in files {
            self.history
                .lock()
                .expect("history lock")
                .tried
                .push(file.clone());
            match self.activate_path(&file.0) {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one file tried"))
    }

    /// Activates a version loaded before (rollback), verifying it again.
    pub fn activate(&self, version: &str) -> Result<String, SwapError> {
        let _guard = self.loading.lock().expect("loading lock");
        let path = {
            let h = self.history.lock().expect("history lock");
            h.good
                .iter()
                .find(|(v, _)| v == version)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| SwapError::Unknown(version.to_string()))?
        };
        self.activate_path(&path)
    }

    fn activate_path(&self, path: &Path) -> Result<String, SwapError> {
        let version = version_of(path);
        let started = std::time::Instant::now();
        match load(path, self.catalogue.clone()) {
            Ok(live) => {
                let entries = live.screener.snapshot.len();
                let old = self.live.swap(Some(Arc::new(live)));
                let pruned = {
                    let mut h = self.history.lock().expect("history lock");
                    h.swaps_done += 1;
                    h.good.retain(|(v, _)| *v != version);
                    h.good.push((version.clone(), path.to_path_buf()));
                    let excess = h.good.len().saturating_sub(self.keep + 1);
                    h.good.drain(..excess).collect::<Vec<_>>()
                };
                for (v, p) in pruned {
                    // Requests still holding the old snapshot keep their
                    // memory map: unlinking does not unmap it.
                    match std::fs::remove_file(&p) {
                        Ok(()) => {
                            tracing::info!(version = %v, "removed old snapshot")
                        }
                        Err(e) => {
                            tracing::warn!(version = %v, error = %e, "could not remove old snapshot")
                        }
                    }
                }
                metrics::counter!("credgate_snapshot_swaps_total", "result" => "done").increment(1);
                metrics::gauge!("credgate_snapshot_entries")
                    .set(entries as f64);
                // The live version as an info gauge: 1 for the live one,
                // 0 for the one it replaced.
                if let Some(old) = old {
                    metrics::gauge!("credgate_snapshot_info", "version" => old.version.clone())
                        .set(0.0);
                }
                metrics::gauge!("credgate_snapshot_info", "version" => version.clone())
                    .set(1.0);
                tracing::info!(
                    %version,
                    entries,
                    took_ms = started.elapsed().as_millis() as u64,
                    "snapshot activated"
                );
                Ok(version)
            }
            Err(error) => {
                let mut h = self.history.lock().expect("history lock");
                h.swaps_refused += 1;
                h.last_refusal = Some(Refusal {
                    version: version.clone(),
                    error: error.clone(),
                    at: chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                });
                metrics::counter!("credgate_snapshot_swaps_total", "result" => "refused").increment(1);
                tracing::error!(%version, %error, "snapshot refused; the live snapshot stays");
                Err(SwapError::Refused(format!("{version}: {error}")))
            }
        }
    }
}
