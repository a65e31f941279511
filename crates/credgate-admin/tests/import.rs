//! Import: all or nothing, every bad row reported, idempotent on the
//! natural key, GBK CSV and XLSX read like UTF-8 CSV.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use credgate_admin::import::{
    ImportContext, ImportOptions, ImportReport, import_file, problems_csv,
};
use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_lifecycle::Lifecycle;
use credgate_model::{Entry, EntryStatus};
use credgate_screen::Catalogue;
use credgate_store::{Audit, AuditFilter, Department, Stage, Store};

const DEPT: &str = "js-fgw";

struct Env {
    dir: tempfile::TempDir,
    store: Store,
    lifecycle: Lifecycle,
    catalogue: Catalogue,
}

fn now() -> DateTime<Utc> {
    // Noon of 2026-11-02 in China: the day after the generator's as_of.
    Utc.with_ymd_and_hms(2026, 11, 2, 4, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

impl Env {
    async fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path()).await.unwrap();
        for code in [DEPT, "js-scjg"] {
            let audit = Audit::new(now(), "test", code, "department_upsert");
            let d = Department { code: code.into(), name_zh: "测试".into() };
            store.upsert_department(&audit, &d).await.unwrap();
        }
        Env {
            dir,
            store,
            lifecycle: Lifecycle::builtin(),
            catalogue: Catalogue::builtin(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn import_as(
        &self,
        path: &Path,
        department: &str,
        f: impl FnOnce(&mut ImportOptions),
    ) -> ImportReport {
        let cx = ImportContext {
            store: &self.store,
            lifecycle: &self.lifecycle,
            catalogue: &self.catalogue,
            now: now(),
            today: today(),
        };
        let mut opts = ImportOptions {
            department: department.into(),
            key_id: "test-key".into(),
            skip_invalid: false,
            dry_run: false,
            format: None,
            source_name: None,
        };
        f(&mut opts);
        import_file(cx, path, &opts, &|_| {}).await.unwrap()
    }

    async fn import(
        &self,
        path: &Path,
        f: impl FnOnce(&mut ImportOptions),
    ) -> ImportReport {
        self.import_as(path, DEPT, f).await
    }

    async fn audit_records(&self) -> usize {
        let mut n = 0;
        let mut cursor = None;
        loop {
            let filter =
                AuditFilter { limit: Some(1000), ..Default::default() };
            let page = self
                .store
                .audit_page(&filter, cursor.as_deref())
                .await
                .unwrap();
            n += page.items.len();
            match page.next {
                Some(c) => cursor = Some(c),
                None => return n,
            }
        }
    }

    async fn entries(&self) -> usize {
        self.store.audit_head().await.unwrap();
        let filter = credgate_store::EntryFilter {
            limit: Some(1000),
            ..Default::default()
        };
        let mut n = 0;
        let mut cursor = None;
        loop {
            let page = self
                .store
                .list_entries(&filter, cursor.as_deref())
                .await
                .unwrap();
            n += page.items.len();
            match page.next {
                Some(c) => cursor = Some(c),
                None => return n,
            }
        }
    }
}

/// Generated entries in force (active or disputed), as a list to import.
fn in_force(n: usize) -> Vec<Entry> {
    Generator::new(GenOptions::new(11))
        .filter(|e| {
            matches!(e.status, EntryStatus::Active | EntryStatus::Disputed)
                && e.valid_until.is_none_or(|u| u > today())
        })
        .take(n)
        .collect()
}

fn write_csv(path: &Path, entries: &[Entry]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = EntryWriter::new(file, Format::Csv).unwrap();
    for e in entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
}

/// The CSV text of `entries` with `edit` applied to the data line of the
/// entry at `index` (line index + 2).
fn csv_with(entries: &[Entry], index: usize, edit: &str) -> String {
    let mut buf = Vec::new();
    let mut w = EntryWriter::new(&mut buf, Format::Csv).unwrap();
    for e in entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let text = String::from_utf8(buf).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[index + 1] = edit.to_string();
    lines.join("\n") + "\n"
}

#[tokio::test]
async fn an_import_makes_published_and_disputed_entries_with_their_records() {
    let env = Env::new().await;
    let entries = in_force(300);
    let disputed =
        entries.iter().filter(|e| e.status == EntryStatus::Disputed).count();
    let path = env.path("list.csv");
    write_csv(&path, &entries);
    let before = env.audit_records().await;
    let r = env.import(&path, |_| {}).await;
    assert!(r.committed, "{r:?}");
    assert_eq!(r.inserted, 300);
    assert_eq!(r.problems, vec![]);
    assert_eq!(env.entries().await, 300);
    assert_eq!(env.audit_records().await, before + 300);
    let e = env.store.entry(&entries[0].entry_id).await.unwrap().unwrap();
    assert_eq!(e.entry.department, DEPT);
    assert_eq!(e.entry.data.facts.published_on, Some(today()));
    assert_eq!(e.history.len(), 1);
    assert_eq!(e.history[0].action, "import");
    let mut n_disputed = 0;
    for x in &entries {
        let s = env.store.entry(&x.entry_id).await.unwrap().unwrap();
        if s.entry.stage == Stage::Disputed {
            n_disputed += 1;
            assert!(s.entry.data.facts.review_deadline.is_some());
        }
    }
    assert_eq!(n_disputed, disputed);
    assert!(env.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn one_bad_row_rejects_the_whole_file_and_every_bad_row_is_reported() {
    let env = Env::new().await;
    let entries = in_force(50);
    let mut text = csv_with(&entries, 10, "");
    // Row 11 (line 12) loses its code's check character; row 31 its date.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[11] = {
        let mut buf = Vec::new();
        let mut w = EntryWriter::new(&mut buf, Format::Csv).unwrap();
        let mut e = entries[10].clone();
        e.listed_on = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        e.valid_until = NaiveDate::from_ymd_opt(2031, 1, 1);
        w.write(&e).unwrap();
        w.into_inner().unwrap();
        String::from_utf8(buf).unwrap().lines().nth(1).unwrap().to_string()
    };
    lines[31] = lines[31]
        .replacen(",black,", ",blak,", 1)
        .replacen(",focus,", ",focs,", 1);
    lines[31] = lines[31].replacen(",red,", ",rde,", 1);
    text = lines.join("\n") + "\n";
    let path = env.path("bad.csv");
    std::fs::write(&path, text).unwrap();
    let before = env.audit_records().await;
    let r = env.import(&path, |_| {}).await;
    assert!(r.rejected && !r.committed, "{r:?}");
    assert_eq!(r.invalid_rows, 2, "{:?}", r.problems);
    let rows: Vec<u64> = r.problems.iter().map(|p| p.row).collect();
    assert!(rows.contains(&12) && rows.contains(&32), "{:?}", r.problems);
    let future = r.problems.iter().find(|p| p.row == 12).unwrap();
    // The reader's rules passed; the lifecycle's refused it.
    assert_eq!(future.rule, "date_in_future", "{future:?}");
    assert_eq!(future.column, "decided_on");
    assert_eq!(env.entries().await, 0, "all or nothing");
    assert_eq!(env.audit_records().await, before);

    // The same report as CSV.
    let mut csv = Vec::new();
    problems_csv(&r.problems, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("\u{feff}row,entry_id,column,rule,message"));
    assert!(csv.contains("date_in_future"), "{csv}");

    // With --skip-invalid the good rows go in.
    let r = env.import(&path, |o| o.skip_invalid = true).await;
    assert!(r.committed);
    assert_eq!(r.inserted, 48);
    assert_eq!(env.entries().await, 48);
}

#[tokio::test]
async fn reimporting_changes_nothing_and_a_changed_row_is_an_update() {
    let env = Env::new().await;
    let mut entries = in_force(40);
    let path = env.path("list.csv");
    write_csv(&path, &entries);
    assert_eq!(env.import(&path, |_| {}).await.inserted, 40);
    let records = env.audit_records().await;

    let again = env.import(&path, |_| {}).await;
    assert!(again.committed);
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 40));
    assert_eq!(env.audit_records().await, records, "no new records");

    // Same decision and subject, another reason: an update with history.
    // A new entry id on the row does not make it a new entry.
    let id = entries[5].entry_id.clone();
    entries[5].reason = "更正后的列入原因".into();
    entries[5].entry_id = "NEW-ID-1".into();
    write_csv(&path, &entries);
    let r = env.import(&path, |_| {}).await;
    assert_eq!((r.inserted, r.updated, r.unchanged), (0, 1, 39), "{r:?}");
    assert_eq!(env.audit_records().await, records + 1);
    let e = env.store.entry(&id).await.unwrap().unwrap();
    assert_eq!(e.entry.version, 2);
    assert_eq!(e.entry.data.reason, "更正后的列入原因");
    assert_eq!(e.history.len(), 2);
    assert!(env.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let env = Env::new().await;
    let path = env.path("list.jsonl");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = EntryWriter::new(file, Format::Jsonl).unwrap();
    for e in in_force(20) {
        w.write(&e).unwrap();
    }
    w.into_inner().unwrap();
    let records = env.audit_records().await;
    let r = env.import(&path, |o| o.dry_run = true).await;
    assert!(r.dry_run && !r.committed);
    assert_eq!(r.inserted, 20);
    assert_eq!(env.entries().await, 0);
    assert_eq!(env.audit_records().await, records);
}

#[tokio::test]
async fn rows_not_in_force_are_skipped_and_another_departments_decision_refused()
 {
    let env = Env::new().await;
    let mut entries = in_force(10);
    let mut gone = entries[0].clone();
    gone.entry_id = "GONE-1".into();
    gone.document_number = "GONE-DOC".into();
    gone.status = EntryStatus::Exited;
    gone.removed_on = Some(today());
    gone.removal_reason = Some("信用修复".into());
    gone.removal_authority = Some(gone.authority.clone());
    entries.push(gone);
    let path = env.path("list.csv");
    write_csv(&path, &entries);
    let r = env.import(&path, |_| {}).await;
    assert_eq!(r.inserted, 10);
    assert_eq!(r.skipped.get("not_in_force"), Some(&1));

    // The same decisions imported by another department: refused.
    entries[3].reason = "改".into();
    write_csv(&path, &entries);
    let r = env.import_as(&path, "js-scjg", |_| {}).await;
    assert!(r.rejected, "{r:?}");
    assert_eq!(r.problems[0].rule, "other_department");
}

#[tokio::test]
async fn a_gbk_csv_imports_like_utf8() {
    let env = Env::new().await;
    let entries = in_force(30);
    let mut buf = Vec::new();
    let mut w = EntryWriter::new(&mut buf, Format::Csv).unwrap();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let text = String::from_utf8(buf).unwrap();
    // Chinese headers, as government exports have them, in GBK.
    let header = text.lines().next().unwrap();
    let chinese: Vec<&str> = header
        .split(',')
        .map(|h| {
            credgate_entries::COLUMNS
                .iter()
                .find(|c| c.name == h)
                .map_or(h, |c| c.aliases[0])
        })
        .collect();
    let text = text.replacen(header, &chinese.join(","), 1);
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let path = env.path("list-gbk.csv");
    std::fs::write(&path, &gbk).unwrap();
    let r = env.import(&path, |_| {}).await;
    assert!(r.committed, "{r:?}");
    assert_eq!(r.inserted, 30);
    let e = env.store.entry(&entries[7].entry_id).await.unwrap().unwrap();
    assert_eq!(e.entry.data.name, entries[7].name);
}

#[tokio::test]
async fn an_xlsx_with_chinese_headers_imports_and_reports_rows_as_excel_numbers_them()
 {
    let env = Env::new().await;
    let entries = in_force(25);
    // Through CSV text: the writer's columns, Chinese headers.
    let mut buf = Vec::new();
    let mut w = EntryWriter::new(&mut buf, Format::Csv).unwrap();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(buf.as_slice());
    let rows: Vec<csv::StringRecord> =
        reader.records().map(Result::unwrap).collect();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "江苏省失信名单（导入）").unwrap();
    for (r, rec) in rows.iter().enumerate() {
        for (c, cell) in rec.iter().enumerate() {
            let cell = if r == 0 {
                credgate_entries::COLUMNS
                    .iter()
                    .find(|col| col.name == cell)
                    .map_or(cell, |col| col.aliases[0])
            } else if r == 4 && c == 11 {
                // Row 6 of the sheet: a date that is no date.
                "2026-13-40"
            } else {
                cell
            };
            sheet.write_string(r as u32 + 1, c as u16, cell).unwrap();
        }
    }
    let path = env.path("list.xlsx");
    book.save(&path).unwrap();
    let r = env.import(&path, |_| {}).await;
    assert!(r.rejected, "{r:?}");
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].row, 6);
    assert_eq!(r.problems[0].column, "listed_on");
    let r = env.import(&path, |o| o.skip_invalid = true).await;
    assert_eq!(r.inserted, 24);
    let e = env.store.entry(&entries[0].entry_id).await.unwrap().unwrap();
    assert_eq!(e.entry.data.code, entries[0].code);
}

