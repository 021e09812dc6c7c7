//! The contexts a server can deploy to: those of the kubeconfig, the cluster the server runs
//! in, and the built-in sandbox.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kubernaut_domain::ContextName;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::cluster::Cluster;
use crate::error::{ClusterError, error_chain};
use crate::in_cluster::{self, InClusterOptions};
use crate::kube_cluster::KubeCluster;
use crate::sandbox::Sandbox;

/// The name of the built-in sandbox context.
pub const SANDBOX_CONTEXT: &str = "sandbox";

/// Where a context comes from. Serialized and displayed as `kubeconfig`, `in-cluster` or
/// `sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextKind {
    /// A context of the kubeconfig: a real cluster.
    Kubeconfig,
    /// The cluster the server runs in, through its pod's ServiceAccount.
    InCluster,
    /// The built-in in-memory [`Sandbox`].
    Sandbox,
}

impl fmt::Display for ContextKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Kubeconfig => "kubeconfig",
            Self::InCluster => "in-cluster",
            Self::Sandbox => "sandbox",
        })
    }
}

/// A context's name and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextInfo {
    /// The context's name.
    pub name: String,
    /// Where it comes from.
    pub kind: ContextKind,
}

enum Context {
    /// A cluster given as is.
    Ready {
        kind: ContextKind,
        cluster: Arc<dyn Cluster>,
    },
    /// A kubeconfig context whose client is built on first use.
    Kubeconfig {
        kubeconfig: Arc<Kubeconfig>,
        cluster: OnceCell<Arc<dyn Cluster>>,
    },
    /// The cluster the server runs in, whose client is built on first use.
    InCluster {
        config: Box<kube::Config>,
        cluster: OnceCell<Arc<dyn Cluster>>,
    },
}

impl Context {
    fn kind(&self) -> ContextKind {
        match self {
            Self::Ready { kind, .. } => *kind,
            Self::Kubeconfig { .. } => ContextKind::Kubeconfig,
            Self::InCluster { .. } => ContextKind::InCluster,
        }
    }
}

/// The contexts a server can deploy to.
pub struct Contexts {
    contexts: BTreeMap<String, Context>,
}

impl fmt::Debug for Contexts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names and kinds only: a kubeconfig holds credentials.
        f.debug_map()
            .entries(
                self.contexts
                    .iter()
                    .map(|(name, context)| (name, context.kind())),
            )
            .finish()
    }
}

impl Contexts {
    /// Reads the kubeconfig, adds the cluster the server runs in as `in_cluster` says (see
    /// [`InClusterOptions`]; `None`: never), and adds the built-in [`SANDBOX_CONTEXT`] when
    /// `sandbox` is true. Does not contact any cluster.
    ///
    /// With an explicit path, the file must be readable and parse, else the error names the
    /// path and the reason. Without one, the files listed in `$KUBECONFIG` are merged as kubectl
    /// does, or else `~/.kube/config` is read; files that do not exist are skipped (no
    /// kubeconfig contexts at all is fine), files that exist but do not read or parse are
    /// errors.
    ///
    /// The in-cluster context's files (the ServiceAccount token, and with HTTPS its CA) are read
    /// once here, so that a missing or unreadable one is an error now rather than at the first
    /// deployment; its client is built on first use like a kubeconfig context's. Names must not
    /// clash: a kubeconfig context named like the in-cluster context, or either named `sandbox`
    /// while the sandbox is enabled, is an error, and so is an in-cluster context name that is
    /// not a valid context name.
    ///
    /// Also installs rustls' ring `CryptoProvider` as the process default, unless one is
    /// installed already: kube's rustls client configuration needs one as soon as more than
    /// one provider is compiled in (test builds pull in aws-lc-rs too).
    pub fn load(
        kubeconfig: Option<&Path>,
        sandbox: bool,
        in_cluster: Option<&InClusterOptions>,
    ) -> Result<Self, ClusterError> {
        Self::load_with_env(kubeconfig, sandbox, in_cluster, |name| {
            std::env::var(name).ok()
        })
    }

