//! The `kubernaut-server` binary's logic: configuration, logging and wiring. `main.rs` only
//! calls [`main`].

mod settings;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::Logger;
use actix_web::{App, HttpServer};
use anyhow::Context;
use clap::Parser;
use kubernaut_api::AppState;
use kubernaut_api::deploy::{Worker, WorkerOptions};
use kubernaut_cluster::Contexts;
use kubernaut_store::{Store, StoreOptions};
use tokio::sync::Notify;

pub use settings::{
    Cli, ClusterSettings, DatabaseSettings, ServerSettings, Settings, WorkerSettings,
};

/// Runs the server until SIGINT or SIGTERM; start-up failures print one line and exit 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kubernaut-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli, std::env::vars())?;
    let store = Store::open(
        &settings.database.url,
        &StoreOptions {
            max_connections: settings.database.max_connections,
            acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
        },
    )?;
    log::info!("using database {:?}", store.backend());
    let kubeconfig = Some(settings.cluster.kubeconfig.as_str())
        .filter(|path| !path.is_empty())
        .map(Path::new);
    let contexts = Arc::new(Contexts::load(kubeconfig, settings.cluster.sandbox)?);
    let names: Vec<String> = contexts.list().into_iter().map(|c| c.name).collect();
    log::info!(
        "contexts: {}",
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    );
    let state = AppState {
        body_limit: settings.server.body_limit,
        allow_cluster_scoped: settings.cluster.allow_cluster_scoped,
        ..AppState::new(store.clone(), contexts.clone())
    };
    let worker = Worker::new(
        store,
        contexts,
        worker_options(&settings),
        state.signals.clone(),
    );
    actix_web::rt::System::new().block_on(serve(state, worker, &settings.server.listen))
}

fn worker_options(settings: &Settings) -> WorkerOptions {
    let worker = &settings.worker;
    WorkerOptions {
        poll_interval: Duration::from_millis(worker.poll_interval_ms),
        lease: Duration::from_secs(worker.lease_secs.max(1)),
        rollout_timeout: Duration::from_secs(worker.rollout_timeout_secs),
        rollout_poll: Duration::from_millis(worker.rollout_poll_ms),
        max_parallel: worker.max_parallel.max(1),
        allow_cluster_scoped: settings.cluster.allow_cluster_scoped,
    }
}

/// Serves HTTP and runs the deployment worker until SIGINT or SIGTERM; then stops taking
/// requests, finishes those in flight, and stops the worker (which lets its claims lapse).
async fn serve(state: AppState, worker: Worker, listen: &str) -> anyhow::Result<()> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
            .configure(kubernaut_api::configure(state.clone()))
    })
    .bind(listen)
    .with_context(|| format!("cannot listen on {listen}"))?;
    for address in server.addrs() {
        log::info!("listening on http://{address}");
    }
    let stop = Arc::new(Notify::new());
    let worker = {
        let stop = stop.clone();
        actix_web::rt::spawn(worker.run(async move { stop.notified().await }))
    };
    let served = server.run().await.context("the HTTP server failed");
    stop.notify_one();
    if let Err(error) = worker.await {
        log::error!("the deployment worker failed: {error}");
    }
    served
}
