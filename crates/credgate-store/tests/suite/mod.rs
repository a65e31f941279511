//! The store's behaviour, as functions over [`Store`]: each back-end's
//! test file (`tests/sqlite.rs`, later `tests/postgres.rs`) runs every one
//! through its [`Harness`].
#![allow(async_fn_in_trait, dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use credgate_model::{
    Category, IdType, ListKind, PartyRole, RelatedParty, Severity, SubjectKind,
};
use credgate_store::*;
use futures_util::TryStreamExt;
use std::collections::BTreeSet;

/// What a back-end gives the suite.
pub trait Harness {
    /// A store on a fresh database, migrated.
    async fn store(&self) -> Store;
    /// Runs `sql` behind the store's back, on a second plain connection
    /// (no foreign keys), as someone with the database file would.
    async fn tamper(&self, sql: &str);
}

pub const FGW: &str = "sc-fgw";
pub const SCJG: &str = "js-scjg";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 2, 3).unwrap()
}

pub fn audit(action: &str) -> Audit {
    Audit::new(t0(), "key_test", SCJG, action)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub async fn setup(h: &impl Harness) -> Store {
    let store = h.store().await;
    for (code, name) in
        [(FGW, "四川省发展和改革委员会"), (SCJG, "江苏省市场监督管理局")]
    {
        let d = Department { code: code.into(), name_zh: name.into() };
        store
            .upsert_department(&audit("department_upsert"), &d)
            .await
            .unwrap();
    }
    store
}

pub fn data(n: u32) -> EntryData {
    EntryData {
        list: ListKind::Black,
        subject_kind: SubjectKind::Organisation,
        name: format!("南京恒瑞{n}科技有限公司"),
        code: format!("CODE{n:06}"),
        secondary_ids: vec![format!("OLD{n}")],
        category: Category::parse("market_serious_violation").unwrap().id(),
        reason: "提供虚假材料".into(),
        basis: "《企业信息公示暂行条例》".into(),
        authority: "江苏省市场监督管理局".into(),
        document_number: Some(format!("苏市监处〔2026〕{n}号")),
        listed_on: Some(date(2026, 1, 5)),
        valid_until: Some(date(2029, 1, 5)),
        severity: Some(Severity::Serious),
        removal_reason: None,
        removed_on: None,
        removal_authority: None,
        related: vec![RelatedParty {
            role: PartyRole::LegalRepresentative,
            name: format!("张伟{n}"),
            id_type: IdType::ResidentId,
            id_number: Some("360426199101010071".into()),
        }],
        facts: Facts {
            min_period_end: Some(date(2027, 1, 5)),
            max_period_end: Some(date(2029, 1, 5)),
            ..Facts::default()
        },
    }
}

pub fn new_entry(n: u32, stage: Stage) -> NewEntry {
    NewEntry {
        entry_id: format!("E{n:06}"),
        department: SCJG.into(),
        stage,
        data: data(n),
    }
}

async fn insert(store: &Store, n: u32, stage: Stage) -> StoredEntry {
    store
        .insert_entry(&audit("propose"), &new_entry(n, stage), None)
        .await
        .unwrap()
}

fn change(stage: Stage, data: EntryData) -> Change {
    Change { stage, data, event: None }
}

async fn verified(store: &Store) -> VerifyCounts {
    match store.verify_audit().await.unwrap() {
        Ok(c) => c,
        Err(b) => panic!("verify found {b}"),
    }
}

async fn broken(store: &Store) -> Break {
    match store.verify_audit().await.unwrap() {
        Ok(c) => panic!("verify passed ({c:?}) on a tampered store"),
        Err(b) => b,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

// ---- the tests ---------------------------------------------------------

pub async fn an_entry_reads_back_as_written(h: &impl Harness) {
    let store = setup(h).await;
    let e = insert(&store, 1, Stage::Published).await;
    assert_eq!(e.version, 1);
    let got = store.entry("E000001").await.unwrap().unwrap();
    assert_eq!(got.entry, e);
    assert_eq!(got.entry.data, data(1));
    assert_eq!(got.history.len(), 1);
    assert_eq!(got.history[0].action, "propose");
    assert!(got.history[0].before.is_none());
    // The first version's state (not stored in its history row) is the
    // one its audit record digests.
    let record = store.audit_record(got.history[0].audit_seq).await.unwrap();
    let after = sha256_hex(got.history[0].after.as_bytes());
    assert_eq!(record.unwrap().digest_after, Some(after));
    assert_eq!(store.entry_by_id(e.id).await.unwrap().unwrap(), e);
    assert!(store.entry("nope").await.unwrap().is_none());
    let c = verified(&store).await;
    assert_eq!(c, VerifyCounts { records: 3, entries: 1 });
}

pub async fn a_stale_version_is_refused(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    let mut d = data(1);
    d.name = "南京恒瑞科技股份有限公司".into();
    let a = audit("correct");
    let e = store
        .update_entry(&a, "E000001", 1, &change(Stage::Published, d.clone()))
        .await
        .unwrap();
    assert_eq!(e.version, 2);
    let err = store
        .update_entry(&a, "E000001", 1, &change(Stage::Published, d))
        .await
        .unwrap_err();
    match err {
        StoreError::Stale { entry_id, expected: 1, actual: 2 } => {
            assert_eq!(entry_id, "E000001")
        }
        e => panic!("expected Stale, got {e:?}"),
    }
    // The refused change left no trace.
    let detail = store.entry("E000001").await.unwrap().unwrap();
    assert_eq!(detail.history.len(), 2);
    verified(&store).await;
}

pub async fn concurrent_updates_on_one_version_one_wins(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    let mut tasks = Vec::new();
    for i in 0..2 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut d = data(1);
            d.name = format!("并发{i}有限公司");
            store
                .update_entry(
                    &audit("correct"),
                    "E000001",
                    1,
                    &change(Stage::Published, d),
                )
                .await
        }));
    }
    let mut won = 0;
    let mut stale = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(e) => {
                assert_eq!(e.version, 2);
                won += 1;
            }
            Err(StoreError::Stale { expected: 1, actual: 2, .. }) => {
                stale += 1
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((won, stale), (1, 1));
    verified(&store).await;
}

