//! `Contexts::load` from kubeconfig files, and the clients it builds.

use std::net::TcpListener;
use std::path::Path;

use kubernaut_cluster::{
    Applied, ClusterError, ContextInfo, ContextKind, Contexts, Object, Rollout, Workload,
    WorkloadKind,
};
use serde_json::json;

fn kubeconfig(contexts: &[(&str, &str)]) -> String {
    let mut clusters = String::new();
    let mut users = String::new();
    let mut named = String::new();
    for (name, server) in contexts {
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {server}\n"
        ));
        users.push_str(&format!(
            "- name: {name}\n  user:\n    token: secret-{name}\n"
        ));
        named.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
        ));
    }
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {}\nclusters:\n{clusters}users:\n{users}\
         contexts:\n{named}",
        contexts[0].0
    )
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

fn info(name: &str, kind: ContextKind) -> ContextInfo {
    ContextInfo {
        name: name.to_owned(),
        kind,
    }
}

#[test]
fn an_explicit_kubeconfig_that_cannot_be_read_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let error = Contexts::load(Some(&missing), true, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot read kubeconfig {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert!(matches!(error, ClusterError::Kubeconfig { path, .. } if path == missing));
}

#[test]
fn an_explicit_kubeconfig_that_does_not_parse_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(dir.path(), "broken.yaml", "contexts: [unclosed");
    let error = Contexts::load(Some(&broken), false, None)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "cannot read kubeconfig {}: failed to parse kubeconfig YAML",
            broken.display()
        )),
        "{error}"
    );
}

#[tokio::test]
async fn kubeconfig_contexts_and_the_sandbox_are_listed_sorted() -> Result<(), ClusterError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "config",
        &kubeconfig(&[
            ("prod-eu", "https://127.0.0.1:6443"),
            ("dev", "https://127.0.0.1:7443"),
        ]),
    );
    let contexts = Contexts::load(Some(&path), true, None)?;
    assert_eq!(
        contexts.list(),
        [
            info("dev", ContextKind::Kubeconfig),
            info("prod-eu", ContextKind::Kubeconfig),
            info("sandbox", ContextKind::Sandbox),
        ]
    );
    assert!(contexts.contains("prod-eu"));
    assert!(!contexts.contains("staging"));
    assert!(contexts.cluster("staging").await?.is_none());
    // Building a kubeconfig context's client contacts nothing.
    assert!(contexts.cluster("dev").await?.is_some());
    assert!(!format!("{contexts:?}").contains("secret"));

    let without_sandbox = Contexts::load(Some(&path), false, None)?;
    assert_eq!(
        without_sandbox.list(),
        [
            info("dev", ContextKind::Kubeconfig),
            info("prod-eu", ContextKind::Kubeconfig),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn the_sandbox_context_deploys_in_memory() -> Result<(), ClusterError> {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.yaml", "");
    let contexts = Contexts::load(Some(&empty), true, None)?;
    assert_eq!(contexts.list(), [info("sandbox", ContextKind::Sandbox)]);
    let sandbox = contexts.cluster("sandbox").await?.expect("sandbox");
    let hello = Object {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: "hello".into(),
        body: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"}}),
    };
    assert_eq!(sandbox.apply("team", &hello).await?, Applied::Created);
    let workload = Workload {
        kind: WorkloadKind::Deployment,
        name: "hello".into(),
    };
    assert_eq!(sandbox.rollout("team", &workload).await?, Rollout::Done);
    Ok(())
}

#[test]
fn a_kubeconfig_context_named_sandbox_clashes_with_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "config",
        &kubeconfig(&[("sandbox", "https://127.0.0.1:6443")]),
    );
    assert_eq!(
        Contexts::load(Some(&path), true, None)
            .unwrap_err()
            .to_string(),
        "cannot use kubeconfig context \"sandbox\": the built-in sandbox context has this name; \
         rename the kubeconfig context or disable the sandbox"
    );
    assert_eq!(
        Contexts::load(Some(&path), false, None).unwrap().list(),
        [info("sandbox", ContextKind::Kubeconfig)]
    );
}

#[tokio::test]
async fn a_context_without_a_cluster_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "config",
        "apiVersion: v1\nkind: Config\ncontexts:\n- name: lost\n  context:\n    cluster: nowhere\n    user: nobody\n",
    );
    let contexts = Contexts::load(Some(&path), false, None).unwrap();
    let error = contexts.cluster("lost").await.unwrap_err().to_string();
    assert!(
        error.starts_with("cannot use kubeconfig context \"lost\": "),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_api_server_is_an_error_naming_the_context() {
    // A loopback port that was just free: connecting is refused at once.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "config",
        &kubeconfig(&[("prod-eu", &format!("https://127.0.0.1:{port}"))]),
    );
    let contexts = Contexts::load(Some(&path), false, None).unwrap();
    let cluster = contexts.cluster("prod-eu").await.unwrap().expect("context");
    let config = Object {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "cfg".into(),
        body: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}),
    };
    let error = cluster.apply("team", &config).await.unwrap_err();
    assert!(
        matches!(error, ClusterError::Unreachable { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            "cannot reach the API server of context \"prod-eu\" about configmap/cfg: "
        ),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
}
