//! The `kubernaut` binary against the real `kubernaut-server` (sandbox context, SQLite): every
//! command's happy path, the exit codes of `deploy --wait`, bad arguments, an unreachable
//! server, a server's 4xx message, and the hello-world example shipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::assert::OutputAssertExt;
use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::Server;
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
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let db = TestDatabase::sqlite();
        let server = Server::start_with(db.url(), &["--sandbox"], &[]);
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("kubernetes.yaml");
        std::fs::write(&template, TEMPLATE).unwrap();
        Self {
            server,
            template,
            _db: db,
            _dir: dir,
        }
    }

    /// `kubernaut --server URL ARGS...`
    fn kubernaut(&self, args: &[&str]) -> Command {
        let mut command = kubernaut(args);
        command.env("KUBERNAUT_SERVER", self.server.url(""));
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
    command.args(args).env_remove("KUBERNAUT_SERVER");
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
    let release = json(fixture.kubernaut(&[
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
    assert_eq!(release["attributes"]["commit"], "3f2a9c1");
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
    ] {
        let output = kubernaut(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
}

#[test]
fn an_unreachable_server_is_named() {
    let output = kubernaut(&["--server", "http://127.0.0.1:9", "contexts"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.starts_with("kubernaut: cannot reach kubernaut at http://127.0.0.1:9: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
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
