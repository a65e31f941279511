//! A read-only multimap from 64-bit key hashes to entry ordinals, laid
//! out for one or two cache misses per lookup.
//!
//! ```text
//! u64 n, u32 dir_bits, u32 reserved
//! u32 × (2^dir_bits + 1)  directory: first slot of each bucket
//! 6 bytes × n             slots (u16 tag, u32 ordinal), sorted by hash
//! ```
//!
//! A bucket is the top `dir_bits` bits of the hash; the directory is sized
//! so that buckets hold about two slots. A slot keeps only the 16 bits of
//! the hash after the bucket's (its tag): the bucket's bits are implied,
//! and the rest would tell apart keys that are almost never in the same
//! bucket (with two slots a bucket, a lookup meets a foreign key with the
//! same tag about once in 30,000). Format version 2 stored the whole hash
//! in 12-byte slots; at 10M entries the four indexes were 1.29 GB, 129
//! bytes an entry, of which 61 were those bits. Keys are hashed with
//! xxh3-64; callers confirm a hit against the record (or score it), so a
//! hash collision costs a wasted candidate, never a wrong answer.
//!
//! Why not an FST here: exact lookups are all these keys need, and at 10M
//! keys an FST lookup costs ~2.2 µs p50 (shared/measurements.md) against
//! the 1 µs target; a sorted slot array with a directory costs about one
//! DRAM miss more than the record read itself.

use rayon::slice::ParallelSliceMut;

pub fn hash(key: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(key)
}

/// Builds the section bytes from (hash, ordinal) pairs.
pub fn build(pairs: &mut [[u32; 3]]) -> Vec<u8> {
    pairs.par_sort_unstable();
    let mut out = Vec::new();
    write_sorted(pairs, |b| {
        out.extend_from_slice(b);
        Ok(())
    })
    .expect("writing to memory");
    out
}

/// Writes the section for pairs already sorted, through `write`, without
/// copying the pairs.
pub fn write_sorted(
    pairs: &[[u32; 3]],
    mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let n = pairs.len();
    // About two slots per bucket, at least 2^4 buckets, at most 2^26.
    let dir_bits =
        (n / 2).max(16).next_power_of_two().trailing_zeros().min(26);
    let buckets = 1usize << dir_bits;
    let mut dir = vec![0u32; buckets + 1];
    let mut slot = 0usize;
    for (b, d) in dir.iter_mut().enumerate().take(buckets) {
        while slot < n && bucket(pairs[slot], dir_bits) < b {
            slot += 1;
        }
        *d = slot as u32;
    }
    dir[buckets] = n as u32;
    write(&(n as u64).to_le_bytes())?;
    write(&dir_bits.to_le_bytes())?;
    write(&0u32.to_le_bytes())?;
    write(bytemuck::cast_slice(&dir))?;
    let mut buf = Vec::with_capacity(SLOT * 8192);
    for chunk in pairs.chunks(8192) {
        buf.clear();
        for &p in chunk {
            let h = u64::from(p[0]) << 32 | u64::from(p[1]);
            buf.extend_from_slice(&tag(h, dir_bits).to_le_bytes());
            buf.extend_from_slice(&p[2].to_le_bytes());
        }
        write(&buf)?;
    }
    Ok(())
}

/// Bytes of a slot.
const SLOT: usize = 6;

/// The 16 bits of `hash` after its bucket's.
fn tag(hash: u64, dir_bits: u32) -> u16 {
    (hash >> (48 - dir_bits)) as u16
}

/// A pair for [`build`]: sorts by hash, then ordinal.
pub fn pair(hash: u64, ordinal: u32) -> [u32; 3] {
    [(hash >> 32) as u32, hash as u32, ordinal]
}

fn bucket(p: [u32; 3], dir_bits: u32) -> usize {
    (p[0] >> (32 - dir_bits)) as usize
}

/// The first `i` in `0..n` for which `below(i)` is false, `below` being
/// true then false over the range.
fn partition_point(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A hash index read in place.
#[derive(Debug, Clone, Copy)]
pub struct HashIndex<'a> {
    dir_bits: u32,
    dir: &'a [u8],
    slots: &'a [u8],
    n: usize,
}

