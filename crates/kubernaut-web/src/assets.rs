//! The static files, compiled into the binary: the style sheet, `kubernaut.js` (local times)
//! and htmx (vendored, Zero-Clause BSD: `assets/htmx.LICENSE`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::not_found;

/// A file: its name, content type and content.
type Asset = (&'static str, &'static str, &'static str);

const ASSETS: [Asset; 4] = [
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../assets/style.css"),
    ),
    (
        "kubernaut.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/kubernaut.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/htmx.min.js"),
    ),
    (
        "htmx.LICENSE",
        "text/plain; charset=utf-8",
        include_str!("../assets/htmx.LICENSE"),
    ),
];

/// `GET /static/{file}`: cached for an hour (the files change only with the binary).
pub(crate) async fn serve(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("file").unwrap_or_default();
    match ASSETS.iter().find(|(file, ..)| *file == name) {
        Some((_, content_type, content)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*content),
        None => not_found(req).await,
    }
}
