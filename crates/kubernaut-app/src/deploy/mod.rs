//! Deploy orchestration, free of HTTP types: rendering a release for a context into objects
//! that may be applied ([`objects`]), and the [`Worker`] that claims deployments from the store
//! and runs them against their context's cluster.

mod run;
mod slots;
mod watch;
mod worker;

use kubernaut_cluster::{Object, is_cluster_scoped};
use kubernaut_domain::{ContextName, Namespace, ReleaseDetail};
use kubernaut_template::{Manifest, Template, TemplateError};
use thiserror::Error;

pub use worker::{Worker, WorkerOptions};

use tokio::sync::Notify;

/// What the API and the worker of one server tell each other, so that neither waits for its
/// next poll: a deployment was stored, a deployment ended.
#[derive(Debug, Default)]
pub struct Signals {
    stored: Notify,
    ended: Notify,
}

impl Signals {
    /// Wakes the worker: a deployment was stored.
    pub fn stored(&self) {
        self.stored.notify_one();
    }

    /// Wakes every waiting request: a deployment ended.
    pub fn ended(&self) {
        self.ended.notify_waiters();
    }

    /// Completes when a deployment was stored (or had been, since the last call).
    pub async fn wait_stored(&self) {
        self.stored.notified().await;
    }

    /// A future that completes at the next [`Signals::ended`]; registered at once, so that an
    /// end signalled between this call and its `.await` is not missed.
    pub fn next_end(&self) -> impl Future<Output = ()> + '_ {
        let mut notified = Box::pin(self.ended.notified());
        notified.as_mut().enable();
        notified
    }
}

/// Why a release cannot be deployed as rendered.
#[derive(Debug, Error)]
pub enum DeployError {
    /// The template does not render, or a rendered document is not a valid object.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A document is of a cluster-scoped kind, and configuration does not allow those.
    #[error(
        "document {document} ({kind}/{name}) is of a cluster-scoped kind; kubernaut applies \
         objects into the service's namespace only, unless the server is configured with \
         cluster.allow_cluster_scoped = true"
    )]
    ClusterScoped {
        /// The document's 1-based position.
        document: usize,
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
    },
    /// A document holds YAML that JSON cannot express (e.g. a non-string key).
    #[error("document {document} cannot be sent to Kubernetes as JSON: {message}")]
    NotJson {
        /// The document's 1-based position.
        document: usize,
        /// What is wrong.
        message: String,
    },
}

/// Renders `release`, whose compiled template is `template`, for `context`, and checks that
/// every document may be applied.
pub fn render(
    release: &ReleaseDetail,
    template: &Template,
    context: &ContextName,
    allow_cluster_scoped: bool,
) -> Result<Manifest, DeployError> {
    let release_context = release.release.render_context(context);
    let manifest = template.render(&release_context, release.release.service.namespace.as_str())?;
    objects(
        &manifest,
        &release.release.service.namespace,
        allow_cluster_scoped,
    )?;
    Ok(manifest)
}

/// The objects of a checked manifest, namespaced objects forced into `namespace`; cluster-scoped
/// kinds are refused unless `allow_cluster_scoped`.
pub fn objects(
    manifest: &Manifest,
    namespace: &Namespace,
    allow_cluster_scoped: bool,
) -> Result<Vec<Object>, DeployError> {
    manifest
        .documents
        .iter()
        .map(|document| {
            let cluster_scoped = is_cluster_scoped(&document.api_version, &document.kind);
            if cluster_scoped && !allow_cluster_scoped {
                return Err(DeployError::ClusterScoped {
                    document: document.index,
                    kind: document.kind.clone(),
                    name: document.name.clone(),
                });
            }
            let mut body =
                serde_json::to_value(&document.value).map_err(|e| DeployError::NotJson {
                    document: document.index,
                    message: e.to_string(),
                })?;
            if !cluster_scoped && let Some(metadata) = body.get_mut("metadata") {
                metadata["namespace"] = namespace.as_str().into();
            }
            Ok(Object {
                api_version: document.api_version.clone(),
                kind: document.kind.clone(),
                name: document.name.clone(),
                body,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(yaml: &str) -> Manifest {
        Manifest::parse(yaml.to_owned(), "jobs").unwrap()
    }

    #[test]
    fn namespaced_objects_are_forced_into_the_namespace() {
        let objects = objects(
            &manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"),
            &Namespace::parse("jobs").unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(objects[0].body["metadata"]["namespace"], "jobs");
        assert_eq!(objects[0].display_name(), "configmap/cfg");
    }

    #[test]
    fn cluster_scoped_kinds_are_refused_unless_allowed() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n---\n\
                    apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
                    metadata:\n  name: admin\n";
        let namespace = Namespace::parse("jobs").unwrap();
        let error = objects(&manifest(yaml), &namespace, false).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("document 2 (ClusterRoleBinding/admin) is of a cluster-scoped kind"),
            "{error}"
        );
        let allowed = objects(&manifest(yaml), &namespace, true).unwrap();
        assert_eq!(allowed.len(), 2);
        assert!(allowed[1].body["metadata"].get("namespace").is_none());
    }
}
