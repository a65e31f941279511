//! The procurement officer's workflow as the README shows it: a bidder
//! list exported by a government system (GBK CSV, Chinese headers) in, a
//! report to file out (CSV that Excel reads, or an XLSX workbook).

use calamine::{Reader, open_workbook_auto};
use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_model::{EntryStatus, ListKind, SubjectKind};
use std::path::Path;
use std::process::{Command, Output};

fn credgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credgate")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = credgate(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    snapshot: std::path::PathBuf,
    bidders: std::path::PathBuf,
    /// The listed organisation's code and what `check` decides for it.
    listed_code: String,
    listed_decision: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<_> =
        Generator::new(GenOptions::new(5)).take(800).collect();
    let csv = dir.path().join("entries.csv");
    let mut w =
        EntryWriter::new(std::fs::File::create(&csv).unwrap(), Format::Csv)
            .unwrap();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let snapshot = dir.path().join("lists.snapshot");
    ok(&["build", "--input", p(&csv), "--out", p(&snapshot)]);
    let listed = entries
        .iter()
        .find(|e| {
            e.list == ListKind::Black
                && e.subject_kind == SubjectKind::Organisation
                && e.status == EntryStatus::Active
                && e.valid_until.is_none_or(|u| {
                    u > chrono::Utc::now().date_naive() + chrono::Days::new(10)
                })
        })
        .unwrap();
    let check = ok(&[
        "check",
        "--snapshot",
        p(&snapshot),
        "--code",
        &listed.code,
        "--scenario",
        "government_procurement",
        "--json",
    ]);
    let check: serde_json::Value = serde_json::from_str(&check).unwrap();
    let decision = check["decision_zh"].as_str().unwrap().to_string();
    assert_ne!(decision, "未发现");
    // As a platform exports it: GBK, a title row, Chinese headers.
    let text = format!(
        "2026年某项目投标人名单,,,,\n\
         序号,投标人名称,统一社会信用代码,法定代表人,法定代表人身份证号\n\
         1,{},{},张三,\n\
         2,南京未列入测试科技有限公司,,王伟,\n\
         3,苏州另一测试建设有限公司,,王伟,\n",
        listed.name, listed.code
    );
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let bidders = dir.path().join("投标人名单.csv");
    std::fs::write(&bidders, &gbk).unwrap();
    Setup {
        dir,
        snapshot,
        bidders,
        listed_code: listed.code.clone(),
        listed_decision: decision,
    }
}

#[test]
fn a_gbk_bidder_list_becomes_a_csv_that_excel_reads() {
    let s = setup();
    let out = s.dir.path().join("核查结果.csv");
    ok(&[
        "bulk",
        "--snapshot",
        p(&s.snapshot),
        "--input",
        p(&s.bidders),
        "--output",
        p(&out),
        "--scenario",
        "政府采购",
    ]);
    let bytes = std::fs::read(&out).unwrap();
    // Excel on Chinese Windows takes UTF-8 only with a BOM.
    let text =
        std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM"))
            .unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {headers:?}"))
    };
    let rows: Vec<csv::StringRecord> =
        rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][col("统一社会信用代码")], s.listed_code.as_str());
    assert_eq!(&rows[0][col("核查结论")], s.listed_decision.as_str());
    assert!(rows[0][col("命中条目")].contains("黑名单"), "{:?}", rows[0]);
    assert_eq!(&rows[1][col("核查结论")], "未发现");
    // 王伟 twice, no ID numbers: flagged, saying it is by name only.
    assert!(
        rows[1][col("共用法定代表人")].starts_with("仅按姓名"),
        "{:?}",
        rows[1]
    );
    assert!(rows[1][col("共用法定代表人")].contains("第5行"), "{:?}", rows[1]);

    // GBK on request, for older systems.
    let gbk = s.dir.path().join("gbk.csv");
    ok(&[
        "bulk",
        "--snapshot",
        p(&s.snapshot),
        "--input",
        p(&s.bidders),
        "--output",
        p(&gbk),
        "--output-encoding",
        "gbk",
    ]);
    let gbk_bytes = std::fs::read(&gbk).unwrap();
    let (text, _, bad) = encoding_rs::GBK.decode(&gbk_bytes);
    assert!(!bad);
    assert!(text.starts_with("序号,投标人名称"), "{text}");
    // Machine-friendly names on request.
    let en = s.dir.path().join("en.csv");
    ok(&[
        "bulk",
        "--snapshot",
        p(&s.snapshot),
        "--input",
        p(&s.bidders),
        "--output",
        p(&en),
        "--lang",
        "en",
    ]);
    let text = std::fs::read_to_string(&en).unwrap();
    assert!(text.lines().next().unwrap().ends_with("decision,hit_count,top_score,hits,shared_legal_rep_with,error,warnings"));
    assert!(text.contains("by name only: row 5"), "{text}");
}

