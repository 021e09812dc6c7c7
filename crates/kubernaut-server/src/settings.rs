//! Configuration: built-in defaults, `config/default.toml`, a `--config` file, the environment
//! (`KUBERNAUT__SECTION__KEY`) and command-line flags, in increasing precedence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::{Config, Environment, File, FileFormat};
use kubernaut_app::notify::WebhookConfig;
use kubernaut_cluster::{InClusterMode, InClusterOptions};
use serde::Deserialize;

use crate::logging::LogFormat;

/// Kubernaut's deployment service: stores releases, deploys them to Kubernetes clusters, and
/// serves the REST API.
#[derive(Debug, Parser)]
#[command(
    name = "kubernaut-server",
    version,
    after_help = "\
Configuration, in increasing precedence: built-in defaults, config/default.toml in the working
directory, --config FILE, the environment as KUBERNAUT__SECTION__KEY (e.g.
KUBERNAUT__DATABASE__URL, KUBERNAUT__AUTH__BOOTSTRAP_TOKEN, KUBERNAUT__WORKER__MAX_PARALLEL),
then these flags. Every key is in config/default.toml.

Logging: RUST_LOG (default info; e.g. RUST_LOG=debug or RUST_LOG=kubernaut=debug), as text or
JSON (--log-format).

Examples:
  kubernaut-server --sandbox
  kubernaut-server --listen 0.0.0.0:8080 --database-url postgres://kubernaut:secret@db/kubernaut
  KUBERNAUT__AUTH__BOOTSTRAP_TOKEN=knt_... kubernaut-server --config /etc/kubernaut.toml"
)]
pub struct Cli {
    /// Address to listen on, HOST:PORT [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// postgres://..., postgresql://... or sqlite://PATH [default: sqlite://kubernaut.db]
    #[arg(long, value_name = "URL", global = true)]
    pub database_url: Option<String>,
    /// A TOML configuration file (same keys as config/default.toml)
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// The kubeconfig whose contexts can be deployed to [default: $KUBECONFIG, then
    /// ~/.kube/config; none is fine]
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Enable the built-in in-memory `sandbox` context
    #[arg(long)]
    pub sandbox: bool,
    /// How log lines are written: text, or one JSON object per line [default: text]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Instead of serving: a maintenance command
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Maintenance commands, run against the configured database instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a global-admin token directly in the database and print its secret: the way back
    /// in when every admin token is lost. Audited with actor kubernaut-server.
    AdminToken {
        /// The token's name: lowercase letters, digits, '.', '_' and '-'
        #[arg(long)]
        name: String,
        /// Days until it expires (1 to 3650) [default: never]
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<i64>,
    },
}

/// A secret from the configuration: never shown by `Debug`.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret, if one is set.
    pub fn expose(&self) -> Option<&str> {
        Some(self.0.as_str()).filter(|s| !s.is_empty())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "\"<redacted>\""
        })
    }
}

/// The effective configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP settings.
    pub server: ServerSettings,
    /// Database settings.
    pub database: DatabaseSettings,
    /// Deployment targets.
    pub cluster: ClusterSettings,
    /// The deployment worker.
    pub worker: WorkerSettings,
    /// Authentication.
    pub auth: AuthSettings,
    /// Webhooks and their delivery.
    #[serde(default)]
    pub notifications: NotificationSettings,
}

/// `[notifications]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    /// How many attempts a delivery gets.
    pub max_attempts: i32,
    /// Seconds one attempt may take.
    pub timeout_secs: u64,
    /// Milliseconds to wait after a first failed attempt; doubled after each, with jitter.
    pub retry_base_ms: u64,
    /// Milliseconds between two looks for due deliveries.
    pub poll_interval_ms: u64,
    /// `[[notifications.webhooks]]` entries.
    pub webhooks: Vec<WebhookSettings>,
    /// The webhooks as a JSON array of the same entries (for the environment:
    /// `KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON`).
    pub webhooks_json: Secret,
    /// A TOML file of `[[webhooks]]` entries (for a mounted Kubernetes Secret).
    pub webhooks_file: String,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            timeout_secs: 10,
            retry_base_ms: 1000,
            poll_interval_ms: 1000,
            webhooks: Vec::new(),
            webhooks_json: Secret::default(),
            webhooks_file: String::new(),
        }
    }
}

