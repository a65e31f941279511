//! Bidder lists as procurement officers have them (issue 12, item 1):
//! Chinese header spellings, title rows, several sheets, codes typed as
//! numbers, mistyped codes, blank rows. Screening is never skipped
//! silently: the columns used are reported and look-alikes named.

mod common;

use credgate_bulk::{
    ColumnOverrides, ColumnRef, InputFormat, InputOptions, Limits,
    OutputFormat, Role, RowWriter, SheetRef, Source,
};
use credgate_entries::Encoding;
use credgate_model::{Entry, ListKind, SubjectKind};
use credgate_screen::{Query, Screener};
use rust_xlsxwriter::Workbook;
use std::path::Path;

const CSV: InputFormat = InputFormat::Csv(Encoding::Auto);

fn today() -> credgate_model::Date {
    credgate_gen::GenOptions::new(1).as_of
}

/// Output rows by header name.
struct Out {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Out {
    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", self.header))
    }

    fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }
}

fn run(s: &Screener, source: &mut Source) -> Out {
    let mut w =
        RowWriter::new(Vec::new(), OutputFormat::Csv, source.headers())
            .unwrap();
    credgate_bulk::run(
        source,
        s,
        None,
        None,
        today(),
        |rows| rows.iter().try_for_each(|r| w.write(r)),
        &|_| {},
    )
    .unwrap();
    let out = w.finish().unwrap();
    let mut r = csv::Reader::from_reader(out.as_slice());
    Out {
        header: r.headers().unwrap().iter().map(String::from).collect(),
        rows: r
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect(),
    }
}

fn open_csv(dir: &Path, text: &str, o: &InputOptions) -> Source {
    let path = dir.join("list.csv");
    std::fs::write(&path, text).unwrap();
    credgate_bulk::open_with(&path, CSV, &Limits::default(), o).unwrap()
}

fn black_org(entries: &[Entry]) -> &Entry {
    entries
        .iter()
        .find(|e| {
            e.list == ListKind::Black
                && e.subject_kind == SubjectKind::Organisation
                && e.status.in_force()
        })
        .expect("a black-listed organisation")
}

/// A listed person whose ID number, given as a legal representative's,
/// makes a decision other than `clear`.
fn listed_rep(s: &Screener, entries: &[Entry]) -> String {
    entries
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Person)
        .map(|e| e.code.clone())
        .find(|code| {
            let q = Query {
                name: Some("某某无关科技有限公司".into()),
                legal_rep_code: Some(code.clone()),
                include_related: true,
                ..Default::default()
            };
            let o = s.screen(&q, None, today()).unwrap();
            o.verdict.decision.code() != "clear"
        })
        .expect("a listed person")
}

#[test]
fn common_header_spellings_are_read_and_a_listed_rep_is_screened() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 400);
    let rep = listed_rep(&s, &entries);
    let mut decisions = Vec::new();
    // The spelling first: it used to be ignored (row `clear`).
    for rep_header in
        ["法定代表人身份证号", "法定代表人证件号码", "法人身份证号"]
    {
        for name_header in ["单位名称", "企业名称", "公司名称", "投标单位"]
        {
            let text = format!(
                "序号,{name_header},统一社会信用代码,法定代表人,\
                 {rep_header}\n1,某某无关科技有限公司,,王伟,{rep}\n"
            );
            let mut src =
                open_csv(dir.path(), &text, &InputOptions::default());
            let used: Vec<(Role, usize)> = src
                .columns()
                .used(src.headers())
                .into_iter()
                .map(|(r, i, _)| (r, i))
                .collect();
            assert_eq!(
                used,
                [
                    (Role::Name, 1),
                    (Role::Code, 2),
                    (Role::RepName, 3),
                    (Role::RepCode, 4)
                ],
                "{rep_header} / {name_header}"
            );
            assert!(src.unused_columns().is_empty());
            let out = run(&s, &mut src);
            decisions.push(out.get(0, "decision").to_string());
        }
    }
    assert!(decisions.iter().all(|d| d != "clear" && !d.is_empty()));
    assert!(decisions.windows(2).all(|w| w[0] == w[1]), "{decisions:?}");
}

