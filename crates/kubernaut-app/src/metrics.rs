//! Prometheus metrics of one server: HTTP requests (recorded by the front end), releases,
//! deployments, the cluster requests of the worker, authentication failures, and gauges read
//! when scraped (queued deployments, pooled connections).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use kubernaut_cluster::{ClusterError, Rollout};
use kubernaut_domain::DeploymentStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The labels of an HTTP request counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The labels of an HTTP request duration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DeploymentLabels {
    context: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ContextLabels {
    context: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ClusterLabels {
    context: String,
    verb: String,
    code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

fn seconds_histogram() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

fn long_seconds_histogram() -> Histogram {
    // 10 ms to about 45 minutes: deployments wait for rollouts.
    Histogram::new(exponential_buckets(0.01, 2.0, 19))
}

/// The metrics of this server; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    releases_created: Counter,
    deployments: Family<DeploymentLabels, Counter>,
    deployment_duration: Family<ContextLabels, Histogram, fn() -> Histogram>,
    deployments_queued: Gauge,
    deployments_running: Gauge<i64, std::sync::atomic::AtomicI64>,
    pool_connections: Family<PoolLabels, Gauge>,
    cluster_requests: Family<ClusterLabels, Counter>,
    auth_failures: Counter<u64, AtomicU64>,
    notifications: Family<ResultLabels, Counter>,
    notifications_pending: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kubernaut");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            http_requests.clone(),
        );
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                seconds_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "How long HTTP requests took, by method and route pattern",
            http_duration.clone(),
        );
        let releases_created = Counter::default();
        registry.register(
            "releases_created",
            "Releases created (not their idempotent repeats)",
            releases_created.clone(),
        );
        let deployments = Family::<DeploymentLabels, Counter>::default();
        registry.register(
            "deployments",
            "Deployments this server ended, by context and terminal status",
            deployments.clone(),
        );
        let deployment_duration =
            Family::<ContextLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                long_seconds_histogram,
            );
        registry.register(
            "deployment_duration_seconds",
            "How long this server's worker ran the deployments it ended, by context",
            deployment_duration.clone(),
        );
        let deployments_queued = Gauge::default();
        registry.register(
            "deployments_queued",
            "Deployments pending in the database (all replicas)",
            deployments_queued.clone(),
        );
        let deployments_running = Gauge::default();
        registry.register(
            "deployments_running",
            "Deployments this server is running",
            deployments_running.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of this server's pool, by state (idle, used)",
            pool_connections.clone(),
        );
        let cluster_requests = Family::<ClusterLabels, Counter>::default();
        registry.register(
            "cluster_requests",
            "Requests of the deployment worker to clusters, by context, verb and outcome code",
            cluster_requests.clone(),
        );
        let auth_failures = Counter::default();
        registry.register(
            "auth_failures",
            "Requests refused for want of a valid token (401 and 429)",
            auth_failures.clone(),
        );
        let notifications = Family::<ResultLabels, Counter>::default();
        registry.register(
            "notifications",
            "Attempts of this server's sender to deliver notifications, by result: delivered, \
             retried (it failed and will be tried again) or failed (the last attempt failed)",
            notifications.clone(),
        );
        let notifications_pending = Gauge::default();
        registry.register(
            "notifications_pending",
            "Notification deliveries not yet delivered nor given up, on every replica",
            notifications_pending.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            releases_created,
            deployments,
            deployment_duration,
            deployments_queued,
            deployments_running,
            pool_connections,
            cluster_requests,
            auth_failures,
            notifications,
            notifications_pending,
        }
    }
}

impl Metrics {
    /// Records an answered HTTP request; `route` is the route pattern, never a raw path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        // A made-up method must not make a new series.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "OTHER",
        };
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn release_created(&self) {
        self.releases_created.inc();
    }

    pub(crate) fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    pub(crate) fn deployment_started(&self) {
        self.deployments_running.inc();
    }

    /// A deployment this server ran ended (or was given up, `status` `None`).
    pub(crate) fn deployment_ended(
        &self,
        context: &str,
        status: Option<DeploymentStatus>,
        took: Option<Duration>,
    ) {
        self.deployments_running.dec();
        let Some(status) = status else { return };
        self.deployment_counted(context, status);
        if let Some(took) = took {
            self.deployment_duration
                .get_or_create(&ContextLabels {
                    context: context.to_owned(),
                })
                .observe(took.as_secs_f64());
        }
    }

    /// A deployment ended with `status`, run by a worker or canceled before one started it.
    pub(crate) fn deployment_counted(&self, context: &str, status: DeploymentStatus) {
        self.deployments
            .get_or_create(&DeploymentLabels {
                context: context.to_owned(),
                status: status.as_str().to_owned(),
            })
            .inc();
    }

    /// Records one reading of several rollouts (`Cluster::rollouts`) as one `rollout` request,
    /// whose outcome is that of its first failed reading, if any.
    pub(crate) fn rollouts_read(&self, context: &str, readings: &[Result<Rollout, ClusterError>]) {
        let outcome = match readings.iter().find_map(|r| r.as_ref().err()) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        };
        self.cluster_request(context, "rollout", &outcome);
    }

    /// Records a request to a cluster: `code` is `ok`, the API server's status code, or
    /// `unreachable`.
    pub(crate) fn cluster_request<T>(
        &self,
        context: &str,
        verb: &str,
        result: &Result<T, ClusterError>,
    ) {
        let code = match result {
            Ok(_) => "ok".to_owned(),
            Err(ClusterError::Rejected { code, .. }) => code.to_string(),
            Err(ClusterError::Unreachable { .. }) => "unreachable".to_owned(),
            Err(_) => "error".to_owned(),
        };
        self.cluster_requests
            .get_or_create(&ClusterLabels {
                context: context.to_owned(),
                verb: verb.to_owned(),
                code,
            })
            .inc();
    }

    /// Sets the gauges read at scrape time; `queued` is `None` when it could not be read.
    /// An attempt to deliver a notification ended: `delivered`, `retried` or `failed`.
    pub(crate) fn notification(&self, result: &str) {
        self.notifications
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    pub(crate) fn set_gauges(
        &self,
        queued: Option<u64>,
        notifications: Option<i64>,
        idle: u32,
        used: u32,
    ) {
        if let Some(queued) = queued {
            self.deployments_queued
                .set(i64::try_from(queued).unwrap_or(i64::MAX));
        }
        if let Some(pending) = notifications {
            self.notifications_pending.set(pending);
        }
        for (state, value) in [("idle", idle), ("used", used)] {
            self.pool_connections
                .get_or_create(&PoolLabels {
                    state: state.to_owned(),
                })
                .set(i64::from(value));
        }
    }

    /// The metrics in the Prometheus text format.
    pub(crate) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
