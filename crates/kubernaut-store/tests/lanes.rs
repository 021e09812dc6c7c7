//! Lanes, what "what runs where" reads: each (service, context)'s newest deployment and what
//! runs there, kept in step with every change; on SQLite always and on PostgreSQL when
//! configured.

#[macro_use]
mod common;

use std::time::Duration;

use common::{CREATED_BY, new_release};
use kubernaut_domain::{ContextName, DeploymentStatus, NewDeployment, Pattern, Stream, Visibility};
use kubernaut_store::testing::{TestDatabase, Writes};
use kubernaut_store::{LaneFilter, Progress, ServiceLanes, Store};
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

fn release(store: &Store, service: &str, namespace: &str, version: &str) -> Uuid {
    store
        .create_release(&new_release(service, namespace, version, &[]))
        .unwrap()
        .into_inner()
        .release
        .id
}

fn deploy(store: &Store, release: Uuid, context: &str) -> Uuid {
    let new = NewDeployment {
        release_id: release,
        context: ContextName::parse(context).unwrap(),
        manifest: "# manifest\n".to_owned(),
        created_by: CREATED_BY.to_owned(),
        rollback: false,
        auto_rollback: false,
        prune: true,
    };
    store
        .create_deployment(&new, "rendered")
        .unwrap()
        .deployment
        .id
}

/// Claims the next deployment and ends it with `status`.
fn run(store: &Store, expected: Uuid, status: DeploymentStatus) {
    let claims = store.claim_deployments("w1", LEASE, 1).unwrap();
    assert_eq!(claims.iter().map(|c| c.id).collect::<Vec<_>>(), [expected]);
    let progress = Progress {
        status: Some(status),
        lines: vec![(Stream::Stdout, "done".to_owned())],
        ..Progress::default()
    };
    assert!(
        store
            .record_progress(expected, "w1", LEASE, &progress)
            .unwrap()
    );
}

/// `(service, [(context, version, status, running version)])` of every listed service.
type Matrix = Vec<(
    String,
    Vec<(String, String, DeploymentStatus, Option<String>)>,
)>;

fn matrix(store: &Store, filter: &LaneFilter, visible: &Visibility) -> Matrix {
    store
        .lanes(filter, visible)
        .unwrap()
        .into_iter()
        .map(|ServiceLanes { service, lanes }| {
            let lanes = lanes
                .into_iter()
                .map(|lane| {
                    (
                        lane.context.to_string(),
                        lane.version.to_string(),
                        lane.status,
                        lane.running.map(|(_, v)| v.to_string()),
                    )
                })
                .collect();
            (format!("{}/{}", service.namespace, service.name), lanes)
        })
        .collect()
}

fn cell(
    context: &str,
    version: &str,
    status: DeploymentStatus,
    running: Option<&str>,
) -> (String, String, DeploymentStatus, Option<String>) {
    (
        context.to_owned(),
        version.to_owned(),
        status,
        running.map(str::to_owned),
    )
}

fn lanes_follow_every_change(db: &TestDatabase) {
    use DeploymentStatus::*;
    let store = db.open();
    let all = LaneFilter::default();
    let v1 = release(&store, "hello", "default", "1");
    let v2 = release(&store, "hello", "default", "2");
    let v3 = release(&store, "hello", "default", "3");
    release(&store, "never-deployed", "default", "1");
    let first = deploy(&store, v1, "prod");
    assert_eq!(
        matrix(&store, &all, &Visibility::All),
        [
            (
                "default/hello".to_owned(),
                vec![cell("prod", "1", Pending, None)]
            ),
            ("default/never-deployed".to_owned(), vec![]),
        ]
    );
    run(&store, first, Succeeded);
    let second = deploy(&store, v2, "prod");
    let staging = deploy(&store, v3, "staging");
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1,
        [
            cell("prod", "2", Pending, Some("1")),
            cell("staging", "3", Pending, None)
        ]
    );
    run(&store, second, Failed);
    run(&store, staging, Succeeded);
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1,
        [
            cell("prod", "2", Failed, Some("1")),
            cell("staging", "3", Succeeded, Some("3"))
        ]
    );
    // An older deployment that succeeds after a newer one was created is what runs, while the
    // newer one stays the head.
    let third = deploy(&store, v3, "prod");
    let fourth = deploy(&store, v1, "prod");
    run(&store, third, Succeeded);
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1[0],
        cell("prod", "1", Pending, Some("3"))
    );
    assert!(matches!(
        store
            .transaction(|tx| tx.cancel_deployment(fourth, "admin"))
            .unwrap(),
        kubernaut_store::Cancellation::Canceled
    ));
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1[0],
        cell("prod", "1", Canceled, Some("3"))
    );
    // Deleting the head moves the lane back; deleting every deployment empties it.
    store.delete_deployment(fourth, "admin").unwrap();
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1[0],
        cell("prod", "3", Succeeded, Some("3"))
    );
    store.delete_deployment(third, "admin").unwrap();
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1[0],
        cell("prod", "2", Failed, Some("1"))
    );
    store.delete_deployment(second, "admin").unwrap();
    store.delete_deployment(first, "admin").unwrap();
    assert_eq!(
        matrix(&store, &all, &Visibility::All)[0].1,
        [cell("staging", "3", Succeeded, Some("3"))]
    );
}

fn lanes_are_filtered_and_scoped(db: &TestDatabase) {
    let store = db.open();
    for (service, namespace) in [
        ("web", "team-a"),
        ("web-api", "team-b"),
        ("worker", "team-a"),
        ("x-y", "team-a"),
    ] {
        let id = release(&store, service, namespace, "1");
        deploy(&store, id, "prod");
    }
    let names = |filter: LaneFilter, visible: Visibility| -> Vec<String> {
        matrix(&store, &filter, &visible)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    };
    assert_eq!(
        names(LaneFilter::default(), Visibility::All),
        [
            "team-a/web",
            "team-a/worker",
            "team-a/x-y",
            "team-b/web-api"
        ]
    );
    let name = |text: &str| LaneFilter {
        name: Some(text.to_owned()),
        ..LaneFilter::default()
    };
    assert_eq!(
        names(name("web"), Visibility::All),
        ["team-a/web", "team-b/web-api"]
    );
    // LIKE's wildcards match only themselves.
    assert_eq!(names(name("x-"), Visibility::All), ["team-a/x-y"]);
    assert_eq!(names(name("_"), Visibility::All), Vec::<String>::new());
    assert_eq!(names(name("%"), Visibility::All), Vec::<String>::new());
    let namespace = LaneFilter {
        namespace: Some("team-b".to_owned()),
        ..LaneFilter::default()
    };
    assert_eq!(names(namespace, Visibility::All), ["team-b/web-api"]);
    let team_a = Visibility::Matching(vec![Pattern::Exact("team-a".to_owned())]);
    assert_eq!(
        names(name("web"), team_a),
        ["team-a/web"],
        "a namespace the caller may not read is not listed"
    );
}

store_tests!(lanes_follow_every_change, lanes_are_filtered_and_scoped);
