//! A bulk job's memory stays under its bound (`Limits::memory_bytes`,
//! 512 MiB by default) for hostile XLSX, XLS and ODS files: the peak resident set
//! (VmHWM) of a child process that opens each file and does nothing else
//! is measured. The child runs under `ulimit -v` so that a regression
//! fails here instead of taking the machine's memory (before the limits,
//! the first file took a server to 10 GB).

mod common;

use credgate_bulk::{InputFormat, Limits};
use credgate_entries::Encoding;
use std::io::Write;
use std::path::Path;
use std::process::Command;

const CHILD: &str = "CREDGATE_BULK_MEMORY_CHILD";
const TEST: &str = "hostile_xlsx_files_stay_under_the_memory_bound";

/// In the child: opens the file (the check and the header read) and
/// reports the outcome and the peak resident set.
fn child(path: &str) {
    let path = Path::new(path);
    let format = InputFormat::from_path(path, Encoding::Auto);
    let outcome = match credgate_bulk::open(path, format, &Limits::default()) {
        Ok(s) => format!("accepted: {} columns", s.headers().len()),
        Err(e) => format!("refused: {e}"),
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .expect("VmHWM in /proc/self/status")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .to_string();
    println!("\noutcome={outcome}\npeak_kib={peak}");
}

/// Runs the child on `path`: (outcome, peak bytes).
fn measure(path: &Path) -> (String, u64) {
    let exe = std::env::current_exe().unwrap();
    // 4 GiB of address space: far above the bound (threads and the
    // allocator reserve address space they do not use), far below what
    // an unbounded reader would take.
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 && exec \"$@\"")
        .arg("sh")
        .arg(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: the child failed ({}):\n{stdout}\n{}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let get = |k: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or_else(|| panic!("{k} in {stdout}"))
            .to_string()
    };
    let peak: u64 = get("peak_kib=").parse().unwrap();
    (get("outcome="), peak << 10)
}

