//! `serve`: the screening HTTP service; `hash-key`: make an API key.

use anyhow::Context;
use credgate_server::Server;
use credgate_server::config::{Config, LogFormat};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (TOML; see docs/credgate.example.toml).
    #[arg(long, env = "CREDGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, host:port (default 127.0.0.1:8080; a host
    /// name such as localhost is resolved).
    #[arg(long, value_parser = listen_address)]
    listen: Option<String>,
    /// Data directory: snapshots, demo data, PII audit log.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Directory watched for published snapshots.
    #[arg(long)]
    snapshot_dir: Option<PathBuf>,
    /// Entries of the synthetic demo set made on a zero-configuration start
    /// (no keys configured) when nothing is published (0: make none).
    #[arg(long)]
    demo_entries: Option<u64>,
    /// Log format: human or json.
    #[arg(long)]
    log_format: Option<String>,
    /// `all` (default): screening and the admin module on the embedded
    /// store; `screening`: screening only, following the snapshots a
    /// publisher writes into the snapshot directory (no store opened).
    #[arg(long, default_value = "all", value_parser = ["all", "screening"])]
    role: String,
}

fn listen_address(s: &str) -> Result<String, String> {
    credgate_server::config::check_listen(s).map(|()| s.to_string())
}

fn config(args: &Args) -> anyhow::Result<Config> {
    let mut c = match &args.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    c.apply_env(|v| std::env::var(v).ok())?;
    if let Some(v) = &args.listen {
        c.listen = v.clone();
    }
    if let Some(v) = &args.data_dir {
        c.data_dir = v.clone();
    }
    if let Some(v) = &args.snapshot_dir {
        c.snapshot_dir = Some(v.clone());
    }
    if let Some(v) = args.demo_entries {
        c.demo_entries = v;
    }
    match args.log_format.as_deref() {
        None => {}
        Some("human") => c.log_format = LogFormat::Human,
        Some("json") => c.log_format = LogFormat::Json,
        Some(other) => {
            anyhow::bail!("--log-format: '{other}' is neither human nor json")
        }
    }
    Ok(c)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only on a terminal: a log file or a journal gets text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = config(&args)?;
    init_logging(config.log_format);
    if args.role == "screening" {
        config.admin.enabled = false;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        // Zero configuration (no keys): the demo. With keys, never demo
        // data.
        let mut demo = Demo::None;
        if config.keys.is_empty() && config.admin.enabled {
            if let Some(keys) = crate::demo::prepare_store(&config).await? {
                config.admin.publish_synthetic = true;
                if config.admin.publish_every_minutes == 0 {
                    config.admin.publish_every_minutes = 1;
                }
                demo = Demo::Store(keys);
            }
        } else if config.keys.is_empty() {
            // Screening only, nothing configured: a demo key and, when
            // nothing is published, a demo snapshot built directly.
            let (key, cfg) =
                crate::demo::key(&config.data_dir).with_context(|| {
                    format!("demo key in {}", config.data_dir.display())
                })?;
            config.keys.push(cfg);
            if config.demo_entries > 0
                && !credgate_server::snapshots::any_published(
                    &config.store_dirs(),
                )
            {
                crate::demo::build(&config)
                    .map_err(|e| anyhow::anyhow!("demo data: {e}"))?;
            }
            demo = Demo::Key(key);
        }
        let server = Server::start(config).await?;
        if let (Demo::Store(_), Some(admin), Some(publisher)) = (
            &demo,
            server.state.admin.clone(),
            server.state.publisher.clone(),
        ) {
            // The first start publishes what it imported; later starts
            // publish only what changed since.
            let now = admin.clock.now();
            if let Some(p) =
                publisher.publish_if_changed(&admin.store, now).await?
            {
                eprintln!(
                    "published the demo entries: {} ({} entries)",
                    p.file_name.as_deref().unwrap_or(""),
                    p.counts.map_or(0, |c| c.entries)
                );
            }
        }
        let base = format!("http://{}", server.addr);
        eprintln!("credgate listening on {base}");
        let data_dir = server.state.config.data_dir.display().to_string();
        match &demo {
            Demo::None => {}
            Demo::Key(key) => {
                eprintln!(
                    "demo API key (admin, screen_pii; kept in {data_dir}/demo-api-key.txt): {key}"
                );
                eprintln!("try:");
                eprintln!(
                    "  curl -s {base}/v1/screen -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\\n    -d '{{\"name\":\"南京恒瑞科技有限公司\",\"scenario\":\"government_procurement\"}}'"
                );
            }
            Demo::Store(keys) => print_demo(&base, &data_dir, keys),
        }
        server.run(credgate_server::shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What the zero-configuration start set up.
enum Demo {
    None,
    /// Screening only: one key in `demo-api-key.txt`.
    Key(String),
    /// The one-process demo: a key per role in `demo-keys.txt`.
    Store(Vec<crate::demo::DemoKey>),
}

fn print_demo(base: &str, data_dir: &str, keys: &[crate::demo::DemoKey]) {
    eprintln!(
        "SYNTHETIC demo: a key per role (kept in {data_dir}/{}):",
        crate::demo::KEYS_FILE
    );
    for k in keys {
        eprintln!("  {:<11} {:<8} {}", k.role, k.department, k.secret);
    }
    let key = |role: &str| {
        keys.iter().find(|k| k.role == role).map_or("", |k| k.secret.as_str())
    };
    eprintln!("try:");
    eprintln!(
        "  curl -s {base}/v1/screen -H 'X-API-Key: {}' -H 'Content-Type: application/json' \\\n    -d '{{\"name\":\"南京恒瑞科技有限公司\",\"scenario\":\"government_procurement\"}}'",
        key("screen")
    );
    eprintln!(
        "  curl -s {base}/admin/v1/entries?limit=5 -H 'X-API-Key: {}'",
        key("publisher")
    );
    eprintln!(
        "  curl -s -X POST {base}/admin/v1/publish -H 'X-API-Key: {}'",
        key("publisher")
    );
    eprintln!("  curl -s {base}/openapi.json");
    eprintln!("the lifecycle step by step: README.md, \"Try the lifecycle\"");
}

#[derive(Debug, clap::Args)]
pub struct HashKeyArgs {
    /// An existing key to hash; a new random key is made when omitted.
    key: Option<String>,
}

pub fn hash_key(args: HashKeyArgs) -> anyhow::Result<ExitCode> {
    let key = args.key.unwrap_or_else(credgate_server::access::new_key);
    println!("key    = {key}");
    println!("sha256 = \"{}\"", credgate_server::access::hash_key(&key));
    Ok(ExitCode::SUCCESS)
}
