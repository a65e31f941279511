//! `audit verify` and `admin keys`: glue over `credgate-store`.

use anyhow::{Context, bail};
use credgate_screen::clock::{Clock, SystemClock};
use credgate_store::{Audit, Department, NewKey, Role, Store};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Actions from the command line are audited under this key id: the
/// operator at the console holds no API key.
pub const CLI_KEY: &str = "cli";

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the store's audit chain and every entry's digest, and/or
    /// the PII audit log's hash chain; exit 1 naming the first broken
    /// record or line.
    Verify {
        /// The store's database file (<data_dir>/credgate.db).
        #[arg(long, required_unless_present = "pii_log")]
        db: Option<PathBuf>,
        /// The screening service's log of unmasked personal data
        /// (<data_dir>/pii-audit.log).
        #[arg(long)]
        pii_log: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// API keys kept in the store.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import an entries file (CSV, GBK CSV, JSON Lines, XLSX) as
    /// published entries of a department: all or nothing unless
    /// --skip-invalid; re-importing changes nothing.
    Import(super::publishing::ImportArgs),
    /// Build a snapshot of the entries in force into the snapshot inbox
    /// the service watches, and record the publication.
    Publish(super::publishing::PublishArgs),
    /// The latest publications, newest first.
    Publications(super::publishing::PublicationsArgs),
    /// The lifecycle transitions (`cmd/lifecycle.rs`).
    #[command(flatten)]
    Lifecycle(super::lifecycle::LifecycleCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Make a key; its secret is printed once and never stored.
    Create {
        #[arg(long)]
        db: PathBuf,
        /// The department the key acts for (its code, e.g. js-scjg).
        #[arg(long)]
        department: String,
        /// Create the department, or rename it, with this Chinese name.
        #[arg(long)]
        department_name: Option<String>,
        /// Comma-separated: screen, screen_pii, admin, publisher,
        /// reviewer, auditor, operator.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Who holds the key.
        #[arg(long)]
        name: String,
    },
    /// List every key (secrets are never shown).
    List {
        #[arg(long)]
        db: PathBuf,
    },
    /// Revoke a key by its id.
    Revoke {
        #[arg(long)]
        db: PathBuf,
        id: String,
    },
}

/// The runtime of one admin command, with `workers` threads.
pub(super) fn runtime(
    workers: usize,
) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens an existing store: a mistyped path must not create an empty one
/// (`missing` says so, and what to do).
pub(super) async fn open_existing(
    db: &Path,
    missing: &str,
) -> anyhow::Result<Store> {
    if !db.is_file() {
        bail!("{}: {missing}", db.display());
    }
    Store::open_sqlite(db)
        .await
        .with_context(|| format!("opening the store {}", db.display()))
}

async fn open(db: &Path) -> anyhow::Result<Store> {
    open_existing(db, "no such store file").await
}

pub fn audit(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { db, pii_log } = command;
    let mut code = ExitCode::SUCCESS;
    if let Some(db) = db {
        code = runtime(1)?.block_on(async {
            let store = open(&db).await?;
            let report = store.verify_audit().await.context("verifying")?;
            store.close().await;
            anyhow::Ok(match report {
                Ok(c) => {
                    println!(
                        "ok: {} audit records chained, {} entries match \
                         their last record",
                        c.records, c.entries
                    );
                    ExitCode::SUCCESS
                }
                Err(b) => {
                    println!("broken: {b}");
                    ExitCode::from(1)
                }
            })
        })?;
    }
    if let Some(path) = pii_log {
        let report = credgate_server::pii_log::verify(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        match report {
            Ok(v) if v.before_chaining > 0 => println!(
                "ok: {} lines of the PII audit log chained ({}); the {} \
                 lines before them were written before the log was \
                 chained, and are as its first line records them",
                v.lines,
                path.display(),
                v.before_chaining
            ),
            Ok(v) => println!(
                "ok: {} lines of the PII audit log chained ({})",
                v.lines,
                path.display()
            ),
            Err(b) => {
                println!("broken: {}: {b}", path.display());
                code = ExitCode::from(1);
            }
        }
    }
    Ok(code)
}

pub fn admin(command: AdminCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        AdminCommand::Keys(k) => k,
        AdminCommand::Import(a) => return super::publishing::import(a),
        AdminCommand::Publish(a) => return super::publishing::publish(a),
        AdminCommand::Publications(a) => {
            return super::publishing::publications(a);
        }
        AdminCommand::Lifecycle(c) => return super::lifecycle::run(c),
    };
    let now = SystemClock.now();
    runtime(1)?.block_on(async {
        match command {
            KeysCommand::Create {
                db,
                department,
                department_name,
                roles,
                name,
            } => {
                let roles = roles
                    .iter()
                    .map(|r| Role::parse(r.trim()))
                    .collect::<Result<Vec<_>, _>>()?;
                let store =
                    Store::open_sqlite(&db).await.with_context(|| {
                        format!("opening the store {}", db.display())
                    })?;
                if let Some(name_zh) = department_name {
                    let d = Department { code: department.clone(), name_zh };
                    let a = Audit::new(
                        now,
                        CLI_KEY,
                        &department,
                        "department_upsert",
                    );
                    store.upsert_department(&a, &d).await?;
                }
                let a = Audit::new(now, CLI_KEY, &department, "key_create");
                let new =
                    NewKey { name, department: department.clone(), roles };
                let made = store.create_key(&a, &new).await.context(
                    "creating the key (an unknown department is created \
                     with --department-name)",
                )?;
                store.close().await;
                println!("id     = {}", made.key.id);
                println!("key    = {}", made.secret);
                println!("sha256 = {}", made.key.sha256);
                eprintln!("The key is shown only now: store it safely.");
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::List { db } => {
                let store = open(&db).await?;
                println!(
                    "id\tname\tdepartment\troles\tcreated_at\trevoked_at"
                );
                for k in store.keys().await? {
                    let roles: Vec<_> =
                        k.roles.iter().map(|r| r.code()).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        k.id,
                        k.name,
                        k.department,
                        roles.join(","),
                        k.created_at.to_rfc3339(),
                        k.revoked_at
                            .map(|t| t.to_rfc3339())
                            .unwrap_or_default()
                    );
                }
                store.close().await;
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::Revoke { db, id } => {
                let store = open(&db).await?;
                let key = store.keys().await?.into_iter().find(|k| k.id == id);
                let department = key.map(|k| k.department).unwrap_or_default();
                let a = Audit::new(now, CLI_KEY, department, "key_revoke");
                let k = store.revoke_key(&a, &id).await?;
                store.close().await;
                println!("revoked {} ({})", k.id, k.name);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