pub async fn an_idempotency_key_is_used_once(h: &impl Harness) {
    let store = setup(h).await;
    let rec = IdempotencyRecord {
        key_id: "key_a".into(),
        idem_key: "req-1".into(),
        request_digest: "d1".into(),
        status: 201,
        response: "{\"entry_id\":\"E000001\"}".into(),
        entry: None,
        created_at: t0(),
    };
    let first = store
        .insert_entry(
            &audit("propose"),
            &new_entry(1, Stage::Noticed),
            Some(&rec),
        )
        .await
        .unwrap();
    let got = store.idempotency_get("key_a", "req-1").await.unwrap().unwrap();
    assert_eq!(got.entry, Some(first.id));
    assert_eq!(got.response, rec.response);
    // A retry with the same key makes no second entry.
    let err = store
        .insert_entry(
            &audit("propose"),
            &new_entry(2, Stage::Noticed),
            Some(&rec),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { what: "idempotency key", .. }),
        "{err:?}"
    );
    assert!(store.entry("E000002").await.unwrap().is_none());
    let err = store.idempotency_put(&rec).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    // The same idempotency key under another API key is another request.
    let other = IdempotencyRecord { key_id: "key_b".into(), ..rec };
    store.idempotency_put(&other).await.unwrap();
    assert!(store.idempotency_get("key_c", "req-1").await.unwrap().is_none());
    verified(&store).await;
}

