//! The web UI's "what runs where" with 1,000 services × 10 contexts, against the real binary
//! (built with the bench's profile, release): the server's time (to the answer's headers, sent
//! once the page is rendered) and the time to the page's last byte, over loopback, for 200
//! reads one after the other, after 10 to warm up.
//!
//! The database is filled through the store before the server starts: every service released
//! twice and deployed to every context twice (20,000 deployments, the second failed in one lane
//! of 20), then every deployment ended as a worker ends it, so the lanes are what they are in
//! use. The contexts are not configured on the server (they show as columns all the same).
//!
//! On SQLite, and on PostgreSQL when `KUBERNAUT_TEST_DATABASE_URL` is set.
//!
//! `cargo bench -p kubernaut-tests --bench what_runs_where [-- SERVICES CONTEXTS]`

use std::time::{Duration, Instant};

use kubernaut_domain::{
    Attributes, ContextName, DeploymentStatus, Namespace, NewDeployment, NewRelease, ServiceName,
    Stream, TemplateSource, Version,
};
use kubernaut_store::testing::{TestDatabase, Writes};
use kubernaut_store::{Progress, Store};
use kubernaut_tests::{ADMIN_TOKEN, Server};

const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n";

const WORKER: &str = "bench-seed";

fn seed(store: &Store, services: usize, contexts: usize) {
    let lease = Duration::from_secs(600);
    for s in 0..services {
        let service = ServiceName::parse(&format!("service-{s:04}")).unwrap();
        let namespace = Namespace::parse(&format!("team-{:02}", s % 25)).unwrap();
        for version in ["1", "2"] {
            let release = store
                .create_release(
                    &NewRelease::new(
                        service.clone(),
                        namespace.clone(),
                        Version::parse(version).unwrap(),
                        TemplateSource::parse(TEMPLATE).unwrap(),
                        Attributes::default(),
                        "bench",
                    )
                    .unwrap(),
                )
                .unwrap()
                .into_inner()
                .release
                .id;
            for c in 0..contexts {
                let new = NewDeployment {
                    release_id: release,
                    context: ContextName::parse(&format!("cluster-{c:02}")).unwrap(),
                    manifest: String::new(),
                    created_by: "bench".to_owned(),
                    rollback: false,
                    auto_rollback: false,
                    prune: true,
                };
                store.create_deployment(&new, "seeded").unwrap();
            }
        }
    }
    let mut ended = 0;
    loop {
        let claims = store.claim_deployments(WORKER, lease, 1_000).unwrap();
        if claims.is_empty() {
            break;
        }
        for claim in claims {
            ended += 1;
            let status = if ended % 20 == 0 {
                DeploymentStatus::Failed
            } else {
                DeploymentStatus::Succeeded
            };
            let progress = Progress {
                status: Some(status),
                error: (status == DeploymentStatus::Failed).then(|| "seeded failure".to_owned()),
                lines: vec![(Stream::Stdout, "seeded".to_owned())],
            };
            store
                .record_progress(claim.id, WORKER, lease, &progress)
                .unwrap();
        }
    }
    assert_eq!(ended, services * contexts * 2);
}

/// A session cookie, through the login form.
fn log_in(server: &Server, client: &reqwest::blocking::Client) -> String {
    let form = client.get(server.url("/login")).send().unwrap();
    let nonce_cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = form.text().unwrap();
    let nonce = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let answer = client
        .post(server.url("/login"))
        .header("cookie", nonce_cookie)
        .form(&[
            ("csrf", nonce.as_str()),
            ("token", ADMIN_TOKEN),
            ("next", "/"),
        ])
        .send()
        .unwrap();
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("kubernaut_session="))
        .expect("a session")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn run(backend: &str, db: &TestDatabase, services: usize, contexts: usize) {
    let started = Instant::now();
    {
        let store = db.open();
        seed(&store, services, contexts);
    }
    let seeded = started.elapsed();
    let server = Server::start_with(db.url(), &[], &[]);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let session = log_in(&server, &client);
    // The server renders the whole page before it answers (its length is in the headers), so
    // the time to the headers is the server's time; to the last byte adds the transfer.
    let read = || {
        let started = Instant::now();
        let page = client
            .get(server.url("/"))
            .header("cookie", &session)
            .send()
            .unwrap();
        let server_time = started.elapsed();
        assert_eq!(page.status().as_u16(), 200);
        let body = page.text().unwrap();
        ((server_time, started.elapsed()), body)
    };
    let (_, body) = read();
    let cells = body.matches("<td class=\"cell ").count();
    assert_eq!(cells, services * contexts, "every lane is a cell");
    for _ in 0..10 {
        read();
    }
    let (mut server_times, mut page): (Vec<Duration>, Vec<Duration>) =
        (0..200).map(|_| read().0).unzip();
    println!(
        "{backend}: {services} services x {contexts} contexts ({cells} cells, {} failed, page {} KiB; seeded in {:.0} s)",
        body.matches("<td class=\"cell failed").count(),
        body.len() / 1024,
        seeded.as_secs_f64(),
    );
    println!(
        "  server time (to the headers): {}",
        summary(&mut server_times)
    );
    println!("  to the last byte:             {}", summary(&mut page));
}

/// p50, p90, p99 and max of `times`, in ms.
fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)]);
    format!(
        "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        ms(times[times.len() - 1])
    )
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let services = args.first().copied().unwrap_or(1_000);
    let contexts = args.get(1).copied().unwrap_or(10);
    run("SQLite", &TestDatabase::sqlite(), services, contexts);
    if std::env::var_os("KUBERNAUT_TEST_DATABASE_URL").is_some() {
        run("PostgreSQL", &TestDatabase::postgres(), services, contexts);
    }
}
