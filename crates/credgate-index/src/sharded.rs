//! An FST split by key range into a few shards, built in parallel.
//!
//! Building an FST is sequential (~0.35M keys/s: ~29 s for the 10M names
//! of a 10M-entry list, the largest single stage of a build when names
//! were an FST, before format version 4; secondary identifiers are one
//! still). Split into
//! key ranges, the shards build on all cores; a lookup first picks the
//! shard by its first key (a binary search over a handful), then looks
//! up one FST, so lookups cost the same.
//!
//! ```text
//! u32 n
//! n × (u64 fst_offset, u64 fst_len, u32 first_key_offset, u32 first_key_len)
//! first keys, then the FSTs; offsets from the section's start
//! ```

use crate::format::{u32_at, u64_at};
use rayon::prelude::*;
use std::ops::Range;

/// Shards per FST: fixed, so that a build gives the same bytes on any
/// machine; four keep two to four cores busy.
const SHARDS: usize = 4;
const ENTRY: usize = 8 + 8 + 4 + 4;

/// Builds the section from sorted, unique (key, value) pairs.
pub fn build(pairs: &[(&[u8], u64)]) -> Vec<u8> {
    let n = if pairs.is_empty() { 0 } else { SHARDS.min(pairs.len()) };
    let per = pairs.len().div_ceil(n.max(1)).max(1);
    let fsts: Vec<Vec<u8>> = pairs
        .par_chunks(per)
        .map(|chunk| {
            let mut b = fst::MapBuilder::memory();
            for (k, v) in chunk {
                b.insert(k, *v).expect("keys arrive sorted and unique");
            }
            b.into_inner().expect("in-memory FST")
        })
        .collect();
    let firsts: Vec<&[u8]> = pairs.chunks(per).map(|c| c[0].0).collect();
    let head = 4 + fsts.len() * ENTRY;
    let keys_len: usize = firsts.iter().map(|k| k.len()).sum();
    let mut out = Vec::with_capacity(
        head + keys_len + fsts.iter().map(Vec::len).sum::<usize>(),
    );
    out.extend_from_slice(&(fsts.len() as u32).to_le_bytes());
    let (mut key_at, mut fst_at) = (head, head + keys_len);
    for (k, f) in firsts.iter().zip(&fsts) {
        out.extend_from_slice(&(fst_at as u64).to_le_bytes());
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        out.extend_from_slice(&(key_at as u32).to_le_bytes());
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        key_at += k.len();
        fst_at += f.len();
    }
    for k in &firsts {
        out.extend_from_slice(k);
    }
    for f in &fsts {
        out.extend_from_slice(f);
    }
    out
}

/// A shard's first key and FST bytes, as ranges of the section.
pub type ShardRanges = (Range<usize>, Range<usize>);

/// Where the shards are in a section.
pub fn layout(b: &[u8]) -> Result<Vec<ShardRanges>, String> {
    let get = |at: usize, n: usize| {
        b.get(at..at + n).ok_or_else(|| "shard table truncated".to_string())
    };
    let n = u32::from_le_bytes(get(0, 4)?.try_into().expect("4")) as usize;
    if n > 1024 {
        return Err(format!("{n} shards: not a shard table"));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let e = get(4 + i * ENTRY, ENTRY)?;
        let fst_at = u64_at(e, 0) as usize;
        let key_at = u32_at(e, 16) as usize;
        let fst = fst_at..fst_at.saturating_add(u64_at(e, 8) as usize);
        let key = key_at..key_at.saturating_add(u32_at(e, 20) as usize);
        if fst.end > b.len() || key.end > b.len() {
            return Err(format!("shard {i} points past the section"));
        }
        out.push((key, fst));
    }
    if out.windows(2).any(|w| b[w[0].0.clone()] >= b[w[1].0.clone()]) {
        return Err("shard first keys out of order".into());
    }
    Ok(out)
}

/// The shard that would hold `key`: the last whose first key is not
/// greater.
pub fn shard_for<K: AsRef<[u8]>>(firsts: &[K], key: &[u8]) -> Option<usize> {
    firsts.partition_point(|f| f.as_ref() <= key).checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_every_key_and_nothing_else(
            keys in prop::collection::btree_set("[a-e]{0,6}", 0..60),
            probes in prop::collection::vec("[a-f]{0,6}", 0..40),
        ) {
            let pairs: Vec<(&[u8], u64)> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.as_bytes(), i as u64))
                .collect();
            let section = build(&pairs);
            let shards = layout(&section).unwrap();
            let firsts: Vec<&[u8]> =
                shards.iter().map(|(k, _)| &section[k.clone()]).collect();
            let fsts: Vec<fst::Map<&[u8]>> = shards
                .iter()
                .map(|(_, f)| fst::Map::new(&section[f.clone()]).unwrap())
                .collect();
            let get = |k: &str| {
                shard_for(&firsts, k.as_bytes()).and_then(|s| fsts[s].get(k))
            };
            for (i, k) in keys.iter().enumerate() {
                prop_assert_eq!(get(k), Some(i as u64));
            }
            for p in &probes {
                let want = keys.iter().position(|k| k == p).map(|i| i as u64);
                prop_assert_eq!(get(p), want);
            }
        }
    }

    #[test]
    fn a_damaged_table_is_an_error_not_a_panic() {
        let pairs: Vec<(&[u8], u64)> =
            vec![(b"a", 1), (b"b", 2), (b"c", 3), (b"d", 4), (b"e", 5)];
        let section = build(&pairs);
        for cut in 0..section.len() {
            let _ = layout(&section[..cut]);
        }
        let mut bad = section.clone();
        bad[0] = 0xFF;
        assert!(layout(&bad).is_err());
    }
}
