//! Each page's and form's authorization, in process (actix-web's test service, no browser):
//! sessions, grants, scopes, CSRF, and the audit events of refusals; on SQLite always and on
//! PostgreSQL when configured.

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use common::{ADMIN, admin_session, app, deploy, get, post, release, send, session_of, ui};
use kubernaut_app::{App, AuditFilter, Caller, DeploymentFilter};
use kubernaut_domain::{AuditAction, Page};
use kubernaut_store::testing::TestDatabase;

/// A service in `team-a` with a release and a pending deployment to prod, and one in
/// `team-b`: their ids as `(service, release, deployment)`.
async fn seed(app: &App, admin: &Caller) -> [(uuid::Uuid, uuid::Uuid, uuid::Uuid); 2] {
    let mut seeded = Vec::new();
    for (service, namespace) in [("web", "team-a"), ("billing", "team-b")] {
        let release = release(
            app,
            admin,
            service,
            namespace,
            "1",
            "<script>alert(1)</script>",
        )
        .await;
        let deployment = deploy(app, admin, release, "prod").await.deployment;
        seeded.push((deployment.release.service.id, release, deployment.id));
    }
    [seeded[0], seeded[1]]
}

async fn denials(app: &App, admin: &Caller, actor: &str) -> Vec<kubernaut_domain::AuditEvent> {
    app.audit_events(
        admin,
        AuditFilter {
            actor: Some(actor.to_owned()),
            action: Some(AuditAction::AccessDenied),
            ..AuditFilter::default()
        },
        Page::default(),
    )
    .await
    .unwrap()
    .items
}

async fn deployments(app: &App, admin: &Caller) -> u64 {
    app.deployments(admin, DeploymentFilter::default(), Page::default())
        .await
        .unwrap()
        .count
}

fn every_page_needs_a_session(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let [(service, release, deployment), _] = seed(&app, &admin).await;
        let ui = ui(&app).await;
        let pages = [
            "/".to_owned(),
            format!("/services/{service}"),
            "/releases".to_owned(),
            format!("/releases/{release}"),
            "/deployments?status=pending".to_owned(),
            format!("/deployments/{deployment}"),
            format!("/deployments/{deployment}/live"),
            "/tokens".to_owned(),
            "/audit".to_owned(),
            "/audit/verify".to_owned(),
        ];
        for path in &pages {
            for session in [None, Some("kns_not-a-session")] {
                let page = get(&ui, path, session).await;
                assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
                assert!(
                    page.body.contains("<h1>Log in</h1>"),
                    "{path}: {}",
                    page.body
                );
                assert!(
                    page.body.contains(&format!(
                        "name=\"next\" value=\"{}\"",
                        path.replace('&', "&amp;")
                    )),
                    "{path}"
                );
                assert!(
                    !page.body.contains("web"),
                    "{path} shows nothing of the data"
                );
            }
        }
        let admin_session = admin_session(&app).await;
        for path in &pages {
            let page = get(&ui, path, Some(&admin_session)).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
            assert!(
                page.header(header::CONTENT_SECURITY_POLICY)
                    .contains("script-src 'self'")
            );
        }
        for path in [
            "/deployments",
            format!("/deployments/{deployment}/cancel").as_str(),
            "/tokens",
            "/logout",
        ] {
            let page = post(&ui, path, None, &[("csrf", "x")]).await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
        }
        assert_eq!(deployments(&app, &admin).await, 2, "nothing was created");
    });
}

