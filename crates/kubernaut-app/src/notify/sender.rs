//! The sender: on every server, a loop that claims due deliveries from the outbox, posts each
//! to its webhook with a timeout, and records the attempt: delivered on a 2xx, else tried again
//! after an exponential backoff with jitter until the last attempt. Each delivery is posted by
//! its own task, so a slow receiver holds up neither deployments nor other deliveries.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kubernaut_store::{Attempt, AttemptEnd, DueDelivery, Store};
use reqwest::header::CONTENT_TYPE;
use tokio::task::JoinSet;

use crate::deploy::Signals;
use crate::metrics::Metrics;
use crate::notify::Webhooks;
use crate::{App, blocking};

/// How the sender works.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// How often it looks for due deliveries.
    pub poll_interval: Duration,
    /// How long one attempt may take before it counts as failed.
    pub timeout: Duration,
    /// How many attempts a delivery gets.
    pub max_attempts: i32,
    /// The wait after the first failed attempt; it doubles after each (up to an hour), with
    /// jitter.
    pub retry_base: Duration,
    /// How many deliveries it posts at once.
    pub max_parallel: usize,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            max_attempts: 10,
            retry_base: Duration::from_secs(1),
            max_parallel: 16,
        }
    }
}

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// One post fewer in flight to `webhook`.
fn release(in_flight: &mut HashMap<String, usize>, webhook: &str) {
    if let Some(count) = in_flight.get_mut(webhook) {
        *count = count.saturating_sub(1);
    }
}

/// Posts the outbox's deliveries to their webhooks. See the module documentation.
#[derive(Debug)]
pub struct Sender {
    store: Store,
    signals: Arc<Signals>,
    webhooks: Arc<Webhooks>,
    metrics: Arc<Metrics>,
    client: reqwest::Client,
    id: String,
    options: SenderOptions,
}