pub async fn keyset_pagination_returns_every_entry_once_under_inserts(
    h: &impl Harness,
) {
    let store = setup(h).await;
    let batch: Vec<NewEntry> =
        (0..250).map(|n| new_entry(n, Stage::Published)).collect();
    store.insert_many(&audit("import"), &batch).await.unwrap();
    let filter = EntryFilter { limit: Some(40), ..Default::default() };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut extra = 1000;
    loop {
        let page =
            store.list_entries(&filter, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 40);
        seen.extend(page.items.iter().map(|e| e.entry_id.clone()));
        // Inserts while paging: they come at the end.
        if extra < 1003 {
            insert(&store, extra, Stage::Published).await;
            extra += 1;
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "an entry came twice");
    assert_eq!(seen.len(), 253);
    let err = store.list_entries(&filter, Some("x12")).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { field: "cursor", .. }));
}

pub async fn filters_select_entries(h: &impl Harness) {
    let store = setup(h).await;
    let mut batch: Vec<NewEntry> =
        (0..10).map(|n| new_entry(n, Stage::Published)).collect();
    batch[1].stage = Stage::Disputed;
    batch[2].data.list = ListKind::Focus;
    batch[2].data.category =
        Category::parse("work_safety_focus").unwrap().id();
    batch[3].department = FGW.into();
    batch[4].data.listed_on = Some(date(2025, 6, 1));
    batch[5].data.name = "苏州海源商行".into();
    store.insert_many(&audit("import"), &batch).await.unwrap();
    let ids = |f: EntryFilter| {
        let store = store.clone();
        async move {
            let p = store.list_entries(&f, None).await.unwrap();
            p.items.into_iter().map(|e| e.entry_id).collect::<Vec<_>>()
        }
    };
    let f = EntryFilter::default;
    assert_eq!(
        ids(EntryFilter { list: Some(ListKind::Focus), ..f() }).await,
        ["E000002"]
    );
    assert_eq!(
        ids(EntryFilter { category: batch[2].data.category.into(), ..f() })
            .await,
        ["E000002"]
    );
    assert_eq!(
        ids(EntryFilter { stages: vec![Stage::Disputed], ..f() }).await,
        ["E000001"]
    );
    assert_eq!(
        ids(EntryFilter { department: Some(FGW.into()), ..f() }).await,
        ["E000003"]
    );
    assert_eq!(
        ids(EntryFilter { listed_to: Some(date(2025, 12, 31)), ..f() }).await,
        ["E000004"]
    );
    assert_eq!(
        ids(EntryFilter { name_prefix: Some("苏州".into()), ..f() }).await,
        ["E000005"]
    );
    assert_eq!(
        ids(EntryFilter { name_contains: Some("海源".into()), ..f() }).await,
        ["E000005"]
    );
    assert_eq!(
        ids(EntryFilter { name_contains: Some("%".into()), ..f() }).await,
        Vec::<String>::new()
    );
    assert_eq!(
        ids(EntryFilter { code: Some("CODE000007".into()), ..f() }).await,
        ["E000007"]
    );
    assert_eq!(
        ids(EntryFilter {
            stages: vec![Stage::Published],
            max_period_end_by: Some(date(2029, 1, 5)),
            limit: Some(2),
            ..f()
        })
        .await,
        ["E000000", "E000002"]
    );
    let found = store
        .entries_by_natural_key("江苏省市场监督管理局", "苏市监处〔2026〕7号")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].entry_id, "E000007");
}

