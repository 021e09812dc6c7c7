//! `KubeCluster` against an in-memory Kubernetes API (kube-fake-client). The tests play the
//! controllers and the kubelet by writing status and pods themselves, and put a small HTTP-level
//! service in front of the fake where a fault must come from the wire (403, time-outs, a no-op
//! apply as a real API server answers it).

use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::client::Body;
use kube_fake_client::{ClientBuilder, interceptor};
use kubernaut_cluster::{
    Applied, Cluster, ClusterError, KubeCluster, Object, Rollout, Workload, WorkloadKind,
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

fn deployment(name: &str, image: &str, replicas: i32) -> Object {
    object(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    }))
}

fn workload(kind: WorkloadKind, name: &str) -> Workload {
    Workload {
        kind,
        name: name.to_owned(),
    }
}

async fn fake() -> kube::Client {
    fake_with(ClientBuilder::new()).await
}

async fn fake_with(builder: ClientBuilder) -> kube::Client {
    builder
        .with_status_subresource::<Deployment>()
        .with_status_subresource::<StatefulSet>()
        .with_status_subresource::<DaemonSet>()
        .build()
        .await
        .expect("fake client")
}

fn api(client: &kube::Client, group: &str, kind: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
    Api::namespaced_with(client.clone(), NAMESPACE, &resource)
}

async fn stored(client: &kube::Client, group: &str, kind: &str, name: &str) -> DynamicObject {
    api(client, group, kind)
        .get(name)
        .await
        .expect("stored object")
}

/// Writes the status subresource, as the workload's controller would.
async fn set_status(client: &kube::Client, kind: &str, name: &str, status: Value) {
    api(client, "apps", kind)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .expect("status patch");
}

/// Creates an object as a controller or the kubelet would.
async fn create(client: &kube::Client, group: &str, body: Value) -> DynamicObject {
    let kind = body["kind"].as_str().unwrap().to_owned();
    let object: DynamicObject = serde_json::from_value(body).unwrap();
    api(client, group, &kind)
        .create(&PostParams::default(), &object)
        .await
        .expect("create")
}

fn pod(name: &str, labels: Value, container: &str, waiting: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": container, "image": "nginx"}]},
        "status": {
            "phase": "Pending",
            "containerStatuses": [{
                "name": container, "image": "nginx", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"waiting": waiting}
            }]
        }
    })
}

#[tokio::test]
async fn the_first_apply_creates_and_a_second_configures() -> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let hello = deployment("hello", "nginx:1.27", 2);

    assert_eq!(cluster.apply(NAMESPACE, &hello).await?, Applied::Created);
    let first = stored(&client, "apps", "Deployment", "hello").await;
    assert_eq!(first.metadata.namespace.as_deref(), Some(NAMESPACE));
    assert_eq!(
        first.data["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );

    // kube-fake-client writes (and bumps resourceVersion) on every apply, so even an identical
    // re-apply is "configured" here; a real API server keeps the resourceVersion of a no-op
    // apply, which `a_no_op_apply_is_unchanged` rehearses.
    assert_eq!(cluster.apply(NAMESPACE, &hello).await?, Applied::Configured);
    let newer = deployment("hello", "nginx:1.28", 2);
    assert_eq!(cluster.apply(NAMESPACE, &newer).await?, Applied::Configured);
    let second = stored(&client, "apps", "Deployment", "hello").await;
    assert_eq!(
        second.data["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    assert_ne!(
        first.metadata.resource_version,
        second.metadata.resource_version
    );
    Ok(())
}

#[tokio::test]
async fn core_and_cluster_scoped_kinds_are_applied_where_they_belong() -> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let config = object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "elsewhere"},
        "data": {"greeting": "hello"}
    }));
    assert_eq!(cluster.apply(NAMESPACE, &config).await?, Applied::Created);
    assert_eq!(
        stored(&client, "", "ConfigMap", "cfg").await.data["data"]["greeting"],
        "hello"
    );

    // kube-fake-client cannot serve Namespace objects by name (it reads
    // /api/v1/namespaces/NAME as a namespaced path), so a ClusterRole stands for the
    // cluster-scoped kinds.
    let role = object(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    }));
    assert_eq!(cluster.apply(NAMESPACE, &role).await?, Applied::Created);
    let roles: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk(&GroupVersionKind::gvk(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
        )),
    );
    let stored = roles.get("reader").await.expect("cluster role");
    assert_eq!(stored.metadata.namespace, None);
    Ok(())
}

