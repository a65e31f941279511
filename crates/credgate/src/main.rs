//! The `credgate` command line: glue between clap and the library crates.
//! Each subcommand lives in `cmd/` and returns an exit code; logic that a
//! test or another front end needs belongs in a library crate instead.

mod cmd;
mod demo;
mod progress;

use clap::{Parser, Subcommand};

// Building and bulk screening allocate many small strings on several
// threads; glibc's allocator spent ~18% of a build in malloc/free
// (perf, 1M entries). mimalloc is the well-kept alternative.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "credgate",
    version,
    about = "Screens subjects against China's credit-supervision lists \
             (black, focus and red)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate USCCs and resident ID numbers (from arguments or stdin).
    Validate(cmd::validate::Args),
    /// Generate a deterministic, realistic synthetic entries file.
    Gen(cmd::generate::Args),
    /// Check or convert entries files.
    #[command(subcommand)]
    Entries(cmd::entries::Command),
    /// Build a snapshot from an entries file.
    Build(cmd::snapshot::BuildArgs),
    /// Verify every checksum and record of a snapshot.
    Verify(cmd::snapshot::VerifyArgs),
    /// Screen one subject: decision, measures and explained hits.
    Check(cmd::check::Args),
    /// Screen a bidder list (CSV or XLSX) and write the results next to each row.
    Bulk(cmd::bulk::Args),
    /// Check the measures catalogue.
    #[command(subcommand)]
    Measures(cmd::measures::Command),
    /// Generate labelled queries (planted hits and non-hits) from entries.
    GenQueries(cmd::queries::GenArgs),
    /// Report recall and false hits on labelled queries.
    Accuracy(cmd::queries::AccuracyArgs),
    /// Run the screening HTTP service (without keys configured: a
    /// synthetic demo data set and a demo key).
    Serve(cmd::serve::Args),
    /// Make an API key and the SHA-256 the configuration stores.
    HashKey(cmd::serve::HashKeyArgs),
    /// Check the admin store's audit chain.
    #[command(subcommand)]
    Audit(cmd::store::AuditCommand),
    /// Administer the admin store: keys, and the lifecycle transitions
    /// (propose, designate, publish-entry, object, revoke, repair, sweep …).
    #[command(subcommand)]
    Admin(cmd::store::AdminCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => cmd::validate::run(args),
        Command::Gen(args) => cmd::generate::run(args),
        Command::Entries(command) => cmd::entries::run(command),
        Command::Build(args) => cmd::snapshot::build(args),
        Command::Verify(args) => cmd::snapshot::verify(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Bulk(args) => cmd::bulk::run(args),
        Command::Measures(command) => cmd::measures::run(command),
        Command::GenQueries(args) => cmd::queries::gen_queries(args),
        Command::Accuracy(args) => cmd::queries::accuracy(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::HashKey(args) => cmd::serve::hash_key(args),
        Command::Audit(command) => cmd::store::audit(command),
        Command::Admin(command) => cmd::store::admin(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each said once: library errors
/// often name their source in their own message too, and `{:#}` would
/// repeat it ("No such file or directory (os error 2): No such file …").
fn message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}
