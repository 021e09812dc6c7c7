//! Authentication through the real `kubernaut-server` binary: the first admin token, the
//! `admin-token` command, secrets kept out of the database and the logs, and what a client
//! sees with a bad `Authorization` header.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use kubernaut_store::testing::TestDatabase;
use kubernaut_tests::{ADMIN_TOKEN, Server, client_with_token, run_to_exit_with};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderValue};
use serde_json::{Value, json};

/// The environment variable of `auth.bootstrap_token`.
const BOOTSTRAP_ENV: &str = "KUBERNAUT__AUTH__BOOTSTRAP_TOKEN";

/// The words of the line announcing a generated first admin token.
const FIRST_ADMIN_LINE: &str = "first admin token";

fn global_admin_grants() -> Value {
    json!([{"role": "admin", "namespace": "*", "context": "*"}])
}

/// A response's status, headers and JSON body (`Null` when it has none).
struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Value,
}

impl Answer {
    fn of(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().expect("read the response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text:?}"))
        };
        Self {
            status,
            headers,
            body,
        }
    }

    fn message(&self) -> &str {
        self.body["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no message in {}", self.status, self.body))
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts a 401 as the contract describes it, whose message does not echo `sent`.
    fn assert_unauthorized(&self, sent: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{}", self.body);
        assert_eq!(
            self.header(header::WWW_AUTHENTICATE),
            Some(r#"Bearer realm="kubernaut""#)
        );
        assert!(
            self.header(header::CONTENT_TYPE)
                .is_some_and(|t| t.starts_with("application/json")),
            "{:?}",
            self.headers
        );
        let message = self.message();
        assert!(!message.is_empty());
        assert!(
            sent.is_empty() || !message.contains(sent),
            "the message echoes the token: {message}"
        );
    }
}

fn get(server: &Server, token: &str, path: &str) -> Answer {
    Answer::of(
        client_with_token(token)
            .get(server.url(path))
            .send()
            .unwrap(),
    )
}

fn whoami(server: &Server, token: &str) -> Answer {
    get(server, token, "/api/whoami")
}

/// Creates a token with `admin`'s secret; returns its body, secret included.
fn create_token(server: &Server, admin: &str, name: &str, grants: Value) -> Value {
    let answer = Answer::of(
        client_with_token(admin)
            .post(server.url("/api/tokens"))
            .json(&json!({"name": name, "grants": grants}))
            .send()
            .unwrap(),
    );
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap();
    assert_eq!(
        answer.header(header::LOCATION),
        Some(format!("/api/tokens/{id}").as_str())
    );
    assert!(answer.body["token"].as_str().unwrap().starts_with("knt_"));
    answer.body
}

/// The one token named `name`, revoked or not.
fn token_named(server: &Server, admin: &str, name: &str) -> Value {
    let answer = get(server, admin, &format!("/api/tokens?name={name}"));
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["count"], 1, "{}", answer.body);
    answer.body["items"][0].clone()
}