/// What the HTTP-level stand-in does with a request.
enum Fault {
    /// Answers with a Kubernetes `Status` of this code, reason and message.
    Status(u16, &'static str, &'static str),
    /// Fails as a connection whose read timed out.
    TimedOut,
    /// Answers a PATCH with the object as it stands, as a real API server answers an apply that
    /// changes nothing.
    NoOp,
}

/// A client whose requests go to `fake`, except those for which `fault` says otherwise.
fn faulty(
    fake: kube::Client,
    fault: impl Fn(&Method, &str) -> Option<Fault> + Send + Sync + 'static,
) -> kube::Client {
    let fault = Arc::new(fault);
    let service = tower::service_fn(move |request: Request<Body>| {
        let fake = fake.clone();
        let fault = Arc::clone(&fault);
        async move {
            match fault(request.method(), request.uri().path()) {
                None => fake.send(request).await.map_err(tower::BoxError::from),
                Some(Fault::Status(code, reason, message)) => {
                    let status = json!({
                        "kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "code": code, "reason": reason, "message": message
                    });
                    Ok(Response::builder()
                        .status(StatusCode::from_u16(code).unwrap())
                        .header("content-type", "application/json")
                        .body(Body::from(status.to_string().into_bytes()))
                        .unwrap())
                }
                Some(Fault::TimedOut) => Err(tower::BoxError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "operation timed out",
                ))),
                Some(Fault::NoOp) => {
                    let get = Request::get(request.uri().path())
                        .body(Body::from(Vec::new()))
                        .unwrap();
                    fake.send(get).await.map_err(tower::BoxError::from)
                }
            }
        }
    });
    kube::Client::new(service, "default")
}

fn is_apply(method: &Method, path: &str) -> bool {
    method == Method::PATCH && !path.ends_with("/status")
}

#[tokio::test]
async fn a_no_op_apply_is_unchanged() -> Result<(), ClusterError> {
    let fake = fake().await;
    let hello = deployment("hello", "nginx:1.27", 1);
    KubeCluster::new(fake.clone())
        .apply(NAMESPACE, &hello)
        .await?;
    let cluster = KubeCluster::new(faulty(fake, |method, path| {
        is_apply(method, path).then_some(Fault::NoOp)
    }));
    assert_eq!(cluster.apply(NAMESPACE, &hello).await?, Applied::Unchanged);
    Ok(())
}

async fn apply_error(client: kube::Client) -> String {
    KubeCluster::new(client)
        .apply(NAMESPACE, &deployment("hello", "nginx:1.27", 1))
        .await
        .expect_err("the apply must fail")
        .to_string()
}

async fn fake_failing_patches(error: fn() -> kube_fake_client::Error) -> kube::Client {
    fake_with(
        ClientBuilder::new()
            .with_interceptor_funcs(interceptor::Funcs::new().patch(move |_| Err(error()))),
    )
    .await
}

#[tokio::test]
async fn a_field_manager_conflict_names_the_object_and_the_api_message() {
    let client = fake_failing_patches(|| {
        kube_fake_client::Error::Conflict(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: \
             .spec.replicas"
                .into(),
        )
    })
    .await;
    assert_eq!(
        apply_error(client).await,
        "deployment.apps/hello was rejected by the API server (409 Conflict): Apply failed with \
         1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"
    );
}

