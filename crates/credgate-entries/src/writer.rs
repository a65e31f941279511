//! Writing entries files. A file is written under a temporary name and
//! renamed when complete, so a reader never sees half a file under the
//! final name.

use crate::Format;
use crate::columns::{COLUMNS, Col};
use crate::convert::{from_entry, to_entry};
use crate::error::{FieldError, FileError};
use credgate_model::{Entry, IdType, PartyRole};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes entries as UTF-8 CSV (English headers) or JSON Lines.
pub struct EntryWriter<W: Write> {
    format: Format,
    csv: Option<csv::Writer<W>>,
    out: Option<W>,
    written: u64,
}

impl<W: Write> std::fmt::Debug for EntryWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryWriter")
            .field("format", &self.format)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

/// Why the flat CSV columns cannot carry an entry's related parties, if
/// they cannot: a second party of one role overwrote the first, and a
/// principal's or controller's passport number read back as an invalid
/// resident ID (found by the `entries` fuzz target's round trip).
fn csv_cannot_hold(e: &Entry) -> Option<String> {
    for (i, p) in e.related.iter().enumerate() {
        if e.related[..i].iter().any(|q| q.role == p.role) {
            return Some(format!("two related parties with role {}", p.role));
        }
        if p.role != PartyRole::LegalRepresentative
            && p.id_type != IdType::ResidentId
            && p.id_number.is_some()
        {
            return Some(format!(
                "the {} has a {} number",
                p.role,
                p.id_type.code()
            ));
        }
    }
    None
}

/// Every problem an entry meets on its way through an entries file:
/// what the CSV layout cannot hold (the writer refuses it) and what the
/// reader refuses when the written row is read back (control characters,
/// texts over 2,000 characters, cross-field rules). The admin API checks
/// every entry that can reach screening with this, so that whatever the
/// store holds can also travel as an entries file (the interchange
/// format lists are imported in and snapshots built from). Publishing
/// itself now streams entries to the builder, which re-checks only
/// `Entry::check`; this check is the stricter of the two on purpose.
pub fn check_publishable(entry: &Entry) -> Result<(), Vec<FieldError>> {
    if let Some(why) = csv_cannot_hold(entry) {
        return Err(vec![FieldError {
            column: "related".into(),
            message: why,
        }]);
    }
    to_entry(&from_entry(entry)).map(|_| ())
}

fn werr(e: impl std::fmt::Display) -> FileError {
    FileError::Write(e.to_string())
}

impl<W: Write> EntryWriter<W> {
    pub fn new(out: W, format: Format) -> Result<Self, FileError> {
        match format {
            Format::Csv => {
                let mut csv = csv::WriterBuilder::new().from_writer(out);
                csv.write_record(COLUMNS.iter().map(|c| c.name))
                    .map_err(werr)?;
                Ok(EntryWriter {
                    format,
                    csv: Some(csv),
                    out: None,
                    written: 0,
                })
            }
            Format::Jsonl => Ok(EntryWriter {
                format,
                csv: None,
                out: Some(out),
                written: 0,
            }),
        }
    }

    /// Writes one entry. CSV refuses an entry it cannot hold (see
    /// [`csv_cannot_hold`]) rather than dropping part of it.
    pub fn write(&mut self, entry: &Entry) -> Result<(), FileError> {
        if self.csv.is_some()
            && let Some(why) = csv_cannot_hold(entry)
        {
            return Err(FileError::Write(format!(
                "entry {}: {why}; CSV has one set of columns per role and \
                 resident IDs only for principal and controller: write \
                 JSON Lines",
                entry.entry_id
            )));
        }
        let row = from_entry(entry);
        if let Some(csv) = &mut self.csv {
            csv.write_record(
                row.fields.iter().map(|f| f.as_deref().unwrap_or("")),
            )
            .map_err(werr)?;
        } else if let Some(out) = &mut self.out {
            let mut obj = serde_json::Map::new();
            for (i, field) in row.fields.iter().enumerate() {
                let name = COLUMNS[i].name;
                // Related parties go in their own list in JSON.
                if i >= Col::LegalRepName as usize {
                    continue;
                }
                if let Some(v) = field {
                    let value = if i == Col::SecondaryIds as usize {
                        serde_json::Value::from(entry.secondary_ids.clone())
                    } else {
                        serde_json::Value::from(v.as_str())
                    };
                    obj.insert(name.to_string(), value);
                }
            }
            if !entry.related.is_empty() {
                let parties: Vec<serde_json::Value> = entry
                    .related
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "role": p.role.code(),
                            "name": p.name,
                            "id_type": p.id_type.code(),
                            "id_number": p.id_number,
                        })
                    })
                    .collect();
                obj.insert("related_parties".into(), parties.into());
            }
            serde_json::to_writer(&mut *out, &obj).map_err(werr)?;
            out.write_all(b"\n").map_err(werr)?;
        }
        self.written += 1;
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, FileError> {
        match (self.csv, self.out) {
            (Some(csv), _) => csv.into_inner().map_err(werr),
            (None, Some(mut out)) => {
                out.flush().map_err(werr)?;
                Ok(out)
            }
            (None, None) => unreachable!("one of csv and out is set"),
        }
    }
}

/// An entries file being written: a temporary file beside the target,
/// renamed over it by [`FileSink::commit`].
#[derive(Debug)]
pub struct FileSink {
    writer: EntryWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl FileSink {
    pub fn create(path: &Path, format: Format) -> Result<Self, FileError> {
        let tmp = tmp_path(path);
        let file = File::create(&tmp)
            .map_err(|source| FileError::Io { path: tmp.clone(), source })?;
        let writer =
            EntryWriter::new(BufWriter::with_capacity(1 << 20, file), format)?;
        Ok(FileSink { writer, tmp, path: path.to_path_buf() })
    }

    pub fn write(&mut self, entry: &Entry) -> Result<(), FileError> {
        self.writer.write(entry)
    }

    pub fn written(&self) -> u64 {
        self.writer.written()
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<u64, FileError> {
        let n = self.writer.written();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FileError::Io { path, source }
        };
        let file = self
            .writer
            .into_inner()?
            .into_inner()
            .map_err(|e| werr(e.error()))?;
        file.sync_all().map_err(io(&self.tmp))?;
        std::fs::rename(&self.tmp, &self.path).map_err(io(&self.path))?;
        Ok(n)
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}
