//! ApplySets, pruning, dry runs and live health of `KubeCluster` against an in-memory Kubernetes
//! API (kube-fake-client).
//!
//! kube-fake-client ignores `dryRun=All` (it applies the patch), so the dry-run tests put a
//! small HTTP-level stand-in in front of it that answers a dry-run apply as an API server does:
//! with the object as it would be (here the live object merged with the patch, the fake's own
//! apply), storing nothing. It also records every request, so that a test can show a dry run
//! sent nothing but reads and dry-run patches.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::client::Body;
use kube_fake_client::ClientBuilder;
use kubernaut_cluster::{
    ApplySet, Cluster, ClusterError, DryRunAction, GroupKind, Health, KubeCluster, LiveObject,
    Object, ObjectRef,
};
use serde_json::{Value, json};

const NAMESPACE: &str = "team";

fn object(body: Value) -> Object {
    Object {
        api_version: body["apiVersion"].as_str().unwrap().to_owned(),
        kind: body["kind"].as_str().unwrap().to_owned(),
        name: body["metadata"]["name"].as_str().unwrap().to_owned(),
        body,
    }
}

fn deployment(name: &str, image: &str) -> Object {
    object(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    }))
}

fn service(name: &str) -> Object {
    object(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
}

fn config_map(name: &str, data: Value) -> Object {
    object(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data
    }))
}

/// The first release of `web`: a Deployment, a Service and a ConfigMap.
fn release_1() -> Vec<Object> {
    vec![
        config_map("web-config", json!({"greeting": "hello"})),
        service("web"),
        deployment("web", "nginx:1.27"),
    ]
}

/// The second release of `web`: the ConfigMap is gone, the image is newer.
fn release_2() -> Vec<Object> {
    vec![service("web"), deployment("web", "nginx:1.28")]
}

fn web() -> ApplySet {
    ApplySet::with_parent("kubernaut-web", NAMESPACE)
}

async fn fake() -> kube::Client {
    ClientBuilder::new()
        .with_status_subresource::<Deployment>()
        .build()
        .await
        .expect("fake client")
}

fn api(client: &kube::Client, group: &str, kind: &str) -> Api<DynamicObject> {
    api_in(client, NAMESPACE, group, kind)
}

fn api_in(client: &kube::Client, namespace: &str, group: &str, kind: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
    Api::namespaced_with(client.clone(), namespace, &resource)
}

async fn stored(client: &kube::Client, group: &str, kind: &str, name: &str) -> Option<Value> {
    api(client, group, kind)
        .get_opt(name)
        .await
        .expect("get")
        .map(|object| serde_json::to_value(object).unwrap())
}

/// Creates an object as someone other than kubernaut would.
async fn create_in(client: &kube::Client, namespace: &str, group: &str, body: Value) {
    let kind = body["kind"].as_str().unwrap().to_owned();
    let object: DynamicObject = serde_json::from_value(body).unwrap();
    api_in(client, namespace, group, &kind)
        .create(&PostParams::default(), &object)
        .await
        .expect("create");
}

/// Deploys `objects` as the worker does: prepare the set, apply each object; then, when
/// `prune`, delete the prunable members and commit the parent. Returns what was pruned.
async fn deploy(
    cluster: &dyn Cluster,
    set: &ApplySet,
    mut objects: Vec<Object>,
    prune: bool,
) -> Result<Vec<String>, ClusterError> {
    let kinds = set.prepare(cluster, &mut objects).await?;
    for object in &objects {
        cluster.apply(set.namespace(), object).await?;
    }
    let mut pruned = Vec::new();
    if prune {
        for member in set.prunable_members(cluster, &kinds, &objects).await? {
            cluster
                .delete(set.namespace(), &member.object_ref())
                .await?;
            pruned.push(format!("{} pruned", member.display_name()));
        }
        set.commit(cluster, &objects).await?;
    }
    Ok(pruned)
}

fn names(objects: &[LiveObject]) -> Vec<String> {
    objects.iter().map(LiveObject::display_name).collect()
}

fn kinds(kinds: &[(&str, &str)]) -> BTreeSet<GroupKind> {
    kinds
        .iter()
        .map(|(api_version, kind)| GroupKind::of(api_version, kind))
        .collect()
}

