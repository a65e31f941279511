//! `credgate admin propose|statement|designate|publish-entry|object|
//! uphold|revoke|repair|withdraw|sweep`: the lifecycle transitions on the
//! command line, through the same service as `/admin/v1` (glue over
//! `credgate-admin`). Bodies that carry many fields (a proposal, a
//! designation) are JSON files of the HTTP body's shape; the rest are
//! flags. Each prints the entry as JSON (its `version` is the next
//! `--version`). Actions are audited under the key id `cli` and the
//! department given; the sweep, as the system operator.

use anyhow::Context;
use chrono::NaiveDate;
use credgate_admin::requests::*;
use credgate_admin::service::{Admin, AdminError, Caller};
use credgate_screen::clock::SystemClock;
use credgate_store::Role;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Where the store is: its file or the server's data directory.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// The store's database file (<data_dir>/credgate.db).
    #[arg(
        long,
        conflicts_with = "data_dir",
        required_unless_present = "data_dir"
    )]
    db: Option<PathBuf>,
    /// The server's data directory (its credgate.db).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Who acts on an entry, and on which version.
#[derive(Debug, clap::Args)]
pub struct EntryArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The department acting (its code, e.g. sc-fgw): only the
    /// designating department changes an entry.
    #[arg(long)]
    department: String,
    /// The entry id.
    id: String,
    /// The entry's version as last read (HTTP's If-Match).
    #[arg(long)]
    version: i64,
}

#[derive(Debug, clap::Subcommand)]
pub enum LifecycleCommand {
    /// Propose an entry (告知): a JSON file shaped as the body of
    /// `POST /admin/v1/entries` (`-` reads stdin).
    Propose {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        department: String,
        /// The proposal (JSON).
        json: PathBuf,
        /// A retry with the same key returns the first answer.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Record the subject's statement (陈述申辩).
    Statement {
        #[command(flatten)]
        entry: EntryArgs,
        #[arg(long)]
        text: String,
        #[arg(long)]
        received_on: NaiveDate,
    },
    /// Designate (认定): a JSON file shaped as the body of
    /// `POST /admin/v1/entries/{id}/designate`.
    Designate {
        #[command(flatten)]
        entry: EntryArgs,
        json: PathBuf,
    },
    /// Publish one entry (公示; screening sees it from the next snapshot).
    PublishEntry {
        #[command(flatten)]
        entry: EntryArgs,
    },
    /// Record an objection (异议): the entry is disputed.
    Object {
        #[command(flatten)]
        entry: EntryArgs,
        #[arg(long)]
        applicant: String,
        #[arg(long)]
        grounds: String,
        #[arg(long)]
        received_on: NaiveDate,
    },
    /// Decide an objection: the entry stands.
    Uphold {
        #[command(flatten)]
        entry: EntryArgs,
        #[arg(long)]
        decision: String,
    },
    /// Revoke a wrongful designation (撤销).
    Revoke {
        #[command(flatten)]
        entry: EntryArgs,
        #[arg(long)]
        reason: String,
    },
    /// Credit repair (信用修复), after the minimum period.
    Repair {
        #[command(flatten)]
        entry: EntryArgs,
        /// The subject's commitment (信用承诺书).
        #[arg(long)]
        commitment: String,
        /// The conduct is corrected and the obligations performed.
        #[arg(long)]
        obligations_met: bool,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Withdraw a proposal (撤回).
    Withdraw {
        #[command(flatten)]
        entry: EntryArgs,
        #[arg(long)]
        reason: String,
    },
    /// Exit every entry past its maximum period (as the server's
    /// background sweep does), audited as the system operator.
    Sweep {
        #[command(flatten)]
        store: StoreArgs,
        /// The China date to sweep for (default: today in China).
        #[arg(long)]
        today: Option<NaiveDate>,
    },
}

fn db_path(s: &StoreArgs) -> PathBuf {
    match (&s.db, &s.data_dir) {
        (Some(db), _) => db.clone(),
        (None, Some(dir)) => dir.join(credgate_store::SQLITE_FILE),
        // clap requires one of them.
        (None, None) => PathBuf::from(credgate_store::SQLITE_FILE),
    }
}

async fn service(s: &StoreArgs) -> anyhow::Result<Admin> {
    let store = super::store::open_existing(
        &db_path(s),
        "no such store file (the server creates it in its data directory \
         on start)",
    )
    .await?;
    Ok(Admin::new(
        store,
        credgate_lifecycle::Lifecycle::builtin(),
        Arc::new(SystemClock),
        Arc::new(credgate_screen::Catalogue::builtin()),
    ))
}

/// The console's caller: a clerk of `department` who proposes,
/// designates, publishes and reviews (the console is trusted as the
/// department's own).
fn cli(department: &str) -> Caller {
    Caller {
        key_id: super::store::CLI_KEY.into(),
        department: Some(department.into()),
        roles: vec![Role::Publisher, Role::Reviewer],
    }
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> anyhow::Result<T> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading stdin")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        anyhow::anyhow!("{}: at {}: {}", path.display(), e.path(), e.inner())
    })
}

