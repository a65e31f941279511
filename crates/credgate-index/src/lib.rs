//! The snapshot: an immutable, memory-mapped index of list entries.
//!
//! `credgate build` turns an entries file into one snapshot file
//! ([`build::build`]); the screening side opens it ([`Snapshot::open`])
//! and answers lookups in place. A snapshot is never modified: a new one
//! is written under a temporary name, synced and renamed, and readers swap
//! to it. See `format.rs` for the layout.

// Sections are written as native-endian integer slices and read as
// little-endian: refuse to build where the two differ.
#[cfg(not(target_endian = "little"))]
compile_error!("credgate snapshots are little-endian; this target is not");

pub mod build;
pub mod format;
pub mod hashindex;
pub mod keys;
pub mod record;
pub mod scorerow;
mod sharded;
mod snapshot;
mod write;

pub use build::{
    BuildError, BuildOptions, BuildReport, Progress, build, build_entries,
    entry_digest,
};
pub use format::FormatError;
pub use snapshot::{PageUse, Residence, Snapshot, VerifyReport};
pub use write::{WRITE_PIECE, copy_in_pieces};
