//! Kubernaut's web UI: server-rendered HTML pages, compiled into the server, on the shared
//! operations of `kubernaut-app`.
//!
//! The server mounts it with `App::new().configure(kubernaut_web::configure(app))`. Like the
//! JSON API, a handler only parses, calls one operation with the session's caller, and renders
//! (with maud, which escapes every value); the operations check the grants and write the audit
//! events. A token logs in once ([`session`]); the browser then holds a session cookie, and
//! every form carries a CSRF token derived from it. Pages read as plain HTML; a small vendored
//! script (htmx) follows running deployments, and `kubernaut.js` shows times in local time.

mod assets;
mod error;
mod input;
mod layout;
mod pages;
mod session;

use actix_web::web::{self, Data};
use kubernaut_app::App;

pub use error::not_found;

/// What the pages share.
#[derive(Debug, Clone)]
pub(crate) struct WebState {
    app: App,
}

/// Mounts the UI's pages, forms and static files on an actix-web app.
pub fn configure(app: App) -> impl FnOnce(&mut web::ServiceConfig) {
    use pages::{audit, deployments, releases, services, tokens, what_runs_where};
    move |cfg| {
        cfg.app_data(Data::new(WebState { app }))
            .route("/", web::get().to(what_runs_where::page))
            .route("/login", web::get().to(session::login_page))
            .route("/login", web::post().to(session::log_in))
            .route("/logout", web::post().to(session::log_out))
            .route("/services/{id}", web::get().to(services::page))
            .route(
                "/services/{id}/rollback",
                web::post().to(services::roll_back),
            )
            .route("/releases", web::get().to(releases::list))
            .route("/releases", web::post().to(releases::create))
            .route("/releases/new", web::get().to(releases::new_form))
            .route("/releases/{id}", web::get().to(releases::page))
            .route("/deployments", web::get().to(deployments::list))
            .route("/deployments", web::post().to(deployments::create))
            .route("/deployments/{id}", web::get().to(deployments::page))
            .route("/deployments/{id}/live", web::get().to(deployments::live))
            .route(
                "/deployments/{id}/cancel",
                web::post().to(deployments::cancel),
            )
            .route("/tokens", web::get().to(tokens::list))
            .route("/tokens", web::post().to(tokens::create))
            .route("/tokens/{id}/revoke", web::post().to(tokens::revoke))
            .route("/audit", web::get().to(audit::list))
            .route("/audit/verify", web::get().to(audit::verify))
            .route("/static/{file}", web::get().to(assets::serve));
    }
}
