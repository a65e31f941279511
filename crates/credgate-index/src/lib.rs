//! The snapshot: an immutable, memory-mapped index of list entries.
//!
//! `credgate build` turns an entries file into one snapshot file
//! ([`build`]); the screening side opens it ([`Snapshot::open`]) and
//! answers lookups in place. A snapshot is never modified: a new one is
//! written under a temporary name, synced and renamed, and readers swap
//! to it. See `format.rs` for the layout.

pub mod format;
pub mod hashindex;
pub mod keys;
pub mod record;
