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
    /// The `n`-th file is renamed in at the `n`-th reload: a staged
    /// copy (`ours`: the ones left are removed at the end) or, with
    /// `--move-published`, the source itself (the ones left are the
    /// user's, never removed).
    Renamed {
        files: Vec<PathBuf>,
        inbox: PathBuf,
        ours: bool,
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
                check_movable(sources, inbox, reloads)?;
                return Ok(Publisher::Renamed {
                    files: sources.to_vec(),
                    inbox: inbox.to_path_buf(),
                    ours: false,
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
        Ok(Publisher::Renamed {
            files: copies,
            inbox: inbox.to_path_buf(),
            ours: true,
        })
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
            Publisher::Renamed { files, inbox, .. } => {
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
        if let Publisher::Renamed { files: copies, ours: true, .. } = self {
            for c in copies {
                let _ = std::fs::remove_file(c);
            }
            if let Some(dir) = copies.first().and_then(|c| c.parent()) {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// Whether `sources` can each be renamed into `inbox` once: enough of
/// them, each a distinct regular file with one name (a file with other
/// names, such as the service's live snapshot linked into its inbox,
/// would be taken from under them), on the inbox's filesystem (a rename
/// across filesystems fails, and the run would measure reloads that
/// find nothing new).
fn check_movable(
    sources: &[PathBuf],
    inbox: &Path,
    reloads: u64,
) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    anyhow::ensure!(
        sources.len() as u64 >= reloads,
        "--move-published: {reloads} reloads planned and {} --publish \
         files given; each is renamed in once",
        sources.len()
    );
    let inbox_dev = std::fs::metadata(inbox)
        .with_context(|| format!("--snapshot-dir {}", inbox.display()))?
        .dev();
    let mut seen = std::collections::HashSet::new();
    for source in sources {
        let meta = std::fs::symlink_metadata(source)
            .with_context(|| format!("--publish {}", source.display()))?;
        anyhow::ensure!(
            meta.is_file(),
            "--publish {}: not a regular file",
            source.display()
        );
        anyhow::ensure!(
            seen.insert((meta.dev(), meta.ino())),
            "--publish {}: given twice; --move-published renames each \
             file in once",
            source.display()
        );
        anyhow::ensure!(
            meta.nlink() == 1,
            "--publish {}: has {} names; --move-published takes files with \
             one name only (it renames them into the inbox, and the run's \
             directory is deleted at its end)",
            source.display(),
            meta.nlink()
        );
        anyhow::ensure!(
            meta.dev() == inbox_dev,
            "--publish {}: on another filesystem than --snapshot-dir {}; \
             --move-published renames, which cannot cross filesystems",
            source.display(),
            inbox.display()
        );
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Files `--move-published` would use up are checked first: enough
    /// of them, each given once, with one name, on the inbox's filesystem.
    #[test]
    fn only_files_of_one_name_given_once_are_moved() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        let file = |name: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, name).unwrap();
            p
        };
        let (a, b) = (file("a.snapshot"), file("b.snapshot"));
        let err = |sources: &[PathBuf], reloads| {
            check_movable(sources, &inbox, reloads).unwrap_err().to_string()
        };
        check_movable(&[a.clone(), b.clone()], &inbox, 2).unwrap();
        assert!(
            err(std::slice::from_ref(&a), 2)
                .contains("2 reloads planned and 1")
        );
        assert!(err(&[a.clone(), a.clone()], 2).contains("given twice"));
        // The live snapshot, linked into the inbox, has two names.
        std::fs::hard_link(&b, inbox.join("live.snapshot")).unwrap();
        assert!(err(&[a.clone(), b.clone()], 2).contains("has 2 names"));
        assert!(err(&[dir.path().join("none")], 1).contains("none"));
        assert!(a.exists() && b.exists(), "a refusal moves nothing");
    }
}
