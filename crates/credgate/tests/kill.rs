//! kill -9 during an import or a publication leaves the store and the
//! published snapshots consistent (issue 10 item 7). The child stops at a
//! failpoint (`CREDGATE_FAILPOINT`, `credgate_admin::failpoint`), says so
//! on stderr, and is killed with SIGKILL; the next run finds the store
//! whole (`audit verify`), the import all there or not at all, and a
//! pending publication resolved: done when its file is complete and
//! verifies, failed with its partial files removed otherwise.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_credgate"))
}

fn credgate(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `credgate args` with `point` armed, waits until it stops there,
/// and kills it with SIGKILL.
fn kill_at(args: &[&str], point: &str) {
    let mut child = bin()
        .args(args)
        .env("CREDGATE_FAILPOINT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line == format!("failpoint reached: {point}") => break,
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("{point} never reached; stderr: {seen:?}");
            }
        }
    }
    // std's Child::kill is SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(entries: u32) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let env = Env { dir };
        let out = credgate(&[
            "admin",
            "keys",
            "create",
            "--db",
            env.db().to_str().unwrap(),
            "--department",
            "js-fgw",
            "--department-name",
            "江苏省发展和改革委员会",
            "--roles",
            "publisher",
            "--name",
            "kill test",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = credgate(&[
            "gen",
            "--entries",
            &entries.to_string(),
            "--out",
            env.list().to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        env
    }

    fn data(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("credgate.db")
    }

    fn list(&self) -> PathBuf {
        self.dir.path().join("list.csv")
    }

    fn inbox(&self) -> PathBuf {
        self.dir.path().join("snapshots")
    }

    fn import_args(&self) -> Vec<String> {
        [
            "admin",
            "import",
            self.list().to_str().unwrap(),
            "--data-dir",
            self.data(),
            "--department",
            "js-fgw",
        ]
        .map(str::to_string)
        .to_vec()
    }

    fn publish_args(&self) -> Vec<String> {
        ["admin", "publish", "--data-dir", self.data()]
            .map(str::to_string)
            .to_vec()
    }

    /// `audit verify` passes; returns the number of entries.
    fn verified_entries(&self) -> u64 {
        let out = credgate(&[
            "audit",
            "verify",
            "--db",
            self.db().to_str().unwrap(),
        ]);
        let s = text(&out.stdout);
        assert!(out.status.success(), "audit verify: {s}");
        // "ok: N audit records chained, M entries match their last record"
        s.split(", ")
            .nth(1)
            .and_then(|p| p.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected: {s}"))
    }

    /// (id, state) of every publication, oldest first.
    fn publications(&self) -> Vec<(u64, String)> {
        let out =
            credgate(&["admin", "publications", "--data-dir", self.data()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut v: Vec<(u64, String)> = text(&out.stdout)
            .lines()
            .map(|l| {
                let mut f = l.split('\t');
                (f.next().unwrap().parse().unwrap(), f.next().unwrap().into())
            })
            .collect();
        v.reverse();
        v
    }

    fn inbox_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.inbox())
            .map(|d| {
                d.flatten()
                    .map(|f| f.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn verify_snapshot(path: &Path) {
    let out = credgate(&["verify", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}: {}", path.display(), text(&out.stderr));
}

#[test]
fn an_import_killed_at_any_point_is_all_there_or_not_at_all() {
    // ~5,000 entries in force: three write batches of 2,048.
    let env = Env::new(8_000);
    let import = env.import_args();
    for point in [
        "import:after_batch_1",
        "import:after_batch_2",
        "import:before_commit",
    ] {
        kill_at(&args(&import), point);
        assert_eq!(env.verified_entries(), 0, "killed at {point}");
    }
    kill_at(&args(&import), "import:after_commit");
    let n = env.verified_entries();
    assert!(n > 4_096, "{n} entries after a kill past the commit");

    // Importing again after the kill changes nothing.
    let out = credgate(&args(&import));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(" 0 new, 0 updated"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(env.verified_entries(), n);
}

#[test]
fn a_publication_killed_at_any_point_is_resolved_at_the_next_start() {
    let env = Env::new(1_500);
    let out = credgate(&args(&env.import_args()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let publish = env.publish_args();

    // Killed before any snapshot exists: failed at the next run, whose
    // own publication is done.
    kill_at(&args(&publish), "publish:after_begin");
    kill_at(&args(&publish), "publish:after_stream");
    // What a kill in the middle of the build leaves: the builder's hidden
    // temporary file.
    std::fs::create_dir_all(env.inbox()).unwrap();
    let temp = env.inbox().join(".publication-000002.snapshot.Xy12ab.tmp");
    std::fs::write(&temp, b"half a snapshot").unwrap();
    // Killed after the rename: the file is whole, so it is done.
    let out = credgate(&args(&publish));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    // (Publication 1 was resolved by the run killed after streaming.)
    assert!(err.contains("publication 2 left pending"), "{err}");
    assert!(!temp.exists(), "the temporary file is removed");
    kill_at(&args(&publish), "publish:after_build");
    let out = credgate(&args(&publish));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let states = env.publications();
    assert_eq!(
        states,
        vec![
            (1, "failed".to_string()),
            (2, "failed".to_string()),
            (3, "done".to_string()),
            (4, "done".to_string()),
            (5, "done".to_string()),
        ]
    );
    // No partial file is left; every published file verifies; no work
    // file is left behind.
    assert_eq!(
        env.inbox_files(),
        vec![
            "publication-000003.snapshot",
            "publication-000004.snapshot",
            "publication-000005.snapshot",
        ]
    );
    for f in env.inbox_files() {
        verify_snapshot(&env.inbox().join(f));
    }
    let work = env.dir.path().join("publish");
    assert_eq!(std::fs::read_dir(work).unwrap().count(), 0);
    env.verified_entries();
}
