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
    // Zero configuration (no keys): the demo. With keys, never demo data.
    let demo_key = if config.keys.is_empty() {
        let (key, cfg) =
            crate::demo::key(&config.data_dir).with_context(|| {
                format!("demo key in {}", config.data_dir.display())
            })?;
        config.keys.push(cfg);
        if config.demo_entries > 0
            && !credgate_server::snapshots::any_published(&config.store_dirs())
        {
            crate::demo::build(&config)
                .map_err(|e| anyhow::anyhow!("demo data: {e}"))?;
        }
        Some(key)
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let server = Server::start(config).await?;
        let base = format!("http://{}", server.addr);
        eprintln!("credgate listening on {base}");
        if let Some(key) = &demo_key {
            eprintln!(
                "demo API key (admin, screen_pii; kept in {}/demo-api-key.txt): {key}",
                server.state.config.data_dir.display()
            );
            eprintln!("try:");
            eprintln!(
                "  curl -s {base}/v1/screen -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\\n    -d '{{\"name\":\"南京恒瑞科技有限公司\",\"scenario\":\"government_procurement\"}}'"
            );
            eprintln!("  curl -s {base}/v1/snapshot -H 'X-API-Key: {key}'");
            eprintln!("  curl -s {base}/openapi.json");
        }
        server.run(credgate_server::shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
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
