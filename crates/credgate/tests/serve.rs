//! `credgate serve` as an operator starts it: the real binary on
//! 127.0.0.1:0, probed over plain HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

/// A running `credgate serve` and its base address.
struct Serve {
    child: Child,
    addr: String,
    stderr: Vec<String>,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_credgate"))
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut stderr = Vec::new();
        let addr = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("serve ended early: {stderr:?}"))
                .unwrap();
            if let Some(a) = line.strip_prefix("credgate listening on http://")
            {
                break a.trim().to_string();
            }
            stderr.push(line);
        };
        // Keep draining stderr so the server never blocks on a full pipe,
        // and collect what it printed before listening.
        let rest = std::thread::spawn(move || for _ in lines {});
        drop(rest);
        Serve { child, addr, stderr }
    }

    /// The status code of `GET path`.
    fn status(&self, path: &str) -> u16 {
        self.get(path).0
    }

    /// The status code and body of `GET path`.
    fn get(&self, path: &str) -> (u16, String) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let status = resp.split(' ').nth(1).unwrap().parse().unwrap();
        let body = resp.split_once("\r\n\r\n").unwrap().1.to_string();
        (status, body)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 8, item 14: demo data only for the zero-configuration start.
#[test]
fn a_configured_service_never_serves_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\ndemo_entries = 300\n\
             [[keys]]\nname = \"portal\"\nsha256 = \"{}\"\nroles = [\"screen\"]\n",
            data.to_str().unwrap(),
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let s = Serve::start(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(s.status("/healthz"), 200);
    assert_eq!(s.status("/readyz"), 503);
    assert!(!data.join("demo-entries-SYNTHETIC.csv").exists());
    assert!(!data.join("demo-api-key.txt").exists());
    assert!(!s.stderr.iter().any(|l| l.contains("demo")), "{:?}", s.stderr);
}

#[test]
fn the_zero_configuration_start_serves_labelled_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A host name, as operators write it.
    let s = Serve::start(&[
        "--listen",
        "localhost:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--demo-entries",
        "300",
    ]);
    let (status, body) = s.get("/readyz");
    assert_eq!(status, 200);
    assert!(body.contains("\"demo\":true"), "{body}");
    assert!(data.join("demo-entries-SYNTHETIC.csv").exists());
    // One process: the store, a key per role, the demo set published.
    assert!(data.join("demo-keys.txt").exists());
    assert!(data.join("credgate.db").exists());
    let keys = std::fs::read_to_string(data.join("demo-keys.txt")).unwrap();
    for role in [
        "screen",
        "screen_pii",
        "admin",
        "publisher",
        "reviewer",
        "auditor",
        "operator",
    ] {
        assert!(keys.lines().any(|l| l.starts_with(&format!("{role}\t"))));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("demo-keys.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        s.stderr.iter().any(|l| l.contains("SYNTHETIC")),
        "{:?}",
        s.stderr
    );
}

#[test]
fn the_screening_role_opens_no_store_and_serves_no_admin_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Serve::start(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--demo-entries",
        "300",
        "--role",
        "screening",
    ]);
    assert_eq!(s.status("/readyz"), 200);
    assert!(!data.join("credgate.db").exists());
    // The admin module is off: 404 before any key is looked at.
    assert_eq!(s.status("/admin/v1/publications"), 404);
}