    /// [`Contexts::load`] with `env` reading the environment variables.
    fn load_with_env(
        kubeconfig: Option<&Path>,
        sandbox: bool,
        in_cluster: Option<&InClusterOptions>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ClusterError> {
        install_crypto_provider();
        let kubeconfig = match kubeconfig {
            Some(path) => Some(read_kubeconfig(path)?),
            None => default_kubeconfig()?,
        };
        let mut contexts = BTreeMap::new();
        if let Some(kubeconfig) = kubeconfig.map(Arc::new) {
            for named in &kubeconfig.contexts {
                contexts.insert(
                    named.name.clone(),
                    Context::Kubeconfig {
                        kubeconfig: Arc::clone(&kubeconfig),
                        cluster: OnceCell::new(),
                    },
                );
            }
        }
        let in_cluster_name = match in_cluster {
            Some(options) => add_in_cluster(&mut contexts, options, &env)?,
            None => None,
        };
        if sandbox {
            if in_cluster_name.as_deref() == Some(SANDBOX_CONTEXT) {
                return Err(ClusterError::InCluster {
                    context: SANDBOX_CONTEXT.to_owned(),
                    reason: "the built-in sandbox context has this name; give the in-cluster \
                             context another name or disable the sandbox"
                        .to_owned(),
                });
            }
            if contexts.contains_key(SANDBOX_CONTEXT) {
                return Err(ClusterError::Context {
                    context: SANDBOX_CONTEXT.to_owned(),
                    reason: "the built-in sandbox context has this name; rename the kubeconfig \
                             context or disable the sandbox"
                        .to_owned(),
                });
            }
            contexts.insert(
                SANDBOX_CONTEXT.to_owned(),
                Context::Ready {
                    kind: ContextKind::Sandbox,
                    cluster: Arc::new(Sandbox::default()),
                },
            );
        }
        Ok(Self { contexts })
    }

    /// Contexts from given clusters (tests).
    pub fn from_clusters(clusters: Vec<(String, ContextKind, Arc<dyn Cluster>)>) -> Self {
        let contexts = clusters
            .into_iter()
            .map(|(name, kind, cluster)| (name, Context::Ready { kind, cluster }))
            .collect();
        Self { contexts }
    }

    /// All contexts, sorted by name.
    pub fn list(&self) -> Vec<ContextInfo> {
        self.contexts
            .iter()
            .map(|(name, context)| ContextInfo {
                name: name.clone(),
                kind: context.kind(),
            })
            .collect()
    }

    /// Whether a context of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.contexts.contains_key(name)
    }

    /// The cluster of a context; `Ok(None)` for an unknown name. A kubeconfig or in-cluster
    /// context's client is built on first use and kept; building it does not contact the
    /// cluster, and an error (unknown cluster or user, unreadable certificate, ...) names the
    /// context.
    pub async fn cluster(&self, name: &str) -> Result<Option<Arc<dyn Cluster>>, ClusterError> {
        match self.contexts.get(name) {
            None => Ok(None),
            Some(Context::Ready { cluster, .. }) => Ok(Some(Arc::clone(cluster))),
            Some(Context::Kubeconfig {
                kubeconfig,
                cluster,
            }) => cluster
                .get_or_try_init(|| connect(kubeconfig, name))
                .await
                .map(|cluster| Some(Arc::clone(cluster))),
            Some(Context::InCluster { config, cluster }) => cluster
                .get_or_try_init(|| async { connect_in_cluster(config, name) })
                .await
                .map(|cluster| Some(Arc::clone(cluster))),
        }
    }
}

/// Adds the in-cluster context when `options` say so and kubernaut runs in a pod; its name
/// when added.
fn add_in_cluster(
    contexts: &mut BTreeMap<String, Context>,
    options: &InClusterOptions,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ClusterError> {
    let name = &options.context;
    let refused = |reason: String| ClusterError::InCluster {
        context: name.clone(),
        reason,
    };
    ContextName::parse(name).map_err(|error| refused(error.to_string()))?;
    let Some(config) = in_cluster::config(options, env)? else {
        return Ok(None);
    };
    if contexts.contains_key(name) {
        return Err(ClusterError::Context {
            context: name.clone(),
            reason: "the in-cluster context (the cluster kubernaut runs in) has this name; \
                     rename the kubeconfig context, or rename or disable the in-cluster context"
                .to_owned(),
        });
    }
    log::debug!(
        "in-cluster context {name:?}: API server {}",
        config.cluster_url
    );
    contexts.insert(
        name.clone(),
        Context::InCluster {
            config: Box::new(config),
            cluster: OnceCell::new(),
        },
    );
    Ok(Some(name.clone()))
}

fn install_crypto_provider() {
    // An error only says that a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path).map_err(|error| ClusterError::Kubeconfig {
        path: path.to_owned(),
        reason: match error {
            KubeconfigError::ReadConfig(io, _) => io.to_string(),
            other => error_chain(&other),
        },
    })
}

