use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use kubernaut_wire::{
    AuditEventBody, AuditVerifyBody, ContextBody, CreateDeployment, CreateRelease, CreateToken,
    DeploymentBody, DryRunBody, ErrorBody, LiveBody, PageBody, ReleaseBody, ServiceBody,
    ServiceDetailBody, TokenBody, WhoamiBody,
};

use crate::error::ClientError;
use crate::query::{
    AuditFilter, DeploymentFilter, Paging, ReleaseFilter, ServiceFilter, TokenFilter,
};
use crate::retry::{self, Idempotence};

/// A written record, and whether the write created it (`201`) or found it already there
/// (`200`, an idempotent repeat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    /// The record.
    pub body: T,
    /// `true` for a new record.
    pub created: bool,
}

/// A client of one kubernaut server. Cheap to clone.
///
/// Every `/api/*` request needs a token: give it with [`Client::with_token`]. Its `Debug` output
/// never shows the token.
///
/// While the server's database is unavailable (a `503`, e.g. during a PostgreSQL restart) or the
/// server cannot be reached (connection refused, reset, timed out), idempotent requests are
/// retried for up to the retry budget ([`Client::with_retry_budget`], 30 s by default): every
/// GET, [`Client::create_release`], [`Client::dry_run_deployment`] and the deletes. [`Client::create_deployment`],
/// [`Client::cancel_deployment`] and [`Client::create_token`] are never retried, nor is any
/// other error answer (4xx, 500).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    /// `Bearer <token>`, marked sensitive (its `Debug` shows `Sensitive`).
    authorization: Option<HeaderValue>,
    /// How long an idempotent request is retried; zero for never.
    retry_budget: Duration,
}