pub async fn in_force_entries_are_published_and_disputed_ones(
    h: &impl Harness,
) {
    let store = setup(h).await;
    let stages = [
        Stage::Noticed,
        Stage::Designated,
        Stage::Published,
        Stage::Disputed,
        Stage::Exited,
        Stage::Revoked,
        Stage::Withdrawn,
    ];
    let batch: Vec<NewEntry> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| new_entry(i as u32, *s))
        .collect();
    store.insert_many(&audit("import"), &batch).await.unwrap();
    let got: Vec<credgate_model::Entry> =
        store.in_force_entries().try_collect().await.unwrap();
    let got: Vec<_> =
        got.iter().map(|e| (e.entry_id.as_str(), e.status)).collect();
    assert_eq!(
        got,
        [
            ("E000002", credgate_model::EntryStatus::Active),
            ("E000003", credgate_model::EntryStatus::Disputed)
        ]
    );
    let e: Vec<credgate_model::Entry> =
        store.in_force_entries().try_collect().await.unwrap();
    assert_eq!(e[0].related, data(2).related, "related parties come along");
}

/// The in-force stream decodes its own packed rows: every field of every
/// kind of entry must come out as the entry reads back whole.
pub async fn the_in_force_stream_carries_every_field(h: &impl Harness) {
    let store = setup(h).await;
    let mut plain = new_entry(1, Stage::Published);
    plain.data.secondary_ids.clear();
    plain.data.related.clear();
    plain.data.severity = None;
    plain.data.list = ListKind::Red;
    let mut full = new_entry(2, Stage::Disputed);
    full.data.secondary_ids = vec!["OLD2".into(), "旧\"号\\2".into()];
    full.data.reason = "理由 \"引号\" \\ 反斜杠\n换行\t".into();
    full.data.removal_reason = Some("信用修复".into());
    full.data.removed_on = Some(date(2026, 6, 1));
    full.data.removal_authority = Some("江苏省发展和改革委员会".into());
    // Positions 0..3, inserted in this order; read back in it.
    full.data.related.push(RelatedParty {
        role: PartyRole::ActualController,
        name: "李四".into(),
        id_type: IdType::ResidentId,
        id_number: None,
    });
    full.data.related.push(RelatedParty {
        role: PartyRole::Principal,
        name: "王五".into(),
        id_type: IdType::ResidentId,
        id_number: Some("360426199101010071".into()),
    });
    store.insert_many(&audit("import"), &[plain, full]).await.unwrap();
    let got: Vec<credgate_model::Entry> =
        store.in_force_entries().try_collect().await.unwrap();
    let mut expected = Vec::new();
    for id in ["E000001", "E000002"] {
        let e = store.entry(id).await.unwrap().unwrap().entry;
        expected.push(e.to_model().unwrap());
    }
    assert_eq!(got, expected);
}

pub async fn a_published_entry_without_a_decision_stops_the_stream(
    h: &impl Harness,
) {
    let store = setup(h).await;
    let mut e = new_entry(1, Stage::Published);
    e.data.document_number = None;
    store.insert_entry(&audit("import"), &e, None).await.unwrap();
    let err =
        store.in_force_entries().try_collect::<Vec<_>>().await.unwrap_err();
    assert!(err.to_string().contains("E000001"), "{err}");
}

