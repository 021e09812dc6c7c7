//! Black-box test harness: builds the real `kubernaut-server` binary, starts it on a free
//! loopback port, and stops it like an operator would.

pub mod loopback_api;
pub mod receiver;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The secret of the global-admin token every test server starts with (its
/// `auth.bootstrap_token`, unless a test's environment sets another).
pub const ADMIN_TOKEN: &str = "knt_test-admin-secret-0123456789abcdef0123456789";

/// A blocking HTTP client that sends `token` with every request.
///
/// # Panics
/// If `token` cannot be a header value.
pub fn client_with_token(token: &str) -> reqwest::blocking::Client {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("a token is a valid header value");
    value.set_sensitive(true);
    let headers = reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, value)]);
    reqwest::blocking::Client::builder()
        .default_headers(headers)
        .build()
        .expect("build an HTTP client")
}

/// A blocking HTTP client that sends [`ADMIN_TOKEN`] with every request.
pub fn admin_client() -> reqwest::blocking::Client {
    client_with_token(ADMIN_TOKEN)
}

/// How long a server may take to start before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The `kubernaut-server` binary, built once per test process with the test's profile.
pub fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            escargot::CargoBuild::new()
                .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
                .package("kubernaut-server")
                .bin("kubernaut-server")
                .current_release()
                .current_target()
                .run()
                .expect("build kubernaut-server")
                .path()
                .to_path_buf()
        })
        .clone()
}

/// The `kubernaut` CLI binary, built once per test process like [`binary`].
pub fn cli_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            escargot::CargoBuild::new()
                .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
                .package("kubernaut-cli")
                .bin("kubernaut")
                .current_release()
                .current_target()
                .run()
                .expect("build kubernaut")
                .path()
                .to_path_buf()
        })
        .clone()
}

/// The lines a server wrote on standard error so far, shared with the thread that reads them.
#[derive(Debug, Clone, Default)]
pub struct StderrLines(Arc<Mutex<Vec<String>>>);

impl StderrLines {
    /// A copy of the lines read so far.
    pub fn lines(&self) -> Vec<String> {
        self.lock().clone()
    }

    fn push(&self, line: String) {
        self.lock().push(line);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running `kubernaut-server`; killed when dropped.
pub struct Server {
    child: Child,
    base_url: String,
    stderr: StderrLines,
    reader: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts the server on `database_url` and waits until it listens.
    ///
    /// # Panics
    /// If it exits or does not listen within 30 s; the panic shows its output.
    pub fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[], &[])
    }

    /// Starts the server on `database_url` with more flags and environment variables.
    ///
    /// # Panics
    /// As [`Server::start`].
    pub fn start_with(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn(database_url, args, Some(ADMIN_TOKEN), env)
    }

    /// Starts the server on `database_url` with more flags and environment variables, but
    /// without the default `KUBERNAUT__AUTH__BOOTSTRAP_TOKEN` (also when the test process has
    /// one): only `env` can set it.
    ///
    /// # Panics
    /// As [`Server::start`].
    pub fn start_without_bootstrap(
        database_url: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        Self::spawn(database_url, args, None, env)
    }

    fn spawn(
        database_url: &str,
        args: &[&str],
        bootstrap_token: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        let mut command = Command::new(binary());
        command
            .args(["--listen", "127.0.0.1:0", "--database-url", database_url])
            .args(args)
            .env_remove("KUBERNAUT__AUTH__BOOTSTRAP_TOKEN")
            // Tests run in a pod (CI) must not get that cluster as an in-cluster context; a
            // test's `env` may set these again.
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT");
        if let Some(token) = bootstrap_token {
            command.env("KUBERNAUT__AUTH__BOOTSTRAP_TOKEN", token);
        }
        let mut child = command
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubernaut-server");
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = StderrLines::default();
        let (lines_tx, lines_rx) = mpsc::channel();
        let reader = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    lines.push(line.clone());
                    // The test may have stopped listening; keep draining so the server never
                    // blocks.
                    let _ = lines_tx.send(line);
                }
            })
        };
        let mut output = Vec::new();
        loop {
            match lines_rx.recv_timeout(START_TIMEOUT) {
                Ok(line) => {
                    if let Some(address) = line.split("listening on ").nth(1) {
                        return Self {
                            child,
                            // The URL ends at a quote in a JSON log line.
                            base_url: address
                                .split(|c: char| c == '"' || c.is_whitespace())
                                .next()
                                .unwrap_or_default()
                                .to_owned(),
                            stderr: lines,
                            reader: Some(reader),
                        };
                    }
                    output.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("kubernaut-server did not start:\n{}", output.join("\n"));
                }
            }
        }
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Its resident memory now (`VmRSS` of `/proc/PID/status`), in KiB; `None` where that
    /// cannot be read.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// Its standard error, line by line: those read so far, and after [`Server::terminate`]
    /// or [`Server::kill`] all of them.
    pub fn stderr(&self) -> StderrLines {
        self.stderr.clone()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = self.child.wait().expect("wait for kubernaut-server");
        self.finish_reading();
        status
    }
}

impl Server {
    /// Kills the process with SIGKILL, as a crash or an OOM kill would, and waits for it.
    pub fn kill(mut self) {
        self.child.kill().expect("kill kubernaut-server");
        self.child.wait().expect("wait for kubernaut-server");
        self.finish_reading();
    }

    /// Waits until the exited process's standard error is read to its end.
    fn finish_reading(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `args` to completion (for start-up failures); returns its exit status
/// and standard error.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String) {
    let output = Command::new(binary())
        .args(args)
        .output()
        .expect("run kubernaut-server");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What a run of the binary to completion printed.
#[derive(Debug)]
pub struct Exited {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs the binary with `args` and environment variables `env` to completion, without an
/// inherited `KUBERNAUT__AUTH__BOOTSTRAP_TOKEN` and without `RUST_LOG` (so logging is at its
/// default level, as an operator would run it), nor an inherited `KUBERNETES_SERVICE_HOST` or
/// `KUBERNETES_SERVICE_PORT` (no in-cluster context unless `env` sets them).
pub fn run_to_exit_with(args: &[&str], env: &[(&str, &str)]) -> Exited {
    let output = Command::new(binary())
        .args(args)
        .env_remove("KUBERNAUT__AUTH__BOOTSTRAP_TOKEN")
        .env_remove("RUST_LOG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .envs(env.iter().copied())
        .output()
        .expect("run kubernaut-server");
    Exited {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs each named test function, which takes a `&TestDatabase`, on a fresh SQLite database and
/// on a fresh PostgreSQL database (ignored unless `KUBERNAUT_TEST_DATABASE_URL` is set). The
/// calling crate needs `kubernaut-store` with its `test-support` feature.
#[macro_export]
macro_rules! on_both_backends {
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