#[tokio::test]
async fn applied_members_carry_the_label_and_are_listed_others_are_not() -> Result<(), ClusterError>
{
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let set = web();
    let mut objects = release_1();
    objects.push(object(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "web-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    })));
    deploy(&cluster, &set, objects, false).await?;

    let stored_config = stored(&client, "", "ConfigMap", "web-config")
        .await
        .unwrap();
    assert_eq!(
        stored_config["metadata"]["labels"],
        json!({"applyset.kubernetes.io/part-of": set.id()})
    );
    let stored_web = stored(&client, "apps", "Deployment", "web").await.unwrap();
    assert_eq!(
        stored_web["metadata"]["labels"],
        json!({"app": "web", "applyset.kubernetes.io/part-of": set.id()})
    );

    // Not members: an unlabelled ConfigMap, one of another set, and one of this set's id in
    // another namespace.
    let other_set = ApplySet::with_parent("kubernaut-api", NAMESPACE);
    create_in(
        &client,
        NAMESPACE,
        "",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "by-hand"}}),
    )
    .await;
    create_in(
        &client,
        NAMESPACE,
        "",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config",
               "labels": {"applyset.kubernetes.io/part-of": other_set.id()}}}),
    )
    .await;
    create_in(
        &client,
        "other",
        "",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config",
               "labels": {"applyset.kubernetes.io/part-of": set.id()}}}),
    )
    .await;

    let all = kinds(&[
        ("v1", "ConfigMap"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ]);
    let members = cluster.members(NAMESPACE, set.id(), &all).await?;
    assert_eq!(
        names(&members),
        [
            "clusterrole.rbac.authorization.k8s.io/web-reader",
            "configmap/web-config",
            "deployment.apps/web",
            "service/web",
        ]
    );
    assert_eq!(members[0].namespace, None);
    assert_eq!(members[1].namespace.as_deref(), Some(NAMESPACE));
    assert_eq!(members[2].api_version, "apps/v1");
    assert_eq!(members[2].kind, "Deployment");

    assert_eq!(names(&set.live(&cluster).await?), names(&members));
    Ok(())
}

#[tokio::test]
async fn the_parent_secret_has_the_applyset_labels_and_annotations() -> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let set = web();
    deploy(&cluster, &set, release_1(), true).await?;

    let parent = stored(&client, "", "Secret", "kubernaut-web")
        .await
        .unwrap();
    assert_eq!(
        parent["metadata"]["labels"],
        json!({"applyset.kubernetes.io/id": set.id()})
    );
    assert_eq!(
        set.id(),
        "applyset-A2J959lwpxAILb2Gnl1iIbEHwWDrfa6-SZpaShAfQOc-v1"
    );
    assert_eq!(
        parent["metadata"]["annotations"],
        json!({
            "applyset.kubernetes.io/tooling": "kubernaut/v1",
            "applyset.kubernetes.io/contains-group-kinds": "ConfigMap,Deployment.apps,Service",
            "applyset.kubernetes.io/additional-namespaces": ""
        })
    );
    assert_eq!(parent.get("data"), None);

    // Before the second release is applied, the parent lists the old and new group-kinds
    // (nothing would leak if it stopped there); after its prune, only the new ones.
    let mut objects = release_2();
    objects.push(object(json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    })));
    let superset = set.prepare(&cluster, &mut objects).await?;
    let listed = |parent: Value| {
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"].clone()
    };
    assert_eq!(
        listed(
            stored(&client, "", "Secret", "kubernaut-web")
                .await
                .unwrap()
        ),
        "ConfigMap,Deployment.apps,PodDisruptionBudget.policy,Service"
    );
    assert_eq!(superset.len(), 4);
    set.commit(&cluster, &objects).await?;
    assert_eq!(
        listed(
            stored(&client, "", "Secret", "kubernaut-web")
                .await
                .unwrap()
        ),
        "Deployment.apps,PodDisruptionBudget.policy,Service"
    );
    Ok(())
}