fn admin_pages_are_for_global_admins(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let ui = ui(&app).await;
        let deployer = session_of(&app, &admin, "deployer", &["deployer:*:*"]).await;
        let home = get(&ui, "/", Some(&deployer)).await;
        assert!(
            !home.body.contains("href=\"/tokens\""),
            "no link to the admin pages"
        );
        for path in ["/tokens", "/audit", "/audit/verify"] {
            let page = get(&ui, path, Some(&deployer)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.body.contains("only a global admin"), "{}", page.body);
        }
        let csrf = home.csrf();
        let page = post(
            &ui,
            "/tokens",
            Some(&deployer),
            &[("csrf", &csrf), ("name", "mine"), ("grants", "admin:*:*")],
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(denials(&app, &admin, "deployer").await.len(), 4);
        let admin_session = admin_session(&app).await;
        let tokens = get(&ui, "/tokens", Some(&admin_session)).await;
        assert!(tokens.body.contains("deployer"));
        let created = post(
            &ui,
            "/tokens",
            Some(&admin_session),
            &[
                ("csrf", &tokens.csrf()),
                ("name", "ci"),
                ("grants", "deployer:team-a:staging\nviewer:*"),
                ("expires_in_days", "7"),
            ],
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert!(
            created.body.contains("value=\"knt_"),
            "the secret is shown once"
        );
        let bad = post(
            &ui,
            "/tokens",
            Some(&admin_session),
            &[
                ("csrf", &tokens.csrf()),
                ("name", "x"),
                ("grants", "king:*"),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("king"), "{}", bad.body);
    });
}

fn records_outside_the_scope_do_not_exist(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let [(_, _, _), (service_b, release_b, deployment_b)] = seed(&app, &admin).await;
        let ui = ui(&app).await;
        let viewer = session_of(&app, &admin, "team-a-viewer", &["viewer:team-a"]).await;
        let home = get(&ui, "/", Some(&viewer)).await;
        assert!(home.body.contains(">web<"));
        assert!(!home.body.contains("billing"));
        for path in [
            format!("/services/{service_b}"),
            format!("/releases/{release_b}"),
            format!("/deployments/{deployment_b}"),
            format!("/deployments/{deployment_b}/live"),
            "/services/not-a-uuid".to_owned(),
        ] {
            let page = get(&ui, &path, Some(&viewer)).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(page.body.contains("does not exist"), "{}", page.body);
        }
        for path in ["/releases", "/deployments"] {
            let page = get(&ui, path, Some(&viewer)).await;
            assert!(
                page.body.contains(">web<") && !page.body.contains("billing"),
                "{path}"
            );
        }
        let page = post(
            &ui,
            &format!("/deployments/{deployment_b}/cancel"),
            Some(&viewer),
            &[("csrf", &home.csrf())],
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    });
}

fn forms_need_the_grant_and_the_csrf_token(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let [(service, release, deployment), _] = seed(&app, &admin).await;
        let ui = ui(&app).await;
        let viewer = session_of(&app, &admin, "viewer", &["viewer:*"]).await;
        let page = get(&ui, &format!("/services/{service}"), Some(&viewer)).await;
        assert!(
            !page.body.contains("action=\"/deployments\""),
            "no deploy form for a viewer"
        );
        assert!(!page.body.contains("/rollback"), "no rollback for a viewer");
        assert!(!page.body.contains("/cancel"), "no cancel for a viewer");
        let csrf = page.csrf();
        let release = release.to_string();
        for (path, fields) in [
            (
                "/deployments".to_owned(),
                vec![
                    ("csrf", csrf.as_str()),
                    ("release", release.as_str()),
                    ("context", "prod"),
                ],
            ),
            (
                format!("/services/{service}/rollback"),
                vec![("csrf", csrf.as_str()), ("context", "prod")],
            ),
            (
                format!("/deployments/{deployment}/cancel"),
                vec![("csrf", csrf.as_str())],
            ),
        ] {
            let refused = post(&ui, &path, Some(&viewer), &fields).await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                refused.body
            );
            assert!(refused.body.contains("viewer"), "{}", refused.body);
        }
        let denied = denials(&app, &admin, "viewer").await;
        assert_eq!(denied.len(), 3);
        assert!(denied.iter().all(|e| e.context.as_deref() == Some("prod")));
        assert_eq!(deployments(&app, &admin).await, 2, "nothing was deployed");

        // A deployer of staging: the form offers staging only; without the session's CSRF
        // token, or from another site, nothing happens and the refusal is audited.
        let deployer = session_of(&app, &admin, "deployer", &["deployer:team-a:staging"]).await;
        let page = get(&ui, &format!("/services/{service}"), Some(&deployer)).await;
        assert!(page.body.contains("<option value=\"staging\">"));
        assert!(!page.body.contains("<option value=\"prod\">"));
        assert!(
            !page.body.contains("/rollback"),
            "the prod lane offers no rollback to a staging deployer"
        );
        let csrf = page.csrf();
        let deploy_to = |context: &'static str, csrf: String| {
            vec![
                ("csrf", csrf),
                ("release", release.clone()),
                ("context", context.to_owned()),
            ]
        };
        let as_pairs = |fields: &[(&'static str, String)]| {
            fields
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect::<Vec<_>>()
        };
        for fields in [
            deploy_to("staging", String::new()),
            deploy_to("staging", "0".repeat(64)),
            deploy_to("staging", admin_page_csrf(&ui, &app).await),
        ] {
            let pairs = as_pairs(&fields);
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let refused = post(&ui, "/deployments", Some(&deployer), &refs).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
            assert!(refused.body.contains("CSRF"), "{}", refused.body);
        }
        let foreign = send(
            &ui,
            TestRequest::post()
                .uri("/deployments")
                .insert_header((header::COOKIE, format!("kubernaut_session={deployer}")))
                .insert_header((header::ORIGIN, "https://evil.example"))
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(
                    serde_urlencoded::to_string(deploy_to("staging", csrf.clone())).unwrap(),
                ),
        )
        .await;
        assert_eq!(foreign.status, StatusCode::FORBIDDEN);
        assert!(foreign.body.contains("another site"));
        let denied = denials(&app, &admin, "deployer").await;
        assert_eq!(denied.len(), 4, "{denied:?}");
        assert!(denied.iter().all(|e| e.resource_type == "request"));
        assert_eq!(deployments(&app, &admin).await, 2);

        let pairs = as_pairs(&deploy_to("prod", csrf.clone()));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            post(&ui, "/deployments", Some(&deployer), &refs)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let pairs = as_pairs(&deploy_to("staging", csrf));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let created = post(&ui, "/deployments", Some(&deployer), &refs).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        assert!(
            created
                .header(header::LOCATION)
                .starts_with("/deployments/")
        );
        assert_eq!(deployments(&app, &admin).await, 3);
    });
}

