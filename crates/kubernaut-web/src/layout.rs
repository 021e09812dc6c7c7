//! What every page shares: the document, the navigation, the security headers, and how
//! times, statuses and pages of lists are shown.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};
use kubernaut_domain::{DeploymentStatus, Paged};
use maud::{DOCTYPE, Markup, PreEscaped, Render, html};

use crate::input::{Params, url};
use crate::session::Session;

/// The content security policy of every page: scripts and styles from this server only, no
/// inline script, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// htmx's settings: no eval, no inline scripts or styles of its own.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0}"#;

/// The section of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    /// What runs where, and service pages.
    Matrix,
    /// Releases.
    Releases,
    /// Deployments.
    Deployments,
    /// Tokens (global admins).
    Tokens,
    /// The audit log (global admins).
    Audit,
}

/// A page for a logged-in caller: 200, with the navigation.
pub(crate) fn page(session: &Session, nav: Nav, title: &str, body: Markup) -> HttpResponse {
    page_with(session, nav, title, html! {}, body)
}

/// A page with more in its `<head>` (a refresh for readers without JavaScript).
pub(crate) fn page_with(
    session: &Session,
    nav: Nav,
    title: &str,
    head: Markup,
    body: Markup,
) -> HttpResponse {
    let admin = session.caller.grants().is_global_admin();
    let link = |to: Nav, href: &str, text: &str| {
        html! {
            li { a href=(href) aria-current=[(to == nav).then_some("page")] { (text) } }
        }
    };
    let header = html! {
        header.top {
            a.brand href="/" { "kubernaut" }
            nav aria-label="Main" {
                ul {
                    (link(Nav::Matrix, "/", "What runs where"))
                    (link(Nav::Releases, "/releases", "Releases"))
                    (link(Nav::Deployments, "/deployments", "Deployments"))
                    @if admin {
                        (link(Nav::Tokens, "/tokens", "Tokens"))
                        (link(Nav::Audit, "/audit", "Audit"))
                    }
                }
            }
            form.logout method="post" action="/logout" {
                (csrf_field(session))
                span.who { "Logged in as " strong { (session.caller.name()) } }
                " "
                button type="submit" { "Log out" }
            }
        }
    };
    respond(StatusCode::OK, document(title, header, head, body))
}

/// A page without navigation (logging in, errors).
pub(crate) fn bare(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    let header = html! { header.top { a.brand href="/" { "kubernaut" } } };
    respond(status, document(title, header, html! {}, body))
}

fn document(title: &str, header: Markup, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (title) " · kubernaut" }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/htmx.min.js" defer {}
                script src="/static/kubernaut.js" defer {}
                (head)
            }
            body {
                a.skip href="#main" { "Skip to content" }
                (header)
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An HTML answer with the headers every page carries: never cached (pages hold what a token
/// may read), never framed, scripts only from this server.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(markup.into_string())
}

/// A fragment for htmx (the same headers, no document).
pub(crate) fn fragment(markup: Markup) -> HttpResponse {
    respond(StatusCode::OK, markup)
}

/// The hidden CSRF field every form of a session carries.
pub(crate) fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf()); }
}

/// A time: UTC in the page, shown in the reader's local time by `kubernaut.js`, with UTC on
/// hover.
pub(crate) fn time(at: DateTime<Utc>) -> Markup {
    let mut out = String::with_capacity(96);
    Stamp { at, since: None }.render_to(&mut out);
    PreEscaped(out)
}

/// How long ago `at` was ("3 min ago"), with the time on hover.
pub(crate) fn ago(at: DateTime<Utc>) -> Markup {
    let mut out = String::with_capacity(96);
    Stamp {
        at,
        since: Some(Utc::now()),
    }
    .render_to(&mut out);
    PreEscaped(out)
}

/// A `<time>` element, written straight into the page: what runs where holds thousands.
pub(crate) struct Stamp {
    /// The time.
    pub(crate) at: DateTime<Utc>,
    /// Now, to show how long ago `at` was instead of `at` itself.
    pub(crate) since: Option<DateTime<Utc>>,
}

impl Render for Stamp {
    fn render_to(&self, out: &mut String) {
        let t = self.at;
        let (date, clock) = (
            format_args!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()),
            format_args!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
        );
        // Only digits, dashes and colons: nothing to escape.
        let _ = match self.since {
            None => write!(
                out,
                "<time datetime=\"{date}T{clock}Z\" title=\"{date} {clock} UTC\">{date} {clock} UTC</time>"
            ),
            Some(now) => write!(
                out,
                "<time class=\"ago\" datetime=\"{date}T{clock}Z\" title=\"{date} {clock} UTC\">{}</time>",
                Since(t, now)
            ),
        };
    }
}

/// `now - at` in words ("3 min ago").
pub(crate) struct Since(pub(crate) DateTime<Utc>, pub(crate) DateTime<Utc>);

impl std::fmt::Display for Since {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = (self.1 - self.0).num_seconds().max(0);
        match seconds {
            0..60 => f.write_str("just now"),
            60..3_600 => write!(f, "{} min ago", seconds / 60),
            3_600..86_400 => write!(f, "{} h ago", seconds / 3_600),
            _ => write!(f, "{} d ago", seconds / 86_400),
        }
    }
}

/// A deployment status as a badge; failed ones stand out.
pub(crate) fn status(status: DeploymentStatus) -> Markup {
    let label = match status {
        DeploymentStatus::RollingOut => "rolling out",
        other => other.as_str(),
    };
    html! { span class={ "badge " (status.as_str()) } { (label) } }
}

/// A text field of a list's filter form, showing the filter in force.
pub(crate) fn filter(params: &Params, name: &str, label: &str) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            input id=(name) name=(name) value=[params.get(name)];
        }
    }
}

/// The links to a list's previous and next pages, keeping its filters.
pub(crate) fn pager<T>(paged: &Paged<T>, path: &str, kept: &[(String, String)]) -> Markup {
    let limit = u64::from(paged.limit);
    let at = |offset: u64| {
        let mut params = kept.to_vec();
        params.push(("offset".to_owned(), offset.to_string()));
        if limit != u64::from(kubernaut_domain::DEFAULT_LIMIT) {
            params.push(("limit".to_owned(), limit.to_string()));
        }
        url(path, &params)
    };
    let first = if paged.count == 0 {
        0
    } else {
        paged.offset + 1
    };
    let last = (paged.offset + paged.items.len() as u64).min(paged.count);
    html! {
        nav.pager aria-label="Pages" {
            @if paged.offset > 0 {
                a rel="prev" href=(at(paged.offset.saturating_sub(limit))) { "← Newer" }
            }
            span { (first) "–" (last) " of " (paged.count) }
            @if paged.offset + limit < paged.count {
                a rel="next" href=(at(paged.offset + limit)) { "Older →" }
            }
        }
    }
}

/// Text that may be long or hold newlines, kept as written.
pub(crate) fn pre(text: &str) -> Markup {
    html! { pre { code { (text) } } }
}

/// A non-breaking dash for an empty value.
pub(crate) fn none() -> Markup {
    PreEscaped("<span class=\"muted\">—</span>".to_owned())
}