#[tokio::test]
async fn a_stale_resource_version_in_the_manifest_is_a_conflict() -> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let mut hello = deployment("hello", "nginx:1.27", 1);
    cluster.apply(NAMESPACE, &hello).await?;
    hello.body["metadata"]["resourceVersion"] = json!("0");
    let error = cluster.apply(NAMESPACE, &hello).await.unwrap_err();
    assert!(
        matches!(&error, ClusterError::Rejected { code: 409, reason, .. } if reason == "Conflict"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("deployment.apps/hello was rejected by the API server (409 Conflict): "),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn an_invalid_object_names_the_object_and_the_api_message() {
    let client = fake_failing_patches(|| {
        kube_fake_client::Error::InvalidRequest(
            "Deployment.apps \"hello\" is invalid: spec.template.spec.containers[0].image: \
             Required value"
                .into(),
        )
    })
    .await;
    assert_eq!(
        apply_error(client).await,
        "deployment.apps/hello was rejected by the API server (422 Invalid): Deployment.apps \
         \"hello\" is invalid: spec.template.spec.containers[0].image: Required value"
    );
}

#[tokio::test]
async fn an_internal_error_names_the_object_and_the_api_message() {
    let client = fake_failing_patches(|| {
        kube_fake_client::Error::Internal("etcdserver: request timed out".into())
    })
    .await;
    assert_eq!(
        apply_error(client).await,
        "deployment.apps/hello was rejected by the API server (500 InternalError): etcdserver: \
         request timed out"
    );
}

#[tokio::test]
async fn forbidden_names_the_object_and_the_api_message() {
    let client = faulty(fake().await, |method, path| {
        is_apply(method, path).then_some(Fault::Status(
            403,
            "Forbidden",
            "deployments.apps \"hello\" is forbidden: User \"ci\" cannot patch resource \
             \"deployments\" in API group \"apps\" in the namespace \"team\"",
        ))
    });
    assert_eq!(
        apply_error(client).await,
        "deployment.apps/hello was rejected by the API server (403 Forbidden): deployments.apps \
         \"hello\" is forbidden: User \"ci\" cannot patch resource \"deployments\" in API group \
         \"apps\" in the namespace \"team\""
    );
}

#[tokio::test]
async fn a_time_out_says_the_api_server_was_not_reached() {
    let client = faulty(fake().await, |method, path| {
        is_apply(method, path).then_some(Fault::TimedOut)
    });
    let error = KubeCluster::for_context(client, "prod-eu")
        .apply(NAMESPACE, &deployment("hello", "nginx:1.27", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClusterError::Unreachable { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "cannot reach the API server of context \"prod-eu\" about deployment.apps/hello: \
         operation timed out"
    );
}

async fn rollout(cluster: &KubeCluster, kind: WorkloadKind, name: &str) -> Rollout {
    cluster
        .rollout(NAMESPACE, &workload(kind, name))
        .await
        .expect("rollout")
}

#[tokio::test]
async fn a_deployment_progresses_as_its_controller_reports_until_done() -> Result<(), ClusterError>
{
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    cluster
        .apply(NAMESPACE, &deployment("hello", "nginx:1.27", 2))
        .await?;
    let generation = stored(&client, "apps", "Deployment", "hello")
        .await
        .metadata
        .generation
        .expect("generation");
    let deployment = WorkloadKind::Deployment;

    assert_eq!(
        rollout(&cluster, deployment, "hello").await,
        Rollout::Progressing(
            "Waiting for deployment \"hello\" spec update to be observed...".into()
        )
    );
    set_status(
        &client,
        "Deployment",
        "hello",
        json!({"observedGeneration": generation, "replicas": 1, "updatedReplicas": 1}),
    )
    .await;
    assert_eq!(
        rollout(&cluster, deployment, "hello").await,
        Rollout::Progressing(
            "Waiting for deployment \"hello\" rollout to finish: 1 out of 2 new replicas have \
             been updated..."
                .into()
        )
    );
    set_status(
        &client,
        "Deployment",
        "hello",
        json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}),
    )
    .await;
    assert_eq!(
        rollout(&cluster, deployment, "hello").await,
        Rollout::Progressing(
            "Waiting for deployment \"hello\" rollout to finish: 1 of 2 updated replicas are \
             available..."
                .into()
        )
    );
    set_status(
        &client,
        "Deployment",
        "hello",
        json!({"availableReplicas": 2}),
    )
    .await;
    assert_eq!(rollout(&cluster, deployment, "hello").await, Rollout::Done);
    Ok(())
}

#[tokio::test]
async fn a_deployment_past_its_progress_deadline_fails_with_the_controller_message()
-> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    cluster
        .apply(NAMESPACE, &deployment("hello", "nginx:1.27", 2))
        .await?;
    let generation = stored(&client, "apps", "Deployment", "hello")
        .await
        .metadata
        .generation;
    set_status(
        &client,
        "Deployment",
        "hello",
        json!({
            "observedGeneration": generation, "replicas": 2, "updatedReplicas": 1,
            "conditions": [{
                "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"hello-7d9\" has timed out progressing."
            }]
        }),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::Deployment, "hello").await,
        Rollout::Failed(
            "deployment \"hello\" exceeded its progress deadline: ReplicaSet \"hello-7d9\" has \
             timed out progressing."
                .into()
        )
    );
    Ok(())
}

