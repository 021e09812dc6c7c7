use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong when reading contexts or talking to a cluster. Each message says which
/// kubeconfig, context or object, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClusterError {
    /// A kubeconfig file cannot be read or parsed.
    #[error("cannot read kubeconfig {}: {reason}", path.display())]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// The I/O or parse error.
        reason: String,
    },
    /// A kubeconfig context cannot be turned into a client (unknown cluster or user, bad
    /// certificate, a name taken by the sandbox, ...).
    #[error("cannot use kubeconfig context {context:?}: {reason}")]
    Context {
        /// The context's name.
        context: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The cluster kubernaut runs in cannot be used as a context (not in a pod, a missing or
    /// unreadable ServiceAccount file, a bad API server URL, a name taken by another context).
    #[error("cannot use the in-cluster context {context:?}: {reason}")]
    InCluster {
        /// The context's name.
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// The object cannot be sent as given (its body is not a JSON object with metadata).
    #[error("{object} cannot be applied: {reason}")]
    InvalidObject {
        /// The object, as `deployment.apps/hello`.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The API server answered a request about an object with an error status (conflict,
    /// invalid, forbidden, not found, internal error, server-side timeout, ...).
    #[error("{object} was rejected by the API server ({code} {reason}): {message}")]
    Rejected {
        /// The object, as `deployment.apps/hello`.
        object: String,
        /// The HTTP status code.
        code: u16,
        /// The API server's machine-readable reason, e.g. `Invalid` or `Conflict`.
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// The API server could not be reached or did not answer in time.
    #[error("cannot reach {server} about {object}: {reason}")]
    Unreachable {
        /// Which API server: `the API server of context "prod"`.
        server: String,
        /// The object, as `deployment.apps/hello`.
        object: String,
        /// The connection, TLS or timeout error.
        reason: String,
    },
    /// The API server answered something that is not what the request expects.
    #[error("unexpected answer from {server} about {object}: {reason}")]
    UnexpectedResponse {
        /// Which API server: `the API server of context "prod"`.
        server: String,
        /// The object, as `deployment.apps/hello`.
        object: String,
        /// What could not be understood.
        reason: String,
    },
    /// The ApplySet of a service cannot be used as asked: its parent object exists but is not
    /// kubernaut's (another tool's, or not a parent at all), or a manifest object claims
    /// membership of another set or is the parent itself.
    #[error("ApplySet {parent}: {reason}")]
    ApplySet {
        /// The parent object, as `secret/kubernaut-hello`.
        parent: String,
        /// What is wrong.
        reason: String,
    },
    /// The cluster does not offer this operation (a test double that implements only part of
    /// [`Cluster`](crate::Cluster)).
    #[error("{operation} is not supported by this cluster")]
    Unsupported {
        /// The operation: `dry run`, `listing ApplySet members`, `delete`, `get`.
        operation: String,
    },
}

/// An error with its chain of causes, each cause once: `a: b: c`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
