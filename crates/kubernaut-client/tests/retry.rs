//! Retrying while the server is unavailable, against a tiny HTTP server written here: it answers
//! raw HTTP/1.1 from a script (`503` with `Retry-After`, then a JSON answer) and records every
//! request it sees; a port nobody listens on refuses connections.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kubernaut_client::{
    Client, ClientError, CreateDeployment, CreateRelease, CreateToken, Paging, ServiceFilter,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server saw it: `METHOD /path` and the body.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

const UNAVAILABLE: &str = "the database is unavailable; try again later";

const PAGE: &str =
    r#"{"items": [{"name": "sandbox", "kind": "sandbox"}], "count": 1, "limit": 50, "offset": 0}"#;

const RELEASE_ID: &str = "0193a1e2-0000-7000-8000-000000000001";

fn release_body() -> String {
    format!(
        r#"{{"id": "{RELEASE_ID}",
            "service": {{"id": "0193a1e2-0000-7000-8000-000000000002", "name": "hello",
                         "namespace": "default"}},
            "version": "1",
            "template": {{"id": "0193a1e2-0000-7000-8000-000000000003", "checksum": "ab"}},
            "attributes": {{}},
            "createdOn": "2026-12-01T10:00:00Z",
            "createdBy": "ci"}}"#
    )
}

/// A raw HTTP answer that closes the connection.
fn answer(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn ok(body: &str) -> String {
    answer("200 OK", "", body)
}

/// What kubernaut answers while its database is unavailable.
fn unavailable(retry_after: u64) -> String {
    answer(
        "503 Service Unavailable",
        &format!("Retry-After: {retry_after}\r\n"),
        &format!(r#"{{"message": "{UNAVAILABLE}"}}"#),
    )
}

fn refusal(status: &str) -> String {
    answer(
        status,
        "",
        &format!(r#"{{"message": "refused: {status}"}}"#),
    )
}

/// Serves on `listener`: answer `n` (from 0) to request `METHOD /path` is `script(n, ..)`.
fn serve(
    listener: TcpListener,
    script: impl Fn(usize, &str) -> String + Send + Sync + 'static,
) -> Seen {
    let seen = Seen::default();
    let record = Arc::clone(&seen);
    let script = Arc::new(script);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (record, script) = (Arc::clone(&record), Arc::clone(&script));
            tokio::spawn(async move {
                let _ = exchange(stream, &record, &*script).await;
            });
        }
    });
    seen
}

async fn exchange(
    mut stream: TcpStream,
    seen: &Mutex<Vec<(String, String)>>,
    script: &(dyn Fn(usize, &str) -> String + Send + Sync),
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    let request = head
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push((request.clone(), body));
        seen.len() - 1
    };
    stream.write_all(script(n, &request).as_bytes()).await?;
    stream.shutdown().await
}

/// A server answering from `script`, and a client of it retrying for at most `budget`.
async fn scripted(
    budget: Duration,
    script: impl Fn(usize, &str) -> String + Send + Sync + 'static,
) -> (Client, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = serve(listener, script);
    let client = Client::new(&url)
        .unwrap()
        .with_token("knt_test")
        .unwrap()
        .with_retry_budget(budget);
    (client, seen)
}

fn requests(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(request, _)| request.clone())
        .collect()
}

/// A port on which nobody listens (for now): connections to it are refused.
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn release() -> CreateRelease {
    CreateRelease {
        service: Some("hello".to_owned()),
        version: Some("1".to_owned()),
        template: Some("kind: ConfigMap\n".to_owned()),
        ..CreateRelease::default()
    }
}

#[tokio::test]
async fn a_get_succeeds_after_503s_honouring_retry_after() {
    let (client, seen) = scripted(Duration::from_secs(5), |n, _| match n {
        0 => unavailable(1),
        1 => unavailable(0),
        _ => ok(PAGE),
    })
    .await;
    let started = Instant::now();
    let page = client.contexts(Paging::default()).await.unwrap();
    let took = started.elapsed();
    assert_eq!(page.items[0].name, "sandbox");
    assert_eq!(requests(&seen), ["GET /api/contexts"; 3]);
    // The first wait is the Retry-After (1 s), the second the backoff (100 to 200 ms).
    assert!(took >= Duration::from_millis(1_050), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_is_retried() {
    // An empty answer: the server reads the request and closes the connection.
    let (client, seen) = scripted(Duration::from_secs(5), |n, _| match n {
        0 => String::new(),
        _ => ok(PAGE),
    })
    .await;
    let page = client.contexts(Paging::default()).await.unwrap();
    assert_eq!(page.count, 1);
    assert_eq!(requests(&seen), ["GET /api/contexts"; 2]);
}

#[tokio::test]
async fn creating_a_release_is_retried_with_the_same_body() {
    let (client, seen) = scripted(Duration::from_secs(5), |n, _| match n {
        0 => unavailable(0),
        _ => ok(&release_body()),
    })
    .await;
    let created = client.create_release(&release()).await.unwrap();
    assert!(!created.created);
    assert_eq!(created.body.id.to_string(), RELEASE_ID);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "POST /api/releases");
    assert_eq!(seen[0], seen[1]);
    assert!(seen[0].1.contains(r#""service":"hello""#), "{}", seen[0].1);
}

#[tokio::test]
async fn deleting_is_retried() {
    let (client, seen) = scripted(Duration::from_secs(5), |n, _| match n {
        0 | 1 => unavailable(0),
        _ => answer("204 No Content", "", ""),
    })
    .await;
    client.delete_release(RELEASE_ID).await.unwrap();
    assert_eq!(
        requests(&seen),
        vec![format!("DELETE /api/releases/{RELEASE_ID}"); 3]
    );
}

#[tokio::test]
async fn creating_or_canceling_a_deployment_or_creating_a_token_is_never_retried() {
    let (client, seen) = scripted(Duration::from_secs(5), |_, _| unavailable(0)).await;
    let deployment = CreateDeployment {
        release: Some(RELEASE_ID.to_owned()),
        context: Some("sandbox".to_owned()),
        ..CreateDeployment::default()
    };
    let error = client
        .create_deployment(&deployment, Some(60))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ClientError::Api { status: 503, message } if message == UNAVAILABLE),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(requests(&seen), ["POST /api/deployments"]);

    let error = client
        .create_token(&CreateToken::default())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), UNAVAILABLE);
    assert_eq!(
        requests(&seen),
        ["POST /api/deployments", "POST /api/tokens"]
    );

    let error = client.cancel_deployment(RELEASE_ID).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(
        requests(&seen),
        [
            "POST /api/deployments",
            "POST /api/tokens",
            format!("POST /api/deployments/{RELEASE_ID}/cancel").as_str()
        ]
    );
}