/// One webhook entry; `Debug` shows its name only (its URL and headers may hold secrets).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Its name, unique.
    pub name: String,
    /// Where events are posted.
    pub url: String,
    /// The events it hears of; all when empty.
    #[serde(default)]
    pub events: Vec<String>,
    /// Context patterns; all contexts when empty.
    #[serde(default)]
    pub contexts: Vec<String>,
    /// The signing secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// `json` or `slack`.
    #[serde(default)]
    pub format: Option<String>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `message` with every quoted value left out: a parser's message may quote a secret.
fn without_quoted(message: &str) -> String {
    message
        .split('"')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "..." } else { part })
        .collect::<Vec<_>>()
        .join("\"")
}

/// A file of webhooks: `[[webhooks]]` entries.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhooksFile {
    #[serde(default)]
    webhooks: Vec<WebhookSettings>,
}

impl NotificationSettings {
    /// The webhooks from the one place they are set: the entries, the JSON or the file.
    pub fn webhook_configs(&self) -> anyhow::Result<Vec<WebhookConfig>> {
        let json = self.webhooks_json.expose();
        let file = Some(self.webhooks_file.as_str()).filter(|path| !path.is_empty());
        let places = usize::from(!self.webhooks.is_empty())
            + usize::from(json.is_some())
            + usize::from(file.is_some());
        if places > 1 {
            anyhow::bail!(
                "webhooks are set in more than one place: use one of [[notifications.webhooks]], \
                 notifications.webhooks_json and notifications.webhooks_file"
            );
        }
        let entries = if let Some(json) = json {
            serde_json::from_str::<Vec<WebhookSettings>>(json).map_err(|e| {
                anyhow::anyhow!(
                    "notifications.webhooks_json is not a JSON array of webhooks: {}",
                    without_quoted(&e.to_string())
                )
            })?
        } else if let Some(path) = file {
            Config::builder()
                .add_source(File::new(path, FileFormat::Toml))
                .build()
                .and_then(Config::try_deserialize::<WebhooksFile>)
                .with_context(|| format!("notifications.webhooks_file {path}"))?
                .webhooks
        } else {
            self.webhooks.clone()
        };
        Ok(entries
            .into_iter()
            .map(|entry| WebhookConfig {
                name: entry.name,
                url: entry.url,
                events: entry.events,
                contexts: entry.contexts,
                secret: entry.secret,
                format: entry.format,
                headers: entry.headers,
            })
            .collect())
    }
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The secret of the first global-admin token, used only while no global admin ever
    /// existed; empty: a generated one is printed once.
    pub bootstrap_token: Secret,
    /// Failed authentications one address may make in a minute before it gets 429s.
    pub max_failures_per_minute: u32,
}

/// `[cluster]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// The kubeconfig path; empty for $KUBECONFIG, then ~/.kube/config.
    pub kubeconfig: String,
    /// Whether the built-in `sandbox` context is enabled.
    pub sandbox: bool,
    /// Whether manifests may hold cluster-scoped kinds (ClusterRole, Namespace, ...).
    pub allow_cluster_scoped: bool,
    /// Whether the cluster the server runs in is a context.
    pub in_cluster: InCluster,
    /// The in-cluster context's name.
    pub in_cluster_context: String,
    /// The pod's ServiceAccount directory (`token`, `ca.crt`, `namespace`).
    pub service_account_dir: String,
    /// The in-cluster API server's URL; empty for
    /// `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`.
    pub in_cluster_api_url: String,
}

/// `cluster.in_cluster`: when the cluster the server runs in is a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InCluster {
    /// When running in a pod (`KUBERNETES_SERVICE_HOST` set and a ServiceAccount token).
    Auto,
    /// Always; not running in a pod stops start-up.
    On,
    /// Never.
    Off,
}

