//! The PII audit log as a hash chain: one JSON object per line, each
//! carrying its sequence number, the previous line's hash and its own,
//! so that an edited, removed, reordered or inserted line is found by
//! [`verify`] (`credgate audit verify --pii-log`), like the admin store's
//! audit chain.
//!
//! A line is `{"seq":N,<fields>,"prev":"<hex>","hash":"<hex>"}`. Its hash
//! is the SHA-256 of the line's own bytes up to `,"hash"` with the closing
//! brace put back — the bytes as written, so verifying never depends on how
//! a JSON library orders or escapes fields when it writes them again.

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

/// The `prev` of the first line: the admin audit chain's.
pub use credgate_store::GENESIS;

/// `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;

/// An append-only, hash-chained log of JSON lines.
pub struct ChainedLog {
    state: Mutex<State>,
}

struct State {
    file: File,
    seq: u64,
    head: String,
}

impl std::fmt::Debug for ChainedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainedLog")
    }
}

impl ChainedLog {
    /// Opens (or creates) the log and continues its chain from its last
    /// line. A last line without its line end was being written when the
    /// process died: it never finished, so no answer went out with it,
    /// and it is cut off.
    pub fn open(path: &Path) -> std::io::Result<ChainedLog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let (complete, last) = last_line(&mut file)?;
        if complete < file.metadata()?.len() {
            tracing::warn!(
                path = %path.display(),
                "cutting off an unfinished last line of the PII audit log"
            );
            file.set_len(complete)?;
        }
        let (seq, head) = match last.as_deref().map(chained_fields) {
            Some(Some((seq, hash))) => (seq, hash),
            // An empty log, or one written before it was chained: a new
            // chain starts.
            _ => (0, GENESIS.to_string()),
        };
        let anchor = match last.as_deref().map(chained_fields) {
            Some(None) => unchained_prefix(&mut file)?,
            _ => None,
        };
        let log = ChainedLog { state: Mutex::new(State { file, seq, head }) };
        if let Some((lines, digest)) = anchor {
            // The chain's first line records the lines written before it,
            // so that none can be added, removed or changed later.
            let mut fields = serde_json::Map::new();
            fields.insert("event".into(), "chain_started".into());
            fields.insert("before_chaining".into(), lines.into());
            fields.insert("before_chaining_sha256".into(), digest.into());
            log.append(&fields)?;
        }
        Ok(log)
    }

    /// Appends `fields` (a JSON object's members) as the next line.
    /// Nothing of the chain moves unless the whole line was written.
    pub fn append(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> std::io::Result<()> {
        let members = serde_json::to_string(fields)?;
        let members = &members[1..members.len() - 1];
        let mut s = self.state.lock().expect("PII log lock");
        let seq = s.seq + 1;
        let sep = if members.is_empty() { "" } else { "," };
        let mut line =
            format!("{{\"seq\":{seq}{sep}{members},\"prev\":\"{}\"", s.head);
        let hash = hash_of(&line);
        line.push_str(&format!(",\"hash\":\"{hash}\"}}\n"));
        s.file.write_all(line.as_bytes())?;
        s.seq = seq;
        s.head = hash;
        Ok(())
    }
}

/// The count and SHA-256 (hex) of a log's lines when none of them is
/// chained (a log written before chaining), `None` when one is: a chain
/// with unchained lines after it is not continued as if they were old.
fn unchained_prefix(
    file: &mut File,
) -> std::io::Result<Option<(u64, String)>> {
    file.seek(SeekFrom::Start(0))?;
    let mut r = BufReader::new(&*file);
    let (mut lines, mut h, mut buf) = (0u64, Sha256::new(), Vec::new());
    while r.read_until(b'\n', &mut buf)? > 0 {
        if chained_body(&buf).is_some() {
            return Ok(None);
        }
        h.update(&buf);
        lines += 1;
        buf.clear();
    }
    Ok(Some((lines, hex::encode(h.finalize()))))
}

/// The body of a chained line (up to `,"hash"`) and its hash, or `None`
/// for a line without them. `line` may end in its line end.
fn chained_body(line: &[u8]) -> Option<(&str, &str)> {
    let line =
        std::str::from_utf8(line.strip_suffix(b"\n").unwrap_or(line)).ok()?;
    let at = line
        .len()
        .checked_sub(HASH_SUFFIX_LEN)
        .filter(|&at| line.is_char_boundary(at))
        .filter(|&at| line[at..].starts_with(",\"hash\":\""))
        // Checked before slicing the hash out: a line ending in a
        // multi-byte character would otherwise cut it in two.
        .filter(|_| line.ends_with("\"}"))?;
    Some((&line[..at], &line[at + 9..line.len() - 2]))
}