#[test]
fn normalised_headers_and_english_spellings_are_read() {
    let dir = tempfile::tempdir().unwrap();
    for (header, name, code) in [
        ("* 企业名称（必填）,统一社会信用代码（身份证号）", 0, 1),
        ("Company Name,Credit Code", 0, 1),
        ("ＮＡＭＥ,  ＵＳＣＣ ", 0, 1),
        ("备注,【供应商名称】,证件号码", 1, 2),
    ] {
        let src = open_csv(
            dir.path(),
            &format!("{header}\nx,y,z\n"),
            &InputOptions::default(),
        );
        let c = src.columns();
        assert_eq!((c.name, c.code), (Some(name), Some(code)), "{header}");
    }
}

#[test]
fn columns_are_chosen_by_header_text_or_position() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 300);
    let e = black_org(&entries);
    let text = format!("序号,单位,代码,备注\n1,{},{},\n", e.name, e.code);
    let path = dir.path().join("list.csv");
    std::fs::write(&path, &text).unwrap();
    let l = Limits::default();
    // Nothing recognisable: refused, naming what was expected.
    let err = credgate_bulk::open(&path, CSV, &l).unwrap_err().to_string();
    assert!(err.contains("no name column") && err.contains("单位名称"));
    let o = InputOptions {
        columns: ColumnOverrides {
            name: Some(ColumnRef::parse("单位")),
            code: Some(ColumnRef::parse("3")),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut src = credgate_bulk::open_with(&path, CSV, &l, &o).unwrap();
    assert_eq!(src.columns().name, Some(1));
    assert_eq!(src.columns().code, Some(2));
    let out = run(&s, &mut src);
    assert_eq!(out.get(0, "decision"), "block");
    // A column that is not there is named in the refusal.
    let o = InputOptions {
        columns: ColumnOverrides {
            rep_code: Some(ColumnRef::parse("法人证件")),
            ..o.columns
        },
        ..Default::default()
    };
    let err =
        credgate_bulk::open_with(&path, CSV, &l, &o).unwrap_err().to_string();
    assert!(err.contains("legal_rep_code column '法人证件'"), "{err}");
}

#[test]
fn unused_columns_that_look_like_names_or_ids_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = "名称,法人代表证件,联系电话,备注\n\
                甲公司,110101199001011237,13800000000,91350100M000100Y43\n";
    let src = open_csv(dir.path(), text, &InputOptions::default());
    let unused: Vec<(usize, String)> = src
        .unused_columns()
        .iter()
        .map(|u| (u.index, u.to_string()))
        .collect();
    assert_eq!(unused.len(), 2, "{unused:?}");
    assert_eq!(unused[0].0, 1);
    assert!(unused[0].1.contains("'法人代表证件' was not used"));
    assert_eq!(unused[1].0, 3);
    assert!(unused[1].1.contains("valid USCC or resident ID"));
}

#[test]
fn the_header_is_found_below_title_rows_and_rows_are_the_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 300);
    let e = black_org(&entries);
    // CSV: a title row, a blank line, a row of commas, the header.
    let text = format!(
        "2026年某项目投标人名单,,\n\n,,\n序号,投标人名称,统一社会信用代码\n\
         1,{},{}\n\n2,乙公司,91X\n3,,91X\n",
        e.name, e.code
    );
    let mut src = open_csv(dir.path(), &text, &InputOptions::default());
    assert_eq!(src.header_row(), 4);
    let out = run(&s, &mut src);
    assert_eq!(out.rows.len(), 3, "{:?}", out.rows);
    assert_eq!(out.get(0, "decision"), "block");
    assert!(out.get(1, "error").is_empty());
    assert!(out.get(1, "warnings").contains("code: "), "{:?}", out.rows);
    // Row 8 of the sheet: title, blank and header rows counted.
    assert!(out.get(2, "error").starts_with("row 8: code: "));

    // XLSX: a merged title in row 1, a blank row, the header in row 3.
    let path = dir.path().join("list.xlsx");
    let mut book = Workbook::new();
    let sh = book.add_worksheet();
    sh.merge_range(0, 0, 0, 2, "2026年某项目投标人名单", &Default::default())
        .unwrap();
    for (c, h) in ["序号", "投标人名称", "统一社会信用代码"].iter().enumerate()
    {
        sh.write_string(2, c as u16, *h).unwrap();
    }
    sh.write_string(3, 1, &e.name).unwrap();
    sh.write_string(3, 2, "91X").unwrap();
    sh.write_string(4, 1, "乙公司").unwrap();
    sh.write_string(4, 3, "stray").unwrap();
    book.save(&path).unwrap();
    let mut src =
        credgate_bulk::open(&path, InputFormat::Xlsx, &Limits::default())
            .unwrap();
    assert_eq!(src.header_row(), 3);
    assert_eq!(src.headers()[1], "投标人名称");
    let out = run(&s, &mut src);
    assert_eq!(out.rows.len(), 2);
    assert!(!out.get(0, "decision").is_empty(), "{:?}", out.rows);
    assert!(out.get(1, "error").starts_with("row 5: cell D5"));
}

