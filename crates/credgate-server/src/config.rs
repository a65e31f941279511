//! Configuration: a TOML file (see `docs/credgate.example.toml`), then
//! environment variables (`CREDGATE_LISTEN`, `CREDGATE_DATA_DIR`, …), then
//! command-line flags, each overriding the one before.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A role an API key carries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Screening endpoints; personal ID numbers masked.
    Screen,
    /// Screening with full personal ID numbers (each read is audited).
    ScreenPii,
    /// Snapshot administration (reload, activate); also screens and
    /// reads every check record.
    Admin,
    /// Reads every key's check records (`GET /v1/checks/{id}`) and the
    /// admin audit chain (`GET /admin/v1/audit`); does not screen.
    Auditor,
    /// Proposes, designates, publishes and repairs its department's
    /// entries (`/admin/v1/entries`); does not screen.
    Publisher,
    /// Decides objections on its department's entries; does not screen.
    Reviewer,
    /// The credit centre: reads every department's entries and runs the
    /// expiry sweep; does not screen.
    Operator,
}

impl Role {
    /// The role of a stored key (`credgate-store` keeps the same codes).
    pub fn from_store(r: credgate_store::Role) -> Role {
        use credgate_store::Role as S;
        match r {
            S::Screen => Role::Screen,
            S::ScreenPii => Role::ScreenPii,
            S::Admin => Role::Admin,
            S::Auditor => Role::Auditor,
            S::Publisher => Role::Publisher,
            S::Reviewer => Role::Reviewer,
            S::Operator => Role::Operator,
        }
    }

    /// The store's role with the same code.
    pub fn to_store(self) -> credgate_store::Role {
        use credgate_store::Role as S;
        match self {
            Role::Screen => S::Screen,
            Role::ScreenPii => S::ScreenPii,
            Role::Admin => S::Admin,
            Role::Auditor => S::Auditor,
            Role::Publisher => S::Publisher,
            Role::Reviewer => S::Reviewer,
            Role::Operator => S::Operator,
        }
    }
}

/// One API key, stored as the SHA-256 of the key (hex). Keys are random
/// 256-bit tokens, so a fast hash does not weaken them the way it would a
/// password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Who holds the key: shown in logs and the PII audit log.
    pub name: String,
    pub sha256: String,
    pub roles: Vec<Role>,
    /// The department the key acts for in `/admin/v1` (a department code
    /// of the store, e.g. `js-scjg`); a key without one may not change
    /// entries (bootstrap keys: admin, auditor).
    #[serde(default)]
    pub department: Option<String>,
    /// Sustained tokens per second (default 2,000). A request costs 1,
    /// a batch 1 per item, a bulk row `bulk_row_cost`.
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
    /// Tokens allowed in a burst above the rate (default 10,000, one
    /// full batch). A batch larger than this is refused for this key.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

pub(crate) fn default_rate() -> u32 {
    2_000
}
pub(crate) fn default_burst() -> u32 {
    // A batch item costs a token: the default batch size fits a burst.
    10_000
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// `snapshot_residence` (`credgate_index::Residence`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotResidence {
    #[default]
    Mapped,
    Memory,
}