#[tokio::test]
async fn prune_deletes_exactly_the_dropped_members() -> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let set = web();
    let mut first = release_1();
    first.push(config_map("web-flags", json!({"beta": "on"})));
    assert_eq!(
        deploy(&cluster, &set, first, true).await?,
        Vec::<String>::new()
    );

    // Objects with colliding names that are not members: a Secret named like the dropped
    // ConfigMap, a ConfigMap applied before the set existed (no label) whose name a release
    // drops, and this set's ConfigMap name in another namespace.
    create_in(
        &client,
        NAMESPACE,
        "",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-config"},
               "data": {"token": "c2VjcmV0"}}),
    )
    .await;
    create_in(
        &client,
        NAMESPACE,
        "",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-legacy",
               "labels": {"app": "web"}}}),
    )
    .await;
    create_in(
        &client,
        "other",
        "",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"}}),
    )
    .await;

    let mut second = release_2();
    second.push(config_map("web-flags", json!({"beta": "off"})));
    assert_eq!(
        deploy(&cluster, &set, second, true).await?,
        ["configmap/web-config pruned"]
    );

    assert_eq!(stored(&client, "", "ConfigMap", "web-config").await, None);
    assert!(
        stored(&client, "", "ConfigMap", "web-flags")
            .await
            .is_some()
    );
    assert!(stored(&client, "apps", "Deployment", "web").await.is_some());
    assert!(stored(&client, "", "Service", "web").await.is_some());
    assert!(stored(&client, "", "Secret", "web-config").await.is_some());
    assert!(
        stored(&client, "", "ConfigMap", "web-legacy")
            .await
            .is_some()
    );
    assert!(
        api_in(&client, "other", "", "ConfigMap")
            .get_opt("web-config")
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        stored(&client, "", "Secret", "kubernaut-web")
            .await
            .is_some()
    );

    // A third release without prune keeps what it drops, and the parent still lists its kind.
    assert_eq!(
        deploy(&cluster, &set, release_2(), false).await?,
        Vec::<String>::new()
    );
    assert!(
        stored(&client, "", "ConfigMap", "web-flags")
            .await
            .is_some()
    );
    let listed = set.current_group_kinds(&cluster).await?;
    assert!(
        listed.contains(&GroupKind::of("v1", "ConfigMap")),
        "{listed:?}"
    );
    // The next prune finds it.
    assert_eq!(
        deploy(&cluster, &set, release_2(), true).await?,
        ["configmap/web-flags pruned"]
    );
    Ok(())
}

#[tokio::test]
async fn a_parent_that_is_not_kubernauts_stops_the_deployment_before_anything_is_applied() {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    create_in(
        &client,
        NAMESPACE,
        "",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kubernaut-web"},
               "data": {"password": "aHVudGVyMg=="}}),
    )
    .await;
    let error = deploy(&cluster, &web(), release_1(), true)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "ApplySet secret/kubernaut-web: exists and is not an ApplySet parent: it has no \
         applyset.kubernetes.io/tooling annotation"
    );
    assert_eq!(stored(&client, "apps", "Deployment", "web").await, None);
    let secret = stored(&client, "", "Secret", "kubernaut-web")
        .await
        .unwrap();
    assert_eq!(secret["metadata"].get("labels"), None);
}

#[tokio::test]
async fn deleting_a_missing_object_is_fine_and_unknown_kinds_have_no_members()
-> Result<(), ClusterError> {
    let cluster = KubeCluster::new(fake().await);
    let ghost = ObjectRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "ghost".into(),
    };
    cluster.delete(NAMESPACE, &ghost).await?;
    assert_eq!(cluster.get(NAMESPACE, &ghost).await?, None);
    let widgets = kinds(&[("example.com/v1", "Widget")]);
    assert_eq!(cluster.members(NAMESPACE, web().id(), &widgets).await?, []);
    Ok(())
}

/// What the stand-in saw: `(method, path and query)` of every request.
type Requests = Arc<Mutex<Vec<(Method, String)>>>;

/// RFC 7386 JSON merge patch, as kube-fake-client applies.
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string().into_bytes()))
        .unwrap()
}

/// A client of `fake` that answers dry-run patches itself, as an API server does: the live
/// object with the patch merged in (or the patch as a new object), stored nowhere.
fn honouring_dry_run(fake: kube::Client, requests: Requests) -> kube::Client {
    let service = tower::service_fn(move |request: Request<Body>| {
        let fake = fake.clone();
        let requests = Arc::clone(&requests);
        async move {
            let path = request.uri().path().to_owned();
            let query = request.uri().query().unwrap_or_default().to_owned();
            requests
                .lock()
                .unwrap()
                .push((request.method().clone(), format!("{path}?{query}")));
            let dry_run = query.split('&').any(|pair| pair == "dryRun=All");
            if request.method() != Method::PATCH || !dry_run {
                return fake.send(request).await.map_err(tower::BoxError::from);
            }
            let patch: Value = serde_json::from_slice(&request.into_body().collect_bytes().await?)?;
            let get = Request::get(&path).body(Body::from(Vec::new())).unwrap();
            let live = fake.send(get).await?;
            let (status, result) = if live.status() == StatusCode::OK {
                let mut result: Value =
                    serde_json::from_slice(&live.into_body().collect_bytes().await?)?;
                merge(&mut result, &patch);
                (StatusCode::OK, result)
            } else {
                let mut result = patch;
                result["metadata"]["uid"] = json!("dry-run-uid");
                result["metadata"]["creationTimestamp"] = json!("2026-12-01T00:00:00Z");
                (StatusCode::CREATED, result)
            };
            Ok::<_, tower::BoxError>(json_response(status, &result))
        }
    });
    kube::Client::new(service, "default")
}