/// The kubeconfig files to read when none is given: those listed in `$KUBECONFIG`, or else
/// `~/.kube/config`.
fn default_kubeconfig_paths(
    kubeconfig_variable: Option<OsString>,
    home: Option<PathBuf>,
) -> Vec<PathBuf> {
    match kubeconfig_variable.filter(|value| !value.is_empty()) {
        Some(value) => std::env::split_paths(&value)
            .filter(|path| !path.as_os_str().is_empty())
            .collect(),
        None => home
            .map(|home| home.join(".kube").join("config"))
            .into_iter()
            .collect(),
    }
}

/// The default kubeconfig files that exist, merged as kubectl does (the first to set a value
/// wins); `None` when none exists.
fn default_kubeconfig() -> Result<Option<Kubeconfig>, ClusterError> {
    read_existing(&default_kubeconfig_paths(
        std::env::var_os("KUBECONFIG"),
        std::env::home_dir(),
    ))
}

fn read_existing(paths: &[PathBuf]) -> Result<Option<Kubeconfig>, ClusterError> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.iter().filter(|path| path.exists()) {
        let next = read_kubeconfig(path)?;
        merged = Some(match merged {
            None => next,
            Some(merged) => merged
                .merge(next)
                .map_err(|error| ClusterError::Kubeconfig {
                    path: path.clone(),
                    reason: error_chain(&error),
                })?,
        });
    }
    Ok(merged)
}

async fn connect(kubeconfig: &Kubeconfig, context: &str) -> Result<Arc<dyn Cluster>, ClusterError> {
    let refused = |reason: String| ClusterError::Context {
        context: context.to_owned(),
        reason,
    };
    install_crypto_provider();
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
        .await
        .map_err(|error| refused(error_chain(&error)))?;
    let client = Client::try_from(config).map_err(|error| refused(error_chain(&error)))?;
    Ok(Arc::new(KubeCluster::for_context(client, context)))
}