/// The same decision written another way — full-width digits, other
/// brackets, a traditional character, a space or an invisible U+200B in
/// the authority — is the same decision: an update of its entry, never a
/// second entry (each of these spellings made one).
#[tokio::test]
async fn another_spelling_of_a_decision_is_not_a_second_entry() {
    let env = Env::new().await;
    let entries = in_force(1);
    let doc = entries[0].document_number.clone();
    assert!(doc.contains('〔') && doc.contains('号'), "{doc}");
    let path = env.path("list.csv");
    write_csv(&path, &entries);
    assert_eq!(env.import(&path, |_| {}).await.inserted, 1);
    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
                c => c,
            })
            .collect()
    }
    type Edit = Box<dyn Fn(&mut Entry)>;
    let spellings: Vec<Edit> = vec![
        Box::new(|e| e.document_number = full_width(&e.document_number)),
        Box::new(|e| {
            e.document_number =
                e.document_number.replace('〔', "[").replace('〕', "]")
        }),
        Box::new(|e| {
            e.document_number = e.document_number.replace('号', "號")
        }),
        Box::new(|e| {
            e.document_number = e.document_number.replace('〕', "〕 ")
        }),
        Box::new(|e| e.authority = format!("{}\u{200b}", e.authority)),
    ];
    for (i, edit) in spellings.iter().enumerate() {
        let mut e = entries[0].clone();
        e.entry_id = format!("SPELLING-{i}");
        edit(&mut e);
        write_csv(&path, &[e.clone()]);
        let r = env.import(&path, |_| {}).await;
        assert_eq!(
            (r.inserted, r.invalid_rows),
            (0, 0),
            "{} / {}: {r:?}",
            e.authority,
            e.document_number
        );
    }
    assert_eq!(env.entries().await, 1);
}

