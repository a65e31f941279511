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

/// The XLS fixture (written by `tests/data/make_bidders_xls.py`).
pub fn bidders_xls() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bidders.xls"),
    )
    .unwrap()
}

/// Overwrites the start of the last BIFF record of type `typ` and
/// length `len` in an XLS file's bytes.
pub fn patch_xls_record(data: &mut [u8], typ: u16, len: u16, payload: &[u8]) {
    let head = [typ.to_le_bytes(), len.to_le_bytes()].concat();
    let p = (0..data.len() - 4)
        .rfind(|&p| data[p..p + 4] == head[..])
        .expect("the record");
    data[p + 4..p + 4 + payload.len()].copy_from_slice(payload);
}

/// An ODS workbook whose `content.xml` has these tables' XML (rows).
pub fn raw_ods(path: &Path, tables: &[(&str, &str)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet").unwrap();
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("META-INF/manifest.xml", o).unwrap();
    z.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
    )
    .unwrap();
    z.start_file("content.xml", o).unwrap();
    z.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>"#,
    )
    .unwrap();
    for (name, rows) in tables {
        write!(z, "<table:table table:name=\"{name}\">{rows}</table:table>")
            .unwrap();
    }
    z.write_all(
        b"</office:spreadsheet></office:body></office:document-content>",
    )
    .unwrap();
    z.finish().unwrap();
}

/// An ODS row of string cells (empty strings are empty cells).
pub fn ods_row(cells: &[&str]) -> String {
    let mut s = String::from("<table:table-row>");
    for c in cells {
        if c.is_empty() {
            s.push_str("<table:table-cell/>");
        } else {
            s.push_str(&format!(
                "<table:table-cell office:value-type=\"string\"><text:p>{c}</text:p></table:table-cell>"
            ));
        }
    }
    s.push_str("</table:table-row>");
    s
}