#[test]
fn the_first_sheet_with_a_header_is_read_or_the_one_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let path = dir.path().join("book.xlsx");
    let mut book = Workbook::new();
    let notes = book.add_worksheet().set_name("填写说明").unwrap();
    notes.write_string(0, 0, "请在第二页填写投标人").unwrap();
    let list = book.add_worksheet().set_name("投标人").unwrap();
    list.write_string(0, 0, "供应商名称").unwrap();
    list.write_string(1, 0, "甲公司").unwrap();
    let other = book.add_worksheet().set_name("联合体成员").unwrap();
    other.write_string(0, 0, "名称").unwrap();
    other.write_string(1, 0, "乙公司").unwrap();
    other.write_string(2, 0, "丙公司").unwrap();
    book.save(&path).unwrap();
    let l = Limits::default();
    let mut src = credgate_bulk::open(&path, InputFormat::Xlsx, &l).unwrap();
    assert_eq!(src.sheet(), Some("投标人"));
    assert_eq!(run(&s, &mut src).rows.len(), 1);
    for sheet in ["联合体成员", "3"] {
        let o = InputOptions {
            sheet: Some(SheetRef::parse(sheet)),
            ..Default::default()
        };
        let mut src =
            credgate_bulk::open_with(&path, InputFormat::Xlsx, &l, &o)
                .unwrap();
        assert_eq!(src.sheet(), Some("联合体成员"));
        assert_eq!(run(&s, &mut src).rows.len(), 2);
    }
    let o = InputOptions {
        sheet: Some(SheetRef::parse("Sheet9")),
        ..Default::default()
    };
    let err = credgate_bulk::open_with(&path, InputFormat::Xlsx, &l, &o)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'Sheet9': no such sheet"), "{err}");
    assert!(err.contains("填写说明, 投标人, 联合体成员"), "{err}");
}

#[test]
fn a_code_stored_as_a_number_is_reported_and_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let path = dir.path().join("numbers.xlsx");
    let mut book = Workbook::new();
    let sh = book.add_worksheet();
    sh.write_string(0, 0, "投标人名称").unwrap();
    sh.write_string(0, 1, "统一社会信用代码").unwrap();
    sh.write_string(1, 0, "甲公司").unwrap();
    sh.write_number(1, 1, 913213233634161900.0).unwrap();
    sh.write_string(2, 0, "乙公司").unwrap();
    sh.write_number(2, 1, 123456789.0).unwrap();
    sh.write_number(3, 1, 913213233634161900.0).unwrap();
    book.save(&path).unwrap();
    let mut src =
        credgate_bulk::open(&path, InputFormat::Xlsx, &Limits::default())
            .unwrap();
    let out = run(&s, &mut src);
    assert_eq!(out.rows.len(), 3);
    // Written back in full, never as 9.132132336341619e17.
    assert_eq!(out.rows[0][1], "913213233634161900");
    assert_eq!(out.rows[1][1], "123456789");
    let w = out.get(0, "warnings");
    assert!(w.contains("stored as a number; Excel may have altered it"));
    assert!(w.contains("not screened"), "{w}");
    // Too many digits to trust: the name is screened, the code is not.
    assert!(!out.get(0, "decision").is_empty(), "{:?}", out.rows[0]);
    let w = out.get(1, "warnings");
    assert!(w.contains("code 123456789 is stored as a number"), "{w}");
    // The code alone and untrustworthy: an error, not a guess.
    assert!(out.get(2, "decision").is_empty());
    assert!(out.get(2, "error").contains("row 4: no usable name or code"));
}

