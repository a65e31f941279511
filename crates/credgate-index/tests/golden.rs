//! The golden snapshot: a small file of the current format version,
//! checked in under `tests/data/` and built from `golden-entries.jsonl`,
//! which every later build of credgate must open, verify and read with
//! the same answers. It catches what a round trip cannot: a change that
//! writes and reads consistently but reads the files in the field
//! differently (a renumbered enum, a reordered category table).
//!
//! When the format changes on purpose, bump `format::VERSION`, keep the
//! old golden file (it must now be refused with "rebuild it"), and make
//! the new one with
//! `cargo test -p credgate-index --test golden -- --ignored regenerate`.

use credgate_index::format::VERSION;
use credgate_index::{BuildOptions, FormatError, Residence, Snapshot, build};
use credgate_model::{
    Category, EntryStatus, IdType, ListKind, PartyRole, Severity, SubjectKind,
};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn golden_path() -> PathBuf {
    data(&format!("golden-v{VERSION}.snapshot"))
}

/// 2026-01-01T00:00:00Z: a fixed build time, for identical bytes.
const BUILT_AT: i64 = 1_767_225_600;

#[test]
#[ignore = "writes tests/data; run only when the format version changes"]
fn regenerate() {
    let out = golden_path();
    let opts = BuildOptions { built_at: Some(BUILT_AT), ..Default::default() };
    build(&data("golden-entries.jsonl"), &out, &opts, &|_| {}).unwrap();
}

fn open() -> Snapshot {
    let path = golden_path();
    let snap = Snapshot::open(&path).unwrap_or_else(|e| {
        panic!(
            "{e}\nno golden snapshot of format version {VERSION}: if the \
             format changed on purpose, see this file's header"
        )
    });
    snap.verify().unwrap();
    snap
}

#[test]
fn golden_snapshot_opens_and_verifies() {
    let snap = open();
    // 17 entries, of which the revoked G17 leaves no trace.
    assert_eq!(snap.len(), 16);
    assert_eq!(snap.header().version, VERSION);
    assert_eq!(snap.header().built_at, BUILT_AT);
}

/// After `verify` every page of the file is resident, and `page_use`
/// finds the snapshot's own mapping: its resident bytes are the file's
/// pages, whatever else the process maps (read into memory, the same).
#[test]
fn page_use_is_the_whole_file_once_verified() {
    let path = golden_path();
    let len = std::fs::metadata(&path).unwrap().len();
    for residence in [Residence::Mapped, Residence::Memory] {
        let snap = Snapshot::open_in(&path, residence).unwrap();
        snap.verify().unwrap();
        let used = snap.page_use().expect("/proc/self/smaps is readable");
        // The file's bytes rounded up to whole pages (4 KiB here, up to
        // 64 KiB on some arm64 kernels).
        assert!(
            (len..len + (64 << 10)).contains(&used.resident),
            "{residence:?}: {} resident for a file of {len}",
            used.resident
        );
        assert!(used.huge <= used.resident, "{residence:?}");
    }
}

/// Every stored enumeration value and category, read back as written.
#[test]
fn golden_records_read_back_with_their_values() {
    use EntryStatus::{Active, Disputed, Exited};
    use ListKind::{Black, Focus, Red};
    use Severity::{General, Minor, Serious};
    use SubjectKind::{Organisation as O, Person as P};
    type Want = (
        &'static str,
        ListKind,
        SubjectKind,
        &'static str,
        Option<Severity>,
        EntryStatus,
    );
    let want: [Want; 16] = [
        ("G01", Black, O, "court_defaulter", Some(Serious), Active),
        ("G02", Black, P, "court_defaulter", Some(General), Active),
        ("G03", Black, O, "major_tax_violation", Some(Minor), Disputed),
        ("G04", Black, O, "procurement_violation", Some(Serious), Active),
        ("G05", Black, O, "market_serious_violation", Some(General), Exited),
        ("G06", Black, P, "wage_arrears", Some(Serious), Active),
        ("G07", Black, O, "work_safety", Some(General), Active),
        ("G08", Black, P, "construction_blacklist", Some(Minor), Active),
        ("G09", Focus, O, "abnormal_operation", Some(General), Active),
        ("G10", Focus, P, "commitment_breach", Some(Minor), Active),
        ("G11", Focus, O, "work_safety_focus", Some(Serious), Active),
        ("G12", Focus, O, "wage_arrears_focus", Some(General), Active),
        ("G13", Red, O, "tax_a_grade", None, Active),
        ("G14", Red, O, "contract_honouring", None, Active),
        ("G15", Red, O, "customs_aeo", None, Active),
        ("G16", Red, P, "integrity_model", None, Active),
    ];
    let snap = open();
    for (ord, (id, list, kind, category, severity, status)) in
        want.into_iter().enumerate()
    {
        let r = snap.record(ord as u32).unwrap();
        assert_eq!(r.entry_id, id);
        assert_eq!(
            (r.list, r.subject_kind, r.severity, r.status),
            (list, kind, severity, status),
            "{id}"
        );
        let c = Category::by_id(r.category).unwrap();
        assert_eq!(c.code, category, "{id}");
        assert_eq!(snap.string(r.authority), "测试认定部门", "{id}");
    }
    let parties = |ord: u32| -> Vec<(PartyRole, IdType, String)> {
        let r = snap.record(ord).unwrap();
        r.related
            .iter()
            .map(|p| (p.role, p.id_type, p.id_number.unwrap().to_string()))
            .collect()
    };
    use IdType::*;
    use PartyRole::*;
    assert_eq!(
        parties(0),
        [
            (LegalRepresentative, ResidentId, "320106197503150116".into()),
            (Principal, ResidentId, "320505198003150224".into()),
            (ActualController, Passport, "E12345678".into()),
        ]
    );
    assert_eq!(
        parties(8),
        [(LegalRepresentative, HkMacaoPermit, "H12345678".into())]
    );
    assert_eq!(parties(10), [(Principal, TaiwanPermit, "12345678".into())]);
    assert_eq!(parties(11), [(ActualController, Other, "X-998".into())]);
    let g05 = snap.record(4).unwrap();
    assert_eq!(g05.removed_on.unwrap().to_string(), "2025-01-10");
    assert_eq!(snap.string(g05.removal_reason), "信用修复");
    let g07 = snap.record(6).unwrap();
    assert_eq!(g07.valid_until.unwrap().to_string(), "2025-06-30");
}