impl Sender {
    /// A sender for the webhooks `app` was given.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(app: &App, options: SenderOptions) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kubernaut/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store: app.store().clone(),
            signals: app.signals(),
            webhooks: app.webhooks(),
            metrics: app.metrics(),
            client,
            id: format!("sender-{}", uuid::Uuid::now_v7()),
            options,
        })
    }

    /// Runs until `stop` completes; then waits for the deliveries being posted (each ends
    /// within the timeout). A delivery claimed but not recorded is sent again by any sender
    /// once its lease lapses.
    ///
    /// It claims again as soon as a post ends while it found work, and every poll interval
    /// (or when this server's worker ends a deployment) otherwise. At most a quarter of its
    /// parallel posts go to one webhook, so a receiver that hangs leaves the others room.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        if self.webhooks.is_empty() {
            return stop.await;
        }
        let this = Arc::new(self);
        let per_webhook = (this.options.max_parallel / 4).max(1);
        let mut sending = JoinSet::new();
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        tokio::pin!(stop);
        loop {
            let room = this.options.max_parallel.saturating_sub(sending.len());
            let mut claimed = 0;
            if room > 0 {
                let full: Vec<String> = in_flight
                    .iter()
                    .filter(|(_, count)| **count >= per_webhook)
                    .map(|(name, _)| name.clone())
                    .collect();
                for due in this.claim(room, full).await {
                    claimed += 1;
                    *in_flight.entry(due.webhook.clone()).or_default() += 1;
                    let sender = this.clone();
                    sending.spawn(async move {
                        let webhook = due.webhook.clone();
                        sender.deliver(due).await;
                        webhook
                    });
                }
            }
            let busy = claimed > 0 || room == 0;
            let signals = this.signals.clone();
            tokio::select! {
                () = &mut stop => break,
                Some(done) = sending.join_next(), if busy => {
                    if let Ok(webhook) = done {
                        release(&mut in_flight, &webhook);
                    }
                }
                () = tokio::time::sleep(this.options.poll_interval), if !busy => {}
                () = signals.next_end(), if !busy => {}
            }
            while let Some(done) = sending.try_join_next() {
                if let Ok(webhook) = done {
                    release(&mut in_flight, &webhook);
                }
            }
        }
        while sending.join_next().await.is_some() {}
    }

    async fn claim(&self, max: usize, skip: Vec<String>) -> Vec<DueDelivery> {
        let store = self.store.clone();
        let (id, lease) = (self.id.clone(), self.lease());
        blocking(move || Ok(store.claim_notifications(&id, lease, max, &skip)?))
            .await
            .unwrap_or_else(|error| {
                log::warn!("cannot claim notifications: {error}");
                Vec::new()
            })
    }

    /// A claim outlives an attempt: the timeout, and time to record it.
    fn lease(&self) -> Duration {
        self.options.timeout * 2 + Duration::from_secs(10)
    }

    async fn deliver(&self, due: DueDelivery) {
        let started = Instant::now();
        let outcome = self.post(&due).await;
        let attempt = Attempt {
            status: outcome.status,
            error: outcome.error,
            duration: started.elapsed(),
        };
        let end = if attempt.error.is_none() {
            self.metrics.notification("delivered");
            AttemptEnd::Delivered
        } else if due.attempt >= self.options.max_attempts {
            self.metrics.notification("failed");
            log::warn!(
                "notification {} ({} to webhook {}) failed after {} attempts: {}",
                due.id,
                due.event,
                due.webhook,
                due.attempt,
                attempt.error.as_deref().unwrap_or_default()
            );
            AttemptEnd::Failed
        } else {
            self.metrics.notification("retried");
            let wait = backoff(self.options.retry_base, due.attempt, jitter());
            AttemptEnd::RetryAt(
                Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
            )
        };
        let store = self.store.clone();
        let sender = self.id.clone();
        let id = due.id;
        let recorded =
            blocking(move || Ok(store.record_notification_attempt(id, &sender, &attempt, end)?))
                .await;
        match recorded {
            Ok(true) => {}
            Ok(false) => log::warn!("notification {id}: its claim lapsed before it was recorded"),
            Err(error) => log::warn!("notification {id}: cannot record the attempt: {error}"),
        }
    }

    async fn post(&self, due: &DueDelivery) -> Outcome {
        let Some(webhook) = self.webhooks.get(&due.webhook) else {
            return Outcome::error(format!(
                "webhook {} is not configured on this server",
                due.webhook
            ));
        };
        let mut request = self
            .client
            .post(webhook.url().clone())
            .headers(webhook.headers().clone())
            .header(CONTENT_TYPE, "application/json")
            .header("X-Kubernaut-Event", due.event.as_str())
            .header("X-Kubernaut-Delivery", due.id.to_string());
        if let Some(signature) = webhook.signature(due.payload.as_bytes()) {
            request = request.header("X-Kubernaut-Signature-256", signature);
        }
        match request.body(due.payload.clone()).send().await {
            Ok(response) if response.status().is_success() => Outcome {
                status: Some(i32::from(response.status().as_u16())),
                error: None,
            },
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                let body: String = body.trim().chars().take(200).collect();
                let error = if body.is_empty() {
                    format!("the receiver answered {status}")
                } else {
                    format!("the receiver answered {status}: {body}")
                };
                Outcome {
                    status: Some(i32::from(status.as_u16())),
                    error: Some(error),
                }
            }
            Err(error) if error.is_timeout() => Outcome::error(format!(
                "the receiver did not answer within {} s",
                self.options.timeout.as_secs_f64()
            )),
            Err(error) if error.is_connect() => Outcome::error(format!(
                "cannot connect to the receiver: {}",
                root_cause(&error)
            )),
            Err(error) => Outcome::error(format!("cannot post: {}", root_cause(&error))),
        }
    }
}

/// What one attempt saw.
struct Outcome {
    status: Option<i32>,
    error: Option<String>,
}

impl Outcome {
    fn error(error: String) -> Self {
        Self {
            status: None,
            error: Some(error),
        }
    }
}

/// The innermost cause of an error, which says what happened (refused, reset, ...).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// A number in `[0.5, 1)`: how much of the full backoff to wait ("equal jitter"), so that
/// deliveries failed together do not come back together.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.75;
    }
    0.5 + f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) / 2.0
}

/// The wait after failed attempt `attempt` (from 1): `base` doubled per attempt, at most
/// [`MAX_BACKOFF`], times `jitter`.
fn backoff(base: Duration, attempt: i32, jitter: f64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let full = base.saturating_mul(1 << doublings).min(MAX_BACKOFF);
    full.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_an_hour_with_jitter() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(base, 4, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(base, 4, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(base, 40, 1.0), MAX_BACKOFF);
        for _ in 0..100 {
            let jitter = jitter();
            assert!((0.5..=1.0).contains(&jitter), "{jitter}");
        }
    }
}