#[tokio::test]
async fn kube_fake_client_itself_applies_a_dry_run_patch() {
    // Why the stand-in exists: the fake does not read the dryRun parameter.
    let client = fake().await;
    let cm = config_map("cfg", json!({"a": "1"}));
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    let configmaps: Api<DynamicObject> = Api::namespaced_with(client.clone(), NAMESPACE, &resource);
    configmaps
        .patch(
            "cfg",
            &PatchParams::apply("kubernaut").force().dry_run(),
            &Patch::Apply(&cm.body),
        )
        .await
        .expect("dry-run apply");
    assert!(stored(&client, "", "ConfigMap", "cfg").await.is_some());
}

/// The stored objects of release 1 and the parent, resource versions included.
async fn snapshot(client: &kube::Client) -> Vec<Option<Value>> {
    let mut objects = Vec::new();
    for (group, kind, name) in [
        ("", "ConfigMap", "web-config"),
        ("", "Service", "web"),
        ("apps", "Deployment", "web"),
        ("", "Secret", "kubernaut-web"),
    ] {
        objects.push(stored(client, group, kind, name).await);
    }
    objects
}

#[tokio::test]
async fn a_dry_run_reports_create_configure_unchanged_and_prune_and_changes_nothing()
-> Result<(), ClusterError> {
    let fake = fake().await;
    let set = web();
    deploy(&KubeCluster::new(fake.clone()), &set, release_1(), true).await?;
    let before = snapshot(&fake).await;

    let requests = Requests::default();
    let cluster = KubeCluster::new(honouring_dry_run(fake.clone(), Arc::clone(&requests)));
    let mut objects = release_2();
    objects.push(config_map("web-flags", json!({"beta": "on"})));
    let dry_runs = set.dry_run(&cluster, &objects).await?;
    let actions: Vec<(String, DryRunAction)> = dry_runs
        .iter()
        .map(|d| (d.object.display_name(), d.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("service/web".to_owned(), DryRunAction::Unchanged),
            ("deployment.apps/web".to_owned(), DryRunAction::Configure),
            ("configmap/web-flags".to_owned(), DryRunAction::Create),
            ("configmap/web-config".to_owned(), DryRunAction::Prune),
        ]
    );
    assert!(
        dry_runs
            .iter()
            .all(|d| d.namespace.as_deref() == Some(NAMESPACE))
    );
    assert_eq!(dry_runs[0].diff, "");
    let image_change = "\
-      - image: nginx:1.27
+      - image: nginx:1.28
";
    assert!(
        dry_runs[1].diff.starts_with(
            "--- live/apps.v1.Deployment.team.web\n+++ merged/apps.v1.Deployment.team.web\n"
        ),
        "{}",
        dry_runs[1].diff
    );
    assert!(
        dry_runs[1].diff.contains(image_change),
        "{}",
        dry_runs[1].diff
    );
    for noise in [
        "managedFields",
        "resourceVersion",
        "uid:",
        "creationTimestamp",
        "generation",
    ] {
        assert!(
            !dry_runs[1].diff.contains(noise),
            "{noise}: {}",
            dry_runs[1].diff
        );
    }
    assert!(
        dry_runs[2].diff.contains(&format!(
            "+    applyset.kubernetes.io/part-of: {}\n",
            set.id()
        )),
        "{}",
        dry_runs[2].diff
    );
    assert!(
        dry_runs[3].diff.contains("-  greeting: hello\n"),
        "{}",
        dry_runs[3].diff
    );

    // Nothing but reads and dry-run patches reached the API server, and nothing changed.
    let requests = requests.lock().unwrap().clone();
    assert_eq!(
        requests.iter().filter(|(m, _)| *m == Method::PATCH).count(),
        3,
        "{requests:?}"
    );
    for (method, target) in &requests {
        assert!(
            *method == Method::GET || (*method == Method::PATCH && target.contains("dryRun=All")),
            "{method} {target}"
        );
        if *method == Method::PATCH {
            assert!(target.contains("fieldManager=kubernaut"), "{target}");
            assert!(target.contains("force=true"), "{target}");
        }
    }
    assert_eq!(snapshot(&fake).await, before);
    assert_eq!(stored(&fake, "", "ConfigMap", "web-flags").await, None);
    Ok(())
}