impl<'a> HashIndex<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Self, &'static str> {
        if bytes.len() < 16 {
            return Err("hash index shorter than its header");
        }
        let n = crate::format::u64_at(bytes, 0) as usize;
        let dir_bits = crate::format::u32_at(bytes, 8);
        if !(1..=26).contains(&dir_bits) {
            return Err("hash index directory size out of range");
        }
        let dir_len = ((1usize << dir_bits) + 1) * 4;
        // Checked: a huge `n` once wrapped `n * 12` round to the real
        // length, and lookups then read past the slots (found by
        // reviewing the `snapshot` fuzz target's reach).
        let expected =
            n.checked_mul(SLOT).and_then(|s| s.checked_add(16 + dir_len));
        if expected != Some(bytes.len()) {
            return Err("hash index length does not match its header");
        }
        Ok(HashIndex {
            dir_bits,
            dir: &bytes[16..16 + dir_len],
            slots: &bytes[16 + dir_len..],
            n,
        })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Calls `f` with every ordinal stored under `hash`.
    pub fn for_each(&self, hash: u64, mut f: impl FnMut(u32)) {
        let b = (hash >> (64 - self.dir_bits)) as usize;
        let lo = crate::format::u32_at(self.dir, b * 4) as usize;
        let hi =
            (crate::format::u32_at(self.dir, b * 4 + 4) as usize).min(self.n);
        let want = tag(hash, self.dir_bits);
        let Some(bucket) = self.slots.get(lo * SLOT..hi * SLOT) else {
            return;
        };
        let tag_of = |s: &[u8]| u16::from_le_bytes([s[0], s[1]]);
        // A bucket's slots sort by tag. Most buckets hold two or three,
        // but a name shared by thousands of entries (a common person
        // name at 10M) fills one: the first slot of the tag is found by
        // bisection, and the run read without a bounds check a slot.
        let first = partition_point(bucket.len() / SLOT, |i| {
            tag_of(&bucket[i * SLOT..]) < want
        });
        for s in bucket[first * SLOT..].chunks_exact(SLOT) {
            if tag_of(s) != want {
                break;
            }
            f(u32::from_le_bytes([s[2], s[3], s[4], s[5]]));
        }
    }

    /// An upper bound of the ordinals stored under `hash`: the size of
    /// its bucket, read from the directory without touching the slots
    /// (every slot of a hash lives in its bucket).
    pub fn bucket_len(&self, hash: u64) -> usize {
        let b = (hash >> (64 - self.dir_bits)) as usize;
        let lo = crate::format::u32_at(self.dir, b * 4) as usize;
        let hi =
            (crate::format::u32_at(self.dir, b * 4 + 4) as usize).min(self.n);
        hi.saturating_sub(lo)
    }

    /// The ordinals under `hash`, at most `limit` of them.
    pub fn get(&self, hash: u64, limit: usize) -> Vec<u32> {
        let mut out = Vec::new();
        self.for_each(hash, |o| {
            if out.len() < limit {
                out.push(o)
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_exactly_what_was_stored(
            keys in prop::collection::vec(0u64..200, 0..400),
            probes in prop::collection::vec(0u64..250, 0..50),
        ) {
            let mut pairs: Vec<[u32; 3]> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| pair(hash(&k.to_le_bytes()), i as u32))
                .collect();
            let bytes = build(&mut pairs);
            let idx = HashIndex::open(&bytes).unwrap();
            prop_assert_eq!(idx.len(), keys.len());
            for p in probes {
                let mut got = idx.get(hash(&p.to_le_bytes()), usize::MAX);
                got.sort();
                // The slots keep the top dir_bits + 16 bits of a hash:
                // keys that agree there are found together.
                let top = |k: u64| {
                    hash(&k.to_le_bytes()) >> (48 - idx.dir_bits)
                };
                let want: Vec<u32> = keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| top(**k) == top(p))
                    .map(|(i, _)| i as u32)
                    .collect();
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn rejects_a_slot_count_that_wraps_to_the_length() {
        let mut pairs = vec![pair(1, 1), pair(2, 2)];
        let mut bytes = build(&mut pairs);
        let n = (1u64 << 62) + 2;
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        assert!(HashIndex::open(&bytes).is_err());
    }

    #[test]
    fn rejects_a_bad_length() {
        let mut pairs = vec![pair(1, 1)];
        let bytes = build(&mut pairs);
        assert!(HashIndex::open(&bytes[..bytes.len() - 1]).is_err());
    }
}
