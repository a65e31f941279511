//! The entries readers (CSV in any encoding, JSON Lines) on any bytes.
//!
//! The first byte picks the format and encoding; the rest is the file.
//! Properties: nothing panics, reading ends, and every entry read back
//! from what the writer wrote for it is the same entry (CSV and JSON
//! Lines alike).
#![no_main]

use credgate_entries::{
    Encoding, EntryReader, EntryWriter, Format, ReadError,
};
use credgate_model::Entry;
use libfuzzer_sys::fuzz_target;

fn read(bytes: Vec<u8>, format: Format, encoding: Encoding) -> Vec<Entry> {
    let Ok(reader) = EntryReader::from_reader(
        Box::new(std::io::Cursor::new(bytes)),
        format,
        encoding,
    ) else {
        return Vec::new();
    };
    let mut good = Vec::new();
    for item in reader {
        match item {
            Ok(e) => good.push(e),
            Err(ReadError::Row(r)) => assert!(!r.to_string().is_empty()),
            Err(ReadError::File(_)) => break,
        }
    }
    good
}

/// JSON Lines holds every entry; CSV may refuse one it cannot hold (two
/// parties of one role, say), and what it accepts must come back equal.
fn round_trip(entries: &[Entry], format: Format) {
    let mut w = EntryWriter::new(Vec::new(), format).expect("writer");
    let mut written = Vec::new();
    for e in entries {
        match w.write(e) {
            Ok(()) => written.push(e.clone()),
            Err(err) if format == Format::Csv => {
                assert!(err.to_string().contains("write JSON Lines"), "{err}")
            }
            Err(err) => panic!("JSON Lines refused an entry: {err}"),
        }
    }
    let bytes = w.into_inner().expect("writing to memory");
    let back = read(bytes, format, Encoding::Utf8);
    assert_eq!(back, written, "{format:?} round trip");
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, file)) = data.split_first() else { return };
    let format = if sel & 1 == 0 { Format::Csv } else { Format::Jsonl };
    let encoding = match (sel >> 1) % 3 {
        0 => Encoding::Auto,
        1 => Encoding::Utf8,
        _ => Encoding::Gb18030,
    };
    let entries = read(file.to_vec(), format, encoding);
    round_trip(&entries, Format::Csv);
    round_trip(&entries, Format::Jsonl);
});