impl From<SnapshotResidence> for credgate_index::Residence {
    fn from(r: SnapshotResidence) -> Self {
        match r {
            SnapshotResidence::Memory => credgate_index::Residence::Memory,
            SnapshotResidence::Mapped => credgate_index::Residence::Mapped,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on: `host:port`, the host an IP address or a
    /// name (`localhost:8080`, `[::1]:8080`, `0.0.0.0:8080`).
    pub listen: String,
    /// Working directory: snapshots, the demo data set, the audit log.
    pub data_dir: PathBuf,
    /// The inbox where publishers put snapshot files (default
    /// `<data_dir>/snapshots`). The service moves each file it takes into
    /// `accepted_dir` before mapping it.
    pub snapshot_dir: Option<PathBuf>,
    /// The service's own snapshot directory (default
    /// `<data_dir>/accepted`): nobody else may write there.
    pub accepted_dir: Option<PathBuf>,
    /// Time limit of a snapshot load started by the watcher; a load past
    /// it is abandoned without effect.
    pub load_timeout_secs: u64,
    /// How often the snapshot directory is checked for a new file.
    pub watch_interval_secs: u64,
    /// Snapshots kept for rollback besides the live one.
    pub keep_snapshots: usize,
    /// Where the live snapshot's bytes are: `mapped` (default: from the
    /// page cache as touched) or `memory` (read whole into private memory
    /// with transparent huge pages: resident memory of the file's size
    /// for each snapshot in use — the live one, one being verified for a
    /// swap, any a running bulk job still holds; a load that does not fit
    /// in the memory available is refused; at 10M entries p99 ~10% lower
    /// than a mapped file written by credgate, which huge pages map too,
    /// and about half that of a mapped file copied in small pieces; but
    /// a swap under full load costs far more, as reading 2.4 GB competes
    /// with the requests: BENCHMARKS.md). For services that swap rarely.
    pub snapshot_residence: SnapshotResidence,
    /// Measures catalogue (TOML); the built-in one when absent.
    pub measures: Option<PathBuf>,
    /// Items per `POST /v1/screen/batch` at most.
    pub batch_max_items: usize,
    /// Largest JSON request body.
    pub body_limit_bytes: usize,
    /// Largest bulk upload.
    pub bulk_limit_bytes: u64,
    /// Time limit of a request (bulk uploads: `bulk_timeout_secs`).
    pub request_timeout_secs: u64,
    pub bulk_timeout_secs: u64,
    /// Size of the demo data set that `credgate serve` generates on a
    /// zero-configuration start (no keys configured) when nothing is
    /// published. Never used when keys are configured.
    pub demo_entries: u64,
    /// PII audit log (JSON lines); default `<data_dir>/pii-audit.log`.
    pub audit_log: Option<PathBuf>,
    pub log_format: LogFormat,
    /// API keys. The server refuses to start without one; `credgate
    /// serve` without keys is the zero-configuration demo (a demo key in
    /// `demo-api-key.txt` and synthetic data).
    pub keys: Vec<KeyConfig>,
    /// Open connections at most; further clients wait in the kernel's
    /// backlog. Keep it below the open-file limit (`ulimit -n`) less
    /// ~64 for snapshots, logs and spool files.
    pub max_connections: usize,
    /// Time from a connection's accept, or from the first byte of a
    /// later request, until the request's headers are complete.
    pub header_read_timeout_ms: u64,
    /// Time an idle keep-alive connection may wait for its next request.
    pub keep_alive_idle_ms: u64,
    /// Memory one bulk job may use; the upload's limits (cell and row
    /// length, XLSX sizes, …) derive from it (`credgate_bulk::Limits`).
    pub bulk_memory_limit_bytes: u64,
    /// Data rows of a bulk upload at most.
    pub bulk_max_rows: u64,
    /// Bulk jobs running at once; one more is answered 503 `bulk_busy`.
    pub bulk_max_jobs: usize,
    /// Characters of a personal ID number left visible (its last ones)
    /// to keys without `screen_pii`; at most 4, so that the hidden part
    /// (region and birth date) cannot be enumerated.
    pub pii_visible_chars: usize,
    /// Rate-limit tokens a bulk row costs (a request and a batch item
    /// cost 1): a bulk job paces itself to its key's rate.
    pub bulk_row_cost: f64,
    /// When a key's person-ID queries look like enumeration.
    pub enumeration: EnumerationConfig,
    /// The record of checks (`<data_dir>/checks`).
    pub checks: crate::checks::ChecksConfig,
    /// The admin module (`/admin/v1`, the store in the data directory).
    pub admin: AdminConfig,
}

/// The admin module: the system of record (`<data_dir>/credgate.db`),
/// its endpoints and the expiry sweep.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Off (`credgate serve --role screening`): screening only, no
    /// store, every `/admin/v1` entry endpoint answers 404.
    pub enabled: bool,
    /// Minutes between two runs of the expiry sweep (entries past their
    /// maximum period exit); 0 turns the background sweep off.
    pub sweep_interval_minutes: u64,
    /// Seconds a stored key's lookup is cached (a revocation through
    /// this process takes effect at once; one made elsewhere, within
    /// this time).
    pub key_cache_secs: u64,
    /// Largest export (rows; past it 422 `too_many`). A listing page is
    /// bounded by the store (`limit` at most 1,000), not by this.
    pub max_export_rows: u32,
    /// Minutes between two checks for changes to publish (a snapshot of
    /// the entries in force, when anything was recorded since the last
    /// publication); 0 (the default) publishes only when asked (`POST
    /// /admin/v1/publish`, `credgate admin publish`). The
    /// zero-configuration demo sets 1.
    pub publish_every_minutes: u64,
    /// Marks published snapshots as synthetic data (the demo's; `/readyz`
    /// says so).
    pub publish_synthetic: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: true,
            sweep_interval_minutes: 10,
            key_cache_secs: 30,
            max_export_rows: 100_000,
            publish_every_minutes: 0,
            publish_synthetic: false,
        }
    }
}