/// Applies `hello` and reports it observed with 1 of 2 replicas updated; returns its uid.
async fn half_rolled_out_hello(client: &kube::Client, cluster: &KubeCluster) -> String {
    cluster
        .apply(NAMESPACE, &deployment("hello", "nginx:nope", 2))
        .await
        .expect("apply");
    let current = stored(client, "apps", "Deployment", "hello").await;
    set_status(
        client,
        "Deployment",
        "hello",
        json!({"observedGeneration": current.metadata.generation, "replicas": 2,
               "updatedReplicas": 1}),
    )
    .await;
    current.metadata.uid.expect("uid")
}

#[tokio::test]
async fn a_pod_in_image_pull_back_off_fails_the_rollout_early() {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    half_rolled_out_hello(&client, &cluster).await;
    create(
        &client,
        "",
        pod(
            "hello-7d9-abcde",
            json!({"app": "hello"}),
            "app",
            json!({"reason": "ContainerCreating"}),
        ),
    )
    .await;
    assert!(matches!(
        rollout(&cluster, WorkloadKind::Deployment, "hello").await,
        Rollout::Progressing(_)
    ));

    create(
        &client,
        "",
        pod(
            "other-1",
            json!({"app": "other"}),
            "app",
            json!({"reason": "CrashLoopBackOff"}),
        ),
    )
    .await;
    assert!(matches!(
        rollout(&cluster, WorkloadKind::Deployment, "hello").await,
        Rollout::Progressing(_)
    ));

    create(
        &client,
        "",
        pod(
            "hello-7d9-fghij",
            json!({"app": "hello"}),
            "app",
            json!({"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nginx:nope\""}),
        ),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::Deployment, "hello").await,
        Rollout::Failed(
            "pod hello-7d9-fghij container app: ImagePullBackOff: Back-off pulling image \
             \"nginx:nope\""
                .into()
        )
    );
}

#[tokio::test]
async fn only_pods_of_the_newest_replica_set_can_fail_a_deployment() {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let uid = half_rolled_out_hello(&client, &cluster).await;
    for (revision, hash) in [("1", "old"), ("2", "new")] {
        create(
            &client,
            "apps",
            json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": format!("hello-{hash}"),
                    "labels": {"app": "hello", "pod-template-hash": hash},
                    "annotations": {"deployment.kubernetes.io/revision": revision},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                         "name": "hello", "uid": uid, "controller": true}]
                },
                "spec": {"selector": {"matchLabels": {"app": "hello", "pod-template-hash": hash}}}
            }),
        )
        .await;
    }
    create(
        &client,
        "",
        pod(
            "hello-old-1",
            json!({"app": "hello", "pod-template-hash": "old"}),
            "app",
            json!({"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}),
        ),
    )
    .await;
    assert!(matches!(
        rollout(&cluster, WorkloadKind::Deployment, "hello").await,
        Rollout::Progressing(_)
    ));

    create(
        &client,
        "",
        pod(
            "hello-new-1",
            json!({"app": "hello", "pod-template-hash": "new"}),
            "app",
            json!({"reason": "ErrImagePull", "message": "manifest unknown"}),
        ),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::Deployment, "hello").await,
        Rollout::Failed("pod hello-new-1 container app: ErrImagePull: manifest unknown".into())
    );
}

