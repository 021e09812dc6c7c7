//! The README's walkthrough, run as written: its shell block is read from README.md (not
//! copied here), so the README cannot drift from what works.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use kubernaut_tests::{binary, cli_binary};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

/// The first `sh` block after the heading that starts with `heading`.
fn shell_block(readme: &str, heading: &str) -> String {
    let section = &readme[readme.find(heading).expect("the heading is in README.md")..];
    let start = section
        .find("```sh\n")
        .expect("a sh block follows the heading")
        + 6;
    let end = section[start..].find("```").expect("the block ends") + start;
    section[start..end].to_owned()
}

#[test]
fn the_walkthrough_works_as_written() {
    let readme = std::fs::read_to_string(README).unwrap();
    let block = shell_block(&readme, "### Walkthrough");
    // The test has built the binaries already: the block's build step and PATH line are
    // replaced by the test's own binaries, every other line runs as written.
    let (build, path) = (
        "cargo build -p kubernaut-server -p kubernaut-cli",
        "export PATH=\"$PWD/target/debug:$PATH\"",
    );
    assert!(block.contains(build) && block.contains(path), "{block}");
    let script = block.replace(build, "").replace(path, "");

    let dir = tempfile::tempdir().unwrap();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::os::unix::fs::symlink(repository.join("examples"), dir.path().join("examples")).unwrap();
    // The server listens where the README says unless configured: a free port, so that tests
    // running side by side do not collide.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bins = format!(
        "{}:{}:{}",
        binary().parent().unwrap().display(),
        cli_binary().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("timeout")
        .args(["120", "bash", "-e", "-o", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", bins)
        .env("KUBERNAUT__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("KUBERNAUT_SERVER", format!("http://127.0.0.1:{port}"))
        .env_remove("KUBERNAUT_TOKEN")
        .env_remove("KUBERNAUT__AUTH__BOOTSTRAP_TOKEN")
        .env_remove("KUBERNAUT__DATABASE__URL")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let log = std::fs::read_to_string(dir.path().join("walkthrough.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "{:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- walkthrough.log\n{log}",
        output.status
    );

    // What the README says happens.
    let shipped: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("deployment ") && line.ends_with(" succeeded"))
        .collect();
    assert_eq!(
        shipped.len(),
        4,
        "two ships, the rollback, the deploy:\n{stdout}"
    );
    assert!(shipped[0].contains("of hello-world version 1 "), "{stdout}");
    assert!(shipped[1].contains("of hello-world version 2 "), "{stdout}");
    assert!(
        shipped[2].contains("of hello-world version 2 to sandbox (a rollback)"),
        "{stdout}"
    );
    assert!(shipped[3].contains("of hello-world version 1 "), "{stdout}");
    assert!(stdout.contains("ship failed with exit code 3"), "{stdout}");
    assert!(
        stdout.contains(
            "error: deployment.apps/hello-world failed to roll out: sandbox rollout failed as \
             requested by the kubernaut.io/sandbox-rollout annotation"
        ),
        "{stdout}"
    );
    assert!(
        log.contains("listening on"),
        "the server logs to walkthrough.log: {log}"
    );
    assert!(
        !stderr.contains("listening on"),
        "no server line among the CLI's: {stderr}"
    );
}
