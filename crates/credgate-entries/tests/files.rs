//! Reading real files: good ones in every accepted shape, and every kind
//! of bad file, each with the precise error a user needs to fix it.

use credgate_entries::{
    Encoding, EntryReader, EntryWriter, FileError, Format, Policy, ReadError,
    ReadOptions, load,
};
use credgate_model::{ListKind, SubjectKind};
use std::io::Write;
use std::path::PathBuf;

const HEADER: &str = "entry_id,list,subject_type,name,code,category,\
authority,document_number,listed_on,valid_until,severity,status,\
legal_rep_name,legal_rep_id_number";

const GOOD: &str = "E1,black,organisation,南京恒瑞科技有限公司,\
91320106MA1K3BTP2E,court_defaulter,南京市中级人民法院,(2024)苏01执1号,\
2024-03-01,2027-03-01,serious,active,张伟,360426199101010071";

const GOOD_PERSON: &str = "E2,black,person,张伟,360426199101010071,\
court_defaulter,南京市中级人民法院,(2024)苏01执2号,2024/03/05,,general,,,";

/// Writes `content` to a temporary file with the given extension.
fn file(content: &[u8], ext: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("entries.{ext}"));
    std::fs::File::create(&path).unwrap().write_all(content).unwrap();
    (dir, path)
}