impl ClusterSettings {
    /// How to find the in-cluster context; `None` when it is off.
    pub fn in_cluster_options(&self) -> Option<InClusterOptions> {
        let mode = match self.in_cluster {
            InCluster::Auto => InClusterMode::Auto,
            InCluster::On => InClusterMode::Required,
            InCluster::Off => return None,
        };
        Some(InClusterOptions {
            context: self.in_cluster_context.clone(),
            mode,
            service_account_dir: PathBuf::from(&self.service_account_dir),
            api_url: Some(self.in_cluster_api_url.clone()).filter(|url| !url.is_empty()),
        })
    }
}

/// `[worker]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Seconds workloads may take to roll out before the deployment fails.
    pub rollout_timeout_secs: u64,
    /// Milliseconds between two reads of a rollout's status.
    pub rollout_poll_ms: u64,
    /// Milliseconds between two looks for pending deployments.
    pub poll_interval_ms: u64,
    /// Seconds a claim on a running deployment holds unless renewed.
    pub lease_secs: u64,
    /// The most deployments one server runs at once.
    pub max_parallel: usize,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: String,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// How log lines are written.
    pub log_format: LogFormat,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// The database URL.
    pub url: String,
    /// Most pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection.
    pub acquire_timeout_secs: u64,
}

/// The defaults file looked for in the working directory.
const DEFAULT_FILE: &str = "config/default.toml";