/// Rows edited behind the store's back (a bad enumeration, a date that
/// is no date, JSON that is no list, a related party of no known role)
/// stop the in-force stream with an error naming the table, the row and
/// the column: publishing must never build a snapshot from a guess.
pub async fn a_corrupt_in_force_row_is_named_not_guessed(h: &impl Harness) {
    let entry = "WHERE entry_id = '{id}'";
    let party =
        "WHERE entry = (SELECT id FROM entries WHERE entry_id = '{id}')";
    let cases: [(&str, &str, &str, &str); 5] = [
        ("UPDATE entries SET list = 'grey'", entry, "entries", "list"),
        (
            "UPDATE entries SET severity = 'extreme'",
            entry,
            "entries",
            "severity",
        ),
        (
            "UPDATE entries SET category = 'no_such'",
            entry,
            "entries",
            "category",
        ),
        (
            "UPDATE entries SET listed_on = '2026-13-45'",
            entry,
            "entries",
            "(in force)",
        ),
        (
            "UPDATE related_parties SET role = 'boss'",
            party,
            "related_parties",
            "role",
        ),
    ];
    let store = setup(h).await;
    for (n, (set, filter, table, column)) in (1..).zip(cases) {
        let id = format!("E{n:06}");
        insert(&store, n, Stage::Published).await;
        let fine: Vec<credgate_model::Entry> =
            store.in_force_entries().try_collect().await.unwrap();
        assert_eq!(fine.len(), 1, "{set}: the row reads before the edit");
        let sql = format!("{set} {}", filter.replace("{id}", &id));
        h.tamper(&sql).await;
        let err = store
            .in_force_entries()
            .try_collect::<Vec<_>>()
            .await
            .expect_err(&sql);
        match &err {
            StoreError::Corrupt { table: t, column: c, row, .. } => {
                assert_eq!((*t, *c), (table, column), "{sql}: {err}");
                assert!(!row.is_empty(), "{sql}: {err}");
            }
            other => panic!("{sql}: not named as corrupt: {other}"),
        }
        assert!(err.to_string().contains(column), "{sql}: {err}");
        // Out of the way of the next case (the stream stops at the first
        // corrupt row).
        h.tamper(&format!(
            "UPDATE entries SET stage = 'exited' WHERE entry_id = '{id}'"
        ))
        .await;
    }
}

pub async fn history_and_events_are_recorded(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    let d = data(1);
    let step = |v: i64, stage: Stage, event: Event, action: &'static str| {
        let store = store.clone();
        let d = d.clone();
        async move {
            let c = Change { stage, data: d, event: Some(event) };
            store.update_entry(&audit(action), "E000001", v, &c).await.unwrap()
        }
    };
    step(
        1,
        Stage::Published,
        Event::Interview(Interview {
            held_on: date(2026, 2, 1),
            kind: InterviewKind::Warning,
            note: "警示约谈".into(),
        }),
        "record_interview",
    )
    .await;
    step(
        2,
        Stage::Disputed,
        Event::ObjectionOpened(Objection {
            received_on: date(2026, 2, 2),
            applicant: "南京恒瑞".into(),
            grounds: "认定事实有误".into(),
            review_deadline: date(2026, 2, 20),
            decided_on: None,
            outcome: None,
            decision: None,
        }),
        "object",
    )
    .await;
    step(
        3,
        Stage::Published,
        Event::ObjectionDecided {
            decided_on: date(2026, 2, 10),
            outcome: ObjectionOutcome::Upheld,
            decision: "维持".into(),
        },
        "uphold",
    )
    .await;
    let e = step(
        4,
        Stage::Exited,
        Event::Repair(Repair {
            repaired_on: date(2027, 2, 1),
            commitment: "信用承诺书".into(),
            note: "".into(),
        }),
        "repair",
    )
    .await;
    assert_eq!(e.version, 5);
    // No objection is open any more.
    let err = store
        .update_entry(
            &audit("uphold"),
            "E000001",
            5,
            &Change {
                stage: Stage::Published,
                data: data(1),
                event: Some(Event::ObjectionDecided {
                    decided_on: date(2026, 2, 10),
                    outcome: ObjectionOutcome::Upheld,
                    decision: "".into(),
                }),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { field: "event", .. }),
        "{err:?}"
    );
    let got = store.entry("E000001").await.unwrap().unwrap();
    let actions: Vec<_> =
        got.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        ["propose", "record_interview", "object", "uphold", "repair"]
    );
    assert_eq!(
        got.history[1].before.as_deref(),
        Some(got.history[0].after.as_str())
    );
    assert_eq!(got.interviews.len(), 1);
    assert_eq!(got.objections.len(), 1);
    assert_eq!(got.objections[0].outcome, Some(ObjectionOutcome::Upheld));
    assert_eq!(got.repairs.len(), 1);
    verified(&store).await;
}

