//! How the load generator publishes a snapshot before each reload.
//!
//! By default a new name is a hard link to `--publish` (instant, no copy
//! on the generator's side). The service never maps a file that has other
//! names (a publisher could still rewrite it), so it copies a linked file
//! into its accepted directory and fsyncs it: gigabytes of disk and memory
//! traffic during the very window being measured, which no real publisher
//! causes. `--stage-copies` instead copies the snapshot once per planned
//! reload *before* the load starts, each a file with one name, and renames
//! one into the inbox at each reload: what `credgate admin publish` or a
//! replica's downloader does (write elsewhere, fsync, rename in), so the
//! service takes it by rename too. `--move-published` renames the
//! `--publish` files themselves in (they are used up), so each is in the
//! page cache as its writer left it.
//!
//! The service swaps only to a snapshot built after the live one (an
//! identical file is taken in, not swapped to): several `--publish` files
//! from separate builds are published in turn.

use anyhow::Context;
use std::path::{Path, PathBuf};

pub enum Publisher {
    HardLink {
        sources: Vec<PathBuf>,
        inbox: PathBuf,
    },
    /// The `n`-th copy is renamed in at the `n`-th reload.
    Staged {
        copies: Vec<PathBuf>,
        inbox: PathBuf,
    },
    /// `--move-published`: the `n`-th source itself is renamed in (and
    /// the ones left are the user's, never removed).
    Moved {
        sources: Vec<PathBuf>,
        inbox: PathBuf,
    },
}

/// How `--publish` files reach the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    HardLink,
    Stage,
    Move,
}

impl Publisher {
    /// A publisher of `sources` (in turn) into `inbox`; with
    /// [`Mode::Stage`], `reloads` copies are written (and fsynced) now,
    /// next to the inbox so that the rename stays on one filesystem.
    pub fn new(
        sources: &[PathBuf],
        inbox: &Path,
        mode: Mode,
        reloads: u64,
    ) -> anyhow::Result<Publisher> {
        anyhow::ensure!(!sources.is_empty(), "--publish: no snapshot given");
        match mode {
            Mode::HardLink => {
                return Ok(Publisher::HardLink {
                    sources: sources.to_vec(),
                    inbox: inbox.to_path_buf(),
                });
            }
            Mode::Move => {
                anyhow::ensure!(
                    sources.len() as u64 >= reloads,
                    "--move-published: {reloads} reloads planned and {} \
                     --publish files given; each is renamed in once",
                    sources.len()
                );
                return Ok(Publisher::Moved {
                    sources: sources.to_vec(),
                    inbox: inbox.to_path_buf(),
                });
            }
            Mode::Stage => {}
        }
        let staging = staging_dir(inbox)?;
        let mut copies = Vec::new();
        for n in 1..=reloads {
            let source = &sources[(n as usize - 1) % sources.len()];
            let to = staging.join(file_name(n));
            eprintln!(
                "staging copy {n} of {reloads} of {} in {}",
                source.display(),
                staging.display()
            );
            copy_synced(source, &to)?;
            copies.push(to);
        }
        Ok(Publisher::Staged { copies, inbox: inbox.to_path_buf() })
    }

    /// Puts the `n`-th (from 1) publication into the inbox.
    pub fn publish(&self, n: u64) -> anyhow::Result<()> {
        let name = file_name(n);
        match self {
            Publisher::HardLink { sources, inbox } => {
                let source = &sources[(n as usize - 1) % sources.len()];
                std::fs::hard_link(source, inbox.join(&name))
                    .with_context(|| format!("linking {name}"))
            }
            Publisher::Staged { copies: files, inbox }
            | Publisher::Moved { sources: files, inbox } => {
                let from = files
                    .get(n as usize - 1)
                    .with_context(|| format!("no file left for reload {n}"))?;
                std::fs::rename(from, inbox.join(&name))
                    .with_context(|| format!("renaming {name} in"))
            }
        }
    }

    /// Removes staged copies that were not published.
    pub fn clean_up(&self) {
        if let Publisher::Staged { copies, .. } = self {
            for c in copies {
                let _ = std::fs::remove_file(c);
            }
            if let Some(dir) = copies.first().and_then(|c| c.parent()) {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// The name of the `n`-th publication, staged and in the inbox.
fn file_name(n: u64) -> String {
    format!("loadtest-{}-{n}.snapshot", std::process::id())
}

/// `<inbox>/../loadtest-staging`: beside the inbox, not in it (the service
/// would take a half-written copy's name as a publication).
fn staging_dir(inbox: &Path) -> anyhow::Result<PathBuf> {
    let inbox = inbox
        .canonicalize()
        .with_context(|| format!("--snapshot-dir {}", inbox.display()))?;
    let parent = inbox
        .parent()
        .context("--snapshot-dir: the inbox needs a parent directory")?;
    let dir = parent.join("loadtest-staging");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn copy_synced(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut src = std::fs::File::open(from)
        .with_context(|| format!("opening {}", from.display()))?;
    let dst = std::fs::File::create(to)
        .with_context(|| format!("creating {}", to.display()))?;
    // In huge-page pieces, as the publisher writes: the page cache then
    // holds the copy as it holds a published snapshot.
    credgate_index::copy_in_pieces(&mut src, &dst)
        .and_then(|_| dst.sync_all())
        .with_context(|| format!("copying to {}", to.display()))?;
    Ok(())
}
