//! Writing a snapshot file section by section, checksumming as it goes.

use crate::format::{Header, SECTION_COUNT, Section, SectionEntry, TABLE_END};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A snapshot being written under a temporary name beside its target.
pub struct SnapshotWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    pos: u64,
    current: Option<(Section, u64, xxhash_rust::xxh3::Xxh3)>,
    sections: [SectionEntry; SECTION_COUNT],
}

impl std::fmt::Debug for SnapshotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter")
            .field("tmp", &self.tmp)
            .field("pos", &self.pos)
            .finish()
    }
}

pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

impl SnapshotWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let tmp = tmp_path(path);
        let file = File::create(&tmp)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        // The header is written last, once the sections are known.
        out.write_all(&[0u8; TABLE_END])?;
        Ok(SnapshotWriter {
            out,
            tmp,
            pos: TABLE_END as u64,
            current: None,
            sections: [SectionEntry::default(); SECTION_COUNT],
        })
    }

    pub fn begin(&mut self, section: Section) -> std::io::Result<()> {
        assert!(self.current.is_none(), "end the previous section first");
        // Sections start 8-byte aligned.
        while self.pos % 8 != 0 {
            self.out.write_all(&[0])?;
            self.pos += 1;
        }
        self.current =
            Some((section, self.pos, xxhash_rust::xxh3::Xxh3::new()));
        Ok(())
    }

    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let (_, _, hasher) = self.current.as_mut().expect("inside a section");
        hasher.update(bytes);
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    pub fn end(&mut self) {
        let (section, start, hasher) =
            self.current.take().expect("inside a section");
        self.sections[section.index()] = SectionEntry {
            offset: start,
            len: self.pos - start,
            checksum: hasher.digest(),
        };
    }

    /// Writes one whole section.
    pub fn section(
        &mut self,
        section: Section,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        self.begin(section)?;
        self.write(bytes)?;
        self.end();
        Ok(())
    }

    /// The sections written so far (offset, length, checksum).
    pub fn sections(&self) -> [SectionEntry; SECTION_COUNT] {
        self.sections
    }

    /// Writes the header, syncs, and renames the file into place.
    pub fn commit(
        mut self,
        path: &Path,
        built_at: i64,
        entry_count: u64,
        source_digest: u128,
    ) -> std::io::Result<u64> {
        let header = Header {
            version: crate::format::VERSION,
            built_at,
            entry_count,
            source_digest,
            file_len: self.pos,
            sections: self.sections,
        };
        self.out.flush()?;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header.encode())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.tmp, path)?;
        // Make the rename itself durable.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            File::open(dir)?.sync_all()?;
        }
        Ok(self.pos)
    }

    /// Removes the temporary file of an abandoned build.
    pub fn abandon(self) {
        let tmp = self.tmp.clone();
        drop(self);
        let _ = std::fs::remove_file(tmp);
    }
}