/// The enumeration detector, per key, over a sliding window. A key
/// trips it by querying `max_queries_per_mask` distinct person-ID
/// numbers that share the masked form of one it was shown (the
/// candidates of a masked number all share it), or by
/// `max_person_id_misses` person-ID queries that find nothing; it is then
/// answered 429 `enumeration_suspected` for `block_secs`. Bounds per key
/// and day: (max_queries_per_mask - 1) candidates of one masked number
/// per window, and max_person_id_misses misses per window (screen and
/// batch only: bulk rows are not counted as misses). A mask stays watched
/// however long ago it was shown, as long as it is among the key's
/// 10,000 most recently shown masks.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnumerationConfig {
    pub window_secs: u64,
    /// Distinct person-ID numbers with the masked form of one shown to
    /// the key, itself excepted. Random numbers share a 4-character mask
    /// with probability ~1/11,000, so 20 stays out of reach of honest
    /// traffic below ~50,000 person-ID queries per window.
    pub max_queries_per_mask: u32,
    /// Person-ID queries (code or legal_rep_code) without an identifier
    /// hit. Most people are on no list, so this is a budget: set it above
    /// a key's honest person-ID volume per window.
    pub max_person_id_misses: u32,
    pub block_secs: u64,
}

impl Default for EnumerationConfig {
    fn default() -> Self {
        EnumerationConfig {
            window_secs: 3_600,
            max_queries_per_mask: 20,
            max_person_id_misses: 2_000,
            block_secs: 3_600,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("credgate-data"),
            snapshot_dir: None,
            accepted_dir: None,
            load_timeout_secs: 600,
            watch_interval_secs: 2,
            keep_snapshots: 3,
            snapshot_residence: SnapshotResidence::Mapped,
            measures: None,
            batch_max_items: 10_000,
            body_limit_bytes: 16 << 20,
            bulk_limit_bytes: 2 << 30,
            request_timeout_secs: 30,
            bulk_timeout_secs: 3_600,
            demo_entries: 20_000,
            audit_log: None,
            log_format: LogFormat::Human,
            keys: Vec::new(),
            max_connections: 512,
            header_read_timeout_ms: 10_000,
            keep_alive_idle_ms: 60_000,
            bulk_memory_limit_bytes: credgate_bulk::DEFAULT_MEMORY_BYTES,
            bulk_max_rows: 1 << 20,
            bulk_max_jobs: 2,
            pii_visible_chars: 4,
            bulk_row_cost: 0.1,
            enumeration: EnumerationConfig::default(),
            checks: crate::checks::ChecksConfig::default(),
            admin: AdminConfig::default(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("environment variable {var}: '{value}' is not {expected}")]
    Env { var: &'static str, value: String, expected: &'static str },
    #[error("{name}: {what}")]
    Setting { name: &'static str, what: String },
    #[error("keys[{index}] ({name}): {what}")]
    Key { index: usize, name: String, what: String },
}

/// Checks the form of a listen address, `host:port`: a port number and a
/// host (an IP address, `[v6]`, or a name resolved when binding).
pub fn check_listen(listen: &str) -> Result<(), String> {
    let (host, port) = listen
        .rsplit_once(':')
        .ok_or_else(|| format!("'{listen}' has no port: give host:port"))?;
    port.parse::<u16>()
        .map_err(|_| format!("'{port}' is not a port number (0-65535)"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
    {
        return Err(format!("'{host}' is not a host name or IP address"));
    }
    Ok(())
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            ConfigError::Read { path: path.into(), source }
        })?;
        let c: Config = toml::from_str(&text).map_err(|source| {
            ConfigError::Parse { path: path.into(), source: Box::new(source) }
        })?;
        c.check()?;
        Ok(c)
    }

    /// Applies `CREDGATE_*` variables from `env` (a lookup, so tests need
    /// not touch the process environment).
    pub fn apply_env(
        &mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(v) = env("CREDGATE_LISTEN") {
            if check_listen(&v).is_err() {
                return Err(ConfigError::Env {
                    var: "CREDGATE_LISTEN",
                    value: v,
                    expected: "host:port, like 127.0.0.1:8080 or localhost:8080",
                });
            }
            self.listen = v;
        }
        if let Some(v) = env("CREDGATE_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = env("CREDGATE_SNAPSHOT_DIR") {
            self.snapshot_dir = Some(v.into());
        }
        if let Some(v) = env("CREDGATE_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "human" => LogFormat::Human,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Env {
                        var: "CREDGATE_LOG_FORMAT",
                        value: v,
                        expected: "human or json",
                    });
                }
            };
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.pii_visible_chars > 4 {
            return Err(ConfigError::Setting {
                name: "pii_visible_chars",
                what: format!(
                    "{} shows too much of a masked ID number; at most 4",
                    self.pii_visible_chars
                ),
            });
        }
        if !(self.bulk_row_cost >= 0.0 && self.bulk_row_cost <= 1.0) {
            return Err(ConfigError::Setting {
                name: "bulk_row_cost",
                what: format!("{} is not in [0, 1]", self.bulk_row_cost),
            });
        }
        let e = &self.enumeration;
        if e.window_secs == 0
            || e.max_queries_per_mask == 0
            || e.max_person_id_misses == 0
        {
            return Err(ConfigError::Setting {
                name: "enumeration",
                what: "window_secs, max_queries_per_mask and \
                       max_person_id_misses must be above 0"
                    .into(),
            });
        }
        if let Some(what) = self.checks.problem() {
            return Err(ConfigError::Setting { name: "checks", what });
        }
        for (index, k) in self.keys.iter().enumerate() {
            let bad = |what: &str| ConfigError::Key {
                index,
                name: k.name.clone(),
                what: what.into(),
            };
            if k.sha256.len() != 64
                || !k.sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(bad(
                    "sha256: expected 64 hex digits (`credgate hash-key`)",
                ));
            }
            if k.roles.is_empty() {
                return Err(bad(
                    "roles: give at least one of screen, screen_pii, admin, \
                     auditor, publisher, reviewer, operator",
                ));
            }
            if k.rate_per_second == 0 || k.burst == 0 {
                return Err(bad("rate_per_second and burst must be above 0"));
            }
        }
        Ok(())
    }

    pub fn snapshot_dir(&self) -> PathBuf {
        self.snapshot_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("snapshots"))
    }

    pub fn accepted_dir(&self) -> PathBuf {
        self.accepted_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("accepted"))
    }

    /// The snapshot inbox and the service's own snapshot directory.
    pub fn store_dirs(&self) -> crate::snapshots::Dirs {
        crate::snapshots::Dirs {
            inbox: self.snapshot_dir(),
            accepted: self.accepted_dir(),
        }
    }

    /// Where bulk uploads are spooled: the service's own directory,
    /// emptied at start (a killed job leaves its file behind).
    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    /// The limits of one bulk upload.
    pub fn bulk_limits(&self) -> credgate_bulk::Limits {
        credgate_bulk::Limits {
            max_rows: self.bulk_max_rows,
            ..credgate_bulk::Limits::with_memory(self.bulk_memory_limit_bytes)
        }
    }

    /// Where check records are written.
    pub fn checks_dir(&self) -> PathBuf {
        self.checks.dir.clone().unwrap_or_else(|| self.data_dir.join("checks"))
    }

    /// The secret that salts hashed ID numbers in check records: in the
    /// data directory, apart from the records it protects.
    pub fn checks_secret(&self) -> PathBuf {
        self.data_dir.join("checks-secret")
    }

    pub fn audit_log(&self) -> PathBuf {
        self.audit_log
            .clone()
            .unwrap_or_else(|| self.data_dir.join("pii-audit.log"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/credgate.example.toml");
        let c = Config::from_file(&path).unwrap();
        assert_eq!(c.keys.len(), 4);
        assert_eq!(c.keys[3].roles, [Role::Auditor]);
        assert_eq!(c.checks.retention_days, 1_095);
        assert_eq!(c.batch_max_items, 10_000);
        assert_eq!(c.snapshot_residence, SnapshotResidence::Mapped);
    }

    #[test]
    fn snapshot_residence_is_memory_or_mapped() {
        let parse = |t: &str| toml::from_str::<Config>(t);
        assert_eq!(
            parse("snapshot_residence = \"memory\"")
                .unwrap()
                .snapshot_residence,
            SnapshotResidence::Memory
        );
        assert_eq!(
            parse("").unwrap().snapshot_residence,
            SnapshotResidence::Mapped
        );
        let err = parse("snapshot_residence = \"disk\"").unwrap_err();
        assert!(err.to_string().contains("memory"), "{err}");
    }

    #[test]
    fn listen_takes_host_names_and_addresses() {
        for ok in [
            "localhost:8080",
            "127.0.0.1:0",
            "[::1]:8080",
            "0.0.0.0:80",
            "credgate.internal:8080",
        ] {
            assert!(check_listen(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("nowhere", "no port"),
            ("localhost:99999", "not a port"),
            (":8080", "not a host"),
            ("a b:80", "not a host"),
        ] {
            let e = check_listen(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let c: Config = toml::from_str("listen = \"localhost:9\"").unwrap();
        assert_eq!(c.listen, "localhost:9");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = toml::from_str::<Config>("listen = 5").unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
        let err = toml::from_str::<Config>("lisen = \"x\"").unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let c: Config = toml::from_str(
            "[[keys]]\nname = \"p\"\nsha256 = \"abc\"\nroles = [\"screen\"]",
        )
        .unwrap();
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains("keys[0] (p): sha256"), "{err}");
        let c: Config = toml::from_str("pii_visible_chars = 6").unwrap();
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains("pii_visible_chars: 6"), "{err}");
        let c: Config =
            toml::from_str("[enumeration]\nwindow_secs = 0").unwrap();
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains("enumeration: window_secs"), "{err}");
        let c: Config = toml::from_str(
            "[checks]\nmax_file_bytes = 100\nmax_total_bytes = 150",
        )
        .unwrap();
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains("checks: max_total_bytes (150)"), "{err}");
        let mut c = Config::default();
        let err = c
            .apply_env(|v| (v == "CREDGATE_LISTEN").then(|| "nowhere".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("CREDGATE_LISTEN"), "{err}");
    }
}