/// The CSRF token of another session (the admin's).
async fn admin_page_csrf<S, B>(ui: &S, app: &App) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    get(ui, "/", Some(&admin_session(app).await)).await.csrf()
}

fn values_are_escaped(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let [(_, release, _), _] = seed(&app, &admin).await;
        let ui = ui(&app).await;
        let page = get(
            &ui,
            &format!("/releases/{release}"),
            Some(&admin_session(&app).await),
        )
        .await;
        assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.body.contains("<script>alert"));
    });
}

fn logging_in_and_out(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let ui = ui(&app).await;
        let form = get(&ui, "/login?next=/deployments", None).await;
        assert_eq!(form.status, StatusCode::OK);
        let nonce_cookie = form.header(header::SET_COOKIE).to_owned();
        assert!(nonce_cookie.contains("HttpOnly") && nonce_cookie.contains("SameSite=Strict"));
        let nonce = form.csrf();
        let login = |fields: Vec<(&'static str, String)>, cookie: Option<String>, https: bool| {
            let mut req = TestRequest::post()
                .uri("/login")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(serde_urlencoded::to_string(fields).unwrap());
            if let Some(cookie) = cookie {
                req = req.insert_header((header::COOKIE, cookie));
            }
            if https {
                req = req.insert_header(("x-forwarded-proto", "https"));
            }
            req
        };
        let cookie = format!("kubernaut_login={nonce}");
        let fields = |token: &str, next: &str| {
            vec![
                ("csrf", nonce.clone()),
                ("token", token.to_owned()),
                ("next", next.to_owned()),
            ]
        };
        let no_cookie = send(&ui, login(fields(ADMIN, "/"), None, false)).await;
        assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
        let wrong = send(
            &ui,
            login(fields("knt_wrong", "/"), Some(cookie.clone()), false),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("unknown"), "{}", wrong.body);
        assert!(
            !wrong.body.contains("knt_wrong"),
            "the secret is not echoed"
        );
        let ok = send(
            &ui,
            login(fields(ADMIN, "/deployments"), Some(cookie.clone()), false),
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        assert_eq!(ok.header(header::LOCATION), "/deployments");
        let session_cookie = ok
            .headers
            .get_all(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("kubernaut_session="))
            .expect("a session cookie");
        for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Expires="] {
            assert!(session_cookie.contains(part), "{session_cookie}");
        }
        assert!(
            !session_cookie.contains("Secure"),
            "plain HTTP: {session_cookie}"
        );
        let foreign = send(
            &ui,
            login(fields(ADMIN, "//evil.example/"), Some(cookie.clone()), true),
        )
        .await;
        assert_eq!(foreign.header(header::LOCATION), "/");
        let secure = foreign
            .headers
            .get_all(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("kubernaut_session="))
            .unwrap();
        assert!(secure.contains("Secure"), "behind TLS: {secure}");

        // Logging out ends the session on the server; revoking a token ends its sessions.
        let session = session_cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("kubernaut_session=")
            .to_owned();
        let home = get(&ui, "/", Some(&session)).await;
        assert_eq!(home.status, StatusCode::OK);
        let out = post(&ui, "/logout", Some(&session), &[("csrf", &home.csrf())]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(
            get(&ui, "/", Some(&session)).await.status,
            StatusCode::UNAUTHORIZED
        );
        let viewer = session_of(&app, &admin, "viewer", &["viewer:*"]).await;
        assert_eq!(get(&ui, "/", Some(&viewer)).await.status, StatusCode::OK);
        let tokens = app
            .tokens(
                &admin,
                kubernaut_app::TokenFilter::default(),
                Page::default(),
            )
            .await
            .unwrap();
        let id = tokens
            .items
            .iter()
            .find(|t| t.name.as_str() == "viewer")
            .unwrap()
            .id;
        app.revoke_token(&admin, id).await.unwrap();
        let after = get(&ui, "/", Some(&viewer)).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    });
}

