//! Writing a snapshot file section by section, checksumming as it goes.
//!
//! The file is written under a hidden temporary name in the target's
//! directory (`.NAME.XXXXXX.tmp`, a `tempfile::NamedTempFile`), synced, and
//! renamed onto NAME. The temporary file is removed whenever the writer is
//! dropped without committing — on every error path of a build, not only
//! the ones that remember to clean up.
//!
//! The bytes go to the file in whole [`WRITE_PIECE`]s at offsets that are
//! multiples of it, never in smaller writes (the header, written last,
//! excepted). The page cache keeps a piece written at once as one folio,
//! and a folio of a huge page's size and alignment is mapped by one page
//! table entry: a snapshot opened mapped right after it was written (the
//! usual case: the publisher writes, the service maps) then costs a TLB
//! miss per 2 MiB instead of per 4 KiB. Written through a 1 MiB
//! `BufWriter` at irregular offsets, a 10M snapshot was 17% in huge
//! folios and its mapped p99 was 155 µs instead of 81 (BENCHMARKS.md,
//! "Huge pages for mapped snapshots"). That needs a kernel whose page
//! cache has large folios for the filesystem (Linux 6.18 with ext4 here;
//! XFS for longer); elsewhere the pieces cost nothing and change nothing.

use crate::format::{
    CHECK_CHUNK, Header, SECTION_COUNT, Section, SectionEntry, TABLE_END,
    section_checksum,
};
use std::fs::File;
use std::hash::Hasher as _;
use std::os::unix::fs::FileExt;
use std::path::Path;
use tempfile::NamedTempFile;

/// Bytes per write: the size of an x86-64 huge page (and a multiple of
/// the smaller huge pages of other architectures).
pub const WRITE_PIECE: usize = 2 << 20;

/// A file written in whole pieces ([`WRITE_PIECE`]) at offsets that are
/// multiples of the piece, through a buffer of one piece.
struct PieceWriter {
    file: NamedTempFile,
    piece: usize,
    buf: Vec<u8>,
    /// Bytes already in the file: a multiple of `piece` until the last
    /// (shorter) write.
    flushed: u64,
    /// Every write to the file, (offset, length), for the tests.
    #[cfg(test)]
    writes: Vec<(u64, usize)>,
}

impl PieceWriter {
    fn new(file: NamedTempFile, piece: usize) -> Self {
        PieceWriter {
            file,
            piece,
            buf: Vec::with_capacity(piece),
            flushed: 0,
            #[cfg(test)]
            writes: Vec::new(),
        }
    }

    fn put(&mut self, bytes: &[u8], at: u64) -> std::io::Result<()> {
        #[cfg(test)]
        self.writes.push((at, bytes.len()));
        self.file.as_file().write_all_at(bytes, at)
    }

    fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            if self.buf.is_empty() && bytes.len() >= self.piece {
                // Whole pieces straight from the caller's bytes.
                let whole = bytes.len() - bytes.len() % self.piece;
                self.put(&bytes[..whole], self.flushed)?;
                self.flushed += whole as u64;
                bytes = &bytes[whole..];
                continue;
            }
            let take = (self.piece - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == self.piece {
                self.flush_buffer()?;
            }
        }
        Ok(())
    }

    /// `len` bytes at offset `at`, from the file or the buffer or both.
    fn read_at(&self, at: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let end = at
            .checked_add(len as u64)
            .filter(|&e| e <= self.flushed + self.buf.len() as u64)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "read back {len} bytes at {at}: past the end written"
                    ),
                )
            })?;
        let mut out = vec![0u8; len];
        let in_file = end.min(self.flushed).saturating_sub(at) as usize;
        self.file.as_file().read_exact_at(&mut out[..in_file], at)?;
        if in_file < len {
            let from = (at + in_file as u64 - self.flushed) as usize;
            out[in_file..]
                .copy_from_slice(&self.buf[from..from + len - in_file]);
        }
        Ok(out)
    }

    /// Writes the buffer at `flushed`: a whole piece, or at the end what
    /// is left (the one write shorter than a piece). On an error the
    /// buffer is kept and `flushed` unchanged: nothing written is
    /// forgotten.
    fn flush_buffer(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let written = self.put(&buf, self.flushed);
        self.buf = buf;
        written?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Copies `from` (to its end) into `to` from offset 0 in whole
/// [`WRITE_PIECE`]s, as [`SnapshotWriter`] writes, so that the copy too
/// sits in the page cache in huge folios (`std::io::copy` goes through
/// `copy_file_range`, which on ext4 writes 64 KiB at a time). `to` is a
/// new, empty file: nothing past the copy is truncated. Returns the
/// bytes copied.
pub fn copy_in_pieces(
    from: &mut impl std::io::Read,
    to: &File,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; WRITE_PIECE];
    let mut at = 0u64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match from.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        to.write_all_at(&buf[..filled], at)?;
        at += filled as u64;
        if filled < buf.len() {
            return Ok(at);
        }
    }
}

