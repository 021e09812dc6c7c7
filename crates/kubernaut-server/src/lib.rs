//! The `kubernaut-server` binary's logic: configuration, logging and wiring. `main.rs` only
//! calls [`main`].

mod settings;

use std::process::ExitCode;
use std::time::Duration;

use actix_web::middleware::Logger;
use actix_web::{App, HttpServer};
use anyhow::Context;
use clap::Parser;
use kubernaut_api::AppState;
use kubernaut_store::{Store, StoreOptions};

pub use settings::{Cli, DatabaseSettings, ServerSettings, Settings};

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
    let state = AppState {
        store,
        body_limit: settings.server.body_limit,
    };
    actix_web::rt::System::new().block_on(serve(state, &settings.server.listen))
}

async fn serve(state: AppState, listen: &str) -> anyhow::Result<()> {
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
    server.run().await.context("the HTTP server failed")
}
