//! The admin service: the glue between the system of record
//! (`credgate-store`) and the lifecycle rules (`credgate-lifecycle`).
//!
//! Every transition loads an entry, asks the lifecycle whether the caller
//! may make it today, and persists the new state with its audit record in
//! one store transaction. Import moves existing lists in; publishing turns
//! the store's in-force entries into a screening snapshot. HTTP lives in
//! `credgate-server`, the command line in `credgate`.

pub mod failpoint;
pub mod import;
pub mod publish;
pub mod service;
