//! The `kubernaut-server` binary's logic: configuration, logging and wiring. `main.rs` only
//! calls [`main`].

mod logging;
mod settings;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use anyhow::Context;
use clap::Parser;
use kubernaut_api::AppState;
use kubernaut_app::deploy::{Worker, WorkerOptions};
use kubernaut_app::notify::{Sender, SenderOptions, Webhooks};
use kubernaut_app::{App, AuthOptions};
use kubernaut_cluster::Contexts;
use kubernaut_domain::{ExpiresInDays, TokenName};
use kubernaut_store::{Store, StoreOptions};
use tokio::sync::Notify;

pub use logging::LogFormat;
pub use settings::{
    AuthSettings, Cli, ClusterSettings, Command, DatabaseSettings, InCluster, Secret,
    ServerSettings, Settings, WorkerSettings,
};

/// Runs the server until SIGINT or SIGTERM; start-up failures print one line and exit 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli, std::env::vars()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("kubernaut-server: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    logging::init(settings.server.log_format);
    match run(&cli, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kubernaut-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, settings: &Settings) -> anyhow::Result<()> {
    // An invalid admin-token request is refused before any database is opened (or created).
    let admin_token_request = match &cli.command {
        Some(Command::AdminToken {
            name,
            expires_in_days,
        }) => Some((
            TokenName::parse(name)?,
            expires_in_days.map(ExpiresInDays::new).transpose()?,
        )),
        None => None,
    };
    // Configuration first: a bad entry stops start-up before the database is touched.
    check_listen(&settings.server.listen)?;
    let webhooks = Webhooks::new(&settings.notifications.webhook_configs()?)?;
    let store = Store::open(
        &settings.database.url,
        &StoreOptions {
            max_connections: settings.database.max_connections,
            acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
        },
    )?;
    log::info!("using database {:?}", store.backend());
    if let Some((name, expires_in)) = admin_token_request {
        return admin_token(store, settings, name, expires_in);
    }
    let kubeconfig = Some(settings.cluster.kubeconfig.as_str())
        .filter(|path| !path.is_empty())
        .map(Path::new);
    let in_cluster = settings.cluster.in_cluster_options();
    let contexts = Arc::new(Contexts::load(
        kubeconfig,
        settings.cluster.sandbox,
        in_cluster.as_ref(),
    )?);
    let names: Vec<String> = contexts.list().into_iter().map(|c| c.name).collect();
    log::info!(
        "contexts: {}",
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    );
    if !webhooks.is_empty() {
        let names: Vec<&str> = webhooks.iter().map(|webhook| webhook.name()).collect();
        log::info!("webhooks: {}", names.join(", "));
    }
    let app = App::new(store.clone(), contexts.clone(), &auth_options(settings))
        .allow_cluster_scoped(settings.cluster.allow_cluster_scoped)
        .with_webhooks(webhooks);
    let worker = Worker::new(&app, worker_options(settings));
    let sender = Sender::new(&app, sender_options(settings))
        .context("cannot build the webhook sender's HTTP client")?;
    let state = AppState {
        body_limit: settings.server.body_limit,
        ..AppState::new(app)
    };
    let bootstrap = settings.auth.bootstrap_token.expose().map(str::to_owned);
    actix_web::rt::System::new().block_on(async move {
        bootstrap_admin(&state.app, bootstrap).await?;
        serve(state, worker, sender, &settings.server.listen).await
    })
}

fn auth_options(settings: &Settings) -> AuthOptions {
    AuthOptions {
        max_failures_per_minute: settings.auth.max_failures_per_minute,
    }
}

/// Creates the first global-admin token unless one ever existed; a generated secret is printed
/// once, on a line of its own on standard error, never logged.
async fn bootstrap_admin(app: &App, configured: Option<String>) -> anyhow::Result<()> {
    let configured_one = configured.is_some();
    match app
        .bootstrap_admin(configured)
        .await
        .context("cannot create the first admin token")?
    {
        Some(secret) => eprintln!(
            "kubernaut-server: first admin token, shown only this once (send it as \
             \"Authorization: Bearer <token>\" or set KUBERNAUT_TOKEN for the CLI): {secret}"
        ),
        None if configured_one => {
            log::info!("auth.bootstrap_token is set; it is used only until a global admin exists");
        }
        None => {}
    }
    Ok(())
}

/// `kubernaut-server admin-token`: creates a global-admin token and prints its secret on
/// standard output.
fn admin_token(
    store: Store,
    settings: &Settings,
    name: TokenName,
    expires_in: Option<ExpiresInDays>,
) -> anyhow::Result<()> {
    let app = App::new(
        store,
        Arc::new(Contexts::from_clusters(Vec::new())),
        &auth_options(settings),
    );
    let created = actix_web::rt::System::new()
        .block_on(app.admin_token(name, expires_in))
        .context("cannot create the admin token")?;
    eprintln!(
        "kubernaut-server: created global-admin token {} ({}); its secret follows, shown only \
         this once",
        created.token.name,
        created
            .token
            .expires_on
            .map_or_else(|| "never expires".to_owned(), |at| format!("expires {at}"))
    );
    println!("{}", created.secret);
    Ok(())
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

/// `server.listen` must be HOST:PORT (a name or an address, and a port).
fn check_listen(listen: &str) -> anyhow::Result<()> {
    let port = listen
        .rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .and_then(|(_, port)| port.parse::<u16>().ok());
    if port.is_none() {
        anyhow::bail!(
            "--listen (server.listen) must be HOST:PORT, e.g. 127.0.0.1:8080 (this machine \
             only) or 0.0.0.0:8080 (every interface), got {listen:?}"
        );
    }
    Ok(())
}

fn sender_options(settings: &Settings) -> SenderOptions {
    let notifications = &settings.notifications;
    SenderOptions {
        poll_interval: Duration::from_millis(notifications.poll_interval_ms.max(1)),
        timeout: Duration::from_secs(notifications.timeout_secs.max(1)),
        max_attempts: notifications.max_attempts.max(1),
        retry_base: Duration::from_millis(notifications.retry_base_ms),
        ..SenderOptions::default()
    }
}

/// A path no route serves: the API's JSON 404 under `/api`, the web UI's page elsewhere.
async fn unknown_route(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if req.path() == "/api" || req.path().starts_with("/api/") {
        kubernaut_api::unknown_route(req).await
    } else {
        kubernaut_web::not_found(req).await
    }
}

/// Serves HTTP and runs the deployment worker and the webhook sender until SIGINT or SIGTERM;
/// then stops taking requests, finishes those in flight, and stops the worker (which lets its
/// claims lapse) and the sender (which finishes the deliveries it is posting).
async fn serve(
    state: AppState,
    worker: Worker,
    sender: Sender,
    listen: &str,
) -> anyhow::Result<()> {
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(kubernaut_api::observe))
            .configure(kubernaut_api::configure(state.clone()))
            .configure(kubernaut_web::configure(state.app.clone()))
            .default_service(actix_web::web::to(unknown_route))
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
    let stop_sending = Arc::new(Notify::new());
    let sender = {
        let stop = stop_sending.clone();
        actix_web::rt::spawn(sender.run(async move { stop.notified().await }))
    };
    let served = server.run().await.context("the HTTP server failed");
    stop.notify_one();
    stop_sending.notify_one();
    if let Err(error) = worker.await {
        log::error!("the deployment worker failed: {error}");
    }
    if let Err(error) = sender.await {
        log::error!("the webhook sender failed: {error}");
    }
    served
}
