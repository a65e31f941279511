//! Writing a snapshot file section by section, checksumming as it goes.
//!
//! The file is written under a hidden temporary name in the target's
//! directory (`.NAME.XXXXXX.tmp`, a `tempfile::NamedTempFile`), synced, and
//! renamed onto NAME. The temporary file is removed whenever the writer is
//! dropped without committing — on every error path of a build, not only
//! the ones that remember to clean up.

use crate::format::{
    CHECK_CHUNK, Header, SECTION_COUNT, Section, SectionEntry, TABLE_END,
    section_checksum,
};
use std::fs::File;
use std::hash::Hasher as _;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use tempfile::NamedTempFile;

/// A snapshot being written under a temporary name beside its target.
pub struct SnapshotWriter {
    out: BufWriter<NamedTempFile>,
    pos: u64,
    current: Option<(Section, u64, Chunked)>,
    sections: [SectionEntry; SECTION_COUNT],
}

impl std::fmt::Debug for SnapshotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter")
            .field("tmp", &self.out.get_ref().path())
            .field("pos", &self.pos)
            .finish()
    }
}

/// A section's checksum as its bytes go by (`format::CHECK_CHUNK`).
#[derive(Default)]
struct Chunked {
    chunk: twox_hash::XxHash3_64,
    in_chunk: usize,
    digests: Vec<u64>,
}

impl Chunked {
    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = (CHECK_CHUNK - self.in_chunk).min(bytes.len());
            self.chunk.write(&bytes[..take]);
            self.in_chunk += take;
            bytes = &bytes[take..];
            if self.in_chunk == CHECK_CHUNK {
                self.digests.push(self.chunk.finish());
                self.chunk = twox_hash::XxHash3_64::new();
                self.in_chunk = 0;
            }
        }
    }

    fn finish(mut self) -> u64 {
        if self.in_chunk > 0 {
            self.digests.push(self.chunk.finish());
        }
        section_checksum(self.digests)
    }
}

impl SnapshotWriter {
    /// Starts a snapshot that [`SnapshotWriter::commit`] will put at
    /// `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(path.file_name().unwrap_or_default());
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // The permissions `File::create` gives (0666 less the umask), not
        // tempfile's owner-only default: the service may read snapshots
        // under another account than the one that builds them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let file = builder.tempfile_in(dir)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        // The header is written last, once the sections are known.
        out.write_all(&[0u8; TABLE_END])?;
        Ok(SnapshotWriter {
            out,
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
        self.current = Some((section, self.pos, Chunked::default()));
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
            checksum: hasher.finish(),
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

    /// Reads back `len` bytes written at file offset `at` (the builder
    /// compares an entry id with an earlier one's this way). Rare: it
    /// flushes the buffer.
    pub fn read_back(
        &mut self,
        at: u64,
        len: usize,
    ) -> std::io::Result<Vec<u8>> {
        self.out.flush()?;
        let file = self.out.get_mut();
        let mut buf = vec![0u8; len];
        file.seek(SeekFrom::Start(at))?;
        let read = file.read_exact(&mut buf);
        // Back to the end, where the next write goes, even if reading
        // failed.
        file.seek(SeekFrom::Start(self.pos))?;
        read?;
        Ok(buf)
    }

    /// The file offset the next write goes to.
    pub fn position(&self) -> u64 {
        self.pos
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
        file.as_file().sync_all()?;
        // A failed rename drops the temporary file, which removes it.
        file.persist(path).map_err(|e| e.error)?;
        // Make the rename itself durable.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            File::open(dir)?.sync_all()?;
        }
        Ok(self.pos)
    }

    /// Gives up the snapshot: the temporary file is removed (as when the
    /// writer is dropped; this says so at the call site).
    pub fn abandon(self) {
        drop(self);
    }
}
