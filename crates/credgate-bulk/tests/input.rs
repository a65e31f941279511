//! Bulk inputs as people make them (ragged rows, quotes, BOM, CRLF) and as
//! attackers do (formulas, huge headers, rows and cells), through the
//! library that the CLI and the service share.

mod common;

use credgate_bulk::{BulkError, InputFormat, Limits, OutputFormat, RowWriter};
use credgate_entries::Encoding;
use credgate_model::{ListKind, SubjectKind};
use credgate_screen::Screener;
use std::path::Path;

const CSV: InputFormat = InputFormat::Csv(Encoding::Auto);

/// Screens `input` (written to a file) and returns the CSV output's
/// header and rows.
fn screen(
    s: &Screener,
    dir: &Path,
    input: &[u8],
    format: InputFormat,
    limits: &Limits,
) -> Result<(Vec<String>, Vec<Vec<String>>), BulkError> {
    let path = dir.join(match format {
        InputFormat::Xlsx => "in.xlsx",
        _ => "in.csv",
    });
    std::fs::write(&path, input).unwrap();
    let out = screen_path(s, &path, format, limits, OutputFormat::Csv)?;
    let mut r =
        csv::ReaderBuilder::new().flexible(true).from_reader(out.as_slice());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    Ok((header, rows))
}

fn screen_path(
    s: &Screener,
    path: &Path,
    format: InputFormat,
    limits: &Limits,
    out: OutputFormat,
) -> Result<Vec<u8>, BulkError> {
    let mut source = credgate_bulk::open(path, format, limits)?;
    let mut w = RowWriter::new(Vec::new(), out, source.headers())?;
    credgate_bulk::run(
        &mut source,
        s,
        None,
        None,
        credgate_gen::GenOptions::new(1).as_of,
        |rows| rows.iter().try_for_each(|r| w.write(r)),
        &|_| {},
    )?;
    w.finish()
}

fn blacklisted_code(entries: &[credgate_model::Entry]) -> String {
    entries
        .iter()
        .find(|e| {
            e.list == ListKind::Black
                && e.subject_kind == SubjectKind::Organisation
        })
        .map(|e| e.code.clone())
        .expect("a black-listed organisation")
}

#[test]
fn ragged_rows_get_an_error_and_never_shift_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 300);
    let l = Limits::default();
    // The file: 200 with an empty body before.
    let (h, rows) = screen(
        &s,
        dir.path(),
        b"name,code\ngood1,\nragged,,extra\ngood2,\n",
        CSV,
        &l,
    )
    .unwrap();
    assert_eq!(h.len(), 2 + 7);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r.len() == 9), "{rows:?}");
    assert_eq!(&rows[0][..2], ["good1", ""]);
    assert_eq!(rows[0][7], "", "{:?}", rows[0]);
    assert!(rows[1][7].contains("row 3: 3 cells where the header has 2"));
    assert_eq!(rows[1][2], "", "a ragged row is not decided");
    assert_eq!(&rows[2][..2], ["good2", ""]);
    assert!(!rows[2][2].is_empty(), "rows after a ragged row are screened");

    // An extra cell before a blocked code must not put a decision under
    // the header's `decision` column for the wrong value.
    let code = blacklisted_code(&entries);
    let input = format!(
        "name,code\nshort\nx,{code},clear,0,,,,\ny,{code}\n\"a,b\",{code}\n"
    );
    let (_, rows) = screen(&s, dir.path(), input.as_bytes(), CSV, &l).unwrap();
    assert!(rows.iter().all(|r| r.len() == 9), "{rows:?}");
    assert!(rows[0][7].contains("row 2: 1 cell where the header has 2"));
    assert_eq!(&rows[1][..3], ["x", code.as_str(), ""]);
    assert!(rows[1][7].contains("8 cells"), "{:?}", rows[1]);
    assert_eq!(rows[2][2], "block", "{:?}", rows[2]);
    assert_eq!(rows[3][0], "a,b");
    assert_eq!(rows[3][2], "block", "{:?}", rows[3]);
}

#[test]
fn quotes_newlines_bom_and_crlf_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let input = "\u{FEFF}name,note\r\n\"甲 \"\"有限\"\"\r\n公司\",\"x,\ny\"\r\n乙公司,z\r\n";
    let (h, rows) =
        screen(&s, dir.path(), input.as_bytes(), CSV, &Limits::default())
            .unwrap();
    assert_eq!(h[0], "name", "the BOM is not part of the name");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][0], "甲 \"有限\"\r\n公司");
    assert_eq!(rows[0][1], "x,\ny");
    assert_eq!(rows[0][7], "");
    assert_eq!(rows[1][..2], ["乙公司", "z"]);
}

#[test]
fn formula_cells_are_neutralised_in_csv_output() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let input = "name,=HYPERLINK(\"x\")\n+cmd|'/C calc'!A0,=1+1\n-2,@SUM(A1)\n\"\tx\",\"\rx\"\nplain,a=b\n＝1+1,＠SUM(A1)\n";
    let (h, rows) =
        screen(&s, dir.path(), input.as_bytes(), CSV, &Limits::default())
            .unwrap();
    assert_eq!(h[1], "'=HYPERLINK(\"x\")");
    assert_eq!(rows[0][..2], ["'+cmd|'/C calc'!A0", "'=1+1"]);
    assert_eq!(rows[1][..2], ["'-2", "'@SUM(A1)"]);
    assert_eq!(rows[2][..2], ["'\tx", "'\rx"]);
    assert_eq!(rows[3][..2], ["plain", "a=b"]);
    assert_eq!(rows[4][..2], ["'＝1+1", "'＠SUM(A1)"], "full-width forms");
    // NDJSON is for programs: values as they are.
    let path = dir.path().join("in.csv");
    let out =
        screen_path(&s, &path, CSV, &Limits::default(), OutputFormat::Ndjson)
            .unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap())
            .unwrap();
    assert_eq!(first["input"]["name"], "+cmd|'/C calc'!A0");
}

