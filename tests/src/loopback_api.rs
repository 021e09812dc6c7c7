//! An in-memory Kubernetes API (kube-fake-client) served over HTTP on loopback, with a
//! kubeconfig that points at it: the real binary reaches it through the same kubeconfig path as
//! a real cluster (or as its in-cluster context, given [`LoopbackApi::url`]). The test reads what
//! was applied and the requests sent, and plays the controllers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube_fake_client::ClientBuilder;
use serde_json::Value;
use tempfile::NamedTempFile;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// The kubeconfig context that names the loopback API.
pub const CONTEXT: &str = "fake-cluster";

/// A fake Kubernetes API on `127.0.0.1:PORT` and a kubeconfig naming it; stops when dropped.
pub struct LoopbackApi {
    runtime: Runtime,
    client: kube::Client,
    address: SocketAddr,
    received: Received,
    kubeconfig: NamedTempFile,
}

/// A request the API received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// `GET`, `PATCH`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// The requests received, in order.
type Received = Arc<Mutex<Vec<ApiRequest>>>;

impl LoopbackApi {
    /// Starts the API and writes the kubeconfig (context [`CONTEXT`], no credentials).
    ///
    /// # Panics
    /// If the fake client cannot be built or no loopback port can be bound.
    pub fn start() -> Self {
        let runtime = Runtime::new().expect("a tokio runtime");
        let received = Received::default();
        let (client, address) = runtime.block_on(async {
            let client = ClientBuilder::new()
                .with_status_subresource::<Deployment>()
                .build()
                .await
                .expect("the fake Kubernetes API");
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let address = listener.local_addr().expect("its address");
            tokio::spawn(serve(listener, client.clone(), received.clone()));
            (client, address)
        });
        let kubeconfig = NamedTempFile::new().expect("a kubeconfig file");
        std::fs::write(
            kubeconfig.path(),
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: {CONTEXT}\n\
                 clusters:\n- name: loopback\n  cluster:\n    server: http://{address}\n\
                 contexts:\n- name: {CONTEXT}\n  context:\n    cluster: loopback\n    \
                 user: nobody\nusers:\n- name: nobody\n  user: {{}}\n"
            ),
        )
        .expect("write the kubeconfig");
        Self {
            runtime,
            client,
            address,
            received,
            kubeconfig,
        }
    }

    /// Its URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The `Authorization` header of every request received so far, in order (`None` for a
    /// request without one).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.requests()
            .into_iter()
            .map(|request| request.authorization)
            .collect()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The kubeconfig file.
    pub fn kubeconfig(&self) -> &Path {
        self.kubeconfig.path()
    }

    /// The object stored under `namespace/name`, as JSON.
    pub fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let api = self.api(group, kind, namespace);
        self.runtime
            .block_on(api.get_opt(name))
            .expect("read from the fake API")
            .map(|object| serde_json::to_value(object).expect("an object as JSON"))
    }

    /// Creates or updates `object` (a JSON body with `apiVersion`, `kind`, `metadata.name` and
    /// `metadata.namespace`) by server-side apply as field manager `test`, as another tool or a
    /// person would.
    pub fn apply(&self, object: &Value) {
        let (group, _) = object["apiVersion"]
            .as_str()
            .expect("an apiVersion")
            .rsplit_once('/')
            .unwrap_or(("", ""));
        let api = self.api(
            group,
            object["kind"].as_str().expect("a kind"),
            object["metadata"]["namespace"]
                .as_str()
                .expect("a namespace"),
        );
        let name = object["metadata"]["name"].as_str().expect("a name");
        self.runtime
            .block_on(api.patch(name, &PatchParams::apply("test"), &Patch::Apply(object)))
            .expect("apply to the fake API");
    }

    /// Writes a Deployment's status as its controller would once all `replicas` are updated
    /// and available.
    pub fn roll_out_deployment(&self, namespace: &str, name: &str, replicas: i64) {
        self.set_deployment_status(
            namespace,
            name,
            serde_json::json!({
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            }),
        );
    }

    /// Writes a Deployment's status as its controller would, `observedGeneration` set to the
    /// Deployment's current generation.
    pub fn set_deployment_status(&self, namespace: &str, name: &str, mut status: Value) {
        let generation = self
            .get("apps", "Deployment", namespace, name)
            .and_then(|d| d["metadata"]["generation"].as_i64())
            .unwrap_or(1);
        status["observedGeneration"] = generation.into();
        let api = self.api("apps", "Deployment", namespace);
        let patch = Patch::Merge(serde_json::json!({ "status": status }));
        self.runtime
            .block_on(api.patch_status(name, &PatchParams::default(), &patch))
            .expect("write the Deployment's status");
    }

    fn api(&self, group: &str, kind: &str, namespace: &str) -> Api<DynamicObject> {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
        Api::namespaced_with(self.client.clone(), namespace, &resource)
    }
}

/// Accepts connections and forwards every request to the fake client.
async fn serve(listener: TcpListener, client: kube::Client, received: Received) {
    while let Ok((stream, _)) = listener.accept().await {
        let client = client.clone();
        let received = received.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let authorization = request
                    .headers()
                    .get(hyper::header::AUTHORIZATION)
                    .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
                received
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(ApiRequest {
                        method: request.method().to_string(),
                        path: request.uri().path().to_owned(),
                        authorization,
                    });
                forward(client.clone(), request)
            });
            // A client hanging up mid-request ends only its connection.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    client: kube::Client,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Ok(plain(StatusCode::BAD_REQUEST, error.to_string())),
    };
    let request = Request::from_parts(parts, kube::client::Body::from(body.to_vec()));
    match client.send(request).await {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            match body.collect().await {
                Ok(collected) => Ok(Response::from_parts(parts, Full::new(collected.to_bytes()))),
                Err(error) => Ok(plain(StatusCode::BAD_GATEWAY, error.to_string())),
            }
        }
        Err(error) => Ok(plain(StatusCode::BAD_GATEWAY, error.to_string())),
    }
}

fn plain(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message)));
    *response.status_mut() = status;
    response
}