/// A refusal on the console: its rule and message, exit code 1.
fn refused(e: AdminError) -> anyhow::Result<ExitCode> {
    match e {
        AdminError::Store(e) => Err(e.into()),
        e => {
            eprintln!("refused: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn print<T: serde::Serialize>(v: &T) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(ExitCode::SUCCESS)
}

pub fn run(command: LifecycleCommand) -> anyhow::Result<ExitCode> {
    super::store::runtime(1)?.block_on(async move {
        use LifecycleCommand as C;
        let (admin, done) = match command {
            C::Propose { store, department, json, idempotency_key } => {
                let req: ProposeRequest = read_json(&json)?;
                let admin = service(&store).await?;
                let done = admin
                    .propose(
                        &cli(&department),
                        &req,
                        idempotency_key.as_deref(),
                    )
                    .await
                    .map(|p| p.entry);
                (admin, done)
            }
            C::Sweep { store, today } => {
                let admin = service(&store).await?;
                let today = today.unwrap_or_else(|| admin.today());
                let r = admin.sweep(today).await?;
                admin.store.close().await;
                println!(
                    "{}",
                    serde_json::json!({
                        "today": today,
                        "expired": r.expired,
                        "skipped": r.skipped,
                    })
                );
                return Ok(ExitCode::SUCCESS);
            }
            C::Statement { entry: e, text, received_on } => {
                let admin = service(&e.store).await?;
                let r = StatementRequest { text, received_on };
                let done = admin
                    .record_statement(
                        &cli(&e.department),
                        &e.id,
                        e.version,
                        &r,
                    )
                    .await;
                (admin, done)
            }
            C::Designate { entry: e, json } => {
                let r: DesignateRequest = read_json(&json)?;
                let admin = service(&e.store).await?;
                let done = admin
                    .designate(&cli(&e.department), &e.id, e.version, &r)
                    .await;
                (admin, done)
            }
            C::PublishEntry { entry: e } => {
                let admin = service(&e.store).await?;
                let done =
                    admin.publish(&cli(&e.department), &e.id, e.version).await;
                (admin, done)
            }
            C::Object { entry: e, applicant, grounds, received_on } => {
                let admin = service(&e.store).await?;
                let r = ObjectionRequest { applicant, grounds, received_on };
                let done = admin
                    .object(&cli(&e.department), &e.id, e.version, &r)
                    .await;
                (admin, done)
            }
            C::Uphold { entry: e, decision } => {
                let admin = service(&e.store).await?;
                let r = UpholdRequest { decision };
                let done = admin
                    .uphold(&cli(&e.department), &e.id, e.version, &r)
                    .await;
                (admin, done)
            }
            C::Revoke { entry: e, reason } => {
                let admin = service(&e.store).await?;
                let r = RevokeRequest { reason };
                let done = admin
                    .revoke(&cli(&e.department), &e.id, e.version, &r)
                    .await;
                (admin, done)
            }
            C::Repair { entry: e, commitment, obligations_met, note } => {
                let admin = service(&e.store).await?;
                let r = RepairRequest { commitment, obligations_met, note };
                let done = admin
                    .repair(&cli(&e.department), &e.id, e.version, &r)
                    .await;
                (admin, done)
            }
            C::Withdraw { entry: e, reason } => {
                let admin = service(&e.store).await?;
                let r = WithdrawRequest { reason };
                let done = admin
                    .withdraw(&cli(&e.department), &e.id, e.version, &r)
                    .await;
                (admin, done)
            }
        };
        admin.store.close().await;
        match done {
            Ok(view) => print(&view),
            Err(e) => refused(e),
        }
    })
}
