//! The `kubernaut` binary against the real `kubernaut-server` (sandbox context, SQLite unless a
//! test runs on both backends): every command's happy path, the exit codes of `deploy --wait`,
//! rollbacks (asked for and automatic), canceling, diff and status, bad arguments, an
//! unreachable server, a server's 4xx message, tokens (401, 403) and the audit log, and the
//! hello-world example shipped. Commands run with the test server's bootstrap admin token unless
//! a test says otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::assert::OutputAssertExt;
use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{ADMIN_TOKEN, Server};
use serde_json::Value;

const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  annotations:
    {{#rollout}}kubernaut.io/sandbox-rollout: \"{{rollout}}\"{{/rollout}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
";

/// A sandbox server, and a template file to release.
struct Fixture {
    server: Server,
    template: PathBuf,
    _db: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self::with_env(&[])
    }

    /// A sandbox server on SQLite with more environment variables (`KUBERNAUT__...` settings).
    fn with_env(env: &[(&str, &str)]) -> Self {
        let db = TestDatabase::sqlite();
        let mut fixture = Self::on(&db, TEMPLATE, env);
        fixture._db = Some(db);
        fixture
    }

    /// A sandbox server on `db`, releasing `template`.
    fn on(db: &TestDatabase, template: &str, env: &[(&str, &str)]) -> Self {
        let server = Server::start_with(db.url(), &["--sandbox"], env);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubernetes.yaml");
        std::fs::write(&path, template).unwrap();
        Self {
            server,
            template: path,
            _db: None,
            _dir: dir,
        }
    }

    /// `kubernaut --server URL --token ADMIN_TOKEN ARGS...`, both from the environment.
    fn kubernaut(&self, args: &[&str]) -> Command {
        let mut command = kubernaut(args);
        command
            .env("KUBERNAUT_SERVER", self.server.url(""))
            .env("KUBERNAUT_TOKEN", ADMIN_TOKEN);
        command
    }

    /// `kubernaut ARGS...` with `token` instead of the admin's.
    fn kubernaut_as(&self, token: &str, args: &[&str]) -> Command {
        let mut command = self.kubernaut(args);
        command.env("KUBERNAUT_TOKEN", token);
        command
    }

    fn release(&self, version: &str, extra: &[&str]) {
        let image = format!("image=hello:{version}");
        let mut args = vec![
            "release",
            "create",
            "--service",
            "hello",
            "--version",
            version,
            "--template",
            self.template.to_str().unwrap(),
            "--attr",
            &image,
        ];
        args.extend(extra);
        self.kubernaut(&args).assert().success();
    }
}

fn kubernaut(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubernaut"));
    command
        .args(args)
        .env_remove("KUBERNAUT_SERVER")
        .env_remove("KUBERNAUT_TOKEN")
        .env_remove("KUBERNAUT_RETRY_FOR");
    command
}

fn stdout(mut command: Command) -> String {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn json(command: Command) -> Value {
    serde_json::from_str(&stdout(command)).unwrap()
}

/// Runs `command`: its exit code, standard output and standard error.
fn run(mut command: Command) -> (Option<i32>, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// `deploy --service hello --version VERSION --context sandbox` and `extra`.
fn deploy(fixture: &Fixture, version: &str, extra: &[&str]) -> Command {
    let mut args = vec![
        "deploy",
        "--service",
        "hello",
        "--version",
        version,
        "--context",
        "sandbox",
    ];
    args.extend(extra);
    fixture.kubernaut(&args)
}

/// Reads with `deployment get` until `done` holds for the answer (at most 10 s).
fn poll(fixture: &Fixture, args: &[&str], done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut all = vec!["-o", "json"];
        all.extend(args);
        let answer = json(fixture.kubernaut(&all));
        if done(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{args:?} never got there: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn release_services_and_contexts_commands() {
    let fixture = Fixture::new();
    let template = fixture.template.to_str().unwrap();
    let created = stdout(fixture.kubernaut(&[
        "release",
        "create",
        "--service",
        "hello",
        "--version",
        "1",
        "--template",
        template,
        "--attr",
        "image=hello:1",
    ]));
    assert!(created.starts_with("release "), "{created}");
    assert!(
        created.trim_end().ends_with("of hello version 1 created"),
        "{created}"
    );
    let repeated = stdout(fixture.kubernaut(&[
        "release",
        "create",
        "--service",
        "hello",
        "--version",
        "1",
        "--template",
        template,
        "--attr",
        "image=hello:1",
    ]));
    assert!(
        repeated.contains("already exists with the same template"),
        "{repeated}"
    );

    let attr_file = fixture.template.with_file_name("release.env");
    std::fs::write(&attr_file, "image=hello:2\ncommit=3f2a9c1\n").unwrap();
    let (code, out, err) = run(fixture.kubernaut(&[
        "--output",
        "json",
        "release",
        "create",
        "--service",
        "hello",
        "--version",
        "2",
        "--template",
        template,
        "--attr-file",
        attr_file.to_str().unwrap(),
    ]));
    assert_eq!(code, Some(0), "{err}");
    let release: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(release["attributes"]["commit"], "3f2a9c1");
    // The template never uses `commit`: kept, with a warning on standard error.
    let warning = "attribute commit is not used by the template: it is stored with the release \
                   but renders nothing (is it a variable's name misspelled?)";
    assert_eq!(release["warnings"], serde_json::json!([warning]));
    assert_eq!(err, format!("kubernaut: warning: {warning}\n"));
    let id = release["id"].as_str().unwrap();

    let list = stdout(fixture.kubernaut(&["release", "list", "--service", "hello"]));
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("VERSION"),
        "{list}"
    );
    assert!(lines[1].starts_with(id), "newest first: {list}");
    assert_eq!(lines.len(), 3, "{list}");
    let page = stdout(fixture.kubernaut(&["release", "list", "--limit", "1"]));
    assert!(page.contains("(1 of 2, from offset 0"), "{page}");

    let shown = stdout(fixture.kubernaut(&["release", "get", id]));
    assert!(shown.contains("Version:   2"), "{shown}");
    assert!(shown.contains("  commit=3f2a9c1"), "{shown}");
    assert!(shown.contains("image: \"{{image}}\""), "{shown}");

    let services = json(fixture.kubernaut(&["-o", "json", "services", "list"]));
    assert_eq!(services["count"], 1);
    let service_id = services["items"][0]["id"].as_str().unwrap();
    let service = stdout(fixture.kubernaut(&["services", "get", service_id]));
    assert!(service.contains("Latest:    version 2"), "{service}");
    assert!(service.contains("Deployed:  nowhere"), "{service}");

    let contexts = stdout(fixture.kubernaut(&["contexts"]));
    assert_eq!(
        contexts
            .lines()
            .map(str::split_whitespace)
            .map(Iterator::collect::<Vec<_>>)
            .collect::<Vec<_>>(),
        [vec!["NAME", "KIND"], vec!["sandbox", "sandbox"]]
    );

    let deleted = stdout(fixture.kubernaut(&["release", "delete", id]));
    assert_eq!(deleted.trim(), format!("release {id} deleted"));
    let gone = fixture.kubernaut(&["release", "get", id]).output().unwrap();
    assert_eq!(gone.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&gone.stderr).trim(),
        format!("kubernaut: release {id} does not exist")
    );
}

#[test]
fn deploy_wait_exit_codes_and_deployment_commands() {
    let fixture = Fixture::new();
    fixture.release("1", &[]);
    fixture.release("2", &["--attr", "rollout=failed"]);
    fixture.release("3", &["--attr", "rollout=progressing"]);

    let succeeded = fixture
        .kubernaut(&[
            "deploy",
            "--service",
            "hello",
            "--version",
            "1",
            "--context",
            "sandbox",
            "--wait",
        ])
        .output()
        .unwrap();
    assert_eq!(succeeded.status.code(), Some(0), "{succeeded:?}");
    let out = String::from_utf8(succeeded.stdout).unwrap();
    assert!(out.contains(" deployment.apps/hello created\n"), "{out}");
    assert!(out.contains(" deployment.apps/hello rolled out\n"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("of hello version 1 to sandbox succeeded"),
        "{out}"
    );

    let failed = fixture
        .kubernaut(&[
            "deploy",
            "--service",
            "hello",
            "--version",
            "2",
            "--context",
            "sandbox",
            "--wait",
        ])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(3), "{failed:?}");
    let err = String::from_utf8(failed.stderr).unwrap();
    assert!(err.starts_with("kubernaut: deployment "), "{err}");
    assert!(
        err.contains(
            "of hello version 2 to sandbox failed: deployment.apps/hello failed to roll out: "
        ),
        "{err}"
    );

    let timed_out = fixture
        .kubernaut(&[
            "deploy",
            "--service",
            "hello",
            "--version",
            "3",
            "--context",
            "sandbox",
            "--wait",
            "--timeout",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(timed_out.status.code(), Some(4), "{timed_out:?}");
    let err = String::from_utf8(timed_out.stderr).unwrap();
    assert!(
        err.contains("kubernaut: timed out after 1s waiting for deployment "),
        "{err}"
    );

    // Without --wait: the pending deployment, at once.
    let pending = json(fixture.kubernaut(&[
        "-o",
        "json",
        "deploy",
        "--service",
        "hello",
        "--version",
        "1",
        "--context",
        "sandbox",
    ]));
    assert_eq!(pending["status"], "pending");

    let list = json(fixture.kubernaut(&["-o", "json", "deployment", "list", "--status", "failed"]));
    assert_eq!(list["count"], 1);
    let failed_id = list["items"][0]["id"].as_str().unwrap();
    let table = stdout(fixture.kubernaut(&["deployment", "list", "--version", "2"]));
    assert!(
        table.contains(failed_id) && table.contains("failed"),
        "{table}"
    );
    let shown = stdout(fixture.kubernaut(&["deployment", "get", failed_id]));
    assert!(shown.contains("Status:     failed"), "{shown}");
    assert!(
        shown.contains("Error:      deployment.apps/hello failed to roll out"),
        "{shown}"
    );
    let log = stdout(fixture.kubernaut(&["deployment", "log", failed_id]));
    assert!(
        log.contains(" error: deployment.apps/hello failed to roll out"),
        "{log}"
    );
}

#[test]
fn bad_arguments_are_exit_code_2() {
    for args in [
        vec!["deploy", "--context", "sandbox"],
        vec![
            "deploy",
            "--release",
            "x",
            "--service",
            "hello",
            "--context",
            "sandbox",
        ],
        vec![
            "release",
            "create",
            "--service",
            "s",
            "--version",
            "1",
            "--template",
            "t",
            "--attr",
            "novalue",
        ],
        vec![
            "deploy",
            "--release",
            "x",
            "--context",
            "c",
            "--timeout",
            "5",
        ],
        vec!["frobnicate"],
        vec!["token", "create", "--name", "ci"],
        vec!["token", "create", "--name", "ci", "--grant", "deployer"],
        vec![
            "token",
            "create",
            "--name",
            "ci",
            "--grant",
            "deployer:default:",
        ],
        vec!["token", "list", "--revoked", "maybe"],
        vec!["token", "revoke"],
        vec!["rollback", "--context", "sandbox"],
        vec!["rollback", "--service", "hello"],
        vec![
            "rollback",
            "--service",
            "hello",
            "--context",
            "c",
            "--version",
            "1",
        ],
        vec![
            "rollback",
            "--service",
            "hello",
            "--context",
            "c",
            "--timeout",
            "5",
        ],
        vec!["deployment", "cancel"],
        vec!["diff", "--service", "hello", "--version", "1"],
        vec!["diff", "--service", "hello", "--context", "c"],
        vec!["diff", "--version", "1", "--context", "c"],
        vec![
            "diff",
            "--release",
            "x",
            "--service",
            "hello",
            "--context",
            "c",
        ],
        vec!["status", "--service", "hello"],
        vec!["status", "--context", "c"],
    ] {
        let output = kubernaut(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
}

#[test]
fn ship_to_an_unknown_context_releases_nothing() {
    let fixture = Fixture::new();
    let template = fixture.template.to_str().unwrap();
    let (code, out, err) = run(fixture.kubernaut(&[
        "ship",
        "--service",
        "hello",
        "--version",
        "1",
        "--template",
        template,
        "--attr",
        "image=hello:1",
        "--context",
        "prod-eu",
    ]));
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(
        err,
        "kubernaut: context prod-eu is not configured on the server (it has: sandbox); nothing \
         was released\n"
    );
    let releases = json(fixture.kubernaut(&["-o", "json", "release", "list"]));
    assert_eq!(releases["count"], 0, "{releases}");
}

#[test]
fn an_unreachable_server_is_named() {
    let output = kubernaut(&[
        "--server",
        "http://127.0.0.1:9",
        "--retry-for",
        "0",
        "contexts",
    ])
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.starts_with("kubernaut: cannot reach kubernaut at http://127.0.0.1:9: "),
        "{err}"
    );
    assert!(!err.contains("gave up"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn an_unreachable_server_is_retried_for_retry_for_seconds() {
    let started = Instant::now();
    let output = kubernaut(&["--server", "http://127.0.0.1:9", "contexts"])
        .env("KUBERNAUT_RETRY_FOR", "1")
        .output()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.starts_with("kubernaut: cannot reach kubernaut at http://127.0.0.1:9: "),
        "{err}"
    );
    assert!(err.contains(" (gave up after 1."), "{err}");
    assert!(err.trim_end().ends_with(" attempts)"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn tokens_whoami_and_the_audit_log() {
    let fixture = Fixture::new();
    let created = json(fixture.kubernaut(&[
        "--output",
        "json",
        "token",
        "create",
        "--name",
        "ci-hello",
        "--grant",
        "deployer:default:staging-*",
        "--grant",
        "viewer:*",
        "--expires-in-days",
        "30",
    ]));
    assert_eq!(created["name"], "ci-hello");
    assert_eq!(created["grants"][0]["context"], "staging-*");
    let secret = created["token"].as_str().expect("the secret").to_owned();
    let id = created["id"].as_str().unwrap().to_owned();

    // Table output: the secret on the last line, after the warning that it is shown once.
    let other = stdout(fixture.kubernaut(&[
        "token",
        "create",
        "--name",
        "ci-other",
        "--grant",
        "releaser:jobs:arn:aws:eks:eu-west-1:1234:cluster/prod",
    ]));
    assert!(other.starts_with("token ci-other created ("), "{other}");
    assert!(
        other.contains("releaser:jobs:arn:aws:eks:eu-west-1:1234:cluster/prod"),
        "{other}"
    );
    assert!(other.contains("shown only this once"), "{other}");
    let other_secret = other.lines().last().unwrap();
    assert!(
        !other_secret.is_empty() && !other_secret.contains(' '),
        "{other}"
    );

    let whoami = stdout(fixture.kubernaut_as(&secret, &["whoami"]));
    assert!(whoami.starts_with("Token:    ci-hello\n"), "{whoami}");
    assert!(whoami.contains("deployer:default:staging-*"), "{whoami}");
    assert!(whoami.contains("viewer:*:*"), "{whoami}");
    // --token wins over KUBERNAUT_TOKEN.
    let flag = json(fixture.kubernaut(&["--token", other_secret, "-o", "json", "whoami"]));
    assert_eq!(flag["name"], "ci-other");
    let admin = json(fixture.kubernaut(&["-o", "json", "whoami"]));
    assert_eq!(admin["name"], "admin");

    let list = stdout(fixture.kubernaut(&["token", "list"]));
    assert!(list.lines().next().unwrap().starts_with("ID"), "{list}");
    assert!(list.contains(&id) && list.contains("ci-hello"), "{list}");
    assert!(!list.contains(&secret), "{list}");
    let named = json(fixture.kubernaut(&["-o", "json", "token", "list", "--name", "ci-hello"]));
    assert_eq!(named["count"], 1);
    assert!(named["items"][0].get("token").is_none(), "{named}");
    let shown = stdout(fixture.kubernaut(&["token", "get", &id]));
    assert!(shown.contains("Name:      ci-hello"), "{shown}");
    assert!(
        shown.contains("Created:   ") && shown.contains(" by admin"),
        "{shown}"
    );

    // A deployer of staging-* contexts may not deploy to the sandbox: the server's 403.
    fixture.release("1", &[]);
    let denied = fixture
        .kubernaut_as(
            &secret,
            &[
                "deploy",
                "--service",
                "hello",
                "--version",
                "1",
                "--context",
                "sandbox",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(1), "{denied:?}");
    let err = String::from_utf8(denied.stderr).unwrap();
    assert!(err.starts_with("kubernaut: "), "{err}");
    assert!(
        err.contains(r#"may not deploy to context "sandbox""#),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Only global admins manage tokens.
    let forbidden = fixture
        .kubernaut_as(&secret, &["token", "list"])
        .output()
        .unwrap();
    assert_eq!(forbidden.status.code(), Some(1), "{forbidden:?}");

    let revoked = stdout(fixture.kubernaut(&["token", "revoke", &id]));
    assert_eq!(revoked.trim(), format!("token {id} revoked"));
    let revoked = json(fixture.kubernaut(&["-o", "json", "token", "list", "--revoked", "true"]));
    assert_eq!(revoked["count"], 1);
    assert_eq!(revoked["items"][0]["id"], id.as_str());
    assert!(revoked["items"][0]["revokedOn"].is_string(), "{revoked}");

    let events = json(fixture.kubernaut(&["-o", "json", "audit", "list"]));
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    for action in [
        "token.create",
        "release.create",
        "access.denied",
        "token.revoke",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        !events.to_string().contains(&secret),
        "no secret in the audit log"
    );
    let denials = json(fixture.kubernaut(&[
        "-o",
        "json",
        "audit",
        "list",
        "--actor",
        "ci-hello",
        "--action",
        "access.denied",
        "--context",
        "sandbox",
    ]));
    assert_eq!(denials["count"], 1, "{denials}");
    assert_eq!(denials["items"][0]["namespace"], "default");
    let table = stdout(fixture.kubernaut(&[
        "audit",
        "list",
        "--actor",
        "admin",
        "--action",
        "token.create",
        "--since",
        "2000-01-01T00:00:00Z",
    ]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("ACTION"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "two tokens created: {table}");
    assert!(table.contains(&format!("token/{id}")), "{table}");

    let verified = fixture.kubernaut(&["audit", "verify"]).output().unwrap();
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
    let out = String::from_utf8(verified.stdout).unwrap();
    assert!(out.starts_with("audit log intact: "), "{out}");
    let verified = json(fixture.kubernaut(&["-o", "json", "audit", "verify"]));
    assert_eq!(verified["ok"], true);
}

#[test]
fn without_a_token_the_error_names_the_token_options() {
    let fixture = Fixture::new();
    for empty in [None, Some(""), Some("  ")] {
        let mut command = fixture.kubernaut(&["contexts"]);
        match empty {
            None => command.env_remove("KUBERNAUT_TOKEN"),
            Some(value) => command.env("KUBERNAUT_TOKEN", value),
        };
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{empty:?}: {output:?}");
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(err.starts_with("kubernaut: "), "{err}");
        assert!(
            err.contains("--token") && err.contains("KUBERNAUT_TOKEN"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // An unknown token: the server's 401 message, exit 1.
    let unknown = fixture
        .kubernaut_as("knt_not-a-token-of-this-server-0123456789", &["contexts"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    let err = String::from_utf8(unknown.stderr).unwrap();
    assert!(
        !err.contains("knt_not-a-token"),
        "the token is not echoed: {err}"
    );
}

#[test]
fn the_token_is_hidden_from_help() {
    let output = kubernaut(&["--help"])
        .env("KUBERNAUT_TOKEN", "knt_do-not-show-me")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("--token <TOKEN>"), "{help}");
    assert!(help.contains("--retry-for <SECS>"), "{help}");
    assert!(help.contains("KUBERNAUT_RETRY_FOR"), "{help}");
    assert!(help.contains("KUBERNAUT_TOKEN"), "{help}");
    assert!(!help.contains("knt_do-not-show-me"), "{help}");
}

#[test]
fn a_servers_4xx_message_is_printed_as_sent() {
    let fixture = Fixture::new();
    let output = fixture
        .kubernaut(&[
            "release",
            "create",
            "--service",
            "Hello_World",
            "--version",
            "1",
            "--template",
            fixture.template.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "kubernaut: service must be a DNS-1123 label (lowercase letters, digits and '-', \
         starting and ending with a letter or digit, at most 63 characters), got \
         \"Hello_World\"\n"
    );
    let missing = fixture
        .kubernaut(&[
            "release",
            "create",
            "--service",
            "s",
            "--version",
            "1",
            "--template",
            "/nope.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8(missing.stderr)
            .unwrap()
            .starts_with("kubernaut: cannot read template /nope.yaml: ")
    );
}

#[test]
fn the_hello_world_example_ships_to_the_sandbox() {
    let fixture = Fixture::new();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello-world/kubernetes.yaml");
    let shipped = json(fixture.kubernaut(&[
        "--output",
        "json",
        "ship",
        "--service",
        "hello-world",
        "--version",
        "42",
        "--template",
        example.to_str().unwrap(),
        "--attr",
        "image=registry.example.com/hello-world:42",
        "--attr",
        "commit=3f2a9c1",
        "--context",
        "sandbox",
    ]));
    assert_eq!(shipped["status"], "succeeded", "{shipped}");
    let manifest = shipped["manifest"].as_str().unwrap();
    let documents: Vec<Value> = manifest
        .split("\n---\n")
        .map(|document| serde_yaml_ng::from_str(document).unwrap())
        .collect();
    assert_eq!(documents[0]["kind"], "Service");
    assert_eq!(documents[0]["metadata"]["name"], "hello-world");
    assert_eq!(documents[1]["kind"], "Deployment");
    let container = &documents[1]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "registry.example.com/hello-world:42");
    assert_eq!(container["env"][0]["value"], "42");
    assert_eq!(documents[1]["metadata"]["labels"]["version"], "42");
}

#[test]
fn rollback_deploys_the_last_good_release_again() {
    let fixture = Fixture::new();
    fixture.release("1", &[]);
    fixture.release("2", &[]);
    let rollback = |extra: &[&str]| {
        let mut args = vec!["rollback", "--service", "hello", "--context", "sandbox"];
        args.extend(extra);
        fixture.kubernaut(&args)
    };

    // Nothing deployed yet: the server's 409, exit 1.
    let (code, _, err) = run(rollback(&[]));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        "kubernaut: there is nothing to roll back to: no earlier successful deployment of \
         service hello in namespace default to context sandbox whose release still exists\n"
    );
    let (code, _, err) =
        run(fixture.kubernaut(&["rollback", "--service", "nope", "--context", "sandbox"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("service nope in namespace default does not exist"),
        "{err}"
    );

    for version in ["1", "2"] {
        let (code, out, err) = run(deploy(&fixture, version, &["--wait"]));
        assert_eq!(code, Some(0), "{out}{err}");
    }
    let (code, out, err) = run(rollback(&["--wait", "--timeout", "60"]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.trim_end()
            .ends_with("of hello version 1 to sandbox (a rollback) succeeded"),
        "{out}"
    );
    assert!(out.contains("a rollback requested by admin"), "{out}");

    let latest = json(fixture.kubernaut(&[
        "-o",
        "json",
        "deployment",
        "list",
        "--service",
        "hello",
        "--context",
        "sandbox",
        "--limit",
        "1",
    ]));
    let latest = &latest["items"][0];
    assert_eq!(latest["rollback"], true, "{latest}");
    assert_eq!(latest["autoRollback"], false, "{latest}");
    assert_eq!(latest["status"], "succeeded", "{latest}");
    assert_eq!(latest["release"]["version"], "1", "{latest}");
    let id = latest["id"].as_str().unwrap();
    let shown = stdout(fixture.kubernaut(&["deployment", "get", id]));
    assert!(
        shown.contains("Rollback:   yes, it puts back an earlier release"),
        "{shown}"
    );
    let table = stdout(fixture.kubernaut(&["deployment", "list", "--service", "hello"]));
    assert!(
        table.lines().next().unwrap().ends_with("ROLLBACK"),
        "{table}"
    );
    let row = table.lines().find(|line| line.starts_with(id)).unwrap();
    assert!(row.ends_with(" yes"), "{table}");

    // Like `kubectl rollout undo`, a second rollback goes back to where the first came from;
    // without --wait it prints the pending rollback.
    let again = json(rollback(&["-o", "json"]));
    assert_eq!(again["rollback"], true, "{again}");
    assert_eq!(again["release"]["version"], "2", "{again}");
    assert_eq!(again["status"], "pending", "{again}");
}

#[test]
fn deploy_and_ship_with_auto_rollback_put_back_the_previous_version() {
    let fixture = Fixture::new();
    fixture.release("1", &[]);
    fixture.release("2", &["--attr", "rollout=failed"]);
    let (code, out, err) = run(deploy(&fixture, "1", &["--wait"]));
    assert_eq!(code, Some(0), "{out}{err}");

    let (code, out, err) = run(deploy(&fixture, "2", &["--auto-rollback", "--wait"]));
    assert_eq!(code, Some(3), "the failure fails the pipeline: {out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "of hello version 2 to sandbox failed: deployment.apps/hello failed to roll out: "
        ),
        "{err}"
    );
    let failed =
        json(fixture.kubernaut(&["-o", "json", "deployment", "list", "--status", "failed"]));
    let failed = &failed["items"][0];
    assert_eq!(failed["autoRollback"], true, "{failed}");
    let rollback_id = failed["rolledBackBy"]
        .as_str()
        .expect("rolled back")
        .to_owned();
    assert!(
        err.contains(&format!(
            "; rolled back automatically by deployment {rollback_id} of hello version 1 ("
        )),
        "{err}"
    );
    // The server notes the rollback in the failed deployment's log just after linking them.
    let line = format!("rolled back by deployment {rollback_id} of release 1");
    poll(
        &fixture,
        &["deployment", "get", failed["id"].as_str().unwrap()],
        |d| d["log"].to_string().contains(&line),
    );

    // The service's latest deployment to the sandbox: the rollback, which succeeds.
    let latest = json(fixture.kubernaut(&[
        "-o",
        "json",
        "deployment",
        "list",
        "--service",
        "hello",
        "--context",
        "sandbox",
        "--limit",
        "1",
    ]));
    assert_eq!(latest["items"][0]["id"], rollback_id.as_str(), "{latest}");
    let rollback = poll(&fixture, &["deployment", "get", &rollback_id], |d| {
        d["status"] != "pending" && d["status"] != "applying" && d["status"] != "rolling_out"
    });
    assert_eq!(rollback["status"], "succeeded", "{rollback}");
    assert_eq!(rollback["rollback"], true, "{rollback}");
    assert_eq!(rollback["release"]["version"], "1", "{rollback}");
    let failed_id = failed["id"].as_str().unwrap();
    let shown = stdout(fixture.kubernaut(&["deployment", "get", failed_id]));
    assert!(
        shown.contains(&format!(
            "Rollback:   rolled back by deployment {rollback_id}"
        )),
        "{shown}"
    );

    // `ship --auto-rollback`, as JSON: the failed deployment naming its rollback, exit 3.
    let (code, out, err) = run(fixture.kubernaut(&[
        "-o",
        "json",
        "ship",
        "--service",
        "hello",
        "--version",
        "3",
        "--template",
        fixture.template.to_str().unwrap(),
        "--attr",
        "image=hello:3",
        "--attr",
        "rollout=failed",
        "--context",
        "sandbox",
        "--auto-rollback",
    ]));
    assert_eq!(code, Some(3), "{out}{err}");
    let shipped: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shipped["status"], "failed", "{shipped}");
    assert_eq!(shipped["autoRollback"], true, "{shipped}");
    let second = shipped["rolledBackBy"].as_str().expect("rolled back");
    assert!(
        err.contains(&format!("rolled back automatically by deployment {second}")),
        "{err}"
    );
}

#[test]
fn deployment_cancel_stops_a_pending_and_a_rolling_out_deployment() {
    // Rollouts are read every 100 ms, so a cancel takes effect that fast.
    let fixture = Fixture::with_env(&[("KUBERNAUT__WORKER__ROLLOUT_POLL_MS", "100")]);
    fixture.release("1", &[]);
    fixture.release("2", &["--attr", "rollout=progressing"]);

    // Someone follows a deployment that never rolls out.
    let mut follower = deploy(&fixture, "2", &["--wait", "--timeout", "60"]);
    let follower = follower
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stuck = poll(
        &fixture,
        &["deployment", "list", "--status", "rolling_out"],
        |page| page["count"] == 1,
    );
    let stuck_id = stuck["items"][0]["id"].as_str().unwrap().to_owned();

    // Behind it in its lane, a pending deployment: canceled at once.
    let pending = json(deploy(&fixture, "1", &["-o", "json"]));
    assert_eq!(pending["status"], "pending", "{pending}");
    let pending_id = pending["id"].as_str().unwrap();
    let canceled = stdout(fixture.kubernaut(&["deployment", "cancel", pending_id]));
    assert_eq!(
        canceled,
        format!("deployment {pending_id} of hello version 1 to sandbox: canceled\n")
    );

    // The rolling out one stops before its next rollout check.
    let asked = stdout(fixture.kubernaut(&["deployment", "cancel", &stuck_id]));
    assert!(
        asked.starts_with(&format!(
            "deployment {stuck_id} of hello version 2 to sandbox: "
        )),
        "{asked}"
    );
    let ended = poll(&fixture, &["deployment", "get", &stuck_id], |d| {
        d["status"] == "canceled"
    });
    assert!(ended["finishedOn"].is_string(), "{ended}");
    assert!(ended["error"].is_null(), "{ended}");
    let shown = stdout(fixture.kubernaut(&["deployment", "get", &stuck_id]));
    assert!(shown.contains("Status:     canceled"), "{shown}");

    // Its follower ends with exit code 5.
    let followed = follower.wait_with_output().unwrap();
    assert_eq!(followed.status.code(), Some(5), "{followed:?}");
    let err = String::from_utf8(followed.stderr).unwrap();
    assert!(
        err.contains(&format!(
            "kubernaut: deployment {stuck_id} of hello version 2 to sandbox was canceled"
        )),
        "{err}"
    );

    // An ended deployment cannot be canceled: the server's 409, exit 1.
    for id in [stuck_id.as_str(), pending_id] {
        let (code, out, err) = run(fixture.kubernaut(&["deployment", "cancel", id]));
        assert_eq!(code, Some(1), "{out}{err}");
        assert_eq!(
            err,
            format!(
                "kubernaut: deployment {id} already ended (canceled); there is nothing to \
                 cancel\n"
            )
        );
    }
    let list =
        json(fixture.kubernaut(&["-o", "json", "deployment", "list", "--status", "canceled"]));
    assert_eq!(list["count"], 2, "{list}");
}

/// [`TEMPLATE`] and, with an `extra` attribute, a ConfigMap beside the Deployment.
const TEMPLATE_WITH_EXTRA: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: \"{{image}}\"
{{#extra}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{service}}-extra
data:
  extra: \"{{extra}}\"
{{/extra}}
";

fn diff_and_status_show_what_would_change_and_what_runs(db: &TestDatabase) {
    let fixture = Fixture::on(db, TEMPLATE_WITH_EXTRA, &[]);
    fixture.release("1", &["--attr", "extra=yes"]);
    fixture.release("2", &[]);
    let diff = |version: &str, extra: &[&str]| {
        let mut args = vec![
            "diff",
            "--service",
            "hello",
            "--version",
            version,
            "--context",
            "sandbox",
        ];
        args.extend(extra);
        fixture.kubernaut(&args)
    };
    let status = |extra: &[&str]| {
        let mut args = vec!["status", "--service", "hello", "--context", "sandbox"];
        args.extend(extra);
        fixture.kubernaut(&args)
    };

    let (code, out, err) = run(status(&[]));
    assert_eq!((code, err.as_str()), (Some(0), ""), "{out}");
    assert_eq!(
        out,
        "service hello (namespace default) has no objects in context sandbox\n"
    );

    // Nothing deployed: everything would be created (exit 5, no error line).
    let (code, out, err) = run(diff("1", &[]));
    assert_eq!((code, err.as_str()), (Some(5), ""), "{out}");
    assert!(out.starts_with("create configmap/hello-extra\n"), "{out}");
    assert!(out.contains("\ncreate deployment.apps/hello\n"), "{out}");
    assert!(
        out.ends_with("\n2 to create, 0 to configure, 0 unchanged, 0 to prune\n"),
        "{out}"
    );

    let (code, out, err) = run(deploy(&fixture, "1", &["--wait"]));
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(diff("1", &[]));
    assert_eq!((code, err.as_str()), (Some(0), ""), "{out}");
    assert_eq!(
        out,
        "unchanged configmap/hello-extra\nunchanged deployment.apps/hello\n\
         0 to create, 0 to configure, 2 unchanged, 0 to prune\n"
    );
    let (code, out, err) = run(status(&[]));
    assert_eq!(code, Some(0), "{out}{err}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|line| line.split_whitespace().take(2).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["KIND/NAME", "HEALTH"],
            vec!["configmap/hello-extra", "healthy"],
            vec!["deployment.apps/hello", "healthy"],
        ],
        "{out}"
    );

    // Release 2 changes the image and drops the ConfigMap.
    let (code, out, err) = run(diff("2", &[]));
    assert_eq!((code, err.as_str()), (Some(5), ""), "{out}");
    assert!(
        out.starts_with(
            "configure deployment.apps/hello\n--- live/apps.v1.Deployment.default.hello\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\n-      - image: hello:1\n+      - image: hello:2\n"),
        "{out}"
    );
    assert!(out.contains("\nprune configmap/hello-extra\n"), "{out}");
    assert!(
        out.ends_with("\n0 to create, 1 to configure, 0 unchanged, 1 to prune\n"),
        "{out}"
    );
    let (code, out, _) = run(diff("2", &["--no-prune"]));
    assert_eq!(code, Some(5), "{out}");
    assert!(!out.contains("prune configmap"), "{out}");
    let dry_run = json(diff("1", &["-o", "json"]));
    assert!(
        dry_run["manifest"]
            .as_str()
            .unwrap()
            .contains("hello-extra")
    );
    assert_eq!(dry_run["objects"].as_array().unwrap().len(), 2, "{dry_run}");

    // Errors: exit 1 with the server's message.
    let (code, out, err) = run(diff("9", &[]));
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert_eq!(
        err,
        "kubernaut: release 9 of service hello in namespace default does not exist\n"
    );
    let (code, _, err) =
        run(fixture.kubernaut(&["status", "--service", "hello", "--context", "nowhere"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("nowhere"), "{err}");
    let (code, _, err) =
        run(fixture.kubernaut(&["status", "--service", "nope", "--context", "sandbox"]));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        "kubernaut: service nope in namespace default does not exist (or the token may not \
         read that namespace)\n"
    );
    let json_status = json(status(&["-o", "json"]));
    assert_eq!(json_status["context"], "sandbox", "{json_status}");
    assert_eq!(json_status["objects"].as_array().unwrap().len(), 2);
}

kubernaut_tests::on_both_backends!(diff_and_status_show_what_would_change_and_what_runs);
