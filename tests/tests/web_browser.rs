//! The web UI in a real browser: headless Chromium driven through WebDriver (chromedriver),
//! against the real `kubernaut-server` binary with its sandbox context on SQLite.
//!
//! Ignored unless asked for (`--include-ignored`), like the PostgreSQL tests: they need the
//! Debian packages `chromium` and `chromium-driver` (`.ci/run` installs them; `CHROMEDRIVER` and
//! `CHROMIUM` name other paths), and axe-core's `axe.min.js` (`AXE_CORE`; `.ci/run` fetches it
//! from the npm registry), which checks each page against WCAG 2.1 A and AA. Each test saves
//! screenshots under `target/web-screenshots/` for people to look at. The tests take turns: one
//! browser at a time.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{ADMIN_TOKEN, Server};
use serde_json::{Value, json};

/// One browser at a time: Chromium is heavy on a small machine.
static BROWSER: Mutex<()> = Mutex::new(());

/// The longest a page takes to show what a test waits for.
const WAIT: Duration = Duration::from_secs(20);

/// A Deployment, rolled out as the `rollout` attribute says.
const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  annotations:
    {{#rollout}}kubernaut.io/sandbox-rollout: \"{{rollout}}\"{{/rollout}}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
";

/// A server with the sandbox, chromedriver, and a headless Chromium session.
struct Ui {
    server: Server,
    driver: Child,
    browser: Client,
    http: reqwest::Client,
    test: &'static str,
    shots: usize,
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Ui {
    async fn start(test: &'static str, db: &TestDatabase) -> Self {
        Self::on(test, Server::start_with(db.url(), &["--sandbox"], &[])).await
    }

    async fn on(test: &'static str, server: Server) -> Self {
        let port = free_port();
        let driver_path = env_path("CHROMEDRIVER", "/usr/bin/chromedriver");
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e}; install the Debian packages chromium and \
                     chromium-driver (as .ci/run does) or set CHROMEDRIVER",
                    driver_path.display()
                )
            });
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < WAIT, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let chromium = env_path("CHROMIUM", "/usr/bin/chromium");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000"],
            },
        });
        let browser = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().cloned().unwrap_or_default())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self {
            server,
            driver,
            browser,
            http: reqwest::Client::new(),
            test,
            shots: 0,
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    async fn goto(&self, path: &str) {
        self.browser.goto(&self.url(path)).await.expect("goto");
    }

    /// Saves what the browser shows as `target/web-screenshots/<test>-<n>-<what>.png`.
    async fn screenshot(&mut self, what: &str) -> PathBuf {
        let png = self.browser.screenshot().await.expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        self.shots += 1;
        let path = dir.join(format!("{}-{}-{what}.png", self.test, self.shots));
        std::fs::write(&path, png).expect("the screenshot");
        path
    }

    async fn find(&self, css: &str) -> Element {
        self.browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    async fn count(&self, css: &str) -> usize {
        self.browser
            .find_all(Locator::Css(css))
            .await
            .map_or(0, |all| all.len())
    }

    /// The element's text (found again if the page replaced it meanwhile).
    async fn text(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(e) if started.elapsed() > WAIT => panic!("no text of {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Waits until the element's text contains `expected` (the page may replace it meanwhile).
    async fn wait_for_text(&mut self, css: &str, expected: &str) -> String {
        let started = Instant::now();
        loop {
            let text = match self.browser.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(expected) {
                return text;
            }
            if started.elapsed() > WAIT {
                let shot = self.screenshot("timeout").await;
                panic!(
                    "{css} never showed {expected:?}; last {text:?} (see {})",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks, again if the page replaced the element meanwhile.
    async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(CmdError::Standard(e)) if started.elapsed() < WAIT => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot click {css}: {e}"),
            }
        }
    }

    async fn path(&self) -> String {
        self.browser
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Checks the page with axe-core against WCAG 2.1 A and AA: labels, headings, landmarks,
    /// contrast, names of links and buttons.
    async fn assert_accessible(&self) {
        let axe = std::env::var("AXE_CORE").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cache/kubernaut-ci/axe-core-4.14.1/axe.min.js")
        });
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|e| {
            panic!("cannot read axe-core at {axe}: {e}; .ci/run fetches it (or set AXE_CORE)")
        });
        let script = format!(
            "{source}
             const done = arguments[arguments.length - 1];
             axe.run(document, {{runOnly: {{type: 'tag',
                                             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}})
                .then(result => done({{
                    passes: result.passes.length,
                    violations: result.violations.map(v => ({{
                        rule: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.html)}}))}}))
                .catch(error => done({{passes: 0, violations: [{{rule: 'axe failed', help: String(error)}}]}}));"
        );
        let result = self
            .browser
            .execute_async(&script, vec![])
            .await
            .expect("axe-core ran");
        let page = self.path().await;
        assert!(
            result["passes"].as_u64().unwrap_or(0) > 0,
            "axe checked nothing on {page}: {result}"
        );
        assert_eq!(result["violations"], json!([]), "accessibility of {page}");
    }

    /// Logs in through the login form with `token`, from whatever page asked for it.
    async fn log_in(&self, token: &str) {
        self.find("input#token")
            .await
            .send_keys(token)
            .await
            .expect("type the token");
        self.click("form.login button[type=submit]").await;
        self.find("form.logout").await;
    }

    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Releases `service` `version` with extra attributes; its id.
    async fn release(&self, service: &str, version: &str, extra: Value) -> String {
        let mut attributes = json!({"image": format!("{service}:{version}")});
        attributes
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let body = json!({"service": service, "namespace": "default", "version": version,
                          "template": TEMPLATE, "attributes": attributes});
        let (status, release) = self
            .api(
                reqwest::Method::POST,
                "/api/releases",
                ADMIN_TOKEN,
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{release}");
        release["id"].as_str().unwrap().to_owned()
    }

    /// Deploys a release through the API and waits for its end; the deployment.
    async fn deploy(&self, release: &str, wait: bool) -> Value {
        let path = if wait {
            "/api/deployments?wait=30"
        } else {
            "/api/deployments"
        };
        let body = json!({"release": release, "context": "sandbox"});
        let (status, deployment) = self
            .api(reqwest::Method::POST, path, ADMIN_TOKEN, Some(body))
            .await;
        assert!(matches!(status, 200..=202), "{status} {deployment}");
        deployment
    }

    async fn stop(self) {
        let Ui {
            browser,
            mut driver,
            server,
            ..
        } = self;
        let _ = browser.close().await;
        let _ = driver.kill();
        let _ = driver.wait();
        drop(server);
    }
}

/// Runs one browser test on its own runtime, one at a time.
fn browser_test<F: Future<Output = ()>>(body: impl FnOnce(TestDatabase) -> F) {
    let _turn = BROWSER.lock().unwrap_or_else(PoisonError::into_inner);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(body(TestDatabase::sqlite()));
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn logs_in_and_sees_what_runs_where() {
    browser_test(|db| async move {
        let mut ui = Ui::start("matrix", &db).await;
        let good = ui.release("hello", "1", json!({})).await;
        ui.deploy(&good, true).await;
        let bad = ui
            .release("broken", "7", json!({"rollout": "failed"}))
            .await;
        ui.deploy(&bad, true).await;
        ui.goto("/").await;
        ui.wait_for_text("h1", "Log in").await;
        ui.screenshot("login").await;
        ui.assert_accessible().await;
        ui.log_in(ADMIN_TOKEN).await;
        assert_eq!(ui.path().await, "/");
        ui.wait_for_text("h1", "What runs where").await;
        let failed = ui.text("table.matrix td.cell.failed").await;
        assert!(failed.starts_with("7 failed"), "{failed}");
        assert!(failed.contains("nothing succeeded yet"), "{failed}");
        assert_eq!(ui.count("table.matrix td.cell.succeeded").await, 1);
        assert!(
            ui.text("div.notice.error")
                .await
                .contains("1 deployment failed")
        );
        ui.screenshot("what-runs-where").await;
        ui.assert_accessible().await;
        ui.find("input#name").await.send_keys("hel").await.unwrap();
        ui.click("form.filters button[type=submit]").await;
        ui.find("table.matrix").await;
        assert_eq!(ui.count("table.matrix tbody tr").await, 1);
        assert!(
            ui.browser
                .current_url()
                .await
                .unwrap()
                .query()
                .unwrap()
                .contains("name=hel")
        );
        // A phone: the page does not overflow; the matrix scrolls inside its frame.
        ui.browser.set_window_size(390, 844).await.unwrap();
        ui.goto("/").await;
        let overflow = ui
            .browser
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "the page is wider than a phone: {overflow}"
        );
        ui.screenshot("phone").await;
        ui.assert_accessible().await;
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn deploys_from_the_service_page_and_follows_the_log_to_succeeded() {
    browser_test(|db| async move {
        let mut ui = Ui::start("deploy", &db).await;
        let release = ui.release("hello", "1", json!({})).await;
        ui.goto("/").await;
        ui.log_in(ADMIN_TOKEN).await;
        ui.click("table.matrix a[href^='/services/']").await;
        ui.wait_for_text("h1", "Service hello").await;
        ui.find("select#release")
            .await
            .select_by_value(&release)
            .await
            .unwrap();
        ui.find("select#context")
            .await
            .select_by_value("sandbox")
            .await
            .unwrap();
        ui.screenshot("service").await;
        ui.assert_accessible().await;
        ui.click("form.deploy button[type=submit]").await;
        ui.find("#live").await;
        assert!(ui.path().await.starts_with("/deployments/"));
        ui.wait_for_text("#status", "succeeded").await;
        let log = ui.wait_for_text("ol.log", "succeeded").await;
        assert!(log.contains("started by worker"), "{log}");
        ui.wait_for_text("h1", "Deployment of hello 1 to sandbox")
            .await;
        ui.screenshot("succeeded").await;
        ui.assert_accessible().await;
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn a_failed_rollout_shows_its_error() {
    browser_test(|db| async move {
        let mut ui = Ui::start("failed", &db).await;
        let release = ui.release("hello", "2", json!({"rollout": "failed"})).await;
        ui.goto(&format!("/releases/{release}")).await;
        ui.log_in(ADMIN_TOKEN).await;
        ui.click("form.deploy button[type=submit]").await;
        ui.wait_for_text("#status", "failed").await;
        let error = ui.text("#live .notice.error .error-message").await;
        assert!(error.contains("sandbox rollout failed"), "{error}");
        let explanation = ui.text("#live .notice.error .explanation").await;
        assert!(
            explanation.starts_with("A workload did not become ready"),
            "{explanation}"
        );
        assert_eq!(ui.count("#live form[action$='/rollback'] button").await, 1);
        ui.screenshot("failed").await;
        ui.assert_accessible().await;
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn rolls_back_to_the_last_good_release() {
    browser_test(|db| async move {
        let mut ui = Ui::start("rollback", &db).await;
        let good = ui.release("hello", "1", json!({})).await;
        let first = ui.deploy(&good, true).await;
        let bad = ui.release("hello", "2", json!({"rollout": "failed"})).await;
        ui.deploy(&bad, true).await;
        let service = first["release"]["service"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ui.goto(&format!("/services/{service}")).await;
        ui.log_in(ADMIN_TOKEN).await;
        ui.screenshot("before").await;
        ui.click("form[action$='/rollback'] button").await;
        ui.wait_for_text("#status", "succeeded").await;
        ui.wait_for_text("h1", "Deployment of hello 1 to sandbox")
            .await;
        assert!(ui.text("dl.facts").await.contains("a rollback"));
        ui.screenshot("rolled-back").await;
        ui.goto("/").await;
        let cell = ui.text("table.matrix td.cell").await;
        assert!(cell.starts_with("1 succeeded"), "{cell}");
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn cancels_a_progressing_deployment() {
    browser_test(|db| async move {
        let mut ui = Ui::start("cancel", &db).await;
        let stuck = ui
            .release("hello", "3", json!({"rollout": "progressing"}))
            .await;
        let deployment = ui.deploy(&stuck, false).await;
        let id = deployment["id"].as_str().unwrap().to_owned();
        ui.goto(&format!("/deployments/{id}")).await;
        ui.log_in(ADMIN_TOKEN).await;
        ui.wait_for_text("#status", "rolling out").await;
        ui.screenshot("progressing").await;
        ui.click("#live form[action$='/cancel'] button").await;
        ui.wait_for_text("#status", "canceled").await;
        ui.wait_for_text("ol.log", "canceled by admin").await;
        assert_eq!(ui.count("#live form[action$='/cancel']").await, 0);
        ui.screenshot("canceled").await;
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn a_viewer_sees_no_deploy_button_and_a_forged_post_is_refused_and_audited() {
    browser_test(|db| async move {
        let mut ui = Ui::start("viewer", &db).await;
        let release = ui.release("hello", "1", json!({})).await;
        ui.deploy(&release, true).await;
        let (status, token) = ui
            .api(
                reqwest::Method::POST,
                "/api/tokens",
                ADMIN_TOKEN,
                Some(json!({"name": "viewer", "grants": [{"role": "viewer", "namespace": "*"}]})),
            )
            .await;
        assert_eq!(status, 201, "{token}");
        ui.goto("/").await;
        ui.log_in(token["token"].as_str().unwrap()).await;
        ui.click("table.matrix a[href^='/services/']").await;
        ui.wait_for_text("h1", "Service hello").await;
        assert_eq!(ui.count("form.deploy").await, 0);
        assert_eq!(ui.count("form[action$='/rollback']").await, 0);
        assert!(
            ui.text("main")
                .await
                .contains("may not deploy this service")
        );
        assert_eq!(ui.count("nav a[href='/tokens']").await, 0);
        ui.screenshot("no-buttons").await;
        // A form the page does not offer, with the session's own CSRF token.
        ui.browser
            .execute(
                "const form = document.createElement('form');
                 form.method = 'post'; form.action = '/deployments';
                 const fields = {csrf: document.querySelector('form.logout [name=csrf]').value,
                                 release: arguments[0], context: 'sandbox'};
                 for (const [name, value] of Object.entries(fields)) {
                   const input = document.createElement('input');
                   input.type = 'hidden'; input.name = name; input.value = value;
                   form.appendChild(input);
                 }
                 document.body.appendChild(form); form.submit();",
                vec![json!(release)],
            )
            .await
            .unwrap();
        ui.wait_for_text("h1", "403").await;
        let refusal = ui.text("main .notice.error").await;
        assert!(refusal.contains("viewer"), "{refusal}");
        ui.screenshot("forged-post").await;
        ui.assert_accessible().await;
        let (status, events) = ui
            .api(
                reqwest::Method::GET,
                "/api/audit?action=access.denied&actor=viewer",
                ADMIN_TOKEN,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let denied = events["items"].as_array().unwrap();
        assert_eq!(denied.len(), 1, "{events}");
        assert_eq!(denied[0]["resourceType"], "deployment");
        assert_eq!(denied[0]["context"], "sandbox");
        let (_, deployments) = ui
            .api(reqwest::Method::GET, "/api/deployments", ADMIN_TOKEN, None)
            .await;
        assert_eq!(
            deployments["count"], 1,
            "nothing was deployed: {deployments}"
        );
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn an_attribute_that_is_html_shows_as_text() {
    browser_test(|db| async move {
        let mut ui = Ui::start("escaping", &db).await;
        let script = "<script>alert(1)</script>";
        let release = ui.release("hello", "1", json!({"note": script})).await;
        ui.goto(&format!("/releases/{release}")).await;
        ui.log_in(ADMIN_TOKEN).await;
        let row = ui.text("table.attributes tbody").await;
        assert!(row.contains(&format!("note {script}")), "{row}");
        assert!(
            ui.browser.get_alert_text().await.is_err(),
            "an alert opened"
        );
        let scripts = ui
            .browser
            .execute("return document.querySelectorAll('script').length", vec![])
            .await
            .unwrap();
        assert_eq!(scripts, json!(2), "only htmx and kubernaut.js");
        ui.screenshot("escaped").await;
        ui.assert_accessible().await;
        ui.stop().await;
    });
}

#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn logging_out_ends_the_session() {
    browser_test(|db| async move {
        let mut ui = Ui::start("logout", &db).await;
        ui.goto("/").await;
        ui.log_in(ADMIN_TOKEN).await;
        let cookie = ui
            .browser
            .get_named_cookie("kubernaut_session")
            .await
            .expect("the session cookie");
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(
            cookie.same_site().map(|s| s.to_string()).as_deref(),
            Some("Strict")
        );
        let secret = cookie.value().to_owned();
        ui.click("form.logout button").await;
        ui.wait_for_text("main", "You logged out").await;
        ui.screenshot("logged-out").await;
        ui.goto("/deployments").await;
        ui.wait_for_text("h1", "Log in").await;
        // The old cookie is dead on the server too, not only gone from the browser.
        let replay = ui
            .http
            .get(ui.url("/deployments"))
            .header("Cookie", format!("kubernaut_session={secret}"))
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status().as_u16(), 401);
        ui.stop().await;
    });
}

/// The README's promise: a new server prints its first admin token; with it, a person ships
/// the hello-world example to the sandbox and rolls it back from the browser alone.
#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn ships_and_rolls_back_hello_world_from_the_browser_alone() {
    browser_test(|db| async move {
        let server = Server::start_without_bootstrap(db.url(), &["--sandbox"], &[]);
        let printed = server
            .stderr()
            .lines()
            .iter()
            .find_map(|line| {
                line.split_whitespace()
                    .find(|w| w.starts_with("knt_"))
                    .map(str::to_owned)
            })
            .expect("the first admin token, printed");
        let mut ui = Ui::on("readme", server).await;
        let template = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../examples/hello-world/kubernetes.yaml"),
        )
        .unwrap();
        ui.goto("/").await;
        ui.log_in(&printed).await;
        for (version, attributes, status) in [
            ("1", "image=registry.example.com/hello-world:1", "succeeded"),
            (
                "2",
                "image=registry.example.com/hello-world:2\nrollout=failed",
                "failed",
            ),
        ] {
            ui.click("nav a[href='/releases']").await;
            ui.click("a[href='/releases/new']").await;
            ui.find("input#service")
                .await
                .send_keys("hello-world")
                .await
                .unwrap();
            ui.find("input#version")
                .await
                .send_keys(version)
                .await
                .unwrap();
            ui.find("textarea#template")
                .await
                .send_keys(&template)
                .await
                .unwrap();
            ui.find("textarea#attributes")
                .await
                .send_keys(attributes)
                .await
                .unwrap();
            ui.click("form[action='/releases'] button[type=submit]")
                .await;
            ui.wait_for_text("h1", &format!("Release {version} of hello-world"))
                .await;
            ui.click("form.deploy button[type=submit]").await;
            ui.wait_for_text("#status", status).await;
            ui.screenshot(&format!("version-{version}-{status}")).await;
        }
        ui.click("#live form[action$='/rollback'] button").await;
        ui.wait_for_text("#status", "succeeded").await;
        assert_eq!(
            ui.text("h1").await,
            "Deployment of hello-world 1 to sandbox"
        );
        ui.screenshot("rolled-back").await;
        ui.click("nav a[href='/']").await;
        let cell = ui.text("table.matrix td.cell").await;
        assert!(cell.starts_with("1 succeeded"), "{cell}");
        ui.screenshot("what-runs-where").await;
        ui.stop().await;
    });
}

/// A global admin creates a token (its secret shown once) and revokes it, reads the audit log
/// and verifies its chain; every list and admin page passes axe-core.
#[test]
#[ignore = "needs chromium and chromedriver (.ci/run installs them)"]
fn an_admin_manages_tokens_and_reads_the_audit_log() {
    browser_test(|db| async move {
        let mut ui = Ui::start("admin", &db).await;
        let release = ui.release("hello", "1", json!({})).await;
        ui.deploy(&release, true).await;
        ui.goto("/tokens").await;
        ui.log_in(ADMIN_TOKEN).await;
        ui.wait_for_text("h1", "Tokens").await;
        ui.assert_accessible().await;
        ui.find("input#token-name")
            .await
            .send_keys("ci-hello")
            .await
            .unwrap();
        ui.find("textarea#grants")
            .await
            .send_keys("deployer:default:sandbox")
            .await
            .unwrap();
        ui.click("form[action='/tokens'] button[type=submit]").await;
        ui.wait_for_text("h1", "Token created").await;
        let secret = ui
            .find("input#secret")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(secret.starts_with("knt_"), "{secret}");
        let (status, whoami) = ui
            .api(reqwest::Method::GET, "/api/whoami", &secret, None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(whoami["name"], "ci-hello");
        ui.screenshot("token-created").await;
        ui.goto("/tokens").await;
        ui.click("button[aria-label='Revoke ci-hello']").await;
        ui.wait_for_text("table", "revoked").await;
        let (status, _) = ui
            .api(reqwest::Method::GET, "/api/whoami", &secret, None)
            .await;
        assert_eq!(status, 401, "the revoked token is refused");
        ui.goto("/audit").await;
        let log = ui.text("table").await;
        for action in [
            "token.revoke",
            "token.create",
            "deployment.create",
            "release.create",
        ] {
            assert!(log.contains(action), "{action} in {log}");
        }
        ui.screenshot("audit").await;
        ui.assert_accessible().await;
        ui.click("a[href='/audit/verify']").await;
        ui.wait_for_text("main", "The chain holds").await;
        ui.assert_accessible().await;
        for path in ["/releases", "/deployments", "/releases/new"] {
            ui.goto(path).await;
            ui.find("main h1").await;
            ui.assert_accessible().await;
        }
        ui.stop().await;
    });
}