/// The indexes answer as they did when the file was written.
#[test]
fn golden_lookups_give_known_answers() {
    let snap = open();
    assert_eq!(snap.by_code("91320106100000016T"), [0, 13], "G01 and G14");
    assert_eq!(snap.by_code("110105196803150337"), [1], "G02");
    assert_eq!(snap.related_to("110105196803150337"), [3], "G04's rep");
    assert_eq!(snap.related_to("320505198003150224"), [0], "G01's principal");
    assert_eq!(snap.by_secondary("320106000012345"), [0]);
    assert!(snap.by_code("913201061000001124").is_empty(), "revoked G17");
    let base =
        |name: &str, kind| credgate_index::keys::name_keys(name, kind).base;
    assert_eq!(
        snap.by_name_base(&base(
            "南京恒瑞建设工程有限责任公司",
            SubjectKind::Organisation
        )),
        [0, 13],
        "G01 and G14, legal form canonicalised"
    );
    assert_eq!(snap.by_name_base(&base("张伟", SubjectKind::Person)), [1]);
    assert!(
        snap.by_name_base(&base(
            "南京鼓楼错列商贸有限公司",
            SubjectKind::Organisation
        ))
        .is_empty(),
        "revoked G17"
    );
    let count = |name: &str| snap.bitmap(name).map_or(0, |b| b.len());
    for (name, n) in [
        ("list:black", 8),
        ("list:focus", 4),
        ("list:red", 4),
        ("subject:organisation", 11),
        ("subject:person", 5),
        ("severity:minor", 3),
        ("severity:general", 5),
        ("severity:serious", 4),
        ("status:active", 14),
        ("status:disputed", 1),
        ("status:exited", 1),
        ("status:revoked", 0),
        ("category:court_defaulter", 2),
        ("category:integrity_model", 1),
        ("prefecture:320100", 4),
    ] {
        assert_eq!(count(name), n, "{name}");
    }
}

/// A file of another version is refused with what to do about it.
#[test]
fn another_format_version_is_refused_with_rebuild_advice() {
    let mut bytes = std::fs::read(golden_path()).unwrap();
    bytes[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.snapshot");
    std::fs::write(&path, bytes).unwrap();
    let e = Snapshot::open(&path).unwrap_err();
    assert!(matches!(e, FormatError::Version { .. }), "{e}");
    assert!(e.to_string().contains("`credgate build`"), "{e}");
}

/// The last golden file of an older format version is refused, naming
/// both versions and the fix.
fn refused_naming_both_versions(old: u32) {
    let e =
        Snapshot::open(&data(&format!("golden-v{old}.snapshot"))).unwrap_err();
    assert!(
        matches!(e, FormatError::Version { found, .. } if found == old),
        "{e}"
    );
    let msg = e.to_string();
    for want in [
        format!("format version {old}"),
        format!("only version {VERSION}"),
        "rebuild".into(),
    ] {
        assert!(msg.contains(&want), "{want:?} not in {msg}");
    }
}

#[test]
fn a_version_2_snapshot_is_refused_naming_both_versions() {
    refused_naming_both_versions(2);
}

/// Version 3 kept the exact names in an FST (a hash index since 4).
#[test]
fn a_version_3_snapshot_is_refused_naming_both_versions() {
    refused_naming_both_versions(3);
}

/// Version 4 had no score rows (a section of its own since 5).
#[test]
fn a_version_4_snapshot_is_refused_naming_both_versions() {
    refused_naming_both_versions(4);
}

/// The score rows of the golden file read back as their records say,
/// and one as its bits: a change of the row layout without a version
/// bump would misread every v5 file in the field.
#[test]
fn golden_score_rows_read_back() {
    use credgate_index::scorerow;
    let snap = open();
    let mut rows = 0;
    for ord in 0..snap.len() {
        let r = snap.record(ord).unwrap();
        let key = r.name_key.to_string();
        let Some(row) = snap.score_row(ord) else {
            assert_eq!(scorerow::partial(r.subject_kind, r.brand, &key), 0);
            continue;
        };
        rows += 1;
        assert_eq!(row.brand().iter().collect::<String>(), r.brand, "{ord}");
        assert_eq!(snap.string(row.industry), r.industry, "{ord}");
        assert_eq!(row.key_bits, scorerow::key_bits(&key), "{ord}");
    }
    assert_eq!(rows, 3);
    let zero = snap.score_row(0).expect("a row");
    assert_eq!(zero.brand(), ['恒', '瑞']);
    assert_eq!(snap.string(zero.industry), "建设工程");
    assert_eq!(zero.key_bits, 50_881);
    assert_eq!(zero.industry, 4);
}