#[test]
fn a_bad_code_with_a_name_screens_the_name_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 300);
    let e = black_org(&entries);
    // One wrong character: the check digit fails.
    let mut bad = e.code.clone();
    let last = if bad.ends_with('0') { '1' } else { '0' };
    bad.pop();
    bad.push(last);
    let text =
        format!("投标人名称,统一社会信用代码\n{},{bad}\n,{bad}\n", e.name);
    let mut src = open_csv(dir.path(), &text, &InputOptions::default());
    let out = run(&s, &mut src);
    let d = out.get(0, "decision");
    assert!(d == "review" || d == "block", "{:?}", out.rows[0]);
    assert_ne!(out.get(0, "hit_count"), "0");
    assert!(out.get(0, "error").is_empty());
    let w = out.get(0, "warnings");
    assert!(w.starts_with("code: ") && w.contains("without it"), "{w}");
    // The code alone stays an error.
    assert_eq!(out.get(1, "decision"), "");
    assert!(out.get(1, "error").starts_with("row 3: code: "));
}

#[test]
fn blank_rows_are_skipped_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let text = "名称,代码备注\n甲公司,\n,\n  ,  \n\n乙公司,\n,,,\n";
    let mut src = open_csv(dir.path(), text, &InputOptions::default());
    let out = run(&s, &mut src);
    assert_eq!(out.rows.len(), 2, "{:?}", out.rows);
    assert!(out.rows.iter().all(|r| r[out.col("error")].is_empty()));
    let path = dir.path().join("blank.xlsx");
    let mut book = Workbook::new();
    let sh = book.add_worksheet();
    sh.write_string(0, 0, "名称").unwrap();
    sh.write_string(1, 0, "甲公司").unwrap();
    sh.write_string(2, 0, "").unwrap();
    sh.write_string(3, 0, "   ").unwrap();
    sh.write_string(5, 0, "乙公司").unwrap();
    book.save(&path).unwrap();
    let mut src =
        credgate_bulk::open(&path, InputFormat::Xlsx, &Limits::default())
            .unwrap();
    let out = run(&s, &mut src);
    assert_eq!(out.rows.len(), 2, "{:?}", out.rows);
}

/// Row numbers and results of a run.
fn run_rows(
    s: &Screener,
    source: &mut Source,
) -> Vec<credgate_bulk::RowResult> {
    let mut out = Vec::new();
    credgate_bulk::run(
        source,
        s,
        None,
        None,
        today(),
        |rows| {
            out.extend_from_slice(rows);
            Ok(())
        },
        &|_| {},
    )
    .unwrap();
    out
}

#[test]
fn an_xls_workbook_is_read_with_its_sheets_title_rows_and_number_cells() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let path = dir.path().join("投标人名单.xls");
    std::fs::write(&path, common::bidders_xls()).unwrap();
    let format = InputFormat::from_path(&path, Encoding::Auto);
    assert_eq!(format, InputFormat::Xls);
    assert_eq!(
        InputFormat::sniff(&common::bidders_xls()),
        Some(InputFormat::Xls)
    );
    let mut src =
        credgate_bulk::open(&path, format, &Limits::default()).unwrap();
    assert_eq!(src.sheet(), Some("投标人"));
    assert_eq!(src.header_row(), 3);
    let c = src.columns().clone();
    assert_eq!((c.name, c.code, c.rep_code), (Some(1), Some(2), Some(3)));
    let rows = run_rows(&s, &mut src);
    let numbers: Vec<u64> = rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, [4, 5, 7], "the sheet's rows; row 6 is blank");
    assert_eq!(rows[0].fields[..3], ["1", "甲公司", "913213233634161900"]);
    assert!(rows[0].warnings[0].contains("stored as a number"));
    assert!(!rows[0].decision.is_empty(), "{:?}", rows[0]);
    assert_eq!(rows[1].fields[2], "91350100M000100Y43");
    assert!(rows[1].warnings.is_empty(), "{:?}", rows[1]);
    assert!(rows.iter().all(|r| r.error.is_empty()), "{rows:?}");
}