#[test]
fn a_huge_header_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let l = Limits { max_row_bytes: 1 << 20, ..Limits::default() };
    // Over max_row_bytes: refused while reading, naming the limit.
    let huge = format!("{}\nx\n", "h".repeat(3 << 20));
    let e = screen(&s, dir.path(), huge.as_bytes(), CSV, &l).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("max_row_bytes = 1048576"), "{m}");
    assert!(m.len() < 300, "{} bytes", m.len());
    // Under it but without a name column: the message quotes a little.
    let wide = format!("{}\nx\n", "h".repeat(500 << 10));
    let m = screen(&s, dir.path(), wide.as_bytes(), CSV, &l)
        .unwrap_err()
        .to_string();
    assert!(m.contains("no name column"), "{m}");
    assert!(m.len() < 600, "{} bytes", m.len());
}

#[test]
fn a_long_row_is_that_rows_error_and_too_many_rows_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = common::screener(dir.path(), 300);
    let l = Limits { max_row_bytes: 1_000, max_rows: 3, ..Limits::default() };
    let input = format!("name\na\n\"{}\"\nb\n", "x".repeat(5_000));
    let (_, rows) = screen(&s, dir.path(), input.as_bytes(), CSV, &l).unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[1][6].contains("row 3: longer than 1000 bytes"));
    assert_eq!(rows[2][0], "b");
    assert!(!rows[2][1].is_empty(), "screened after the long row");
    let e = screen(&s, dir.path(), b"name\na\nb\nc\nd\n", CSV, &l)
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_rows = 3"), "{e}");
}

#[test]
fn xlsx_rows_keep_the_header_positions() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 300);
    let code = blacklisted_code(&entries);
    let path = dir.path().join("t.xlsx");
    let xml = common::sheet_xml(&[
        ("B2", "name"),
        ("C2", "code"),
        ("B3", "甲公司"),
        ("C3", &code),
        ("C5", &code),
        ("B6", "乙公司"),
        ("E6", "stray"),
        ("A7", "left"),
        ("B7", "丙公司"),
    ]);
    common::raw_xlsx(&path, None, &mut |w| {
        w.write_all(xml.as_bytes()).unwrap()
    });
    let out = screen_path(
        &s,
        &path,
        InputFormat::Xlsx,
        &Limits::default(),
        OutputFormat::Csv,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert!(text.starts_with("name,code,decision,"), "{text}");
    // Sheet row 4 is empty and skipped; rows are the sheet's own.
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows[0][..3], ["甲公司", code.as_str(), "block"]);
    assert_eq!(rows[1][..3], ["", code.as_str(), "block"]);
    assert!(rows[2][7].contains("row 6: cell E6 has a value outside"));
    assert!(rows[3][7].contains("row 7: cell A7"), "{:?}", rows[3]);
}

#[test]
fn xlsx_declared_dimensions_and_positions_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let l = Limits::default();
    let open = |xml: String| {
        let path = dir.path().join("d.xlsx");
        common::raw_xlsx(&path, None, &mut |w| {
            w.write_all(xml.as_bytes()).unwrap()
        });
        credgate_bulk::open(&path, InputFormat::Xlsx, &l)
            .unwrap_err()
            .to_string()
    };
    let e = open(common::sheet_xml(&[("A1", "name"), ("XFD1048576", "x")]));
    assert!(e.contains("cell XFD1048576 exceeds"), "{e}");
    assert!(e.contains("max_columns = 1024"), "{e}");
    let e = open(format!(
        "{}<dimension ref=\"A1:XFD1048576\"/><sheetData/></worksheet>",
        common::SHEET_START
    ));
    assert!(e.contains("declared dimensions A1:XFD1048576"), "{e}");
    let e = open(common::sheet_xml(&[("A1", "name"), ("A9999999", "x")]));
    assert!(e.contains("row 9999999 exceeds"), "{e}");
    assert!(e.contains("max_rows"), "{e}");
}

/// Batches are screened while the next is read and the last written:
/// the results must still come out in input order, one per row, each
/// the answer to its own row (a listed code among unlisted names at
/// known rows), over several batches and a last short one.
#[test]
fn rows_come_out_in_order_across_pipelined_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (s, entries) = common::screener(dir.path(), 300);
    let code = blacklisted_code(&entries);
    let n = credgate_bulk::BATCH * 2 + 123;
    let mut input = String::from("name,code\n");
    for i in 0..n {
        if i % 1000 == 7 {
            input.push_str(&format!(",{code}\n"));
        } else {
            input.push_str(&format!("无此公司{i}号商行,\n"));
        }
    }
    let l = Limits::default();
    let (h, rows) = screen(&s, dir.path(), input.as_bytes(), CSV, &l).unwrap();
    assert_eq!(rows.len(), n);
    let name = h.iter().position(|c| c == "name").unwrap();
    // Columns: the input's, then the decision.
    let decision = 2;
    assert_eq!(h.len(), 2 + 7, "{h:?}");
    let listed = rows[7][decision].clone();
    assert_eq!(listed, "block", "{:?}", rows[7]);
    assert_eq!(rows[0][decision], "clear", "{:?}", rows[0]);
    for (i, r) in rows.iter().enumerate() {
        if i % 1000 == 7 {
            assert_eq!(r[name], "", "row {i}");
            assert_eq!(r[decision], listed, "row {i}");
        } else {
            assert_eq!(r[name], format!("无此公司{i}号商行"), "row {i}");
            assert_eq!(r[decision], rows[0][decision], "row {i}");
        }
    }
}