/// Sets the declared uncompressed size of `name` (local header and
/// central directory) to `size`: a ZIP may lie about it.
fn lie_about_size(zip: &Path, name: &str, size: u32) {
    let mut data = std::fs::read(zip).unwrap();
    let n = name.as_bytes();
    let mut patched = 0;
    for p in 0..data.len() - 46 {
        if data[p..].starts_with(b"PK\x03\x04")
            && data[p + 30..].starts_with(n)
        {
            data[p + 22..p + 26].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        if data[p..].starts_with(b"PK\x01\x02")
            && data[p + 46..].starts_with(n)
        {
            data[p + 24..p + 28].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local and central headers of {name}");
    std::fs::write(zip, data).unwrap();
}

/// Writes `unit` `times` times.
fn repeat(w: &mut dyn Write, unit: &[u8], times: usize) {
    let block = unit.repeat((1 << 20) / unit.len());
    let per_block = block.len() / unit.len();
    let mut left = times;
    while left >= per_block {
        w.write_all(&block).unwrap();
        left -= per_block;
    }
    w.write_all(&unit.repeat(left)).unwrap();
}

#[test]
fn hostile_xlsx_files_stay_under_the_memory_bound() {
    if let Ok(path) = std::env::var(CHILD) {
        return child(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let bound = Limits::default().memory_bytes;
    let mut files = Vec::new();

    // 1. Only A1 and XFD1048576: declared dimensions of 17 billion cells.
    let path = dir.path().join("corners.xlsx");
    let xml = format!(
        "{}<dimension ref=\"A1:XFD1048576\"/><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>name</t></is></c></row><row r=\"1048576\"><c r=\"XFD1048576\"><v>1</v></c></row></sheetData></worksheet>",
        common::SHEET_START
    );
    common::raw_xlsx(&path, None, &mut |w| {
        w.write_all(xml.as_bytes()).unwrap()
    });
    files.push((path, "max_columns"));

    // 2. One cell of 500 MB; about 500 KB compressed.
    let path = dir.path().join("big-cell.xlsx");
    common::raw_xlsx(&path, None, &mut |w| {
        let start = format!(
            "{}<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>",
            common::SHEET_START
        );
        w.write_all(start.as_bytes()).unwrap();
        repeat(w, b"a", 500_000_000);
        w.write_all(b"</t></is></c></row></sheetData></worksheet>").unwrap();
    });
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
    files.push((path, "cell A1 exceeds max_cell_bytes"));

    // 3. A zip bomb: a part that inflates to 1 GiB of valid XML while its
    //    headers declare 1,000 bytes.
    let path = dir.path().join("bomb.xlsx");
    common::raw_xlsx(&path, None, &mut |w| {
        let xml = common::sheet_xml(&[("A1", "name"), ("A2", "x")]);
        w.write_all(xml.as_bytes()).unwrap()
    });
    // raw_xlsx has no styles part: rebuild with one.
    {
        let mut z = zip::ZipWriter::new_append(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap(),
        )
        .unwrap();
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        z.start_file("xl/styles.xml", o).unwrap();
        repeat(&mut z, b"<x/>", 1 << 28);
        z.finish().unwrap();
    }
    lie_about_size(&path, "xl/styles.xml", 1_000);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 8 << 20, "{size}");
    files.push((path, "max_xlsx_part_bytes"));

    // 4. Accepted, at the limits: the largest shared strings table.
    let path = dir.path().join("many-strings.xlsx");
    let l = Limits::default();
    let n = l.max_shared_strings as usize - 1;
    common::raw_xlsx(
        &path,
        Some(&mut |w| {
            write!(w, "<sst uniqueCount=\"{n}\"><si><t>name</t></si>")
                .unwrap();
            for i in 1..n {
                write!(w, "<si><t>{i:0>40}</t></si>").unwrap();
            }
            w.write_all(b"</sst>").unwrap();
        }),
        &mut |w| {
            let xml = format!(
                "{}<sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row></sheetData></worksheet>",
                common::SHEET_START
            );
            w.write_all(xml.as_bytes()).unwrap()
        },
    );
    files.push((path, ""));

    // 5. XLS and ODS, read whole by calamine: a cell at IV65536 (a dense
    //    range of 16.7 million cells), declared dimensions of two billion
    //    rows, a text cell repeated a billion times; and the fixture.
    let path = dir.path().join("corner.xls");
    let mut data = common::bidders_xls();
    common::patch_xls_record(&mut data, 0x00FD, 10, &[0xFF, 0xFF, 0xFF, 0]);
    std::fs::write(&path, &data).unwrap();
    files.push((path, "max_legacy_cells"));
    let path = dir.path().join("dimensions.xls");
    let mut data = common::bidders_xls();
    let huge = [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0xFF, 0];
    common::patch_xls_record(&mut data, 0x0200, 14, &huge);
    std::fs::write(&path, &data).unwrap();
    files.push((path, "max_legacy_cells"));
    let path = dir.path().join("repeat.ods");
    let rows = format!(
        "{}<table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell office:value-type=\"string\" table:number-columns-repeated=\"1000\"><text:p>x</text:p></table:table-cell></table:table-row>",
        common::ods_row(&["名称"])
    );
    common::raw_ods(&path, &[("S", &rows)]);
    files.push((path, "max_legacy_cells"));
    let path = dir.path().join("bidders.xls");
    std::fs::write(&path, common::bidders_xls()).unwrap();
    files.push((path, ""));

    for (path, limit) in &files {
        let (outcome, peak) = measure(path);
        eprintln!(
            "{}: {outcome}; peak {} MiB",
            path.file_name().unwrap().to_string_lossy(),
            peak >> 20
        );
        assert!(
            peak < bound,
            "{}: peak {peak} bytes, bound {bound}",
            path.display()
        );
        if limit.is_empty() {
            assert!(outcome.starts_with("accepted"), "{outcome}");
        } else {
            assert!(
                outcome.starts_with("refused") && outcome.contains(limit),
                "{}: {outcome}",
                path.display()
            );
        }
    }
}