#[test]
fn an_ods_workbook_is_read_with_repeated_rows_and_number_cells() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let path = dir.path().join("list.ods");
    let rows = [
        common::ods_row(&["2026年某项目投标人名单"]),
        "<table:table-row><table:table-cell table:number-columns-repeated=\"3\"/></table:table-row>".to_string(),
        common::ods_row(&["企业名称", "统一社会信用代码"]),
        format!(
            "<table:table-row>{}<table:table-cell office:value-type=\"float\" office:value=\"913213233634161900\"><text:p>9.13213E+17</text:p></table:table-cell></table:table-row>",
            &common::ods_row(&["甲公司"])[17..common::ods_row(&["甲公司"]).len() - 18]
        ),
        "<table:table-row table:number-rows-repeated=\"2\"><table:table-cell table:number-columns-repeated=\"2\"/></table:table-row>".to_string(),
        common::ods_row(&["乙公司"]),
        // As LibreOffice writes the rest of a sheet.
        "<table:table-row table:number-rows-repeated=\"1048000\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>".to_string(),
    ]
    .concat();
    common::raw_ods(&path, &[("投标人", &rows)]);
    let head = std::fs::read(&path).unwrap();
    assert_eq!(InputFormat::sniff(&head), Some(InputFormat::Ods));
    let format = InputFormat::from_path(&path, Encoding::Auto);
    assert_eq!(format, InputFormat::Ods);
    let mut src =
        credgate_bulk::open(&path, format, &Limits::default()).unwrap();
    assert_eq!(src.header_row(), 3);
    let rows = run_rows(&s, &mut src);
    let numbers: Vec<u64> = rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, [4, 7]);
    assert_eq!(rows[0].fields, ["甲公司", "913213233634161900"]);
    assert!(rows[0].warnings[0].contains("stored as a number"));
    assert_eq!(rows[1].fields, ["乙公司", ""]);
}

#[test]
fn xls_and_ods_files_are_bounded_before_calamine_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let l = Limits::default();
    let refused = |path: &Path, format| {
        credgate_bulk::open(path, format, &l).unwrap_err().to_string()
    };
    // A cell at IV65536: a dense range of 16.7 million cells.
    let path = dir.path().join("corner.xls");
    let mut data = common::bidders_xls();
    common::patch_xls_record(&mut data, 0x00FD, 10, &[0xFF, 0xFF, 0xFF, 0x00]);
    std::fs::write(&path, &data).unwrap();
    let e = refused(&path, InputFormat::Xls);
    assert!(e.contains("max_legacy_cells"), "{e}");
    // Declared dimensions of two billion rows (calamine reserves them).
    let mut data = common::bidders_xls();
    let huge = [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0xFF, 0];
    common::patch_xls_record(&mut data, 0x0200, 14, &huge);
    std::fs::write(&path, &data).unwrap();
    let e = refused(&path, InputFormat::Xls);
    assert!(e.contains("max_legacy_cells"), "{e}");
    // Larger than max_legacy_bytes.
    let small = Limits { max_legacy_bytes: 4096, ..Limits::default() };
    let e = credgate_bulk::open(&path, InputFormat::Xls, &small)
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_legacy_bytes = 4096"), "{e}");
    // Not a compound file at all.
    std::fs::write(&path, b"name\nx\n").unwrap();
    let e = refused(&path, InputFormat::Xls);
    assert!(e.contains("not an XLS file"), "{e}");
    // ODS: a text cell repeated 1,000 columns × 1,000,000 rows.
    let path = dir.path().join("repeat.ods");
    let rows = format!(
        "{}<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell office:value-type=\"string\" table:number-columns-repeated=\"1000\"><text:p>x</text:p></table:table-cell></table:table-row>",
        common::ods_row(&["名称"])
    );
    common::raw_ods(&path, &[("S", &rows)]);
    let e = refused(&path, InputFormat::Ods);
    assert!(e.contains("max_legacy_cells"), "{e}");
}

#[test]
fn an_xlsx_report_cuts_a_cell_past_excels_limit_instead_of_failing() {
    use calamine::Reader;
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 200);
    let e = black_org(&entries);
    // Within max_cell_bytes (128 KiB by default), past Excel's 32,767
    // characters: the XLSX writer refused it and the whole report failed.
    let remark = "备".repeat(40_000);
    let text =
        format!("名称,备注\n{},{remark}\n南京某某科技有限公司,x\n", e.name);
    let mut source = open_csv(dir.path(), &text, &InputOptions::default());
    let mut w =
        RowWriter::new(Vec::new(), OutputFormat::Xlsx, source.headers())
            .unwrap();
    let summary = credgate_bulk::run(
        &mut source,
        &s,
        None,
        None,
        today(),
        |rows| rows.iter().try_for_each(|r| w.write(r)),
        &|_| {},
    )
    .unwrap();
    let bytes = w.finish_with(&summary).expect("the report is written");
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range_at(1).unwrap().unwrap();
    let cell = sheet.get((1, 2)).unwrap().to_string();
    assert_eq!(cell.chars().count(), 32_767, "cut to Excel's limit");
    assert!(cell.ends_with('…') && cell.starts_with("备备"), "marked cut");
    assert_eq!(sheet.get((2, 1)).unwrap().to_string(), "南京某某科技有限公司");
}