#[tokio::test]
async fn error_answers_other_than_503_are_not_retried() {
    let (client, seen) = scripted(Duration::from_secs(5), |_, request| match request {
        "POST /api/releases" => refusal("409 Conflict"),
        "GET /api/whoami" => refusal("401 Unauthorized"),
        "GET /api/services" => answer(
            "429 Too Many Requests",
            "Retry-After: 0\r\n",
            r#"{"message": "too many failed authentications"}"#,
        ),
        _ => refusal("500 Internal Server Error"),
    })
    .await;
    let conflict = client.create_release(&release()).await.unwrap_err();
    assert!(
        matches!(&conflict, ClientError::Api { status: 409, message } if message == "refused: 409 Conflict"),
        "{conflict:?}"
    );
    assert!(!conflict.is_transient());
    let statuses = [
        client.whoami().await.unwrap_err().status(),
        client
            .services(&ServiceFilter::default(), Paging::default())
            .await
            .unwrap_err()
            .status(),
        client
            .contexts(Paging::default())
            .await
            .unwrap_err()
            .status(),
    ];
    assert_eq!(statuses, [Some(401), Some(429), Some(500)]);
    assert_eq!(
        requests(&seen),
        [
            "POST /api/releases",
            "GET /api/whoami",
            "GET /api/services",
            "GET /api/contexts"
        ]
    );
}

#[tokio::test]
async fn the_budget_ends_retrying_and_the_error_says_how_long() {
    let budget = Duration::from_millis(400);
    let (client, seen) = scripted(budget, |_, _| unavailable(0)).await;
    let started = Instant::now();
    let error = client.contexts(Paging::default()).await.unwrap_err();
    let took = started.elapsed();
    assert!(took >= budget && took < Duration::from_secs(2), "{took:?}");
    let ClientError::GaveUp {
        retried_for,
        attempts,
        last,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(*retried_for >= budget, "{retried_for:?}");
    // Waits of 50..100, 100..200, 200..400 ms, the last one cut to what remained.
    assert!((3..=6).contains(attempts), "{attempts}");
    assert_eq!(requests(&seen).len(), *attempts as usize);
    assert!(
        matches!(&**last, ClientError::Api { status: 503, message } if message == UNAVAILABLE),
        "{last:?}"
    );
    assert_eq!(error.status(), Some(503));
    assert!(error.is_transient());
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{UNAVAILABLE} (gave up after 0.")),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(" s of retries, {attempts} attempts)")),
        "{message}"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_is_cut_to_what_remains() {
    let budget = Duration::from_millis(300);
    let (client, seen) = scripted(budget, |_, _| unavailable(5)).await;
    let started = Instant::now();
    let error = client.release(RELEASE_ID).await.unwrap_err();
    let took = started.elapsed();
    assert!(took >= budget && took < Duration::from_secs(2), "{took:?}");
    assert!(
        matches!(error, ClientError::GaveUp { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(requests(&seen).len(), 2);
}

#[tokio::test]
async fn a_zero_budget_disables_retrying() {
    let (client, seen) = scripted(Duration::ZERO, |_, _| unavailable(0)).await;
    let error = client.contexts(Paging::default()).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Api { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(requests(&seen).len(), 1);
}

#[tokio::test]
async fn a_refusing_port_is_retried_until_the_server_listens() {
    let port = free_port().await;
    let client = Client::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_retry_budget(Duration::from_secs(4));
    let started = Instant::now();
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        serve(listener, |_, _| ok(PAGE))
    });
    let page = client.contexts(Paging::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(page.count, 1);
    let seen = server.await.unwrap();
    assert_eq!(requests(&seen), ["GET /api/contexts"]);
}

#[tokio::test]
async fn a_port_that_keeps_refusing_gives_up_with_the_connection_error() {
    let port = free_port().await;
    let client = Client::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_retry_budget(Duration::from_millis(300));
    let started = Instant::now();
    let error = client.whoami().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let ClientError::GaveUp { attempts, last, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(*attempts >= 3, "{attempts}");
    assert!(
        matches!(**last, ClientError::Unreachable { .. }),
        "{last:?}"
    );
    assert!(error.is_transient());
    assert_eq!(error.status(), None);
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot reach kubernaut at http://127.0.0.1:{port}: "
        )),
        "{message}"
    );
    assert!(message.contains(" (gave up after 0."), "{message}");
}