pub async fn foreign_keys_are_enforced(h: &impl Harness) {
    let store = setup(h).await;
    let mut e = new_entry(1, Stage::Noticed);
    e.department = "nowhere".into();
    let err =
        store.insert_entry(&audit("propose"), &e, None).await.unwrap_err();
    assert!(
        matches!(err, StoreError::ForeignKey { what: "department", .. }),
        "{err:?}"
    );
    let key = NewKey {
        name: "clerk".into(),
        department: "nowhere".into(),
        roles: vec![Role::Publisher],
    };
    let err = store.create_key(&audit("key_create"), &key).await.unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey { .. }), "{err:?}");
    // Neither left an audit record behind.
    let c = verified(&store).await;
    assert_eq!(c.records, 2);
}

pub async fn a_duplicate_entry_id_is_refused(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Noticed).await;
    let err = store
        .insert_entry(&audit("propose"), &new_entry(1, Stage::Noticed), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { what: "entry", .. }),
        "{err:?}"
    );
    // A batch with one duplicate inserts nothing.
    let batch =
        vec![new_entry(2, Stage::Published), new_entry(1, Stage::Published)];
    assert!(store.insert_many(&audit("import"), &batch).await.is_err());
    assert!(store.entry("E000002").await.unwrap().is_none());
    verified(&store).await;
}

pub async fn keys_are_created_looked_up_and_revoked(h: &impl Harness) {
    let store = setup(h).await;
    let new = NewKey {
        name: "张三 (市场监管)".into(),
        department: SCJG.into(),
        roles: vec![Role::Publisher, Role::Reviewer],
    };
    let made = store.create_key(&audit("key_create"), &new).await.unwrap();
    assert!(made.secret.starts_with("cg_") && made.secret.len() == 67);
    assert_ne!(made.key.sha256, made.secret);
    let by_hash = store
        .key_by_hash(&made.key.sha256.to_uppercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_hash, made.key);
    assert_eq!(by_hash.roles, [Role::Publisher, Role::Reviewer]);
    assert!(by_hash.is_active());
    let a =
        Audit::new(t0() + Duration::hours(1), "key_admin", FGW, "key_revoke");
    let revoked = store.revoke_key(&a, &made.key.id).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t0() + Duration::hours(1)));
    let err = store.revoke_key(&a, &made.key.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { field: "id", .. }), "{err:?}");
    let err = store.revoke_key(&a, "key_unknown").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert_eq!(store.keys().await.unwrap().len(), 1);
    assert!(!store.keys().await.unwrap()[0].is_active());
    let err = store
        .create_key(&audit("key_create"), &NewKey { roles: vec![], ..new })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { field: "roles", .. }));
    assert_eq!(store.departments().await.unwrap().len(), 2);
    verified(&store).await;
}

