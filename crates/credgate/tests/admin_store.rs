//! `credgate admin keys` and `credgate audit verify` on a real store file.

use std::path::Path;
use std::process::{Command, Output};

fn credgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credgate")).args(args).output().unwrap()
}

/// `credgate admin keys create` for the department `js-scjg`.
fn create_key(db: &str, more: &[&str]) -> Output {
    let mut args =
        vec!["admin", "keys", "create", "--db", db, "--department", "js-scjg"];
    args.extend_from_slice(more);
    credgate(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tamper(db: &Path, sql: &str) {
    use sqlx::{ConnectOptions, Connection};
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .connect()
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    });
}

#[test]
fn keys_are_made_listed_revoked_and_the_chain_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("credgate.db");
    let db_arg = db.to_str().unwrap();

    // Verifying a store that does not exist is a file error, not an empty
    // store made on the spot.
    let out = credgate(&["audit", "verify", "--db", db_arg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.exists());

    let out = create_key(
        db_arg,
        &["--roles", "publisher,reviewer", "--name", "张三"],
    );
    assert_eq!(out.status.code(), Some(2), "unknown department");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("--department-name"), "{err}");

    let out = create_key(
        db_arg,
        &[
            "--department-name",
            "江苏省市场监督管理局",
            "--roles",
            "publisher,reviewer",
            "--name",
            "张三",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let id = text.lines().next().unwrap().strip_prefix("id     = ").unwrap();
    let key = text.lines().nth(1).unwrap().strip_prefix("key    = ").unwrap();
    assert!(key.starts_with("cg_") && key.len() == 67, "{text}");

    let out = create_key(db_arg, &["--roles", "superuser", "--name", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("superuser"));

    let list = stdout(&credgate(&["admin", "keys", "list", "--db", db_arg]));
    assert!(
        list.contains(&format!("{id}\t张三\tjs-scjg\tpublisher,reviewer"))
    );
    assert!(!list.contains(key), "the secret is never shown again");

    let out = credgate(&["admin", "keys", "revoke", "--db", db_arg, id]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = credgate(&["admin", "keys", "revoke", "--db", db_arg, id]);
    assert_eq!(out.status.code(), Some(2), "already revoked");

    let out = credgate(&["audit", "verify", "--db", db_arg]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).starts_with("ok: 3 audit records"), "{out:?}");

    tamper(&db, "UPDATE audit SET action = 'nothing' WHERE seq = 2");
    let out = credgate(&["audit", "verify", "--db", db_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("broken: audit record 2: hash"),
        "{out:?}"
    );
}

/// The screening service's log of unmasked personal data is chained like
/// the store's audit: `audit verify --pii-log` names the line changed.
#[test]
fn audit_verify_checks_the_pii_log_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pii-audit.log");
    let log = credgate_server::pii_log::ChainedLog::open(&path).unwrap();
    for i in 0..3 {
        let line = serde_json::json!({"key": "investigators",
            "subjects": [{"entry_id": format!("E{i}"), "id_number": "x"}]});
        log.append(line.as_object().unwrap()).unwrap();
    }
    drop(log);
    let arg = path.to_str().unwrap();
    let out = credgate(&["audit", "verify", "--pii-log", arg]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).starts_with("ok: 3 lines"), "{out:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"E2\"", "\"E5\"")).unwrap();
    let out = credgate(&["audit", "verify", "--pii-log", arg]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("line 3: hash"), "{out:?}");
    let out = credgate(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2), "--db or --pii-log: {out:?}");
}
