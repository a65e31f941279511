//! `credgate admin propose|statement|designate|publish-entry|object|
//! revoke|repair|sweep` on a real store file: the same service as HTTP,
//! audited under the key id `cli`.

use std::process::{Command, Output};

fn credgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credgate")).args(args).output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_main_transitions_run_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let db = dir.path().join("credgate.db");
    let db = db.to_str().unwrap();
    // Makes the store and the department.
    let out = credgate(&[
        "admin",
        "keys",
        "create",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "--department-name",
        "四川省发展和改革委员会",
        "--roles",
        "publisher",
        "--name",
        "clerk",
    ]);
    assert!(out.status.success());
    let today = credgate_screen::china_date(chrono::Utc::now()).to_string();
    let code = credgate_ident::generate::uscc(
        "91",
        510100,
        &credgate_ident::generate::org_body_ma(77),
    )
    .unwrap();
    let proposal = dir.path().join("proposal.json");
    std::fs::write(
        &proposal,
        serde_json::json!({
            "entry_id": "SC-CLI-1",
            "subject": {"kind": "organisation", "name": "成都命令行有限公司", "code": code},
            "list": "black",
            "category": "court_defaulter",
            "reasons": "拒不履行",
            "basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
            "rights": "陈述申辩",
            "authority": "四川省发展和改革委员会",
        })
        .to_string(),
    )
    .unwrap();
    let p = proposal.to_str().unwrap();
    let e = json(&credgate(&[
        "admin",
        "propose",
        "--data-dir",
        data,
        "--department",
        "sc-fgw",
        p,
    ]));
    assert_eq!(
        (e["stage"].as_str(), e["version"].as_i64()),
        (Some("noticed"), Some(1))
    );
    let e = json(&credgate(&[
        "admin",
        "statement",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "SC-CLI-1",
        "--version",
        "1",
        "--text",
        "无",
        "--received-on",
        &today,
    ]));
    assert_eq!(e["version"], 2);
    let designation = dir.path().join("designation.json");
    std::fs::write(
        &designation,
        serde_json::json!({
            "decided_on": today,
            "document_number": "川发改〔2026〕9号",
            "list": "black",
            "category": "court_defaulter",
            "severity": "general",
            "scenarios": ["政府采购"],
        })
        .to_string(),
    )
    .unwrap();
    let e = json(&credgate(&[
        "admin",
        "designate",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "SC-CLI-1",
        "--version",
        "2",
        designation.to_str().unwrap(),
    ]));
    assert_eq!(e["stage"], "designated");
    assert_eq!(e["scenarios"], serde_json::json!(["government_procurement"]));
    let e = json(&credgate(&[
        "admin",
        "publish-entry",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "SC-CLI-1",
        "--version",
        "3",
    ]));
    assert_eq!(e["stage"], "published");
    // Repair before the minimum period: refused with the rule, exit 1.
    let out = credgate(&[
        "admin",
        "repair",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "SC-CLI-1",
        "--version",
        "4",
        "--commitment",
        "承诺",
        "--obligations-met",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("minimum_period_not_reached"), "{err}");
    // Another department: refused.
    let out = credgate(&[
        "admin",
        "object",
        "--db",
        db,
        "--department",
        "js-scjg",
        "SC-CLI-1",
        "--version",
        "4",
        "--applicant",
        "x",
        "--grounds",
        "y",
        "--received-on",
        &today,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("not_designating_department")
    );
    let e = json(&credgate(&[
        "admin",
        "object",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "SC-CLI-1",
        "--version",
        "4",
        "--applicant",
        "成都命令行有限公司",
        "--grounds",
        "已履行",
        "--received-on",
        &today,
    ]));
    assert_eq!(e["stage"], "disputed");
    let e = json(&credgate(&[
        "admin",
        "revoke",
        "--db",
        db,
        "--department",
        "sc-fgw",
        "SC-CLI-1",
        "--version",
        "5",
        "--reason",
        "认定错误",
    ]));
    assert_eq!(e["stage"], "revoked");
    let e = json(&credgate(&["admin", "sweep", "--db", db]));
    assert_eq!(e["expired"], serde_json::json!([]));
    let out = credgate(&["audit", "verify", "--db", db]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