fn a_rollback_acts_on_the_lane_the_page_showed(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let [(service, _, deployment), _] = seed(&app, &admin).await;
        let ui = ui(&app).await;
        let session = admin_session(&app).await;
        let page = get(&ui, &format!("/services/{service}"), Some(&session)).await;
        assert!(
            page.body
                .contains(&format!("name=\"newest\" value=\"{deployment}\""))
        );
        let stale = uuid::Uuid::now_v7().to_string();
        let refused = post(
            &ui,
            &format!("/services/{service}/rollback"),
            Some(&session),
            &[
                ("csrf", &page.csrf()),
                ("context", "prod"),
                ("newest", &stale),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("reload the page"), "{}", refused.body);
        assert_eq!(deployments(&app, &admin).await, 2, "nothing was deployed");
    });
}

fn a_release_from_the_form_is_the_release_of_the_same_file(db: &TestDatabase) {
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let ui = ui(&app).await;
        let session = admin_session(&app).await;
        let form = get(&ui, "/releases/new", Some(&session)).await;
        let file = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\ndata:\n  note: \"{{note}}\"\n";
        let created = post(
            &ui,
            "/releases",
            Some(&session),
            &[
                ("csrf", &form.csrf()),
                ("service", "web"),
                ("namespace", "team-a"),
                ("version", "1"),
                ("template", &file.replace('\n', "\r\n")),
                ("attributes", "note=x\r\n"),
            ],
        )
        .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        // The same file and attributes through the API (the CLI) are a repeat, not a conflict.
        let again = release(&app, &admin, "web", "team-a", "1", "x").await;
        assert_eq!(
            created.header(header::LOCATION),
            format!("/releases/{again}")
        );
    });
}

macro_rules! web_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[test]
                fn $name() {
                    super::$name(&TestDatabase::sqlite());
                }
            )*
        }

        mod postgres {
            use kubernaut_store::testing::TestDatabase;
            $(
                #[test]
                #[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
                fn $name() {
                    super::$name(&TestDatabase::postgres());
                }
            )*
        }
    };
}

web_tests!(
    every_page_needs_a_session,
    admin_pages_are_for_global_admins,
    records_outside_the_scope_do_not_exist,
    forms_need_the_grant_and_the_csrf_token,
    values_are_escaped,
    logging_in_and_out,
    a_rollback_acts_on_the_lane_the_page_showed,
    a_release_from_the_form_is_the_release_of_the_same_file,
);
