//! A small snapshot to screen against, and hand-made XLSX files.

#![allow(dead_code)]

use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_index::Snapshot;
use credgate_model::Entry;
use credgate_screen::{Catalogue, Screener};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Builds `n` generated entries into a snapshot under `dir`.
pub fn screener(dir: &Path, n: usize) -> (Screener, Vec<Entry>) {
    let entries: Vec<Entry> =
        Generator::new(GenOptions::new(7)).take(n).collect();
    let csv = dir.join("entries.csv");
    let mut w =
        EntryWriter::new(std::fs::File::create(&csv).unwrap(), Format::Csv)
            .unwrap();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let out = dir.join("s.snapshot");
    credgate_index::build(
        &csv,
        &out,
        &credgate_index::BuildOptions::default(),
        &|_| {},
    )
    .unwrap();
    let snap = Snapshot::open(&out).unwrap();
    (Screener::new(Arc::new(snap), Arc::new(Catalogue::builtin())), entries)
}

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

pub const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// Writes a part's content.
pub type Part<'a> = &'a mut dyn FnMut(&mut dyn Write);

/// A workbook of one sheet whose XML is written by `sheet` (it may write
/// gigabytes: the ZIP writer compresses as it goes), with an optional
/// shared strings table.
pub fn raw_xlsx(path: &Path, shared: Option<Part<'_>>, sheet: Part<'_>) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    z.start_file("xl/workbook.xml", o).unwrap();
    z.write_all(WORKBOOK.as_bytes()).unwrap();
    z.start_file("xl/_rels/workbook.xml.rels", o).unwrap();
    z.write_all(RELS.as_bytes()).unwrap();
    if let Some(shared) = shared {
        z.start_file("xl/sharedStrings.xml", o).unwrap();
        shared(&mut z);
    }
    z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    sheet(&mut z);
    z.finish().unwrap();
}

/// A sheet of these inline-string cells, `(reference, text)`.
pub fn sheet_xml(cells: &[(&str, &str)]) -> String {
    let mut s = format!("{SHEET_START}<sheetData>");
    for (r, v) in cells {
        s.push_str(&format!(
            r#"<row><c r="{r}" t="inlineStr"><is><t>{v}</t></is></c></row>"#
        ));
    }
    s.push_str("</sheetData></worksheet>");
    s
}