#[tokio::test]
async fn a_stateful_set_fails_on_a_crash_looping_pod_of_its_update_revision()
-> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let db = object(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2, "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                         "spec": {"containers": [{"name": "postgres", "image": "postgres:17"}]}}
        }
    }));
    cluster.apply(NAMESPACE, &db).await?;
    let generation = stored(&client, "apps", "StatefulSet", "db")
        .await
        .metadata
        .generation;
    set_status(
        &client,
        "StatefulSet",
        "db",
        json!({"observedGeneration": generation, "replicas": 2, "readyReplicas": 1,
               "updatedReplicas": 1, "updateRevision": "db-2", "currentRevision": "db-1"}),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::StatefulSet, "db").await,
        Rollout::Progressing("Waiting for statefulset \"db\": 1 pods to be ready...".into())
    );
    create(
        &client,
        "",
        pod(
            "db-0",
            json!({"app": "db", "controller-revision-hash": "db-1"}),
            "postgres",
            json!({"reason": "CrashLoopBackOff"}),
        ),
    )
    .await;
    assert!(matches!(
        rollout(&cluster, WorkloadKind::StatefulSet, "db").await,
        Rollout::Progressing(_)
    ));
    create(
        &client,
        "",
        pod(
            "db-1",
            json!({"app": "db", "controller-revision-hash": "db-2"}),
            "postgres",
            json!({"reason": "CrashLoopBackOff"}),
        ),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::StatefulSet, "db").await,
        Rollout::Failed("pod db-1 container postgres: CrashLoopBackOff".into())
    );
    set_status(
        &client,
        "StatefulSet",
        "db",
        json!({"readyReplicas": 2, "updatedReplicas": 2, "currentRevision": "db-2"}),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::StatefulSet, "db").await,
        Rollout::Done
    );
    Ok(())
}

#[tokio::test]
async fn a_daemon_set_is_done_when_every_scheduled_pod_is_updated_and_available()
-> Result<(), ClusterError> {
    let client = fake().await;
    let cluster = KubeCluster::new(client.clone());
    let agent = object(json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                         "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}}
        }
    }));
    cluster.apply(NAMESPACE, &agent).await?;
    let generation = stored(&client, "apps", "DaemonSet", "agent")
        .await
        .metadata
        .generation;
    set_status(
        &client,
        "DaemonSet",
        "agent",
        json!({"observedGeneration": generation, "desiredNumberScheduled": 3,
               "updatedNumberScheduled": 3, "numberAvailable": 2, "currentNumberScheduled": 3,
               "numberMisscheduled": 0, "numberReady": 2}),
    )
    .await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::DaemonSet, "agent").await,
        Rollout::Progressing(
            "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are \
             available..."
                .into()
        )
    );
    set_status(&client, "DaemonSet", "agent", json!({"numberAvailable": 3})).await;
    assert_eq!(
        rollout(&cluster, WorkloadKind::DaemonSet, "agent").await,
        Rollout::Done
    );
    Ok(())
}

#[tokio::test]
async fn the_rollout_of_a_missing_workload_names_it() {
    let cluster = KubeCluster::new(fake().await);
    let error = cluster
        .rollout(NAMESPACE, &workload(WorkloadKind::Deployment, "ghost"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ClusterError::Rejected { code: 404, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("deployment.apps/ghost was rejected by the API server (404 NotFound): "),
        "{error}"
    );
}

/// A Deployment as kubernaut applies it: a member of an ApplySet.
fn member_deployment(name: &str, image: &str) -> Object {
    let mut member = deployment(name, image, 1);
    member.body["metadata"]["labels"]["applyset.kubernetes.io/part-of"] = "applyset-x-v1".into();
    member
}

/// Reports the Deployment `name` as its controller would: rolled out, or 0 of 1 updated.
async fn report(client: &kube::Client, name: &str, done: bool) -> String {
    let current = stored(client, "apps", "Deployment", name).await;
    let ready = i32::from(done);
    set_status(
        client,
        "Deployment",
        name,
        json!({"observedGeneration": current.metadata.generation, "replicas": 1,
               "updatedReplicas": ready, "availableReplicas": ready}),
    )
    .await;
    current.metadata.uid.expect("uid")
}

/// A ReplicaSet of revision 1 with `hash`, owned by the Deployment `name`.
fn replica_set(name: &str, uid: &str, hash: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "labels": {"app": name, "pod-template-hash": hash},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                 "name": name, "uid": uid, "controller": true}]
        },
        "spec": {"selector": {"matchLabels": {"app": name, "pod-template-hash": hash}}}
    })
}