#[test]
fn an_xlsx_report_has_a_cover_bidders_hits_and_shared_representatives() {
    let s = setup();
    let out = s.dir.path().join("report.xlsx");
    ok(&[
        "bulk",
        "--snapshot",
        p(&s.snapshot),
        "--input",
        p(&s.bidders),
        "--output",
        p(&out),
        "--scenario",
        "government_procurement",
    ]);
    let mut wb = open_workbook_auto(&out).expect("a real XLSX");
    assert_eq!(
        wb.sheet_names(),
        ["封面", "核查结果", "命中明细", "共用法定代表人"]
    );
    let sheet =
        |wb: &mut calamine::Sheets<_>, name: &str| -> Vec<Vec<String>> {
            wb.worksheet_range(name)
                .unwrap()
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect()
        };
    let cover = sheet(&mut wb, "封面");
    let value = |k: &str| {
        cover
            .iter()
            .find(|r| r[0] == k)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("{k} in {cover:?}"))
    };
    assert_eq!(value("名单版本"), "lists.snapshot");
    assert_eq!(value("业务场景"), "政府采购 (government_procurement)");
    assert_eq!(value("核查主体数"), "3");
    assert_eq!(value("未发现"), "2");
    assert!(value("核查编号").starts_with("cli-"));
    assert!(value("核查时间").ends_with("+08:00"));

    let bidders = sheet(&mut wb, "核查结果");
    assert_eq!(bidders[0][..3], ["行号", "序号", "投标人名称"]);
    assert!(bidders[0].contains(&"核查结论".to_string()));
    let decision_col =
        bidders[0].iter().position(|h| h == "核查结论").unwrap();
    assert_eq!(bidders[1][0], "3", "the sheet's own row number");
    // The code is a string: all 18 characters, never a rounded number.
    assert_eq!(bidders[1][3], s.listed_code);
    assert_eq!(bidders[1][decision_col], s.listed_decision);

    let hits = sheet(&mut wb, "命中明细");
    assert_eq!(hits[0][..4], ["行号", "投标人", "核查结论", "条目编号"]);
    let h = &hits[1];
    assert_eq!(h[0], "3");
    assert_eq!(h[4], "黑名单");
    for (i, what) in [
        (7, "认定机关"),
        (8, "文号"),
        (9, "列入日期"),
        (13, "措施"),
        (14, "法律依据"),
    ] {
        assert_eq!(hits[0][i], what);
        assert!(!h[i].is_empty(), "{what} empty: {h:?}");
    }

    let shared = sheet(&mut wb, "共用法定代表人");
    assert_eq!(shared[0], ["组", "依据", "行号", "投标人"]);
    assert_eq!(shared.len(), 3);
    assert!(shared[1][1].starts_with("仅姓名相同"));
    assert_eq!((shared[1][2].as_str(), shared[2][2].as_str()), ("4", "5"));
}

#[test]
fn a_bad_report_format_is_named() {
    let s = setup();
    let o = credgate(&[
        "bulk",
        "--snapshot",
        p(&s.snapshot),
        "--input",
        p(&s.bidders),
        "--output",
        p(&s.dir.path().join("x.csv")),
        "--format",
        "pdf",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--format: 'pdf'"));
}

/// A report is filed: `bulk` screens only against a snapshot checked
/// whole. One byte changed inside the records (which opening does not
/// read) is found before any bidder is screened, named, and no report
/// (nor a partial one) is written.
#[test]
fn a_damaged_snapshot_gives_no_report() {
    use credgate_index::Snapshot;
    use credgate_index::format::Section;
    let s = setup();
    let records = Snapshot::open(&s.snapshot).unwrap().header().sections
        [Section::Records.index()];
    let mut bytes = std::fs::read(&s.snapshot).unwrap();
    bytes[(records.offset + records.len / 2) as usize] ^= 0x20;
    let damaged = s.dir.path().join("damaged.snapshot");
    std::fs::write(&damaged, &bytes).unwrap();
    let report = s.dir.path().join("report.csv");
    let o = credgate(&[
        "bulk",
        "--snapshot",
        p(&damaged),
        "--input",
        p(&s.bidders),
        "--output",
        p(&report),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("section records checksum mismatch"), "{err}");
    assert!(!report.exists());
    assert!(!report.with_extension("partial").exists());
}