#[tokio::test]
async fn a_dry_run_of_a_first_deployment_creates_everything() -> Result<(), ClusterError> {
    let fake = fake().await;
    let cluster = KubeCluster::new(honouring_dry_run(fake.clone(), Requests::default()));
    let dry_runs = web().dry_run(&cluster, &release_1()).await?;
    assert!(
        dry_runs.iter().all(|d| d.action == DryRunAction::Create),
        "{dry_runs:?}"
    );
    assert_eq!(dry_runs.len(), 3);
    assert_eq!(stored(&fake, "", "Secret", "kubernaut-web").await, None);
    Ok(())
}

/// Sets a Deployment's status as its controller would.
async fn set_status(client: &kube::Client, name: &str, status: Value) {
    api(client, "apps", "Deployment")
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .expect("status patch");
}

/// Writes a Pod's status as the kubelet would.
async fn set_pod_status(client: &kube::Client, name: &str, status: Value) {
    api(client, "", "Pod")
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .expect("pod status");
}

fn pod(name: &str) -> Object {
    object(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]}
    }))
}

#[tokio::test]
async fn live_objects_report_health_from_their_status() -> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let set = web();
    let mut objects = release_1();
    objects.push(pod("web-debug"));
    objects.push(pod("web-check"));
    deploy(&cluster, &set, objects, true).await?;

    let health = |live: &[LiveObject]| -> Vec<(String, Health, String)> {
        live.iter()
            .map(|o| {
                let (health, message) = o.health();
                (o.display_name(), health, message)
            })
            .collect()
    };
    let generation =
        stored(&client, "apps", "Deployment", "web").await.unwrap()["metadata"]["generation"]
            .clone();
    set_status(
        &client,
        "web",
        json!({"observedGeneration": generation, "replicas": 2, "updatedReplicas": 1}),
    )
    .await;
    set_pod_status(&client, "web-debug", json!({"phase": "Pending"})).await;
    assert_eq!(
        health(&set.live(&cluster).await?),
        [
            (
                "configmap/web-config".into(),
                Health::Healthy,
                String::new()
            ),
            (
                "deployment.apps/web".into(),
                Health::Progressing,
                "Waiting for deployment \"web\" rollout to finish: 1 out of 2 new replicas \
                 have been updated..."
                    .into()
            ),
            ("pod/web-check".into(), Health::Unknown, String::new()),
            ("pod/web-debug".into(), Health::Progressing, String::new()),
            ("service/web".into(), Health::Healthy, String::new()),
        ]
    );

    set_status(
        &client,
        "web",
        json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
    )
    .await;
    set_pod_status(
        &client,
        "web-debug",
        json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                                   "image": "busybox", "imageID": "", "state": {"running": {}}}]
        }),
    )
    .await;
    set_pod_status(
        &client,
        "web-check",
        json!({
            "phase": "Pending",
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                "image": "busybox", "imageID": "",
                "state": {"waiting": {"reason": "ImagePullBackOff",
                                      "message": "Back-off pulling image \"busybox\""}}}]
        }),
    )
    .await;
    assert_eq!(
        health(&set.live(&cluster).await?),
        [
            (
                "configmap/web-config".into(),
                Health::Healthy,
                String::new()
            ),
            (
                "deployment.apps/web".into(),
                Health::Healthy,
                "deployment \"web\" successfully rolled out".into()
            ),
            (
                "pod/web-check".into(),
                Health::Degraded,
                "container app: ImagePullBackOff: Back-off pulling image \"busybox\"".into()
            ),
            ("pod/web-debug".into(), Health::Healthy, String::new()),
            ("service/web".into(), Health::Healthy, String::new()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_service_without_a_parent_has_no_live_objects() -> Result<(), ClusterError> {
    let cluster = KubeCluster::new(fake().await);
    assert_eq!(web().live(&cluster).await?, []);
    Ok(())
}