/// SHA-256, hex, of a line's body with its closing brace.
fn hash_of(body_without_brace: &str) -> String {
    let mut h = Sha256::new();
    h.update(body_without_brace.as_bytes());
    h.update(b"}");
    hex::encode(h.finalize())
}

/// The `seq` and `hash` of a chained line.
fn chained_fields(line: &[u8]) -> Option<(u64, String)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    Some((v.get("seq")?.as_u64()?, v.get("hash")?.as_str()?.to_string()))
}

/// The length of the file up to its last line end, and the last complete
/// line (without its line end), read backwards from the end.
fn last_line(file: &mut File) -> std::io::Result<(u64, Option<Vec<u8>>)> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut tail: Vec<u8> = Vec::new();
    let mut complete = None;
    while end > 0 {
        let start = end.saturating_sub(64 * 1024);
        let mut chunk = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
        end = start;
        // The position (in `tail`) of the last line end, then of the one
        // before it.
        let Some(last_nl) = tail.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        let complete_len = end + last_nl as u64 + 1;
        complete.get_or_insert(complete_len);
        match tail[..last_nl].iter().rposition(|&b| b == b'\n') {
            Some(prev) => {
                return Ok((
                    complete_len,
                    Some(tail[prev + 1..last_nl].to_vec()),
                ));
            }
            None if end == 0 => {
                return Ok((complete_len, Some(tail[..last_nl].to_vec())));
            }
            None => {}
        }
    }
    Ok((complete.unwrap_or(0), None))
}

/// A log that verified: how many chained lines it holds, and how many
/// lines before them were written before the log was chained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub lines: u64,
    /// Lines at the start of the file without a hash: a log written by a
    /// version that did not chain it, continued by one that does
    /// ([`ChainedLog::open`] starts a chain after them whose first line
    /// records their count and SHA-256, which `verify` checks). Once the
    /// chain has started, an unchained line is a break.
    pub before_chaining: u64,
}

/// The first line that breaks the chain, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Broken {
    pub line: u64,
    pub reason: String,
}

