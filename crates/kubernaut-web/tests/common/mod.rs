//! What the web UI's tests share: the app on a store with two sandbox contexts, sessions of
//! tokens with given grants, and requests that return the status, headers and page.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::test;
use kubernaut_app::{App, AuthOptions, Caller, DeploymentRequest, ReleaseLookup};
use kubernaut_cluster::{ContextKind, Contexts, Sandbox};
use kubernaut_domain::{
    Attributes, ContextName, DeploymentDetail, ExpiresInDays, Grant, Grants, Namespace, NewRelease,
    ServiceName, TemplateSource, TokenName, Version,
};
use kubernaut_store::Store;

/// The secret of the global-admin token every test app starts with.
pub const ADMIN: &str = "knt_web-test-admin-0123456789abcdef0123456789ab";

/// The contexts of the test app.
pub const CONTEXTS: [&str; 2] = ["prod", "staging"];

/// The app on `store`, with sandbox contexts [`CONTEXTS`], and the global admin's caller.
pub async fn app(store: Store) -> (App, Caller) {
    let clusters = CONTEXTS
        .iter()
        .map(|name| {
            let sandbox: Arc<dyn kubernaut_cluster::Cluster> = Arc::new(Sandbox::default());
            ((*name).to_owned(), ContextKind::Sandbox, sandbox)
        })
        .collect();
    let app = App::new(
        store,
        Arc::new(Contexts::from_clusters(clusters)),
        &AuthOptions::default(),
    );
    app.bootstrap_admin(Some(ADMIN.to_owned())).await.unwrap();
    let admin = app
        .authenticate(Some(&format!("Bearer {ADMIN}")), None, None)
        .await
        .unwrap();
    (app, admin)
}

/// The UI on `app`.
pub async fn ui(
    app: &App,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(actix_web::App::new().configure(kubernaut_web::configure(app.clone()))).await
}

/// A token named `name` with `grants` (`role:namespace:context` each), and a session of it:
/// the session cookie's value.
pub async fn session_of(app: &App, admin: &Caller, name: &str, grants: &[&str]) -> String {
    let grants = grants
        .iter()
        .map(|g| {
            let parts: Vec<&str> = g.split(':').collect();
            Grant::parse(parts[0], parts[1], parts.get(2).copied()).unwrap()
        })
        .collect();
    let token = app
        .create_token(
            admin,
            TokenName::parse(name).unwrap(),
            Grants::new(grants).unwrap(),
            ExpiresInDays::DEFAULT,
        )
        .await
        .unwrap();
    app.log_in(&token.secret, None, None).await.unwrap().secret
}

/// A session of the global admin.
pub async fn admin_session(app: &App) -> String {
    app.log_in(ADMIN, None, None).await.unwrap().secret
}

/// Releases `service` `version` in `namespace`, with a `note` attribute.
pub async fn release(
    app: &App,
    admin: &Caller,
    service: &str,
    namespace: &str,
    version: &str,
    note: &str,
) -> uuid::Uuid {
    let new = NewRelease::new(
        ServiceName::parse(service).unwrap(),
        Namespace::parse(namespace).unwrap(),
        Version::parse(version).unwrap(),
        TemplateSource::parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\ndata:\n  note: \"{{note}}\"\n",
        )
        .unwrap(),
        Attributes::parse([("note", note)]).unwrap(),
        "admin",
    )
    .unwrap();
    app.create_release(admin, new)
        .await
        .unwrap()
        .outcome
        .into_inner()
        .release
        .id
}

/// Deploys a release to `context` (it stays pending: no worker runs).
pub async fn deploy(
    app: &App,
    admin: &Caller,
    release: uuid::Uuid,
    context: &str,
) -> DeploymentDetail {
    app.create_deployment(
        admin,
        DeploymentRequest {
            release: ReleaseLookup::Id(release),
            context: ContextName::parse(context).unwrap(),
            auto_rollback: false,
            prune: true,
        },
    )
    .await
    .unwrap()
}

/// An answer: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    /// A header's value ("" when missing).
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form with a CSRF token")
            .to_owned()
    }
}

/// GETs `path` with the session cookie `session`.
pub async fn get<S, B>(ui: &S, path: &str, session: Option<&str>) -> Page
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::get().uri(path);
    if let Some(session) = session {
        req = req.insert_header((header::COOKIE, format!("kubernaut_session={session}")));
    }
    send(ui, req).await
}

/// POSTs the form `fields` to `path` with the session cookie `session`.
pub async fn post<S, B>(ui: &S, path: &str, session: Option<&str>, fields: &[(&str, &str)]) -> Page
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap());
    if let Some(session) = session {
        req = req.insert_header((header::COOKIE, format!("kubernaut_session={session}")));
    }
    send(ui, req).await
}

/// Sends a request as built.
pub async fn send<S, B>(ui: &S, req: test::TestRequest) -> Page
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(ui, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
