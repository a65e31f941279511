//! The admin service: the glue between the system of record
//! (`credgate-store`) and the lifecycle rules (`credgate-lifecycle`).
//!
//! Every transition loads an entry, asks the lifecycle whether the caller
//! may make it today, and persists the new state with its audit record in
//! one store transaction (`service`). `mapping` converts between the
//! store's records and the lifecycle's facts; `requests` and `views` are
//! the shapes the HTTP API and the CLI exchange; `export` writes a
//! filtered list as CSV or XLSX. Import moves existing lists in;
//! publishing turns the store's in-force entries into a screening
//! snapshot. HTTP lives in `credgate-server`, the command line in
//! `credgate`.

pub mod export;
pub mod failpoint;
pub mod import;
pub mod mapping;
pub mod publish;
pub mod requests;
pub mod service;
pub mod views;
