//! Applies kubernaut's manifests to Kubernetes clusters (dry runs, ApplySets and pruning
//! included) and reads rollout status and the health of live objects.
//!
//! A [`Cluster`] server-side applies [`Object`]s and reports the [`Rollout`] of a
//! [`Workload`]. There are two: [`KubeCluster`], a real API server through kube-rs, one per
//! kubeconfig context and one for the cluster the server runs in, and [`Sandbox`], in memory.
//! [`Contexts`] holds the contexts a server can deploy to. This is the only crate that uses kube.
//!
//! # The in-cluster context
//!
//! When the server runs in a pod, the cluster it runs in is a context too (see
//! [`InClusterOptions`]): its API server is `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`
//! (or a configured URL), its credentials the pod's ServiceAccount token, which kube re-reads
//! at least once a minute so that rotated tokens are used, and its CA `ca.crt` beside the token.
//!
//! # Applying
//!
//! Objects go in [`apply_order`]. Each apply is a server-side apply with field manager
//! `kubernaut` and `force` (kubernaut owns what its manifests say, whoever set it before), into
//! the deployment's namespace. The outcome is told as kubectl does: [`Applied::Created`],
//! [`Applied::Configured`] or [`Applied::Unchanged`].
//!
//! # Rollouts
//!
//! The rules are those of `kubectl rollout status` (see [`kubernaut_domain::deployment_rollout`]
//! and its siblings). On top, while a workload is progressing, a container of a pod of its
//! newest revision stuck in `ImagePullBackOff`, `ErrImagePull` or `CrashLoopBackOff` fails the
//! rollout at once, naming the pod, the container and the kubelet's message. A StatefulSet or
//! DaemonSet has no failure state of its own: the caller's timeout turns "still progressing"
//! into a failure.
//!
//! # Dry runs
//!
//! [`Cluster::dry_run`] tells what applying an object would do without doing it: a server-side
//! apply with `dryRun=All`, compared with the live object into a [`DryRun`]: its
//! [`DryRunAction`] (`create`, `configure`, `unchanged`) and the unified diff of the two as YAML,
//! without what the API server owns (managed fields, resource version, generation, uid,
//! creation time, status) and with a Secret's values masked as `kubectl diff` masks them.
//! [`ApplySet::dry_run`] does it for a whole manifest, adding a `prune` for each member a
//! deployment would delete.
//!
//! # ApplySets and pruning
//!
//! The objects of one service in one namespace form an [`ApplySet`] (KEP-3659): each is labelled
//! `applyset.kubernetes.io/part-of=<id>`, and the parent Secret `kubernaut-<service>` carries
//! the id, the tooling `kubernaut/v1` and the group-kinds of its members, so that kubectl
//! recognises the set. After a successful rollout, the members the manifest no longer holds are
//! deleted ([`ApplySet::prunable_members`], [`Cluster::delete`]); an object without the set's
//! label is never deleted, whatever its name. [`ApplySet`] documents the steps of a deployment.
//!
//! # Live objects
//!
//! [`ApplySet::live`] lists the members as the cluster has them ([`Cluster::members`]);
//! [`health`](fn@health) tells how each is doing ([`Health`]): the rollout rules for
//! Deployments, StatefulSets and DaemonSets, Argo CD's rules for Pods, Jobs,
//! PersistentVolumeClaims and Services, healthy for kinds without status (ConfigMap, Secret, ...).
//!
//! # The sandbox
//!
//! [`Sandbox`] keeps applied objects in memory, so that the whole flow runs without a cluster.
//! Its rollouts are done at once, unless the workload (its own `metadata.annotations`, not its
//! pod template's) says otherwise:
//!
//! | annotation | value | rollout |
//! |---|---|---|
//! | `kubernaut.io/sandbox-rollout` | absent or `done` | `Done` |
//! | `kubernaut.io/sandbox-rollout` | `failed` | `Failed`, with the message below |
//! | `kubernaut.io/sandbox-rollout` | `progressing` | `Progressing` forever, so that a timeout can be rehearsed |
//! | `kubernaut.io/sandbox-message` | any text | the reason given with `failed` or `progressing` |
//!
//! Without `kubernaut.io/sandbox-message` the reason is "sandbox rollout failed as requested by
//! the kubernaut.io/sandbox-rollout annotation" (or "... progressing ..."). Any other value of
//! `kubernaut.io/sandbox-rollout` fails the rollout with a message naming it.
//!
//! The sandbox keeps objects as applied, labels included, so ApplySets, members, deletes and dry
//! runs (against what it keeps, changing nothing) work as on a cluster. As a stand-in for the
//! controllers, it shows each `apps/v1` workload it returns ([`Cluster::get`],
//! [`Cluster::members`]) with the status its rollout implies, so that its
//! [`health`](fn@health) agrees: a done rollout is healthy, a failed Deployment degraded (with
//! the message), anything else progressing.
//!
//! # TLS
//!
//! kube is built with rustls and the ring crypto provider. [`Contexts::load`] installs ring's
//! `CryptoProvider` as the process default (keeping one that is already installed), because
//! rustls cannot choose by itself when more than one provider is compiled in, as in test builds
//! where kube-fake-client's dependencies bring aws-lc-rs.

mod applyset;
mod cluster;
mod contexts;
mod diff;
mod error;
mod health;
mod in_cluster;
mod kinds;
mod kube_cluster;
mod kube_rollouts;
mod object;
mod pods;
mod sandbox;
mod states;

pub use applyset::{APPLYSET_PARENT_PREFIX, ApplySet};
pub use cluster::{Applied, Cluster, FIELD_MANAGER};
pub use contexts::{ContextInfo, ContextKind, Contexts, SANDBOX_CONTEXT};
pub use diff::{DryRun, DryRunAction};
pub use error::ClusterError;
pub use health::health;
pub use in_cluster::{IN_CLUSTER_CONTEXT, InClusterMode, InClusterOptions, SERVICE_ACCOUNT_DIR};
pub use kinds::{apply_order, is_cluster_scoped};
pub use kube_cluster::KubeCluster;
pub use kubernaut_domain::{GroupKind, Health, Rollout};
pub use object::{LiveObject, Object, ObjectRef, Workload, WorkloadKind};
pub use sandbox::{SANDBOX_MESSAGE_ANNOTATION, SANDBOX_ROLLOUT_ANNOTATION, Sandbox};