#[tokio::test]
async fn rollouts_read_together_agree_with_each_read_alone_in_a_few_requests()
-> Result<(), ClusterError> {
    let fake = fake().await;
    let direct = KubeCluster::new(fake.clone());
    for name in ["done", "stuck", "slow"] {
        direct
            .apply(NAMESPACE, &member_deployment(name, "nginx:1.27"))
            .await?;
    }
    direct
        .apply(NAMESPACE, &deployment("unlabelled", "nginx:1.27", 1))
        .await?;
    report(&fake, "done", true).await;
    report(&fake, "unlabelled", true).await;
    for (name, hash, reason) in [("stuck", "s1", "ErrImagePull"), ("slow", "w1", "Pending")] {
        let uid = report(&fake, name, false).await;
        create(&fake, "apps", replica_set(name, &uid, hash)).await;
        let labels = json!({"app": name, "pod-template-hash": hash});
        create(
            &fake,
            "",
            pod(
                &format!("{name}-1"),
                labels,
                "app",
                json!({"reason": reason}),
            ),
        )
        .await;
    }
    // An old pod of "slow" crash-loops: only its newest revision's pods count.
    let old = json!({"app": "slow", "pod-template-hash": "w0"});
    let crashing = json!({"reason": "CrashLoopBackOff"});
    create(&fake, "", pod("slow-old", old, "app", crashing)).await;

    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let cluster = KubeCluster::new(faulty(fake.clone(), move |method, path| {
        seen.lock().unwrap().push(format!("{method} {path}"));
        None
    }));
    let names = ["done", "stuck", "slow", "unlabelled", "missing"];
    let workloads: Vec<Workload> = names
        .iter()
        .map(|name| workload(WorkloadKind::Deployment, name))
        .collect();
    let together = cluster.rollouts(NAMESPACE, &workloads).await;
    let mut alone = Vec::new();
    for workload in &workloads {
        alone.push(direct.rollout(NAMESPACE, workload).await);
    }
    assert_eq!(together, alone);
    assert_eq!(together[0], Ok(Rollout::Done));
    assert_eq!(
        together[1],
        Ok(Rollout::Failed(
            "pod stuck-1 container app: ErrImagePull".into()
        ))
    );
    assert!(matches!(together[2], Ok(Rollout::Progressing(_))));
    assert_eq!(together[3], Ok(Rollout::Done));
    assert!(
        matches!(&together[4], Err(ClusterError::Rejected { code: 404, object, .. })
            if object == "deployment.apps/missing"),
        "{:?}",
        together[4]
    );
    let base = format!("/apis/apps/v1/namespaces/{NAMESPACE}");
    assert_eq!(
        *requests.lock().unwrap(),
        [
            format!("GET {base}/deployments"),
            format!("GET {base}/deployments/unlabelled"),
            format!("GET {base}/deployments/missing"),
            format!("GET {base}/replicasets"),
            format!("GET /api/v1/namespaces/{NAMESPACE}/pods"),
        ]
    );

    // Ten more progressing workloads cost no more requests.
    let mut more = workloads[..3].to_vec();
    for n in 0..10 {
        let name = format!("more-{n}");
        direct
            .apply(NAMESPACE, &member_deployment(&name, "nginx:1.27"))
            .await?;
        report(&fake, &name, false).await;
        more.push(workload(WorkloadKind::Deployment, &name));
    }
    requests.lock().unwrap().clear();
    let rollouts = cluster.rollouts(NAMESPACE, &more).await;
    assert_eq!(rollouts.len(), 13);
    assert!(
        rollouts[3..]
            .iter()
            .all(|r| matches!(r, Ok(Rollout::Progressing(_))))
    );
    assert_eq!(requests.lock().unwrap().len(), 3);
    Ok(())
}
