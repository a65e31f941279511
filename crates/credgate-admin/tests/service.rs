//! The admin service over a real store: the mapping between the store and
//! the lifecycle, input rules the service adds, and the export's cells.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use credgate_admin::requests::*;
use credgate_admin::service::{Admin, AdminError, Caller};
use credgate_screen::{Catalogue, TestClock};
use credgate_store::{Audit, Department, Role, Store};

async fn admin(dir: &std::path::Path) -> Admin {
    let store = Store::open_dir(dir).await.unwrap();
    let a = Audit::new(chrono::Utc::now(), "t", "sc-fgw", "setup");
    store
        .upsert_department(
            &a,
            &Department { code: "sc-fgw".into(), name_zh: "发改委".into() },
        )
        .await
        .unwrap();
    let clock = TestClock::at_china(
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
    );
    Admin::new(
        store,
        credgate_lifecycle::Lifecycle::builtin(),
        Arc::new(clock),
        Arc::new(Catalogue::builtin()),
    )
}

fn clerk() -> Caller {
    Caller {
        key_id: "k1".into(),
        department: Some("sc-fgw".into()),
        roles: vec![Role::Publisher, Role::Reviewer],
    }
}

fn proposal(name: &str) -> ProposeRequest {
    ProposeRequest {
        entry_id: Some("E1".into()),
        subject: SubjectInput {
            kind: "organisation".into(),
            name: name.into(),
            code: credgate_ident::generate::uscc(
                "91",
                510100,
                &credgate_ident::generate::org_body_ma(1),
            )
            .unwrap(),
            secondary_ids: vec![],
            related: vec![],
        },
        list: "black".into(),
        category: "court_defaulter".into(),
        reasons: "拒不履行".into(),
        basis: "《最高人民法院关于公布失信被执行人名单信息的若干规定》".into(),
        rights: "陈述申辩".into(),
        statement_days: None,
        authority: "四川省发展和改革委员会".into(),
    }
}

fn designation(scenarios: &[&str]) -> DesignateRequest {
    DesignateRequest {
        decided_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        document_number: "川发改〔2026〕1号".into(),
        list: "black".into(),
        category: "court_defaulter".into(),
        severity: Some("general".into()),
        scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
        valid_until: None,
    }
}

/// What the store keeps is what the lifecycle decided: the facts read
/// back from a stored entry equal the decision's (deadline flags too).
#[tokio::test]
async fn stored_facts_read_back_as_the_lifecycle_decided() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin(dir.path()).await;
    let c = clerk();
    admin.propose(&c, &proposal("成都映射有限公司"), None).await.unwrap();
    let statement = StatementRequest {
        text: "无".into(),
        received_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
    };
    admin.record_statement(&c, "E1", 1, &statement).await.unwrap();
    let stored = admin.store.entry("E1").await.unwrap().unwrap().entry;
    let before = credgate_admin::mapping::to_facts(&stored);
    let des = credgate_lifecycle::Designation {
        decided_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        document_number: "川发改〔2026〕1号".into(),
        list: credgate_model::ListKind::Black,
        category: credgate_model::Category::parse("court_defaulter")
            .unwrap()
            .id(),
        severity: Some(credgate_model::Severity::General),
        scenarios: vec!["government_procurement".into()],
        valid_until: None,
    };
    let decision = admin
        .lifecycle
        .decide(
            Some(&before),
            &credgate_lifecycle::Command::Designate(des),
            &c.actor(),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        )
        .unwrap();
    admin
        .designate(&c, "E1", 2, &designation(&["government_procurement"]))
        .await
        .unwrap();
    let stored = admin.store.entry("E1").await.unwrap().unwrap().entry;
    assert_eq!(credgate_admin::mapping::to_facts(&stored), decision.facts);
}

#[tokio::test]
async fn scenarios_are_checked_against_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin(dir.path()).await;
    let c = clerk();
    let mut p = proposal("成都场景有限公司");
    p.statement_days = Some(1);
    admin.propose(&c, &p, None).await.unwrap();
    let err = admin
        .designate(&c, "E1", 1, &designation(&["政府采购", "no_such"]))
        .await
        .unwrap_err();
    match err {
        AdminError::Invalid { rule, field, .. } => {
            assert_eq!(
                (rule, field.as_str()),
                ("unknown_scenario", "scenarios[1]")
            );
        }
        e => panic!("{e}"),
    }
}

#[tokio::test]
async fn inputs_are_bounded_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin(dir.path()).await;
    let mut p = proposal(&"长".repeat(201));
    let err = admin.propose(&clerk(), &p, None).await.unwrap_err();
    assert!(
        matches!(&err, AdminError::Invalid { rule: "too_long", field, .. } if field == "subject.name"),
        "{err}"
    );
    p = proposal("成都有限公司");
    p.subject.code = "91510100MA00000000".into();
    let err = admin.propose(&clerk(), &p, None).await.unwrap_err();
    assert!(
        matches!(&err, AdminError::Invalid { rule: "invalid_identifier", field, .. } if field == "subject.code"),
        "{err}"
    );
    p = proposal("成都有限公司");
    p.category = "major_tax_violation".into();
    p.list = "red".into();
    let err = admin.propose(&clerk(), &p, None).await.unwrap_err();
    assert!(
        matches!(
            &err,
            AdminError::Invalid { rule: "category_list_mismatch", .. }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn csv_exports_neutralise_formulas_and_start_with_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin(dir.path()).await;
    admin
        .propose(&clerk(), &proposal("=HYPERLINK(\"x\")"), None)
        .await
        .unwrap();
    let all =
        admin.list_all(&clerk(), &ListQuery::default(), 10).await.unwrap();
    let bytes = credgate_admin::export::write(
        &all,
        credgate_admin::export::ExportFormat::Csv,
    )
    .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("'=HYPERLINK"), "{text}");
    // A limit below the count is an error naming it, not a cut list.
    let err =
        admin.list_all(&clerk(), &ListQuery::default(), 0).await.unwrap_err();
    assert!(err.to_string().contains("more than 0 entries"), "{err}");
}