/// A snapshot being written under a temporary name beside its target.
pub struct SnapshotWriter {
    out: PieceWriter,
    pos: u64,
    current: Option<(Section, u64, Chunked)>,
    sections: [SectionEntry; SECTION_COUNT],
}

impl std::fmt::Debug for SnapshotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter")
            .field("tmp", &self.out.file.path())
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
        let mut out = PieceWriter::new(file, WRITE_PIECE);
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
    /// compares an entry id with an earlier one's this way).
    pub fn read_back(&self, at: u64, len: usize) -> std::io::Result<Vec<u8>> {
        self.out.read_at(at, len)
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
        self.out.flush_buffer()?;
        let file = self.out.file;
        file.as_file().write_all_at(&header.encode(), 0)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn piece_writer(piece: usize) -> (tempfile::TempDir, PieceWriter) {
        let dir = tempfile::tempdir().unwrap();
        let file = NamedTempFile::new_in(dir.path()).unwrap();
        (dir, PieceWriter::new(file, piece))
    }

    proptest! {
        /// Whatever the sizes of the writes, the file holds their bytes
        /// in order, every write to it but the last is of whole pieces
        /// at a multiple of the piece, and any range reads back as
        /// written, before and after the end.
        #[test]
        fn pieces_are_whole_and_aligned_and_read_back(
            sizes in proptest::collection::vec(0usize..40, 0..30),
            piece in 1usize..16,
            reads in proptest::collection::vec((0usize..400, 0usize..40), 0..20),
        ) {
            let (_dir, mut w) = piece_writer(piece);
            let mut want = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let bytes: Vec<u8> =
                    (0..n).map(|j| (i * 31 + j) as u8).collect();
                w.write_all(&bytes).unwrap();
                want.extend_from_slice(&bytes);
                for &(at, len) in &reads {
                    let got = w.read_at(at as u64, len);
                    if at + len <= want.len() {
                        prop_assert_eq!(got.unwrap(), &want[at..at + len]);
                    } else {
                        prop_assert!(got.is_err());
                    }
                }
            }
            w.flush_buffer().unwrap();
            let (last, whole) = w.writes.split_last().map_or(
                (None, &[][..]),
                |(l, w)| (Some(*l), w),
            );
            for &(at, len) in whole {
                prop_assert_eq!(at as usize % piece, 0);
                prop_assert_eq!(len % piece, 0);
            }
            if let Some((at, _)) = last {
                prop_assert_eq!(at as usize % piece, 0);
            }
            let got = std::fs::read(w.file.path()).unwrap();
            prop_assert_eq!(got, want);
        }
    }

    /// A write the file refuses is an error, and the bytes it held stay
    /// in the buffer (read back as written), not dropped.
    #[test]
    fn a_failed_write_keeps_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read-only");
        std::fs::write(&path, b"").unwrap();
        let read_only = File::open(&path).unwrap();
        let file = NamedTempFile::from_parts(
            read_only,
            tempfile::TempPath::try_from_path(&path).unwrap(),
        );
        let mut w = PieceWriter::new(file, 8);
        let bytes: Vec<u8> = (0..6).collect();
        w.write_all(&bytes).unwrap();
        assert!(w.write_all(&[6, 7, 8]).is_err());
        assert_eq!(w.flushed, 0);
        assert_eq!(w.read_at(0, 8).unwrap(), (0..8).collect::<Vec<u8>>());
        assert!(w.flush_buffer().is_err());
        assert_eq!(w.read_at(0, 8).unwrap(), (0..8).collect::<Vec<u8>>());
    }

    /// A copy holds the source's bytes, whether its length is a multiple
    /// of the piece or not, and through a reader that returns short reads.
    #[test]
    fn copies_hold_every_byte() {
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = out.len().min(self.0.len()).min(100_003);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 1, WRITE_PIECE, 2 * WRITE_PIECE + 12_345] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let path = dir.path().join(format!("copy-{len}"));
            let to = File::create(&path).unwrap();
            let copied = copy_in_pieces(&mut Trickle(&bytes), &to).unwrap();
            assert_eq!(copied, len as u64);
            assert!(std::fs::read(&path).unwrap() == bytes, "length {len}");
        }
    }
}
