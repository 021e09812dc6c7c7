//! The contexts a server can deploy to: those of the kubeconfig, and the built-in sandbox.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::cluster::Cluster;
use crate::error::{ClusterError, error_chain};
use crate::kube_cluster::KubeCluster;
use crate::sandbox::Sandbox;

/// The name of the built-in sandbox context.
pub const SANDBOX_CONTEXT: &str = "sandbox";

/// Where a context comes from. Serialized and displayed as `kubeconfig` or `sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextKind {
    /// A context of the kubeconfig: a real cluster.
    Kubeconfig,
    /// The built-in in-memory [`Sandbox`].
    Sandbox,
}

impl fmt::Display for ContextKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Kubeconfig => "kubeconfig",
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
}

impl Context {
    fn kind(&self) -> ContextKind {
        match self {
            Self::Ready { kind, .. } => *kind,
            Self::Kubeconfig { .. } => ContextKind::Kubeconfig,
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
    /// Reads the kubeconfig and adds the built-in [`SANDBOX_CONTEXT`] when `sandbox` is true.
    /// Does not contact any cluster.
    ///
    /// With an explicit path, the file must be readable and parse, else the error names the
    /// path and the reason. Without one, the files listed in `$KUBECONFIG` are merged as kubectl
    /// does, or else `~/.kube/config` is read; files that do not exist are skipped (no
    /// kubeconfig contexts at all is fine), files that exist but do not read or parse are
    /// errors. A kubeconfig context named `sandbox` is an error when the sandbox is enabled.
    ///
    /// Also installs rustls' ring `CryptoProvider` as the process default, unless one is
    /// installed already: kube's rustls client configuration needs one as soon as more than
    /// one provider is compiled in (test builds pull in aws-lc-rs too).
    pub fn load(kubeconfig: Option<&Path>, sandbox: bool) -> Result<Self, ClusterError> {
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
        if sandbox {
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

    /// The cluster of a context; `Ok(None)` for an unknown name. A kubeconfig context's client
    /// is built on first use and kept; building it does not contact the cluster, and an error
    /// (unknown cluster or user, unreadable certificate, ...) names the context.
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
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_kinds_serialize_and_display_in_lower_case() {
        for (kind, text) in [
            (ContextKind::Kubeconfig, "kubeconfig"),
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
}