fn connect_in_cluster(
    config: &kube::Config,
    context: &str,
) -> Result<Arc<dyn Cluster>, ClusterError> {
    install_crypto_provider();
    let client = Client::try_from(config.clone()).map_err(|error| ClusterError::InCluster {
        context: context.to_owned(),
        reason: error_chain(&error),
    })?;
    Ok(Arc::new(KubeCluster::for_context(client, context)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_kinds_serialize_and_display_in_lower_case() {
        for (kind, text) in [
            (ContextKind::Kubeconfig, "kubeconfig"),
            (ContextKind::InCluster, "in-cluster"),
            (ContextKind::Sandbox, "sandbox"),
        ] {
            assert_eq!(kind.to_string(), text);
            assert_eq!(serde_json::to_value(kind).unwrap(), text);
            assert_eq!(
                serde_json::from_value::<ContextKind>(text.into()).unwrap(),
                kind
            );
        }
    }

    #[tokio::test]
    async fn contexts_from_clusters_are_listed_sorted_and_found_by_name() {
        let contexts = Contexts::from_clusters(vec![
            (
                "zeta".into(),
                ContextKind::Kubeconfig,
                Arc::new(Sandbox::default()) as Arc<dyn Cluster>,
            ),
            (
                "alpha".into(),
                ContextKind::Sandbox,
                Arc::new(Sandbox::default()),
            ),
        ]);
        assert_eq!(
            contexts.list(),
            [
                ContextInfo {
                    name: "alpha".into(),
                    kind: ContextKind::Sandbox
                },
                ContextInfo {
                    name: "zeta".into(),
                    kind: ContextKind::Kubeconfig
                },
            ]
        );
        assert!(contexts.contains("alpha"));
        assert!(!contexts.contains("beta"));
        assert!(contexts.cluster("zeta").await.unwrap().is_some());
        assert!(contexts.cluster("beta").await.unwrap().is_none());
        assert_eq!(
            format!("{contexts:?}"),
            "{\"alpha\": Sandbox, \"zeta\": Kubeconfig}"
        );
    }

    #[test]
    fn kubeconfig_lists_paths_or_else_the_home_config() {
        let home = Some(PathBuf::from("/home/ci"));
        assert_eq!(
            default_kubeconfig_paths(None, home.clone()),
            [PathBuf::from("/home/ci/.kube/config")]
        );
        assert_eq!(
            default_kubeconfig_paths(Some("".into()), home.clone()),
            [PathBuf::from("/home/ci/.kube/config")]
        );
        assert_eq!(
            default_kubeconfig_paths(Some("/a/one::/b/two".into()), home),
            [PathBuf::from("/a/one"), PathBuf::from("/b/two")]
        );
        assert_eq!(default_kubeconfig_paths(None, None), Vec::<PathBuf>::new());
    }

    fn kubeconfig(context: &str, server: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {context}\n\
             clusters:\n- name: {context}\n  cluster:\n    server: {server}\n\
             users:\n- name: {context}\n  user:\n    token: secret\n\
             contexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {context}\n"
        )
    }

    #[test]
    fn existing_default_files_are_merged_and_missing_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one");
        let two = dir.path().join("two");
        std::fs::write(&one, kubeconfig("dev", "https://127.0.0.1:6443")).unwrap();
        std::fs::write(&two, kubeconfig("prod", "https://127.0.0.1:7443")).unwrap();
        let missing = dir.path().join("missing");

        let merged = read_existing(&[one, missing.clone(), two])
            .unwrap()
            .unwrap();
        let names: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["dev", "prod"]);
        assert_eq!(merged.current_context.as_deref(), Some("dev"));

        assert!(
            read_existing(std::slice::from_ref(&missing))
                .unwrap()
                .is_none()
        );
        assert!(read_existing(&[]).unwrap().is_none());

        let broken = dir.path().join("broken");
        std::fs::write(&broken, "clusters: [unclosed").unwrap();
        let error = read_existing(&[missing, broken.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("cannot read kubeconfig {}: ", broken.display())),
            "{error}"
        );
    }

    mod in_cluster {
        use std::io::{BufRead, BufReader, Write};
        use std::net::TcpListener;

        use serde_json::json;

        use super::kubeconfig;
        use crate::in_cluster::tests::{CA, service_account};
        use crate::*;

        fn pod(host: &str, port: u16) -> impl Fn(&str) -> Option<String> {
            let host = host.to_owned();
            move |name| match name {
                "KUBERNETES_SERVICE_HOST" => Some(host.clone()),
                "KUBERNETES_SERVICE_PORT" => Some(port.to_string()),
                _ => None,
            }
        }

        fn no_pod(_: &str) -> Option<String> {
            None
        }

        fn options(dir: &tempfile::TempDir) -> InClusterOptions {
            InClusterOptions {
                service_account_dir: dir.path().to_owned(),
                ..InClusterOptions::default()
            }
        }

        fn info(name: &str, kind: ContextKind) -> ContextInfo {
            ContextInfo {
                name: name.to_owned(),
                kind,
            }
        }

        fn config_map() -> Object {
            Object {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: "cfg".into(),
                body: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}),
            }
        }

        fn free_port() -> u16 {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        }

        #[test]
        fn in_a_pod_the_in_cluster_context_is_listed_beside_the_others() {
            let sa = service_account(&[("token", "jwt-secret"), ("ca.crt", CA)]);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config");
            std::fs::write(&path, kubeconfig("dev", "https://127.0.0.1:6443")).unwrap();
            let contexts = Contexts::load_with_env(
                Some(&path),
                true,
                Some(&options(&sa)),
                pod("10.96.0.1", 443),
            )
            .unwrap();
            assert_eq!(
                contexts.list(),
                [
                    info("dev", ContextKind::Kubeconfig),
                    info("in-cluster", ContextKind::InCluster),
                    info("sandbox", ContextKind::Sandbox),
                ]
            );
            assert_eq!(
                format!("{contexts:?}"),
                "{\"dev\": Kubeconfig, \"in-cluster\": InCluster, \"sandbox\": Sandbox}"
            );

            let renamed = InClusterOptions {
                context: "home".into(),
                ..options(&sa)
            };
            let contexts =
                Contexts::load_with_env(None, false, Some(&renamed), pod("10.96.0.1", 443))
                    .unwrap();
            assert_eq!(contexts.list(), [info("home", ContextKind::InCluster)]);
        }

        #[test]
        fn outside_a_pod_or_when_disabled_there_is_none() {
            let sa = service_account(&[("token", "jwt"), ("ca.crt", CA)]);
            let auto = Contexts::load_with_env(None, true, Some(&options(&sa)), no_pod).unwrap();
            assert_eq!(auto.list(), [info("sandbox", ContextKind::Sandbox)]);
            let disabled =
                Contexts::load_with_env(None, false, None, pod("10.96.0.1", 443)).unwrap();
            assert_eq!(disabled.list(), []);
            let required = InClusterOptions {
                mode: InClusterMode::Required,
                ..options(&sa)
            };
            assert_eq!(
                Contexts::load_with_env(None, false, Some(&required), no_pod)
                    .unwrap_err()
                    .to_string(),
                "cannot use the in-cluster context \"in-cluster\": \
                 KUBERNETES_SERVICE_HOST is not set (not in a pod?)"
            );
        }

        #[test]
        fn names_must_not_clash_and_must_be_valid() {
            let sa = service_account(&[("token", "jwt"), ("ca.crt", CA)]);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config");
            std::fs::write(&path, kubeconfig("in-cluster", "https://127.0.0.1:6443")).unwrap();
            let load = |options: &InClusterOptions, sandbox: bool| {
                Contexts::load_with_env(Some(&path), sandbox, Some(options), pod("10.0.0.1", 443))
            };
            assert_eq!(
                load(&options(&sa), false).unwrap_err().to_string(),
                "cannot use kubeconfig context \"in-cluster\": the in-cluster context (the \
                 cluster kubernaut runs in) has this name; rename the kubeconfig context, or \
                 rename or disable the in-cluster context"
            );
            // Outside a pod the kubeconfig context keeps its name.
            let outside =
                Contexts::load_with_env(Some(&path), false, Some(&options(&sa)), no_pod).unwrap();
            assert_eq!(
                outside.list(),
                [info("in-cluster", ContextKind::Kubeconfig)]
            );

            let sandbox = InClusterOptions {
                context: "sandbox".into(),
                ..options(&sa)
            };
            assert_eq!(
                load(&sandbox, true).unwrap_err().to_string(),
                "cannot use the in-cluster context \"sandbox\": the built-in sandbox context has \
                 this name; give the in-cluster context another name or disable the sandbox"
            );
            assert_eq!(
                load(&sandbox, false).unwrap().list(),
                [
                    info("in-cluster", ContextKind::Kubeconfig),
                    info("sandbox", ContextKind::InCluster),
                ]
            );

            let invalid = InClusterOptions {
                context: "in cluster".into(),
                ..options(&sa)
            };
            let error = load(&invalid, false).unwrap_err().to_string();
            assert!(
                error.starts_with("cannot use the in-cluster context \"in cluster\": "),
                "{error}"
            );
        }

        #[tokio::test]
        async fn the_https_client_is_built_on_first_use_and_names_the_context() {
            let sa = service_account(&[("token", "jwt"), ("ca.crt", CA)]);
            let contexts = Contexts::load_with_env(
                None,
                false,
                Some(&options(&sa)),
                pod("127.0.0.1", free_port()),
            )
            .unwrap();
            let cluster = contexts
                .cluster("in-cluster")
                .await
                .unwrap()
                .expect("context");
            let error = cluster.apply("team", &config_map()).await.unwrap_err();
            assert!(
                matches!(error, ClusterError::Unreachable { .. }),
                "{error:?}"
            );
            assert!(
                error.to_string().starts_with(
                    "cannot reach the API server of context \"in-cluster\" about configmap/cfg: "
                ),
                "{error}"
            );
        }

        #[tokio::test]
        async fn the_service_account_token_is_sent_as_bearer() {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let server = std::thread::spawn(move || {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_owned());
                }
                let mut stream = stream;
                stream
                    .write_all(
                        b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\
                          connection: close\r\n\r\n",
                    )
                    .unwrap();
                head
            });
            let sa = service_account(&[("token", "jwt-from-the-file")]);
            let options = InClusterOptions {
                mode: InClusterMode::Required,
                api_url: Some(format!("http://{address}")),
                ..options(&sa)
            };
            let contexts = Contexts::load_with_env(None, false, Some(&options), no_pod).unwrap();
            let cluster = contexts
                .cluster("in-cluster")
                .await
                .unwrap()
                .expect("context");
            assert!(cluster.apply("team", &config_map()).await.is_err());
            let head = server.join().unwrap();
            assert!(
                head.iter().any(
                    |line| line.eq_ignore_ascii_case("authorization: Bearer jwt-from-the-file")
                ),
                "{head:?}"
            );
        }
    }
}
