//! The cost of kubernaut's side of a deployment against an in-memory Kubernetes API
//! (kube-fake-client): applying a typical deployment's objects (ConfigMap, Service,
//! Deployment), first as creates, then as re-applies, and reading a Deployment's rollout; then
//! the ApplySet work of a deployment: preparing the set (reading and writing its parent), a dry
//! run of a release that drops the ConfigMap (the parent read, a read and a dry-run apply and
//! a diff per object, the members of 3 kinds listed), and the prune after it (the members of
//! 3 kinds listed, the ConfigMap deleted, the parent written).
//!
//! kube-fake-client ignores `dryRun=All`: its "dry-run" applies store the object, so the dry run
//! costs what a real one costs the client (the requests, the YAML and the diff) plus the fake's
//! write. Listing members filters every object of a kind in the namespace by label, as an API
//! server does from its cache: that cost grows with the objects of the namespace (COUNT
//! deployments here share one).
//!
//! `cargo bench -p kubernaut-cluster --bench fake_api [-- COUNT]` (default 500 deployments).

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube_fake_client::ClientBuilder;
use kubernaut_cluster::{
    ApplySet, Cluster, DryRunAction, KubeCluster, Object, Workload, WorkloadKind, apply_order,
};
use serde_json::{Value, json};

fn object(body: Value) -> Object {
    Object {
        api_version: body["apiVersion"].as_str().unwrap().to_owned(),
        kind: body["kind"].as_str().unwrap().to_owned(),
        name: body["metadata"]["name"].as_str().unwrap().to_owned(),
        body,
    }
}

/// The objects of deployment `n`: a ConfigMap, a Service and a Deployment named `app-n`.
fn objects(n: usize, image: &str) -> Vec<Object> {
    let name = format!("app-{n}");
    let mut objects = vec![
        object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "bench", "labels": {"app": name}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": image,
                        "ports": [{"containerPort": 8080}],
                        "env": [{"name": "LOG_LEVEL", "value": "info"}]}]}
                }
            }
        })),
        object(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "bench"},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
        })),
        object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("{name}-config"), "namespace": "bench"},
            "data": {"image": image}
        })),
    ];
    apply_order(&mut objects);
    objects
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let total: Duration = times.iter().sum();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{what}: {} runs, mean {:.0} us, p50 {:.0} us, p99 {:.0} us",
        times.len(),
        total.as_secs_f64() * 1e6 / times.len() as f64,
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
    );
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = ClientBuilder::new()
            .with_status_subresource::<Deployment>()
            .build()
            .await
            .expect("the fake API");
        let cluster = KubeCluster::new(client);
        for (what, image) in [
            ("apply 3 objects, created", "registry.example.com/app:1"),
            ("apply 3 objects, configured", "registry.example.com/app:2"),
        ] {
            let mut times = Vec::with_capacity(count);
            for n in 0..count {
                let objects = objects(n, image);
                let started = Instant::now();
                for object in &objects {
                    cluster.apply("bench", object).await.expect("apply");
                }
                times.push(started.elapsed());
            }
            report(what, times);
        }
        let mut times = Vec::with_capacity(count);
        for n in 0..count {
            let workload = Workload {
                kind: WorkloadKind::Deployment,
                name: format!("app-{n}"),
            };
            let started = Instant::now();
            cluster.rollout("bench", &workload).await.expect("rollout");
            times.push(started.elapsed());
        }
        report("rollout status of a Deployment", times);

        let set = |n: usize| ApplySet::with_parent(&format!("kubernaut-app-{n}"), "bench");
        let mut times = Vec::with_capacity(count);
        for n in 0..count {
            let mut objects = objects(n, "registry.example.com/app:3");
            let started = Instant::now();
            set(n)
                .prepare(&cluster, &mut objects)
                .await
                .expect("prepare");
            times.push(started.elapsed());
            for object in &objects {
                cluster.apply("bench", object).await.expect("apply");
            }
        }
        report("ApplySet prepare (parent read and created)", times);

        // The next release drops the ConfigMap.
        let without_config = |n: usize| {
            let mut objects = objects(n, "registry.example.com/app:4");
            objects.retain(|object| object.kind != "ConfigMap");
            objects
        };
        let mut times = Vec::with_capacity(count);
        for n in 0..count {
            let mut objects = without_config(n);
            for object in &mut objects {
                set(n).label(object).expect("label");
            }
            let started = Instant::now();
            for object in &objects {
                cluster.dry_run("bench", object).await.expect("dry run");
            }
            times.push(started.elapsed());
        }
        report("dry run of 2 objects (Cluster::dry_run each)", times);

        let mut times = Vec::with_capacity(count);
        for n in 0..count {
            let objects = without_config(n);
            let started = Instant::now();
            let dry_runs = set(n).dry_run(&cluster, &objects).await.expect("dry run");
            times.push(started.elapsed());
            assert_eq!(dry_runs.len(), 3);
            assert_eq!(dry_runs[2].action, DryRunAction::Prune);
        }
        report(
            "dry run of 2 objects and 1 prune (ApplySet::dry_run)",
            times,
        );

        let mut times = Vec::with_capacity(count);
        for n in 0..count {
            let mut objects = without_config(n);
            let set = set(n);
            let kinds = set.prepare(&cluster, &mut objects).await.expect("prepare");
            for object in &objects {
                cluster.apply("bench", object).await.expect("apply");
            }
            let started = Instant::now();
            let pruned = set
                .prunable_members(&cluster, &kinds, &objects)
                .await
                .expect("members");
            for member in &pruned {
                cluster
                    .delete("bench", &member.object_ref())
                    .await
                    .expect("delete");
            }
            set.commit(&cluster, &objects).await.expect("commit");
            times.push(started.elapsed());
            assert_eq!(pruned.len(), 1);
        }
        report(
            "prune: members of 3 kinds listed, 1 deleted, parent committed",
            times,
        );
    });
}