fn revoke(server: &Server, admin: &str, id: &str) {
    let response = client_with_token(admin)
        .delete(server.url(&format!("/api/tokens/{id}")))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// The secret announced on the one line saying "first admin token", its last word.
fn announced_secret(lines: &[String]) -> String {
    let announced: Vec<_> = lines
        .iter()
        .filter(|line| line.contains(FIRST_ADMIN_LINE))
        .collect();
    assert_eq!(announced.len(), 1, "{lines:#?}");
    let line = announced[0];
    assert!(line.contains("Authorization: Bearer"), "{line}");
    let secret = line.split_whitespace().last().unwrap().to_owned();
    assert!(secret.starts_with("knt_"), "{line}");
    // At least 240 random bits: 60 hex digits.
    assert!(secret.len() >= 4 + 60, "{line}");
    assert!(secret.bytes().all(|b| b.is_ascii_graphic()), "{line}");
    secret
}

/// Asserts that no stderr line shows any of `secrets`.
fn assert_not_logged(lines: &[String], secrets: &[&str]) {
    for secret in secrets {
        let shown: Vec<_> = lines.iter().filter(|l| l.contains(secret)).collect();
        assert!(shown.is_empty(), "a log line shows a secret: {shown:#?}");
    }
}

/// The forms a secret could be stored in: as sent, and the random part without `knt_`.
fn forms(secret: &str) -> Vec<&str> {
    let mut forms = vec![secret];
    if let Some(random) = secret.strip_prefix("knt_") {
        forms.push(random);
    }
    forms
}

/// Asserts that the database holds none of `secrets` anywhere (SQLite: the database file and
/// its journal files, bytes as they are on disk; PostgreSQL: a `pg_dump` of it), but does hold
/// every one of `names`, which proves that the data looked at is the real one.
fn assert_not_at_rest(db: &TestDatabase, secrets: &[&str], names: &[&str]) {
    let contents: Vec<u8> = if let Some(path) = db.url().strip_prefix("sqlite://") {
        let path = Path::new(path);
        let file_name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let mut bytes = Vec::new();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path.parent().unwrap()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_str().unwrap().starts_with(&file_name) {
                files.push(entry.file_name());
                bytes.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        assert!(!files.is_empty(), "no database file at {}", path.display());
        bytes
    } else {
        let dump = Command::new("pg_dump")
            .args(["--dbname", db.url()])
            .output()
            .expect("run pg_dump");
        assert!(
            dump.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
        dump.stdout
    };
    let contains = |needle: &str| {
        contents
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    for name in names {
        assert!(
            contains(name),
            "the stored data lacks the token name {name}"
        );
    }
    for secret in secrets {
        for form in forms(secret) {
            assert!(!contains(form), "a secret is stored: {form}");
        }
    }
}

// 1. The first start without a bootstrap setting generates the first admin token and prints it
//    once.
fn a_generated_first_admin_token_is_printed_once(db: &TestDatabase) {
    let server = Server::start_without_bootstrap(db.url(), &[], &[]);
    let lines = server.stderr().lines();
    let secret = announced_secret(&lines);

    let me = whoami(&server, &secret);
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["name"], "admin");
    assert_eq!(me.body["grants"], global_admin_grants());
    assert_eq!(me.body["expiresOn"], Value::Null);
    let releases = Answer::of(
        client_with_token(&secret)
            .get(server.url("/api/releases"))
            .send()
            .unwrap(),
    );
    assert_eq!(releases.status, StatusCode::OK, "{}", releases.body);

    let anonymous = Answer::of(
        Client::new()
            .get(server.url("/api/releases"))
            .send()
            .unwrap(),
    );
    anonymous.assert_unauthorized("");
    assert!(
        anonymous.message().contains("Authorization: Bearer"),
        "{}",
        anonymous.message()
    );

    let stderr = server.stderr();
    assert!(server.terminate().success());
    let lines = stderr.lines();
    let showing: Vec<_> = lines.iter().filter(|l| l.contains(&secret)).collect();
    assert_eq!(
        showing.len(),
        1,
        "only its announcement shows it: {showing:#?}"
    );
    assert_not_at_rest(db, &[&secret], &["admin"]);

    let server = Server::start_without_bootstrap(db.url(), &[], &[]);
    let me = whoami(&server, &secret);
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let stderr = server.stderr();
    assert!(server.terminate().success());
    let lines = stderr.lines();
    assert!(
        !lines.iter().any(|l| l.contains(FIRST_ADMIN_LINE)),
        "a restart announced another admin token: {lines:#?}"
    );
    assert_not_logged(&lines, &[&secret]);
}

// 2. A bootstrap token from the environment is the first admin; once revoked, restarting with
//    the same environment does not revive it.
fn a_revoked_bootstrap_token_stays_revoked_after_restarts(db: &TestDatabase) {
    // Any 32..=256 printable ASCII characters, not only knt_ secrets.
    let bootstrap = "Correct-Horse-Battery-Staple:0123456789+abcdef/XYZ!";
    let env = [(BOOTSTRAP_ENV, bootstrap)];
    let server = Server::start_without_bootstrap(db.url(), &[], &env);
    let mut stderr = vec![server.stderr()];
    let me = whoami(&server, bootstrap);
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["name"], "admin");
    assert_eq!(me.body["grants"], global_admin_grants());

    let second = create_token(&server, bootstrap, "second-admin", global_admin_grants());
    let second_secret = second["token"].as_str().unwrap().to_owned();
    let admin = token_named(&server, &second_secret, "admin");
    assert_eq!(admin["createdBy"], "kubernaut-server");
    assert_eq!(admin["revokedOn"], Value::Null);
    revoke(&server, &second_secret, admin["id"].as_str().unwrap());
    whoami(&server, bootstrap).assert_unauthorized(bootstrap);
    assert!(server.terminate().success());

    let server = Server::start_without_bootstrap(db.url(), &[], &env);
    stderr.push(server.stderr());
    whoami(&server, bootstrap).assert_unauthorized(bootstrap);
    assert_eq!(whoami(&server, &second_secret).status, StatusCode::OK);
    let admin = token_named(&server, &second_secret, "admin");
    assert_ne!(admin["revokedOn"], Value::Null, "{admin}");

    // Even with no global admin left, the setting stays ignored.
    revoke(&server, &second_secret, second["id"].as_str().unwrap());
    whoami(&server, &second_secret).assert_unauthorized(&second_secret);
    assert!(server.terminate().success());
    let server = Server::start_without_bootstrap(db.url(), &[], &env);
    stderr.push(server.stderr());
    whoami(&server, bootstrap).assert_unauthorized(bootstrap);
    assert!(server.terminate().success());

    for (start, stderr) in stderr.iter().enumerate() {
        let lines = stderr.lines();
        assert!(
            !lines.iter().any(|l| l.contains(FIRST_ADMIN_LINE)),
            "start {start} announced a token: {lines:#?}"
        );
        assert_not_logged(&lines, &[bootstrap, &second_secret]);
    }
}

// 3. `kubernaut-server admin-token`: the way back in, audited as the server.
fn admin_token_creates_a_global_admin_in_the_database(db: &TestDatabase) {
    let server = Server::start(db.url());
    assert_eq!(whoami(&server, ADMIN_TOKEN).status, StatusCode::OK);
    assert!(server.terminate().success());

    let run = run_to_exit_with(
        &[
            "admin-token",
            "--name",
            "rescue",
            "--database-url",
            db.url(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}{}", run.stdout, run.stderr);
    let printed: Vec<_> = run.stdout.lines().collect();
    assert_eq!(printed.len(), 1, "the secret alone: {:?}", run.stdout);
    let secret = printed[0].trim();
    assert!(
        secret.starts_with("knt_") && secret.len() >= 4 + 60,
        "{secret}"
    );
    assert!(
        run.stderr.contains("created global-admin token rescue"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(secret), "{}", run.stderr);

    let server = Server::start(db.url());
    let me = whoami(&server, secret);
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["name"], "rescue");
    assert_eq!(me.body["grants"], global_admin_grants());
    let rescue = token_named(&server, secret, "rescue");
    assert_eq!(rescue["createdBy"], "kubernaut-server");

    let audit = get(&server, secret, "/api/audit?action=token.create");
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let events: Vec<_> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["resourceId"] == rescue["id"])
        .collect();
    assert_eq!(events.len(), 1, "{}", audit.body);
    assert_eq!(events[0]["actor"], "kubernaut-server");
    assert_eq!(events[0]["resourceType"], "token");
    assert_eq!(events[0]["details"]["name"], "rescue");
    assert!(!audit.body.to_string().contains(secret));
    let verified = get(&server, secret, "/api/audit/verify");
    assert_eq!(verified.body["ok"], true, "{}", verified.body);
    let stderr = server.stderr();
    assert!(server.terminate().success());
    assert_not_logged(&stderr.lines(), &[secret]);
    assert_not_at_rest(db, &[secret, ADMIN_TOKEN], &["rescue"]);

    let run = run_to_exit_with(
        &[
            "admin-token",
            "--name",
            "Rescue Me!",
            "--database-url",
            db.url(),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let errors: Vec<_> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("kubernaut-server: "))
        .collect();
    assert_eq!(
        errors,
        [
            "kubernaut-server: name must be 1 to 63 characters of lowercase letters, digits, \
             '.', '_' and '-', starting with a letter or digit, got \"Rescue Me!\""
        ],
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().last(), Some(errors[0]), "{}", run.stderr);
}

// 4. No secret at rest, none in the logs.
fn secrets_are_neither_stored_nor_logged(db: &TestDatabase) {
    let server = Server::start(db.url());
    let names = ["ci-hello-world", "reader.one"];
    let created: Vec<Value> = [
        (
            names[0],
            json!([{"role": "deployer", "namespace": "default", "context": "staging-*"}]),
        ),
        (
            names[1],
            json!([{"role": "viewer", "namespace": "*", "context": "*"}]),
        ),
    ]
    .into_iter()
    .map(|(name, grants)| create_token(&server, ADMIN_TOKEN, name, grants))
    .collect();
    let secrets: Vec<&str> = created
        .iter()
        .map(|token| token["token"].as_str().unwrap())
        .collect();
    for (secret, name) in secrets.iter().zip(names) {
        let me = whoami(&server, secret);
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!(me.body["name"], name);
        // A refused request too, which the server logs and audits (access.denied).
        let refused = Answer::of(
            client_with_token(secret)
                .get(server.url("/api/tokens"))
                .send()
                .unwrap(),
        );
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(!refused.message().contains(secret));
        // Nor is the secret in what the token API shows later.
        let listed = get(&server, ADMIN_TOKEN, "/api/tokens");
        assert!(!listed.body.to_string().contains(secret));
    }
    let mut all_secrets = secrets.clone();
    all_secrets.push(ADMIN_TOKEN);
    let mut all_names = names.to_vec();
    all_names.push("admin");
    // While it runs (SQLite: with its write-ahead log) and after it stopped.
    assert_not_at_rest(db, &all_secrets, &all_names);
    let stderr = server.stderr();
    assert!(server.terminate().success());
    assert_not_at_rest(db, &all_secrets, &all_names);
    let lines = stderr.lines();
    assert!(
        lines.iter().any(|l| l.contains("/api/whoami")),
        "requests are logged: {lines:#?}"
    );
    assert_not_logged(&lines, &all_secrets);
}

// 5. An invalid bootstrap token stops the start-up with one line that does not show it.
fn an_invalid_bootstrap_token_stops_start_up(db: &TestDatabase) {
    for bad in [
        "ten-chars!".to_owned(),
        "a secret with spaces that is long enough".to_owned(),
        "x".repeat(257),
    ] {
        let run = run_to_exit_with(
            &["--listen", "127.0.0.1:0", "--database-url", db.url()],
            &[(BOOTSTRAP_ENV, &bad)],
        );
        assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
        let naming: Vec<_> = run
            .stderr
            .lines()
            .filter(|line| line.contains("auth.bootstrap_token"))
            .collect();
        assert_eq!(naming.len(), 1, "{}", run.stderr);
        let line = naming[0];
        assert!(line.starts_with("kubernaut-server: "), "{line}");
        assert!(
            line.contains(&format!(
                "auth.bootstrap_token must be 32 to 256 printable ASCII characters without \
                 spaces, got {} bytes",
                bad.len()
            )),
            "{line}"
        );
        assert_eq!(run.stderr.lines().last(), Some(line), "{}", run.stderr);
        assert!(!run.stderr.contains(&bad), "{}", run.stderr);
        assert!(!run.stderr.contains("listening on"), "{}", run.stderr);
    }
    // Nothing was created: the next start still makes the first admin.
    let server = Server::start_without_bootstrap(db.url(), &[], &[]);
    let secret = announced_secret(&server.stderr().lines());
    assert_eq!(whoami(&server, &secret).status, StatusCode::OK);
}

/// A deterministic pseudo-random sequence (xorshift64*).
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// 16..=700 bytes that a header value may hold: printable ASCII, spaces, tabs and bytes
    /// above 0x7f, mostly printable ASCII.
    fn header_bytes(&mut self) -> Vec<u8> {
        let len = 16 + self.below(685);
        (0..len)
            .map(|_| match self.below(20) {
                0 => b' ',
                1 => b'\t',
                2 => 0x80 + u8::try_from(self.below(128)).unwrap(),
                _ => 0x21 + u8::try_from(self.below(94)).unwrap(),
            })
            .collect()
    }
}

/// A `GET /api/releases` with the raw `Authorization` value `value`.
fn with_authorization(client: &Client, server: &Server, value: &[u8]) -> Answer {
    let value = HeaderValue::from_bytes(value).expect("a header value");
    Answer::of(
        client
            .get(server.url("/api/releases"))
            .header(header::AUTHORIZATION, value)
            .send()
            .unwrap(),
    )
}

// 6a. Malformed and unknown `Authorization` values get a 401 that does not echo them.
fn bad_authorization_headers_are_401s(db: &TestDatabase) {
    // A limit this high never throttles the test, so every value reaches the token check.
    let server = Server::start_with(
        db.url(),
        &[],
        &[("KUBERNAUT__AUTH__MAX_FAILURES_PER_MINUTE", "1000000")],
    );
    let client = Client::new();
    // (value sent, the part that must not be echoed)
    let mut cases: Vec<(Vec<u8>, String)> = vec![
        (b"".to_vec(), String::new()),
        (b"Bearer".to_vec(), String::new()),
        (b"Bearer ".to_vec(), String::new()),
        (
            b"Basic abcdefghijklmnop".to_vec(),
            "abcdefghijklmnop".into(),
        ),
        (
            format!("bearer knt_{}", "a".repeat(600)).into_bytes(),
            "a".repeat(40),
        ),
        (vec![0xC3, 0xA9], "\u{e9}".into()),
        (
            [b"Bearer knt_".as_slice(), &[0xC3, 0xA9, 0xFF, 0x80]].concat(),
            String::new(),
        ),
        (
            format!("Bearer {}", "k".repeat(16 * 1024 - 7)).into_bytes(),
            "k".repeat(40),
        ),
        (
            format!("Bearer {}x", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]).into_bytes(),
            ADMIN_TOKEN[4..].to_owned(),
        ),
        (
            format!("Bearer {ADMIN_TOKEN} {ADMIN_TOKEN}").into_bytes(),
            ADMIN_TOKEN[4..].to_owned(),
        ),
        (ADMIN_TOKEN.as_bytes().to_vec(), ADMIN_TOKEN[4..].to_owned()),
        (
            format!("Token {ADMIN_TOKEN}").into_bytes(),
            ADMIN_TOKEN[4..].to_owned(),
        ),
    ];
    let mut garbage = Garbage(0x5eed_cafe_f00d_beef);
    let schemes: [&[u8]; 5] = [
        b"Bearer knt_",
        b"bearer ",
        b"BEARER knt_",
        b"Bearer  ",
        b"Bearer\t",
    ];
    for i in 0..300 {
        let random = garbage.header_bytes();
        let sent = [schemes[i % schemes.len()], &random].concat();
        let echoed = String::from_utf8_lossy(&random).trim().to_owned();
        cases.push((sent, echoed));
    }
    for (sent, echoed) in &cases {
        let answer = with_authorization(&client, &server, sent);
        assert!(
            !answer.status.is_server_error(),
            "{}: {}",
            answer.status,
            answer.body
        );
        answer.assert_unauthorized(echoed);
        let message = answer.message();
        if echoed.len() >= 8 {
            // Nor a telling piece of it.
            let piece: String = echoed.chars().take(8).collect();
            assert!(!message.contains(&piece), "{message} echoes {piece:?}");
        }
    }
    // The server is fine, and the real token still works.
    let me = whoami(&server, ADMIN_TOKEN);
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let lines = server.stderr().lines();
    assert!(
        !lines.iter().any(|l| l.contains("internal error")),
        "{lines:#?}"
    );
}

// 6b. Too many failures from one address: 429 with Retry-After, before any token is checked.
fn repeated_failures_from_one_address_are_throttled(db: &TestDatabase) {
    let server = Server::start_with(
        db.url(),
        &[],
        &[("KUBERNAUT__AUTH__MAX_FAILURES_PER_MINUTE", "5")],
    );
    let client = Client::new();
    // Successes do not count.
    for _ in 0..10 {
        assert_eq!(whoami(&server, ADMIN_TOKEN).status, StatusCode::OK);
    }
    let wrong = b"Bearer knt_wrong-secret-0123456789abcdef";
    for attempt in 1..=5 {
        let answer = with_authorization(&client, &server, wrong);
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "failure {attempt} of 5 allowed: {}",
            answer.body
        );
    }
    let throttled = with_authorization(&client, &server, wrong);
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.body
    );
    let retry_after: u64 = throttled
        .header(header::RETRY_AFTER)
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(
        throttled
            .message()
            .contains("too many failed authentications"),
        "{}",
        throttled.message()
    );
    assert!(!throttled.message().contains("wrong-secret"));

    // While blocked, the address gets 429 before its token is looked at: even the valid admin
    // token, and no token at all; a forwarded-for header changes nothing.
    let blocked = whoami(&server, ADMIN_TOKEN);
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        blocked.body
    );
    assert!(blocked.header(header::RETRY_AFTER).is_some());
    let anonymous = Answer::of(client.get(server.url("/api/releases")).send().unwrap());
    assert_eq!(anonymous.status, StatusCode::TOO_MANY_REQUESTS);
    let forwarded = Answer::of(
        client_with_token(ADMIN_TOKEN)
            .get(server.url("/api/whoami"))
            .header("x-forwarded-for", "10.9.8.7")
            .send()
            .unwrap(),
    );
    assert_eq!(forwarded.status, StatusCode::TOO_MANY_REQUESTS);
    // Endpoints without authentication are not limited.
    let health = client.get(server.url("/healthz")).send().unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // Another address is not blocked (the server listens on 127.0.0.1; 127.0.0.2 is loopback
    // too).
    let other = Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .default_headers(header::HeaderMap::from_iter([(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {ADMIN_TOKEN}")).unwrap(),
        )]))
        .build()
        .unwrap();
    let me = Answer::of(other.get(server.url("/api/whoami")).send().unwrap());
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);

    // After Retry-After seconds the valid token works again.
    let remaining: u64 = whoami(&server, ADMIN_TOKEN)
        .header(header::RETRY_AFTER)
        .unwrap()
        .parse()
        .unwrap();
    sleep(Duration::from_secs(remaining));
    let me = whoami(&server, ADMIN_TOKEN);
    assert_eq!(
        me.status,
        StatusCode::OK,
        "still refused after Retry-After: {remaining} s: {:?} {}",
        me.header(header::RETRY_AFTER),
        me.body
    );
}

kubernaut_tests::on_both_backends!(
    a_generated_first_admin_token_is_printed_once,
    a_revoked_bootstrap_token_stays_revoked_after_restarts,
    admin_token_creates_a_global_admin_in_the_database,
    secrets_are_neither_stored_nor_logged,
    an_invalid_bootstrap_token_stops_start_up,
    bad_authorization_headers_are_401s,
    repeated_failures_from_one_address_are_throttled,
);