#[tokio::test]
async fn ragged_garbage_and_repeated_rows_are_each_reported_and_nothing_written()
 {
    let env = Env::new().await;
    let entries = in_force(8);
    let text = csv_with(&entries, 0, "");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.remove(1);
    // Line 2 gains a field, line 3 loses its last, line 4 is control
    // characters, line 8 repeats line 7.
    lines[1] = format!("{},extra", lines[1]);
    lines[2] = lines[2][..lines[2].rfind(',').unwrap()].to_string();
    lines[3] = "\u{1}\u{2}\u{7f},\u{0}".repeat(50);
    lines[7] = lines[6].clone();
    let path = env.path("hostile.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let before = env.audit_records().await;
    let r = env.import(&path, |_| {}).await;
    assert!(r.rejected && !r.committed, "{r:?}");
    let rows: Vec<u64> = r.problems.iter().map(|p| p.row).collect();
    for line in [2, 3, 4, 8] {
        assert!(rows.contains(&line), "line {line}: {:?}", r.problems);
    }
    assert_eq!(r.invalid_rows, 4, "{:?}", r.problems);
    assert_eq!(env.entries().await, 0, "all or nothing");
    assert_eq!(env.audit_records().await, before);
}

/// The audit chain an import writes, pinned: the head's hash after a
/// first import (300 new entries, some disputed) and after a second one
/// (two rows changed: updates with history; ten new rows), with a fixed
/// clock. Any change to the records, their order, the canonical JSON
/// they digest or the row ids they name changes these hashes; they were
/// taken from the import before it became a pipeline (main at 439d30b9),
/// so the pipeline writes the same chain for the same input and clock.
#[tokio::test]
async fn the_audit_chain_of_an_import_is_pinned_for_a_fixed_input_and_clock() {
    let env = Env::new().await;
    let mut entries = in_force(310);
    let path = env.path("list.csv");
    write_csv(&path, &entries[..300]);
    let r = env.import(&path, |_| {}).await;
    assert_eq!(r.inserted, 300, "{r:?}");
    let (seq, first) = env.store.audit_head().await.unwrap();
    entries[7].reason = "更正后的列入原因".into();
    entries[211].basis = "更正后的依据".into();
    write_csv(&path, &entries);
    let r = env.import(&path, |_| {}).await;
    assert_eq!((r.inserted, r.updated, r.unchanged), (10, 2, 298), "{r:?}");
    let (seq2, second) = env.store.audit_head().await.unwrap();
    assert!(env.store.verify_audit().await.unwrap().is_ok());
    assert_eq!(
        (seq, first.as_str(), seq2, second.as_str()),
        (
            302,
            "1ec533744e239a2534d1833646ab05b22f0ff09ae647b7e90f2045505a26a9f6",
            314,
            "5e37d98aaa31aa516591723c0d38be1d2652ed00e7e12edd6c10c77a09fd722d",
        ),
    );
}
