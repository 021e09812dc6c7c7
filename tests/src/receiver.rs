//! A webhook receiver on loopback: records every request it gets (headers, body, when) and
//! answers with the statuses a test scripts, so tests see what kubernaut sends and how it
//! retries.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its path.
    pub path: String,
    /// Its headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// Its body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
    /// The status it was answered with (0: not answered, the receiver hung).
    pub answered: u16,
}

impl Received {
    /// A header's value.
    ///
    /// # Panics
    /// If the request has no such header.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// If it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// With this status.
    Status(u16),
    /// Never: it holds the request open.
    Hang,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Answers for the next requests, in order; then `otherwise`.
    script: VecDeque<Answer>,
    otherwise: Option<Answer>,
}

/// A receiver on `127.0.0.1:PORT`; stops when dropped.
pub struct Receiver {
    _runtime: Runtime,
    address: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    /// Starts a receiver that answers 200 unless scripted otherwise.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub fn start() -> Self {
        let runtime = Runtime::new().expect("a tokio runtime");
        let state = Arc::new(Mutex::new(State::default()));
        let address = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let address = listener.local_addr().expect("its address");
            tokio::spawn(serve(listener, state.clone()));
            address
        });
        Self {
            _runtime: runtime,
            address,
            state,
        }
    }

    /// Its URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Answers the next requests with `answers`, in order.
    pub fn script(&self, answers: &[Answer]) {
        self.lock().script.extend(answers.iter().copied());
    }

    /// Answers every request past the script with `answer` (default: 200).
    pub fn otherwise(&self, answer: Answer) {
        self.lock().otherwise = Some(answer);
    }

    /// The requests received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Waits until `done` holds for the requests received (at most `timeout`); them.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if done(&received) || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            let service =
                service_fn(move |request: Request<Incoming>| receive(state.clone(), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn receive(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let answer = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = state
            .script
            .pop_front()
            .or(state.otherwise)
            .unwrap_or(Answer::Status(200));
        state.received.push(Received {
            path: parts.uri.path().to_owned(),
            headers,
            body,
            at,
            answered: match answer {
                Answer::Status(status) => status,
                Answer::Hang => 0,
            },
        });
        answer
    };
    match answer {
        Answer::Status(status) => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"receiver says so")));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(response)
        }
        Answer::Hang => {
            std::future::pending::<()>().await;
            unreachable!("a pending future never completes")
        }
    }
}