impl Settings {
    /// Layers the configuration sources; `env` is the process environment (a parameter, so
    /// that tests need not change the real one).
    pub fn load(
        cli: &Cli,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut builder = Config::builder()
            .set_default("server.listen", "127.0.0.1:8080")?
            .set_default(
                "server.body_limit",
                kubernaut_api::DEFAULT_BODY_LIMIT as u64,
            )?
            .set_default("server.log_format", "text")?
            .set_default("database.url", "sqlite://kubernaut.db")?
            .set_default("database.max_connections", 10)?
            .set_default("database.acquire_timeout_secs", 5)?
            .set_default("cluster.kubeconfig", "")?
            .set_default("cluster.sandbox", false)?
            .set_default("cluster.allow_cluster_scoped", false)?
            .set_default("cluster.in_cluster", "auto")?
            .set_default(
                "cluster.in_cluster_context",
                kubernaut_cluster::IN_CLUSTER_CONTEXT,
            )?
            .set_default(
                "cluster.service_account_dir",
                kubernaut_cluster::SERVICE_ACCOUNT_DIR,
            )?
            .set_default("cluster.in_cluster_api_url", "")?
            .set_default("worker.rollout_timeout_secs", 300)?
            .set_default("worker.rollout_poll_ms", 2000)?
            .set_default("worker.poll_interval_ms", 1000)?
            .set_default("worker.lease_secs", 30)?
            .set_default("worker.max_parallel", 8)?
            .set_default("auth.bootstrap_token", "")?
            .set_default("auth.max_failures_per_minute", 30)?
            .add_source(File::from(Path::new(DEFAULT_FILE)).required(false));
        if let Some(path) = &cli.config {
            if !path.is_file() {
                anyhow::bail!("configuration file {} does not exist", path.display());
            }
            builder = builder.add_source(File::from(path.as_path()));
        }
        let env = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("KUBERNAUT__"))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("KUBERNAUT")
                .prefix_separator("__")
                .separator("__")
                .source(Some(env)),
        );
        if let Some(listen) = &cli.listen {
            builder = builder.set_override("server.listen", listen.as_str())?;
        }
        if let Some(format) = cli.log_format {
            let format = match format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            };
            builder = builder.set_override("server.log_format", format)?;
        }
        if let Some(url) = &cli.database_url {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        if let Some(path) = &cli.kubeconfig {
            builder =
                builder.set_override("cluster.kubeconfig", path.to_string_lossy().as_ref())?;
        }
        if cli.sandbox {
            builder = builder.set_override("cluster.sandbox", true)?;
        }
        let settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .context("invalid configuration")?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::parse_from(std::iter::once("kubernaut-server").chain(args.iter().copied()))
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let settings = Settings::load(&cli(&[]), env(&[])).unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:8080");
        assert_eq!(settings.database.url, "sqlite://kubernaut.db");
        assert_eq!(settings.server.body_limit, 2 * 1024 * 1024);
        assert_eq!(settings.cluster.kubeconfig, "");
        assert!(!settings.cluster.sandbox && !settings.cluster.allow_cluster_scoped);
        assert_eq!(settings.worker.rollout_timeout_secs, 300);
        assert_eq!(settings.auth.bootstrap_token.expose(), None);
        assert_eq!(settings.auth.max_failures_per_minute, 30);
    }

    #[test]
    fn the_bootstrap_token_comes_from_the_environment_and_never_shows_in_debug() {
        let secret = "knt_from-the-environment-0123456789abcdef";
        let settings = Settings::load(
            &cli(&[]),
            env(&[("KUBERNAUT__AUTH__BOOTSTRAP_TOKEN", secret)]),
        )
        .unwrap();
        assert_eq!(settings.auth.bootstrap_token.expose(), Some(secret));
        assert!(!format!("{settings:?}").contains(secret));
    }

    #[test]
    fn admin_token_takes_the_database_flags() {
        let cli = cli(&[
            "admin-token",
            "--name",
            "rescue",
            "--database-url",
            "sqlite://x.db",
        ]);
        assert_eq!(cli.database_url.as_deref(), Some("sqlite://x.db"));
        assert!(matches!(
            cli.command,
            Some(Command::AdminToken { ref name, expires_in_days: None }) if name == "rescue"
        ));
    }

    #[test]
    fn cluster_flags_and_environment() {
        let settings = Settings::load(
            &cli(&["--sandbox", "--kubeconfig", "/etc/k.yaml"]),
            env(&[("KUBERNAUT__WORKER__ROLLOUT_TIMEOUT_SECS", "60")]),
        )
        .unwrap();
        assert!(settings.cluster.sandbox);
        assert_eq!(settings.cluster.kubeconfig, "/etc/k.yaml");
        assert_eq!(settings.worker.rollout_timeout_secs, 60);
    }

    #[test]
    fn environment_overrides_defaults_and_flags_override_environment() {
        let vars = env(&[
            ("KUBERNAUT__DATABASE__URL", "postgres://db/k"),
            ("KUBERNAUT__SERVER__LISTEN", "0.0.0.0:80"),
            ("KUBERNAUT_TEST_DATABASE_URL", "ignored"),
        ]);
        let settings = Settings::load(&cli(&[]), vars.clone()).unwrap();
        assert_eq!(settings.database.url, "postgres://db/k");
        assert_eq!(settings.server.listen, "0.0.0.0:80");

        let settings = Settings::load(
            &cli(&["--listen", "127.0.0.1:9", "--database-url", "sqlite://x.db"]),
            vars,
        )
        .unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:9");
        assert_eq!(settings.database.url, "sqlite://x.db");
    }

    #[test]
    fn a_config_file_sets_keys_and_a_missing_one_is_an_error() {
        let dir = std::env::temp_dir().join(format!("kubernaut-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("k.toml");
        std::fs::write(&file, "[database]\nurl = \"sqlite://from-file.db\"\n").unwrap();
        let settings =
            Settings::load(&cli(&["--config", file.to_str().unwrap()]), env(&[])).unwrap();
        assert_eq!(settings.database.url, "sqlite://from-file.db");

        let err = Settings::load(&cli(&["--config", "/nonexistent/k.toml"]), env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration file /nonexistent/k.toml does not exist"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_in_cluster_context_is_automatic_by_default_and_configurable() {
        let settings = Settings::load(&cli(&[]), env(&[])).unwrap();
        assert_eq!(settings.cluster.in_cluster, InCluster::Auto);
        assert_eq!(
            settings.cluster.in_cluster_options(),
            Some(InClusterOptions::default())
        );

        let settings = Settings::load(
            &cli(&[]),
            env(&[
                ("KUBERNAUT__CLUSTER__IN_CLUSTER", "on"),
                ("KUBERNAUT__CLUSTER__IN_CLUSTER_CONTEXT", "home"),
                ("KUBERNAUT__CLUSTER__SERVICE_ACCOUNT_DIR", "/tmp/sa"),
                (
                    "KUBERNAUT__CLUSTER__IN_CLUSTER_API_URL",
                    "http://127.0.0.1:8001",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            settings.cluster.in_cluster_options(),
            Some(InClusterOptions {
                context: "home".into(),
                mode: InClusterMode::Required,
                service_account_dir: PathBuf::from("/tmp/sa"),
                api_url: Some("http://127.0.0.1:8001".into()),
            })
        );

        let off =
            Settings::load(&cli(&[]), env(&[("KUBERNAUT__CLUSTER__IN_CLUSTER", "off")])).unwrap();
        assert_eq!(off.cluster.in_cluster_options(), None);
        let err = Settings::load(&cli(&[]), env(&[("KUBERNAUT__CLUSTER__IN_CLUSTER", "yes")]))
            .unwrap_err();
        assert!(format!("{err:#}").contains("yes"), "{err:#}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            Settings::load(&cli(&[]), env(&[("KUBERNAUT__DATABASE__URLL", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("urll"), "{err:#}");
    }

    #[test]
    fn webhooks_come_from_the_entries_the_environment_or_a_file_but_one_place_only() {
        let json = r#"[{"name": "chat", "url": "https://chat.example.com/hook", "secret": "hush",
                        "events": ["deployment.failed"], "contexts": ["prod-*"],
                        "headers": {"X-Team": "platform"}}]"#;
        let settings = Settings::load(
            &cli(&[]),
            env(&[("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON", json)]),
        )
        .unwrap();
        assert!(!format!("{settings:?}").contains("hush"));
        let configs = settings.notifications.webhook_configs().unwrap();
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].name, "chat");
        assert_eq!(configs[0].secret.as_deref(), Some("hush"));
        assert_eq!(configs[0].events, ["deployment.failed"]);
        assert_eq!(configs[0].headers["X-Team"], "platform");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("webhooks.toml");
        std::fs::write(
            &file,
            "[[webhooks]]\nname = \"audit\"\nurl = \"http://audit.local/in\"\nsecret = \"s\"\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let settings = Settings::load(
            &cli(&[]),
            env(&[("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_FILE", path)]),
        )
        .unwrap();
        let configs = settings.notifications.webhook_configs().unwrap();
        assert_eq!(configs[0].name, "audit");
        assert_eq!(configs[0].url, "http://audit.local/in");

        let both = Settings::load(
            &cli(&[]),
            env(&[
                ("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_FILE", path),
                ("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON", json),
            ]),
        )
        .unwrap();
        assert_eq!(
            both.notifications
                .webhook_configs()
                .unwrap_err()
                .to_string(),
            "webhooks are set in more than one place: use one of [[notifications.webhooks]], \
             notifications.webhooks_json and notifications.webhooks_file"
        );
        let leaky = r#"[{"name": "chat", "url": "https://x", "headers": "Bearer hush"}]"#;
        let refused = Settings::load(
            &cli(&[]),
            env(&[("KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON", leaky)]),
        )
        .unwrap()
        .notifications
        .webhook_configs()
        .unwrap_err()
        .to_string();
        assert_eq!(
            refused,
            "notifications.webhooks_json is not a JSON array of webhooks: invalid type: string \
             \"...\", expected a map at line 1 column 62"
        );
        let defaults = Settings::load(&cli(&[]), env(&[])).unwrap();
        assert!(defaults.notifications.webhook_configs().unwrap().is_empty());
        assert_eq!(defaults.notifications.max_attempts, 10);
    }
}