impl Client {
    /// A client of the server at `server` (`http://host:port` or `https://...`, optionally with
    /// a path prefix).
    pub fn new(server: &str) -> Result<Self, ClientError> {
        let invalid = |reason: String| ClientError::InvalidUrl {
            url: server.to_owned(),
            reason,
        };
        // `127.0.0.1:8080` or `localhost:8080`: the scheme is missing.
        let hint = || {
            if server.contains("://") {
                String::new()
            } else {
                format!("; write it with its scheme, e.g. http://{server}")
            }
        };
        let mut base = Url::parse(server).map_err(|e| invalid(format!("{e}{}", hint())))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "the scheme must be http or https{}",
                hint()
            )));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("kubernaut-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            http,
            base,
            authorization: None,
            retry_budget: retry::DEFAULT_BUDGET,
        })
    }

    /// This client, retrying an idempotent request for at most `budget` (default 30 s) while
    /// the server answers `503` or cannot be reached, from the first attempt's start; the last
    /// attempt starts within the budget. `Duration::ZERO` disables retrying.
    ///
    /// Waits between attempts start at 100 ms and double up to 5 s, with jitter (each between
    /// half that and that), but are at least the server's `Retry-After` and never go past the
    /// budget. A request that still fails is a [`ClientError::GaveUp`] saying how long it
    /// tried.
    ///
    /// ```
    /// # fn build() -> Result<kubernaut_client::Client, kubernaut_client::ClientError> {
    /// use std::time::Duration;
    ///
    /// let client = kubernaut_client::Client::new("http://127.0.0.1:8080")?
    ///     .with_retry_budget(Duration::from_secs(120));
    /// assert_eq!(client.retry_budget(), Duration::from_secs(120));
    /// # Ok(client)
    /// # }
    /// # build().unwrap();
    /// ```
    #[must_use]
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// How long idempotent requests are retried (zero: never).
    pub fn retry_budget(&self) -> Duration {
        self.retry_budget
    }

    /// This client, sending `Authorization: Bearer <token>` with every request.
    ///
    /// ```no_run
    /// # fn build() -> Result<kubernaut_client::Client, kubernaut_client::ClientError> {
    /// let token = std::env::var("KUBERNAUT_TOKEN").unwrap_or_default();
    /// let client = kubernaut_client::Client::new("https://kubernaut.example.com")?
    ///     .with_token(&token)?;
    /// # Ok(client)
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ClientError::InvalidToken`] if `token` is empty or holds characters that cannot be
    /// sent in a header (the error does not repeat the token).
    pub fn with_token(mut self, token: &str) -> Result<Self, ClientError> {
        if token.is_empty() {
            return Err(ClientError::InvalidToken {
                reason: "it is empty".to_owned(),
            });
        }
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            ClientError::InvalidToken {
                reason: "it may hold only visible ASCII characters".to_owned(),
            }
        })?;
        value.set_sensitive(true);
        self.authorization = Some(value);
        Ok(self)
    }

    /// Whether requests carry a token.
    pub fn has_token(&self) -> bool {
        self.authorization.is_some()
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `POST /api/releases`: creates a release, or returns the identical one already stored.
    /// Retried like a GET: a repeat answers the same release (`created` is then `false` even if
    /// an attempt whose answer was lost created it).
    pub async fn create_release(
        &self,
        release: &CreateRelease,
    ) -> Result<Created<ReleaseBody>, ClientError> {
        let response = self
            .send(
                self.request(Method::POST, &["api", "releases"])
                    .json(release),
                Idempotence::Idempotent,
            )
            .await?;
        let created = response.status() == StatusCode::CREATED;
        Ok(Created {
            body: self.read(response).await?,
            created,
        })
    }

    /// `GET /api/releases`: active releases, newest first.
    pub async fn releases(
        &self,
        filter: &ReleaseFilter,
        paging: Paging,
    ) -> Result<PageBody<ReleaseBody>, ClientError> {
        self.get(&["api", "releases"], |r| r.query(filter).query(&paging))
            .await
    }

    /// `GET /api/releases/{id}`: the release with its template source.
    pub async fn release(&self, id: &str) -> Result<ReleaseBody, ClientError> {
        self.get(&["api", "releases", id], |r| r).await
    }

    /// `DELETE /api/releases/{id}`: soft delete (succeeds again for a deleted release).
    pub async fn delete_release(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&["api", "releases", id]).await
    }

    /// `GET /api/services`: services, newest first.
    pub async fn services(
        &self,
        filter: &ServiceFilter,
        paging: Paging,
    ) -> Result<PageBody<ServiceBody>, ClientError> {
        self.get(&["api", "services"], |r| r.query(filter).query(&paging))
            .await
    }

    /// `GET /api/services/{id}`: the service, its latest release and latest deployments.
    pub async fn service(&self, id: &str) -> Result<ServiceDetailBody, ClientError> {
        self.get(&["api", "services", id], |r| r).await
    }

    /// `GET /api/contexts`: the contexts deployments can target.
    pub async fn contexts(&self, paging: Paging) -> Result<PageBody<ContextBody>, ClientError> {
        self.get(&["api", "contexts"], |r| r.query(&paging)).await
    }

    /// `POST /api/deployments`: stores a deployment; with `wait` (seconds, at most 900) the
    /// answer comes once it ended or the wait passed. Never retried: a second attempt would
    /// deploy a second time.
    ///
    /// The release is a `release` id, or `service` (`namespace`) and `version`; or, with
    /// `rollback: Some(true)` and neither, the last good release of `service` in `context`
    /// (a `409` [`ClientError::Api`] when there is none). `auto_rollback: Some(true)` makes a
    /// failed deployment roll back by itself: its `rolled_back_by` then names the rollback, set
    /// shortly after it is `failed`.
    pub async fn create_deployment(
        &self,
        deployment: &CreateDeployment,
        wait: Option<u64>,
    ) -> Result<DeploymentBody, ClientError> {
        #[derive(Serialize)]
        struct Wait {
            wait: u64,
        }
        let mut request = self
            .request(Method::POST, &["api", "deployments"])
            .json(deployment);
        if let Some(wait) = wait {
            request = request.query(&Wait { wait });
        }
        let response = self.send(request, Idempotence::NotIdempotent).await?;
        self.read(response).await
    }

    /// `POST /api/deployments?dryRun=true`: what deploying would do, storing and applying
    /// nothing: the rendered manifest and, per object in apply order, `create`, `configure` or
    /// `unchanged` with a unified diff, then the objects a prune would delete (`prune`; none
    /// with `prune: Some(false)`). The request names its release as for
    /// [`Client::create_deployment`] (a rollback's too). Retried like a GET: it changes nothing.
    pub async fn dry_run_deployment(
        &self,
        deployment: &CreateDeployment,
    ) -> Result<DryRunBody, ClientError> {
        #[derive(Serialize)]
        struct DryRun {
            #[serde(rename = "dryRun")]
            dry_run: bool,
        }
        let request = self
            .request(Method::POST, &["api", "deployments"])
            .query(&DryRun { dry_run: true })
            .json(deployment);
        let response = self.send(request, Idempotence::Idempotent).await?;
        self.read(response).await
    }

    /// `GET /api/services/{id}/live?context=NAME`: the service's objects (the members of its
    /// ApplySet) in `context` as the cluster has them now, each with its health (`healthy`,
    /// `progressing`, `degraded` or `unknown`) and why. A `400` [`ClientError::Api`] for a
    /// context the server does not know.
    pub async fn live_objects(
        &self,
        service_id: &str,
        context: &str,
    ) -> Result<LiveBody, ClientError> {
        #[derive(Serialize)]
        struct Context<'a> {
            context: &'a str,
        }
        self.get(&["api", "services", service_id, "live"], |r| {
            r.query(&Context { context })
        })
        .await
    }

    /// `GET /api/deployments`: deployments, newest first, without manifest and log.
    pub async fn deployments(
        &self,
        filter: &DeploymentFilter,
        paging: Paging,
    ) -> Result<PageBody<DeploymentBody>, ClientError> {
        self.get(&["api", "deployments"], |r| r.query(filter).query(&paging))
            .await
    }

    /// `GET /api/deployments/{id}`: the deployment with its manifest and log.
    pub async fn deployment(&self, id: &str) -> Result<DeploymentBody, ClientError> {
        self.get(&["api", "deployments", id], |r| r).await
    }

    /// `POST /api/deployments/{id}/cancel`: cancels a deployment. A pending one comes back
    /// `canceled`; a running one stops before its next object or rollout check, so the answer
    /// may still say `applying` or `rolling_out` and the deployment ends `canceled` shortly
    /// after (the objects applied before stay). One that already ended is a `409`
    /// [`ClientError::Api`]. Never retried: a lost answer's cancel may have ended it, and a
    /// repeat would then be refused.
    pub async fn cancel_deployment(&self, id: &str) -> Result<DeploymentBody, ClientError> {
        let response = self
            .send(
                self.request(Method::POST, &["api", "deployments", id, "cancel"]),
                Idempotence::NotIdempotent,
            )
            .await?;
        self.read(response).await
    }

    /// `DELETE /api/deployments/{id}`: hides the record (nothing changes in the cluster).
    pub async fn delete_deployment(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&["api", "deployments", id]).await
    }

    /// `POST /api/tokens` (global admins): creates a token. The answer's `token` field holds
    /// its secret, which the server shows this once. Never retried: a second attempt would
    /// create a second token (or find the name in use).
    pub async fn create_token(&self, token: &CreateToken) -> Result<TokenBody, ClientError> {
        let response = self
            .send(
                self.request(Method::POST, &["api", "tokens"]).json(token),
                Idempotence::NotIdempotent,
            )
            .await?;
        self.read(response).await
    }

    /// `GET /api/tokens` (global admins): tokens, without their secrets.
    pub async fn tokens(
        &self,
        filter: &TokenFilter,
        paging: Paging,
    ) -> Result<PageBody<TokenBody>, ClientError> {
        self.get(&["api", "tokens"], |r| r.query(filter).query(&paging))
            .await
    }

    /// `GET /api/tokens/{id}` (global admins): one token, without its secret.
    pub async fn token(&self, id: &str) -> Result<TokenBody, ClientError> {
        self.get(&["api", "tokens", id], |r| r).await
    }

    /// `DELETE /api/tokens/{id}` (global admins): revokes the token. The server may accept a
    /// token it had cached for a few more seconds.
    pub async fn revoke_token(&self, id: &str) -> Result<(), ClientError> {
        self.delete(&["api", "tokens", id]).await
    }

    /// `GET /api/whoami`: the calling token's name, grants and expiry.
    pub async fn whoami(&self) -> Result<WhoamiBody, ClientError> {
        self.get(&["api", "whoami"], |r| r).await
    }

    /// `GET /api/audit` (global admins): audit events, newest first.
    pub async fn audit(
        &self,
        filter: &AuditFilter,
        paging: Paging,
    ) -> Result<PageBody<AuditEventBody>, ClientError> {
        self.get(&["api", "audit"], |r| r.query(filter).query(&paging))
            .await
    }

    /// `GET /api/audit/verify` (global admins): checks the audit log's hash chain.
    pub async fn verify_audit(&self) -> Result<AuditVerifyBody, ClientError> {
        self.get(&["api", "audit", "verify"], |r| r).await
    }

    /// A request to the path made of `segments`, each percent-encoded, with the token if any.
    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let request = self.http.request(method, url);
        match &self.authorization {
            Some(authorization) => request.header(AUTHORIZATION, authorization.clone()),
            None => request,
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        with: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = self
            .send(
                with(self.request(Method::GET, segments)),
                Idempotence::Idempotent,
            )
            .await?;
        self.read(response).await
    }

    async fn delete(&self, segments: &[&str]) -> Result<(), ClientError> {
        self.send(
            self.request(Method::DELETE, segments),
            Idempotence::Idempotent,
        )
        .await?;
        Ok(())
    }

    /// Sends a request; an error status becomes [`ClientError::Api`] with the server's message.
    /// An idempotent request is sent again while the server is unavailable, within the retry
    /// budget (see [`Client::with_retry_budget`]).
    async fn send(
        &self,
        request: RequestBuilder,
        idempotence: Idempotence,
    ) -> Result<Response, ClientError> {
        let budget = match idempotence {
            Idempotence::Idempotent => self.retry_budget,
            Idempotence::NotIdempotent => Duration::ZERO,
        };
        let started = Instant::now();
        let mut request = request;
        let mut retries = 0;
        loop {
            // A JSON body can be copied; a streamed one could not, and is sent once.
            let again = if budget.is_zero() {
                None
            } else {
                request.try_clone()
            };
            let failure = match self.attempt(request).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let (true, Some(again)) = (failure.transient, again) else {
                return Err(failure.error);
            };
            let remains = budget.saturating_sub(started.elapsed());
            if remains.is_zero() {
                return Err(if retries == 0 {
                    failure.error
                } else {
                    ClientError::GaveUp {
                        retried_for: started.elapsed(),
                        attempts: retries + 1,
                        last: Box::new(failure.error),
                    }
                });
            }
            let wait = retry::wait(retries, failure.retry_after, remains, retry::random());
            tokio::time::sleep(wait).await;
            retries += 1;
            request = again;
        }
    }

    /// Sends a request once.
    async fn attempt(&self, request: RequestBuilder) -> Result<Response, Failure> {
        let response = request.send().await.map_err(|e| Failure {
            transient: retry::transient_failure(&e),
            retry_after: None,
            error: ClientError::Unreachable {
                server: self.server().to_owned(),
                reason: reason(&e),
            },
        })?;
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            let unavailable = status == StatusCode::SERVICE_UNAVAILABLE;
            let retry_after = retry::retry_after(response.headers().get(RETRY_AFTER));
            let text = response.text().await.unwrap_or_default();
            let error = match serde_json::from_str::<ErrorBody>(&text) {
                Ok(error) => ClientError::Api {
                    status: status.as_u16(),
                    message: error.message,
                },
                Err(_) => ClientError::Unexpected {
                    server: self.server().to_owned(),
                    status: status.as_u16(),
                    reason: format!("not a kubernaut error body: {}", shorten(&text)),
                },
            };
            return Err(Failure {
                transient: unavailable,
                retry_after: retry_after.filter(|_| unavailable),
                error,
            });
        }
        Ok(response)
    }

    async fn read<T: DeserializeOwned>(&self, response: Response) -> Result<T, ClientError> {
        let status = response.status().as_u16();
        let unexpected = |reason: String| ClientError::Unexpected {
            server: self.server().to_owned(),
            status,
            reason,
        };
        let text = response.text().await.map_err(|e| unexpected(reason(&e)))?;
        serde_json::from_str(&text).map_err(|e| unexpected(format!("{e}: {}", shorten(&text))))
    }
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    error: ClientError,
    /// A `503`, or no answer for a reason that may pass (see [`retry::transient_failure`]).
    transient: bool,
    /// The `Retry-After` of a `503`.
    retry_after: Option<Duration>,
}

/// An error with its causes, as one line.
fn reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !reason.contains(&cause) {
            reason = format!("{reason}: {cause}");
        }
        source = source.and_then(std::error::Error::source);
    }
    reason
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_token() {
        let client = Client::new("http://127.0.0.1:8080")
            .unwrap()
            .with_token("knt_very-secret")
            .unwrap();
        assert!(client.has_token());
        let debug = format!("{client:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        let request = client
            .request(Method::GET, &["api", "whoami"])
            .build()
            .unwrap();
        assert_eq!(
            request.headers()[AUTHORIZATION].to_str().unwrap(),
            "Bearer knt_very-secret"
        );
        assert!(!format!("{request:?}").contains("very-secret"));
    }

    #[test]
    fn unusable_tokens_are_refused_without_repeating_them() {
        let client = Client::new("http://127.0.0.1:8080").unwrap();
        assert!(!client.has_token());
        let empty = client.clone().with_token("").unwrap_err();
        assert_eq!(empty.to_string(), "invalid token: it is empty");
        let newline = client.with_token("knt_secret\n").unwrap_err();
        assert!(!newline.to_string().contains("knt_secret"), "{newline}");
    }
}
