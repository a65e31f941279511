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

/// Publishing writes every entry in force to an entries file and builds
/// the snapshot from it, so one entry that file refuses failed every
/// publication of every department (a control character in a name, a
/// reason over 2,000 characters, two legal representatives …). Such an
/// entry is refused when it is made, naming the field.
#[tokio::test]
async fn entries_that_would_fail_every_publication_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin(dir.path()).await;
    let c = clerk();
    let party = || PartyInput {
        role: "legal_representative".into(),
        name: "张三".into(),
        id_type: None,
        id_number: None,
    };
    let mut cases = Vec::new();
    cases.push((proposal("成都\u{0}控制有限公司"), "subject.name"));
    let mut p = proposal("成都长文有限公司");
    p.reasons = "理".repeat(2001);
    cases.push((p, "reasons"));
    let mut p = proposal("成都双代表有限公司");
    p.subject.related = vec![party(), party()];
    cases.push((p, "subject.related"));
    let mut p = proposal("成都机关有限公司");
    p.authority = "四川省\u{7}发展和改革委员会".into();
    cases.push((p, "authority"));
    for (p, want) in cases {
        match admin.propose(&c, &p, None).await {
            Err(AdminError::Invalid { rule, field, .. }) => {
                assert_eq!((rule, field.as_str()), ("not_publishable", want))
            }
            other => panic!("{want}: {other:?}"),
        }
    }

    // The decision's document number, at designation.
    admin.propose(&c, &proposal("成都文号有限公司"), None).await.unwrap();
    let statement = StatementRequest {
        text: "无".into(),
        received_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
    };
    admin.record_statement(&c, "E1", 1, &statement).await.unwrap();
    let mut d = designation(&["government_procurement"]);
    d.document_number = "川发改\u{1b}〔2026〕1号".into();
    match admin.designate(&c, "E1", 2, &d).await {
        Err(AdminError::Invalid { rule, field, .. }) => assert_eq!(
            (rule, field.as_str()),
            ("not_publishable", "document_number")
        ),
        other => panic!("document_number: {other:?}"),
    }
    // A good entry goes the whole way and reads back as publishing reads.
    let d = designation(&["government_procurement"]);
    admin.designate(&c, "E1", 2, &d).await.unwrap();
    admin.publish(&c, "E1", 3).await.unwrap();
    let stored = admin.store.entry("E1").await.unwrap().unwrap().entry;
    credgate_entries::check_publishable(&stored.to_model().unwrap()).unwrap();
}

/// A refusal names the field of the request: an interview's date is
/// `held_on` (the lifecycle said `on`, a field no request has).
#[tokio::test]
async fn an_interview_in_the_future_names_held_on() {
    let dir = tempfile::tempdir().unwrap();
    let admin = admin(dir.path()).await;
    let c = clerk();
    admin.propose(&c, &proposal("成都约谈有限公司"), None).await.unwrap();
    let statement = StatementRequest {
        text: "无".into(),
        received_on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
    };
    admin.record_statement(&c, "E1", 1, &statement).await.unwrap();
    let d = designation(&["government_procurement"]);
    admin.designate(&c, "E1", 2, &d).await.unwrap();
    admin.publish(&c, "E1", 3).await.unwrap();
    let interview = InterviewRequest {
        kind: "warning".into(),
        held_on: NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
        note: "约谈".into(),
    };
    match admin.record_interview(&c, "E1", 4, &interview).await {
        Err(AdminError::Refused(r)) => {
            assert_eq!((r.rule, r.field), ("date_in_future", Some("held_on")))
        }
        other => panic!("{other:?}"),
    }
}