pub async fn publications_are_recorded(h: &impl Harness) {
    let store = setup(h).await;
    let p = store.publication_begin(&audit("publish_snapshot")).await.unwrap();
    assert_eq!(p.state, PublicationState::Pending);
    let counts = PublicationCounts { entries: 10, active: 9, disputed: 1 };
    let done = store
        .publication_finish(
            &audit("publish_snapshot"),
            p.id,
            &PublicationOutcome::Done {
                counts,
                checksum: "abc".into(),
                file_name: "snap-1.cgs".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(done.state, PublicationState::Done);
    assert_eq!(done.counts, Some(counts));
    let err = store
        .publication_finish(
            &audit("publish_snapshot"),
            p.id,
            &PublicationOutcome::Failed { error: "late".into() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    let q = store.publication_begin(&audit("publish_snapshot")).await.unwrap();
    assert!(q.id > p.id);
    let list = store.publications(10).await.unwrap();
    assert_eq!(list.iter().map(|p| p.id).collect::<Vec<_>>(), [q.id, p.id]);
    verified(&store).await;
}

pub async fn the_audit_pages_and_filters(h: &impl Harness) {
    let store = setup(h).await;
    for n in 0..5 {
        insert(&store, n, Stage::Noticed).await;
    }
    let all = store
        .audit_page(
            &AuditFilter { limit: Some(3), ..Default::default() },
            None,
        )
        .await
        .unwrap();
    assert_eq!(all.items.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all.items[0].prev_hash, GENESIS);
    assert_eq!(all.items[1].prev_hash, all.items[0].hash);
    let rest = store
        .audit_page(
            &AuditFilter { limit: Some(3), ..Default::default() },
            all.next.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [4, 5, 6]
    );
    let f =
        AuditFilter { entry_id: Some("E000003".into()), ..Default::default() };
    let one = store.audit_page(&f, None).await.unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].action, "propose");
    assert!(one.next.is_none());
    let f = AuditFilter {
        action: Some("department_upsert".into()),
        ..Default::default()
    };
    assert_eq!(store.audit_page(&f, None).await.unwrap().items.len(), 2);
    let f = AuditFilter {
        from: Some(t0() + Duration::seconds(1)),
        ..Default::default()
    };
    assert!(store.audit_page(&f, None).await.unwrap().items.is_empty());
    // One record by its sequence number: the head, one inside, none past.
    let (head, hash) = store.audit_head().await.unwrap();
    let last = store.audit_record(head).await.unwrap().unwrap();
    assert_eq!((last.seq, last.hash), (head, hash));
    let second = store.audit_record(2).await.unwrap().unwrap();
    assert_eq!(second, all.items[1]);
    assert!(store.audit_record(head + 1).await.unwrap().is_none());
    assert!(store.audit_record(0).await.unwrap().is_none());
}

// ---- tampering ---------------------------------------------------------

pub async fn a_name_edited_in_the_file_is_found_at_its_record(
    h: &impl Harness,
) {
    let store = setup(h).await;
    for n in 0..3 {
        insert(&store, n, Stage::Published).await;
    }
    let mut d = data(1);
    d.reason = "更正".into();
    store
        .update_entry(
            &audit("correct"),
            "E000001",
            1,
            &change(Stage::Published, d),
        )
        .await
        .unwrap();
    verified(&store).await;
    h.tamper(
        "UPDATE entries SET name = '别的公司' WHERE entry_id = 'E000001'",
    )
    .await;
    let b = broken(&store).await;
    // Records: 2 departments, 3 inserts (seq 3..5), the correction (6).
    assert_eq!(b.seq, 6, "{b}");
    assert!(
        matches!(&b.kind, BreakKind::EntryDigest { entry_id, .. } if entry_id == "E000001"),
        "{b}"
    );
    assert!(b.to_string().contains("E000001"), "{b}");
}

pub async fn a_related_party_edited_in_the_file_is_found(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    h.tamper("UPDATE related_parties SET id_number = '44011320141005001X'")
        .await;
    let b = broken(&store).await;
    assert_eq!(b.seq, 3, "{b}");
    assert!(matches!(b.kind, BreakKind::EntryDigest { .. }), "{b}");
}

pub async fn a_deleted_audit_row_is_named_as_a_gap(h: &impl Harness) {
    let store = setup(h).await;
    store
        .upsert_department(
            &audit("department_upsert"),
            &Department { code: "x".into(), name_zh: "某部门".into() },
        )
        .await
        .unwrap();
    store
        .upsert_department(
            &audit("department_upsert"),
            &Department { code: "y".into(), name_zh: "另一部门".into() },
        )
        .await
        .unwrap();
    h.tamper("DELETE FROM audit WHERE seq = 3").await;
    let b = broken(&store).await;
    assert_eq!(b, Break { seq: 4, kind: BreakKind::Gap { expected: 3 } });
    assert!(b.to_string().contains("expected seq 3"), "{b}");
}

pub async fn a_deleted_last_audit_row_is_named(h: &impl Harness) {
    let store = setup(h).await;
    h.tamper("DELETE FROM audit WHERE seq = 2").await;
    let b = broken(&store).await;
    assert_eq!(b.seq, 1, "{b}");
    assert!(matches!(b.kind, BreakKind::Head { head_seq: 2, .. }), "{b}");
}

pub async fn an_edited_audit_record_breaks_its_hash(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    h.tamper("UPDATE audit SET key_id = 'someone_else' WHERE seq = 2").await;
    let b = broken(&store).await;
    assert_eq!(b.seq, 2, "{b}");
    assert!(matches!(b.kind, BreakKind::Hash { .. }), "{b}");
}

pub async fn edited_history_and_event_rows_are_found(h: &impl Harness) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    let c = Change {
        stage: Stage::Published,
        data: data(1),
        event: Some(Event::Interview(Interview {
            held_on: date(2026, 2, 1),
            kind: InterviewKind::Reminder,
            note: "提示约谈".into(),
        })),
    };
    store
        .update_entry(&audit("record_interview"), "E000001", 1, &c)
        .await
        .unwrap();
    verified(&store).await;
    h.tamper("UPDATE interviews SET kind = 'warning'").await;
    let b = broken(&store).await;
    assert_eq!(
        b,
        Break {
            seq: 4,
            kind: BreakKind::EventRow { table: "interviews", id: 1 }
        }
    );
    h.tamper("UPDATE interviews SET kind = 'reminder'").await;
    verified(&store).await;
    h.tamper("UPDATE entry_history SET after = '{}' WHERE version = 1").await;
    let b = broken(&store).await;
    assert_eq!(b.seq, 3, "{b}");
    assert!(matches!(b.kind, BreakKind::History { version: 1, .. }), "{b}");
    h.tamper("UPDATE entry_history SET after = NULL WHERE version = 1").await;
    verified(&store).await;
    // A first version's state is not repeated in its row: it is the next
    // row's `before`, which is checked against its record too.
    h.tamper("UPDATE entry_history SET before = '{}' WHERE version = 2").await;
    let b = broken(&store).await;
    assert_eq!(b.seq, 4, "{b}");
    assert!(matches!(b.kind, BreakKind::History { version: 2, .. }), "{b}");
}

pub async fn an_entry_inserted_behind_the_store_is_unaudited(
    h: &impl Harness,
) {
    let store = setup(h).await;
    insert(&store, 1, Stage::Published).await;
    h.tamper(
        "INSERT INTO entries (entry_id, department, stage, version, list, \
         subject_kind, name, code, category, authority, details, created_at, \
         updated_at) SELECT 'FAKE', department, stage, version, list, \
         subject_kind, name, code, category, authority, details, created_at, \
         updated_at FROM entries",
    )
    .await;
    let b = broken(&store).await;
    assert!(
        matches!(&b.kind, BreakKind::Unaudited { entry_id } if entry_id == "FAKE"),
        "{b}"
    );
}

pub async fn a_key_given_a_role_in_the_file_is_found(h: &impl Harness) {
    let store = setup(h).await;
    let new = NewKey {
        name: "clerk".into(),
        department: SCJG.into(),
        roles: vec![Role::Screen],
    };
    let made = store.create_key(&audit("key_create"), &new).await.unwrap();
    verified(&store).await;
    h.tamper("UPDATE api_keys SET roles = 'screen,operator'").await;
    let b = broken(&store).await;
    assert_eq!(
        b,
        Break { seq: 3, kind: BreakKind::KeyRow { id: made.key.id } }
    );
}

pub async fn a_department_renamed_in_the_file_is_found(h: &impl Harness) {
    let store = setup(h).await;
    h.tamper(
        "UPDATE departments SET name_zh = '别的部门' WHERE code = 'sc-fgw'",
    )
    .await;
    let b = broken(&store).await;
    assert_eq!(
        b,
        Break { seq: 1, kind: BreakKind::DepartmentRow { code: FGW.into() } }
    );
}