/// Reads the log at `path` and checks every line's hash, sequence number
/// and link to the line before. Lines before the first chained one are
/// counted as written before chaining (`Verified::before_chaining`); the
/// first chained line must start the chain (sequence number 1, `prev`
/// the genesis) and record exactly those lines (count and SHA-256; none
/// recorded for a log chained from its start), so that adding, changing
/// or unchaining lines anywhere breaks it.
pub fn verify(path: &Path) -> std::io::Result<Result<Verified, Broken>> {
    let mut r = BufReader::new(File::open(path)?);
    let mut head = GENESIS.to_string();
    let mut buf = Vec::new();
    // Physical line number; the chain's sequence numbers count from the
    // first chained line.
    let (mut n, mut before_chaining) = (0u64, 0u64);
    let mut prefix = Sha256::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            let lines = n - before_chaining;
            if lines == 0 && before_chaining > 0 {
                return Ok(Err(Broken {
                    line: 1,
                    reason: "no chained line: a log written before it was \
                             chained that no chaining version has opened, \
                             or one whose chain was removed"
                        .into(),
                }));
            }
            return Ok(Ok(Verified { lines, before_chaining }));
        }
        n += 1;
        let broken = |reason: String| Ok(Err(Broken { line: n, reason }));
        if buf.pop() != Some(b'\n') {
            return broken("unfinished: no line end".into());
        }
        let Ok(line) = std::str::from_utf8(&buf) else {
            return broken("not UTF-8".into());
        };
        let Some((body, hash)) = chained_body(line.as_bytes()) else {
            if n - 1 == before_chaining {
                // Before the chain: checked against its first line.
                prefix.update(line.as_bytes());
                prefix.update(b"\n");
                before_chaining += 1;
                continue;
            }
            return broken(
                "not chained: no \"hash\" as the last field (a line \
                 written by hand, or before the log was chained)"
                    .into(),
            );
        };
        let Ok(fields) = serde_json::from_str::<serde_json::Value>(line)
        else {
            return broken("not a JSON object".into());
        };
        let Some(seq) = fields.get("seq").and_then(|v| v.as_u64()) else {
            return broken("no sequence number (seq)".into());
        };
        let expected = n - before_chaining;
        if seq != expected {
            return broken(format!(
                "sequence number {seq}, expected {expected} (a line \
                 removed, inserted or moved)"
            ));
        }
        if expected == 1 {
            // The first chained line records the lines before it (none
            // for a log chained from its start).
            let recorded = (
                fields.get("before_chaining").and_then(|v| v.as_u64()),
                fields.get("before_chaining_sha256").and_then(|v| v.as_str()),
            );
            let found = std::mem::take(&mut prefix).finalize();
            let ok = match recorded {
                (None, None) => before_chaining == 0,
                (Some(k), Some(d)) => {
                    k == before_chaining && d == hex::encode(found)
                }
                _ => false,
            };
            if !ok {
                return broken(format!(
                    "the {before_chaining} lines before the chain are not \
                     the ones its first line records (lines added, removed \
                     or changed before it)"
                ));
            }
        }
        if fields.get("prev").and_then(|v| v.as_str()) != Some(head.as_str()) {
            return broken(if expected == 1 {
                "prev is not the genesis hash, as the first chained line's \
                 must be"
                    .into()
            } else {
                format!(
                    "prev does not name the hash of line {} (a line before \
                     it changed, removed or inserted)",
                    n - 1
                )
            });
        }
        let want = hash_of(body);
        if hash != want {
            return broken(format!(
                "hash {hash} does not match the line's content ({want}): \
                 the line was edited"
            ));
        }
        head = want;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(
        v: serde_json::Value,
    ) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    fn three(path: &Path) {
        let log = ChainedLog::open(path).unwrap();
        for i in 0..3 {
            log.append(&fields(json!({
                "key": "investigators",
                "subjects": [{"entry_id": format!("E{i}"),
                              "id_number": "110101199003078515"}],
            })))
            .unwrap();
        }
    }

    fn edit(path: &Path, f: impl FnOnce(&mut Vec<String>)) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        f(&mut lines);
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    fn broken(path: &Path) -> Broken {
        verify(path).unwrap().unwrap_err()
    }

    #[test]
    fn a_written_log_verifies_and_reopening_continues_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        three(&path);
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 3, before_chaining: 0 })
        );
        three(&path);
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 6, before_chaining: 0 })
        );
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(last.lines().last().unwrap().starts_with("{\"seq\":6,"));
    }

    #[test]
    fn crafted_lines_are_named_not_panicked_on() {
        // A hash field whose last "digit" is a 3-byte character, so that
        // the line's length still fits the suffix; bytes that are not
        // UTF-8; a line with no hash field at all.
        let crafted: [&[u8]; 3] = [
            format!("{{\"seq\":1,\"hash\":\"{}中", "0".repeat(63))
                .into_bytes()
                .leak(),
            b"{\"seq\":1,\"k\":\"\xff\xfe\"}",
            b"{\"seq\":1}",
        ];
        for line in crafted {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("pii.log");
            three(&path);
            let mut text = std::fs::read(&path).unwrap();
            text.extend_from_slice(line);
            text.push(b'\n');
            std::fs::write(&path, text).unwrap();
            let b = broken(&path);
            assert_eq!(b.line, 4, "{b}");
            assert!(
                b.reason.contains("not chained")
                    || b.reason.contains("not UTF-8"),
                "{b}"
            );
        }
    }

    /// A log from before chaining, continued by this version: the chain's
    /// first line records the old lines (count and SHA-256), so they are
    /// counted, not a break, yet none can be added, removed or changed
    /// afterwards; and lines put in front of a log chained from its start
    /// break it too.
    #[test]
    fn lines_from_before_chaining_are_recorded_and_cannot_be_faked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        let old = "{\"key\":\"k\",\"subjects\":[]}\nan old line, not JSON\n";
        std::fs::write(&path, old).unwrap();
        three(&path);
        // The anchor (seq 1) and three lines.
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 4, before_chaining: 2 })
        );
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(original.lines().nth(2).unwrap().contains("chain_started"));
        // Reopened, the chain continues: no second anchor.
        three(&path);
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 7, before_chaining: 2 })
        );
        let recorded = |b: &Broken| b.reason.contains("first line records");
        // An old line added, removed or changed.
        for change in [
            |l: &mut Vec<String>| l.insert(0, r#"{"key":"x"}"#.into()),
            |l: &mut Vec<String>| {
                l.remove(1);
            },
            |l: &mut Vec<String>| l[0] = l[0].replace("\"k\"", "\"k2\""),
        ] {
            std::fs::write(&path, &original).unwrap();
            edit(&path, change);
            let b = broken(&path);
            assert!(recorded(&b), "{b}");
        }
        // The chain stripped: nothing to verify against.
        std::fs::write(&path, old).unwrap();
        assert!(broken(&path).reason.contains("no chained line"));
        // The anchor unchained: the next line does not start a chain.
        std::fs::write(&path, &original).unwrap();
        edit(&path, |l| l[2] = r#"{"event":"chain_started"}"#.into());
        let b = broken(&path);
        assert_eq!(b.line, 4, "{b}");
        // An unchained line after the chain started.
        std::fs::write(&path, &original).unwrap();
        edit(&path, |l| l.insert(4, r#"{"key":"x"}"#.into()));
        let b = broken(&path);
        assert_eq!(b.line, 5, "{b}");
        assert!(b.reason.contains("not chained"), "{b}");
        // A line put in front of a log chained from its start.
        let fresh = dir.path().join("fresh.log");
        three(&fresh);
        assert_eq!(
            verify(&fresh).unwrap(),
            Ok(Verified { lines: 3, before_chaining: 0 })
        );
        edit(&fresh, |l| l.insert(0, r#"{"key":"k-auditor"}"#.into()));
        let b = broken(&fresh);
        assert_eq!(b.line, 2, "{b}");
        assert!(recorded(&b), "{b}");
    }

    #[test]
    fn an_edited_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        three(&path);
        edit(&path, |l| l[1] = l[1].replace("\"E1\"", "\"E9\""));
        let b = broken(&path);
        assert_eq!(b.line, 2);
        assert!(b.reason.contains("edited"), "{b}");
    }

    #[test]
    fn a_removed_inserted_or_moved_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        three(&path);
        let original = std::fs::read_to_string(&path).unwrap();
        edit(&path, |l| {
            l.remove(1);
        });
        let b = broken(&path);
        assert_eq!(b.line, 2);
        assert!(b.reason.contains("sequence number 3, expected 2"), "{b}");
        std::fs::write(&path, &original).unwrap();
        edit(&path, |l| l.swap(1, 2));
        assert_eq!(broken(&path).line, 2);
        std::fs::write(&path, &original).unwrap();
        edit(&path, |l| l.insert(1, r#"{"key":"x"}"#.into()));
        let b = broken(&path);
        assert_eq!(b.line, 2);
        assert!(b.reason.contains("not chained"), "{b}");
        // The last line removed: the chain is whole but shorter; what
        // remains verifies (a truncated tail is the one thing a hash chain
        // alone cannot show; the line count is reported for comparison).
        std::fs::write(&path, &original).unwrap();
        edit(&path, |l| {
            l.pop();
        });
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 2, before_chaining: 0 })
        );
    }

    #[test]
    fn a_rewritten_line_with_a_fresh_hash_breaks_the_next_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        three(&path);
        edit(&path, |l| {
            let body_end = l[0].len() - HASH_SUFFIX_LEN;
            let body = l[0][..body_end].replace("\"E0\"", "\"E7\"");
            let hash = hash_of(&body);
            l[0] = format!("{body},\"hash\":\"{hash}\"}}");
        });
        let b = broken(&path);
        assert_eq!(b.line, 2);
        assert!(b.reason.contains("prev"), "{b}");
    }

    #[test]
    fn an_unfinished_last_line_is_cut_off_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        three(&path);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"seq\":4,\"key\":\"half").unwrap();
        drop(f);
        assert_eq!(broken(&path).line, 4);
        let log = ChainedLog::open(&path).unwrap();
        log.append(&fields(json!({"key": "k"}))).unwrap();
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 4, before_chaining: 0 })
        );
    }

    #[test]
    fn long_lines_are_found_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pii.log");
        let log = ChainedLog::open(&path).unwrap();
        let many: Vec<_> = (0..20_000)
            .map(|i| json!({"entry_id": format!("E{i}"), "id_number": "x"}))
            .collect();
        log.append(&fields(json!({"subjects": many}))).unwrap();
        log.append(&fields(json!({"subjects": many}))).unwrap();
        drop(log);
        let log = ChainedLog::open(&path).unwrap();
        log.append(&fields(json!({}))).unwrap();
        assert_eq!(
            verify(&path).unwrap(),
            Ok(Verified { lines: 3, before_chaining: 0 })
        );
    }
}