fn csv(rows: &[&str]) -> String {
    let mut s = String::from(HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

/// Reads a CSV text and returns each row's error message ("" when good).
fn row_results(content: &str) -> Vec<String> {
    let (_d, path) = file(content.as_bytes(), "csv");
    EntryReader::open(&path, ReadOptions::default())
        .unwrap()
        .map(|r| match r {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        })
        .collect()
}

/// Replaces field `i` of the good row.
fn good_with(i: usize, value: &str) -> String {
    let mut fields: Vec<&str> = GOOD.split(',').collect();
    fields[i] = value;
    fields.join(",")
}

#[test]
fn good_rows_in_english_headers() {
    let (_d, path) = file(csv(&[GOOD, GOOD_PERSON]).as_bytes(), "csv");
    let loaded =
        load(&path, ReadOptions::default(), Policy::RejectFile, |_| {})
            .unwrap();
    assert!(loaded.bad_rows.is_empty(), "{:?}", loaded.bad_rows);
    assert_eq!(loaded.entries.len(), 2);
    let e = &loaded.entries[0];
    assert_eq!(e.list, ListKind::Black);
    assert_eq!(e.related.len(), 1);
    assert_eq!(e.related[0].id_number.as_deref(), Some("360426199101010071"));
    assert_eq!(loaded.entries[1].subject_kind, SubjectKind::Person);
    assert_eq!(loaded.entries[1].listed_on.to_string(), "2024-03-05");
}

#[test]
fn chinese_headers_in_gbk_are_detected() {
    let text = "记录编号,名单类型,主体类型,主体名称,统一社会信用代码,名单类别,\
认定部门,决定文书号,列入日期,有效期至,失信程度,序号\n\
E1,黑名单,法人和其他组织,蘇州恒瑞科技有限公司,91320106MA1K3BTP2E,\
失信被执行人,南京市中级人民法院,(2024)苏01执1号,2024年3月1日,2027-03-01,严重,1\n";
    let (gbk, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    let (_d, path) = file(&gbk, "csv");
    let reader = EntryReader::open(&path, ReadOptions::default()).unwrap();
    assert_eq!(reader.encoding(), Encoding::Gb18030);
    assert_eq!(reader.ignored_columns(), ["序号"]);
    let entries: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(entries[0].name, "蘇州恒瑞科技有限公司");
    assert_eq!(entries[0].category().code, "court_defaulter");

    // Forcing UTF-8 on the GBK file names the field and the fix.
    let opts = ReadOptions { encoding: Encoding::Utf8, ..Default::default() };
    let err = EntryReader::open(&path, opts).unwrap_err();
    assert!(err.to_string().contains("invalid UTF-8"), "{err}");
}

#[test]
fn utf8_bom_is_skipped() {
    let content = format!("\u{FEFF}{}", csv(&[GOOD]));
    assert_eq!(row_results(&content), [""]);
}

#[test]
fn each_bad_field_is_named() {
    let cases: Vec<(String, &str)> = vec![
        (
            good_with(4, "91320106MA1K3BTP2C"),
            "line 2 (entry E1): column code: '91320106MA1K3BTP2C' is not a \
             valid uscc for a organisation subject: check_digit: check \
             character is 'C', expected 'E'",
        ),
        (
            good_with(8, "2024-02-30"),
            "line 2 (entry E1): column listed_on: '2024-02-30' is not a date \
             (expected YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日)",
        ),
        (
            good_with(1, "grey"),
            "line 2 (entry E1): column list: list: 'grey' is not one of black \
             (黑名单), focus (重点关注名单), red (红名单)",
        ),
        (
            good_with(10, "catastrophic"),
            "line 2 (entry E1): column severity: severity: 'catastrophic' is \
             not one of minor (轻微), general (一般), serious (严重)",
        ),
        (
            good_with(5, "parking"),
            "line 2 (entry E1): column category: category: 'parking' is not \
             one of court_defaulter, major_tax_violation, \
             procurement_violation, market_serious_violation, wage_arrears, \
             work_safety, construction_blacklist, abnormal_operation, \
             commitment_breach, work_safety_focus, wage_arrears_focus, \
             tax_a_grade, contract_honouring, customs_aeo, integrity_model",
        ),
        (
            good_with(13, "36042619910102009X"),
            "line 2 (entry E1): column legal_rep_id_number: \
             legal_representative '36042619910102009X' is not a valid \
             resident ID: check_digit: check character is 'X', expected '3'",
        ),
        (
            good_with(9, "2020-01-01"),
            "line 2 (entry E1): column valid_until: 2020-01-01 is before \
             listed_on 2024-03-01",
        ),
        (good_with(0, ""), "line 2: column entry_id: required, but empty"),
        (
            good_with(2, "person"),
            "line 2 (entry E1): column code: '91320106MA1K3BTP2E' is not a \
             valid resident_id for a person subject: format: position 9 is \
             'M', expected a digit",
        ),
    ];
    for (row, want) in cases {
        assert_eq!(row_results(&csv(&[&row])), [want], "{row}");
    }
}

#[test]
fn a_row_reports_all_its_problems() {
    let mut fields: Vec<&str> = GOOD.split(',').collect();
    fields[1] = "grey";
    fields[8] = "yesterday";
    let got = row_results(&csv(&[&fields.join(",")]));
    assert!(got[0].contains("column list:"), "{}", got[0]);
    assert!(got[0].contains("column listed_on:"), "{}", got[0]);
}

#[test]
fn truncated_rows_are_reported_with_their_line() {
    let truncated = &GOOD[..60];
    let got = row_results(&csv(&[GOOD, truncated, GOOD]));
    assert_eq!(got[0], "");
    assert_eq!(
        got[1],
        "line 3: column row: expected 14 fields as in the header, found 5 \
         (truncated row, or an unquoted separator?)"
    );
    assert_eq!(got[2], "");
}

/// Excel and most Windows tools write CSV with CR LF; the csv crate
/// numbered every row after a CR LF one line early
/// (BurntSushi/rust-csv#395), so bad rows were reported on the wrong line.
#[test]
fn crlf_rows_are_reported_with_their_line() {
    let truncated = &GOOD[..60];
    let content =
        csv(&[GOOD, truncated, GOOD, truncated]).replace('\n', "\r\n");
    let got = row_results(&content);
    assert_eq!(got[0], "");
    assert!(got[1].starts_with("line 3: column row:"), "{}", got[1]);
    assert_eq!(got[2], "");
    assert!(got[3].starts_with("line 5: column row:"), "{}", got[3]);
}

/// The csv crate skips blank lines but dates the next record from where
/// it started looking, the blank line: a bad row after blank lines was
/// reported at the first blank line's number.
#[test]
fn rows_after_blank_lines_are_reported_with_their_line() {
    let truncated = &GOOD[..60];
    for (eol, blanks) in [("\n", 1), ("\n", 3), ("\r\n", 2)] {
        let mut lines = vec![HEADER, GOOD];
        lines.extend(std::iter::repeat_n("", blanks));
        lines.extend([truncated, GOOD, ""]);
        let content = lines.join(eol);
        let got = row_results(&content);
        let want = format!("line {}: column row:", 3 + blanks);
        assert!(got[1].starts_with(&want), "{eol:?} {blanks}: {}", got[1]);
        assert_eq!(got[2], "", "{eol:?} {blanks}");
    }
    // A quoted field's line ends belong to its row, not to the next one.
    let multiline =
        GOOD.replace("南京市中级人民法院", "\"南京市\n中级人民法院\"");
    let content = [HEADER, &multiline, "", GOOD, "", truncated, ""].join("\n");
    let got = row_results(&content);
    assert_eq!(got.len(), 3);
    assert!(got[2].starts_with("line 7: column row:"), "{}", got[2]);
    let last_without_eol = [HEADER, GOOD, "", truncated].join("\n");
    let got = row_results(&last_without_eol);
    assert!(got[1].starts_with("line 4: column row:"), "{}", got[1]);
}

#[test]
fn missing_and_duplicate_columns_reject_the_file() {
    let (_d, path) =
        file(b"entry_id,name,code\nE1,x,91320106MA1K3BTP2E\n", "csv");
    let err = EntryReader::open(&path, ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "header: missing required column(s) list, subject_type, category, \
         authority, document_number, listed_on; found entry_id, name, code"
    );
    let (_d, path) = file(format!("{HEADER},主体名称\n").as_bytes(), "csv");
    let err = EntryReader::open(&path, ReadOptions::default()).unwrap_err();
    assert!(matches!(err, FileError::DuplicateColumn { column: "name", .. }));
    let (_d, path) = file(b"", "csv");
    let err = EntryReader::open(&path, ReadOptions::default()).unwrap_err();
    assert!(matches!(err, FileError::Empty), "{err}");
}

#[test]
fn broken_encoding_in_a_gbk_file() {
    let content = csv(&[GOOD]);
    let (gbk, _, _) = encoding_rs::GB18030.encode(&content);
    let (name, _, _) = encoding_rs::GB18030.encode("南京恒瑞科技有限公司");
    let mut bytes = gbk.into_owned();
    let at = bytes.windows(name.len()).position(|w| w == &name[..]).unwrap();
    // A lead byte followed by a space: no GB18030 sequence.
    bytes.splice(at..at, [0x81, b' ']);
    let (_d, path) = file(&bytes, "csv");
    let opts =
        ReadOptions { encoding: Encoding::Gb18030, ..Default::default() };
    let got: Vec<String> = EntryReader::open(&path, opts)
        .unwrap()
        .map(|r| r.err().map(|e| e.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(
        got,
        [
            "line 2 (entry E1): column name: encoding: invalid GB18030/GBK byte \
          sequence (is the file UTF-8? read it with encoding utf-8)"
        ]
    );
}

#[test]
fn policy_rejects_whole_or_keeps_good_rows() {
    let bad = good_with(8, "2024-13-01");
    let (_d, path) = file(csv(&[GOOD, &bad, GOOD_PERSON]).as_bytes(), "csv");
    let strict =
        load(&path, ReadOptions::default(), Policy::RejectFile, |_| {})
            .unwrap();
    assert!(strict.rejected);
    assert!(strict.entries.is_empty());
    assert_eq!((strict.rows, strict.bad_rows.len()), (3, 1));
    assert_eq!(strict.bad_rows[0].line, 3);
    let lenient =
        load(&path, ReadOptions::default(), Policy::SkipInvalid, |_| {})
            .unwrap();
    assert!(!lenient.rejected);
    assert_eq!(lenient.entries.len(), 2);
}

#[test]
fn jsonl_rows_and_errors() {
    let good = r#"{"entry_id":"J1","list":8,"subject_type":"organisation","name":"南京恒瑞科技有限公司","code":"91320106MA1K3BTP2E","category":"court_defaulter","authority":"南京市中级人民法院","document_number":"(2024)苏01执1号","listed_on":"2024-03-01","severity":"serious","secondary_ids":["320106000123456"],"related_parties":[{"role":"actual_controller","name":"张伟","id_number":"360426199101010071"}]}"#;
    let cut = good.char_indices().nth(60).unwrap().0;
    let truncated = &good[..cut];
    let not_object = "[1,2]";
    let bad_party = good.replace("actual_controller", "cousin");
    let content =
        format!("{good}\n\n{truncated}\n{not_object}\n{bad_party}\n");
    let (_d, path) = file(content.as_bytes(), "jsonl");
    let got: Vec<Result<_, ReadError>> =
        EntryReader::open(&path, ReadOptions::default()).unwrap().collect();
    let e = got[0].as_ref().unwrap();
    assert_eq!(e.list, ListKind::Black);
    assert_eq!(e.secondary_ids, ["320106000123456"]);
    assert_eq!(e.related[0].name, "张伟");
    let msgs: Vec<String> =
        got[1..].iter().map(|r| r.as_ref().unwrap_err().to_string()).collect();
    assert!(
        msgs[0].starts_with("line 3: column row: invalid JSON: EOF"),
        "{}",
        msgs[0]
    );
    assert_eq!(msgs[1], "line 4: column row: expected a JSON object per line");
    assert!(
        msgs[2].starts_with(
            "line 5 (entry J1): column legal_rep_id_number: role: 'cousin'"
        ),
        "{}",
        msgs[2]
    );
}

#[test]
fn unknown_extension_needs_a_format() {
    let (_d, path) = file(csv(&[GOOD]).as_bytes(), "dat");
    assert!(matches!(
        EntryReader::open(&path, ReadOptions::default()).unwrap_err(),
        FileError::UnknownFormat { .. }
    ));
    let opts = ReadOptions { format: Some(Format::Csv), ..Default::default() };
    assert_eq!(EntryReader::open(&path, opts).unwrap().count(), 1);
}

/// Found by the `entries` fuzz target: an entry with two legal
/// representatives (flat columns plus `related_parties`) lost one when
/// written as CSV. CSV now refuses it by name; JSON Lines keeps it whole.
#[test]
fn csv_refuses_an_entry_it_cannot_hold_and_jsonl_keeps_it() {
    let line = r#"{"entry_id":"J2","list":"black","subject_type":"organisation","name":"南京恒瑞科技有限公司","code":"91320106MA1K3BTP2E","category":"court_defaulter","authority":"南京市中级人民法院","document_number":"(2024)苏01执1号","listed_on":"2024-03-01","severity":"serious","legal_rep_name":"张伟","legal_rep_id_number":"360426199101010071","related_parties":[{"role":"legal_representative","name":"王海","id_number":"320804199512096128"}]}"#;
    let read = |bytes: Vec<u8>, format| {
        EntryReader::from_reader(
            Box::new(std::io::Cursor::new(bytes)),
            format,
            Encoding::Utf8,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
    };
    let entries = read(format!("{line}\n").into_bytes(), Format::Jsonl);
    assert_eq!(entries[0].related.len(), 2);

    let mut csv = EntryWriter::new(Vec::new(), Format::Csv).unwrap();
    let err = csv.write(&entries[0]).unwrap_err().to_string();
    assert!(
        err.contains("entry J2: two related parties with role")
            && err.contains("write JSON Lines"),
        "{err}"
    );

    let mut jsonl = EntryWriter::new(Vec::new(), Format::Jsonl).unwrap();
    jsonl.write(&entries[0]).unwrap();
    let back = read(jsonl.into_inner().unwrap(), Format::Jsonl);
    assert_eq!(back, entries);
}

/// `CellDecoder` reads rows that arrive as cells (an XLSX import): the
/// same header rules and row errors as CSV, with hostile shapes refused
/// by line rather than read past: a header naming a column twice or
/// lacking one, a ragged row longer than the header, an oversized cell.
#[test]
fn cell_rows_follow_the_csv_rules() {
    use credgate_entries::CellDecoder;
    let cells = |s: &str| -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    };
    let header = cells(&format!("{HEADER},备注"));
    let decoder = CellDecoder::new(&header).unwrap();
    assert_eq!(decoder.ignored_columns(), ["备注"]);
    let row = cells(GOOD);
    assert_eq!(decoder.decode(2, &row).unwrap().entry_id, "E1");
    // Trailing empty cells left out, as spreadsheets do.
    let short = &row[..row.len() - 2];
    assert!(decoder.decode(3, short).unwrap().related.is_empty());
    // A ragged row longer than the header.
    let mut long = row.clone();
    long.extend(["x".to_string(), "y".to_string()]);
    let err = decoder.decode(4, &long).unwrap_err().to_string();
    assert!(
        err.starts_with("line 4") && err.contains("expected at most 15"),
        "{err}"
    );
    // A cell past the text limit is refused by its column.
    let mut huge = row.clone();
    huge[3] = "恒".repeat(100_000);
    let err = decoder.decode(5, &huge).unwrap_err().to_string();
    assert!(err.starts_with("line 5") && err.contains("name"), "{err}");

    let twice = cells(&format!("{HEADER},主体名称"));
    assert!(matches!(
        CellDecoder::new(&twice),
        Err(FileError::DuplicateColumn { column: "name", .. })
    ));
    let without_name = cells(&HEADER.replace(",name,", ","));
    assert!(matches!(
        CellDecoder::new(&without_name),
        Err(FileError::MissingColumns { .. })
    ));
}
