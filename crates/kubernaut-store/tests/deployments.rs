//! Deployments and the claim queue, on SQLite always and on PostgreSQL when configured.

#[macro_use]
mod common;

use std::time::Duration;

use common::{CREATED_BY, new_release};
use kubernaut_domain::{
    ContextName, DeploymentStatus, NewDeployment, Page, ServiceName, Stream, Version, Visibility,
};
use kubernaut_store::testing::{TestDatabase, Writes};
use kubernaut_store::{
    Cancellation, Deletion, DeploymentFilter, MAX_ATTEMPTS, Progress, Store, StoreError,
};
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

fn release(store: &Store, service: &str, version: &str) -> Uuid {
    store
        .create_release(&new_release(service, "default", version, &[]))
        .unwrap()
        .into_inner()
        .release
        .id
}

fn deploy(store: &Store, release: Uuid, context: &str) -> Uuid {
    let new = NewDeployment {
        release_id: release,
        context: ContextName::parse(context).unwrap(),
        manifest: format!("# release {release}\n"),
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

fn status(store: &Store, id: Uuid) -> DeploymentStatus {
    store.deployment(id).unwrap().unwrap().deployment.status
}

fn finish(store: &Store, id: Uuid, worker: &str) -> bool {
    store
        .record_progress(
            id,
            worker,
            LEASE,
            &Progress {
                status: Some(DeploymentStatus::Succeeded),
                lines: vec![(Stream::Stdout, "done".to_owned())],
                ..Progress::default()
            },
        )
        .unwrap()
}

fn claimed_ids(store: &Store, worker: &str, lease: Duration) -> Vec<Uuid> {
    store
        .claim_deployments(worker, lease, 10)
        .unwrap()
        .into_iter()
        .map(|claim| claim.id)
        .collect()
}

fn create_get_list_and_delete(db: &TestDatabase) {
    let store = db.open();
    let v1 = release(&store, "hello", "1");
    let v2 = release(&store, "hello", "2");
    let other = release(&store, "other", "1");
    let first = deploy(&store, v1, "prod");
    let second = deploy(&store, v2, "prod");
    let third = deploy(&store, other, "staging");

    let detail = store.deployment(first).unwrap().unwrap();
    assert_eq!(detail.deployment.status, DeploymentStatus::Pending);
    assert_eq!(detail.deployment.release.id, v1);
    assert_eq!(detail.deployment.release.version.as_str(), "1");
    assert_eq!(detail.deployment.release.service.name.as_str(), "hello");
    assert_eq!(detail.deployment.namespace.as_str(), "default");
    assert_eq!(detail.manifest, format!("# release {v1}\n"));
    assert_eq!(detail.log.len(), 1);
    assert_eq!(detail.log[0].content, "rendered");
    assert_eq!(detail.log[0].stream, Stream::Stdout);

    let all = store
        .deployments(
            &DeploymentFilter::default(),
            &Visibility::All,
            Page::default(),
        )
        .unwrap();
    assert_eq!(all.count, 3);
    let ids: Vec<Uuid> = all.items.iter().map(|d| d.id).collect();
    assert_eq!(ids, [third, second, first], "newest first");

    let count = |filter: DeploymentFilter| {
        store
            .deployments(&filter, &Visibility::All, Page::default())
            .unwrap()
            .count
    };
    let hello = Some(ServiceName::parse("hello").unwrap());
    assert_eq!(
        count(DeploymentFilter {
            service: hello.clone(),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        count(DeploymentFilter {
            service: hello,
            version: Some(Version::parse("2").unwrap()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(DeploymentFilter {
            context: Some(ContextName::parse("staging").unwrap()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(DeploymentFilter {
            release: Some(v1),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(DeploymentFilter {
            status: Some(DeploymentStatus::Failed),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        count(DeploymentFilter {
            service: Some(ServiceName::parse("nobody").unwrap()),
            ..Default::default()
        }),
        0
    );

    let service_id = detail.deployment.release.service.id;
    let service = store.service(service_id).unwrap().unwrap();
    let latest: Vec<(String, Uuid)> = service
        .latest_deployments
        .iter()
        .map(|d| (d.context.to_string(), d.id))
        .collect();
    assert_eq!(latest, [("prod".to_owned(), second)]);

    assert_eq!(
        store.delete_deployment(second, "alice").unwrap(),
        Deletion::Done
    );
    assert_eq!(
        store.delete_deployment(second, "alice").unwrap(),
        Deletion::AlreadyDone,
        "retry is safe"
    );
    assert!(store.deployment(second).unwrap().is_none());
    assert_eq!(
        store.delete_deployment(Uuid::now_v7(), "alice").unwrap(),
        Deletion::Unknown
    );
    let service = store.service(service_id).unwrap().unwrap();
    assert_eq!(service.latest_deployments[0].id, first);
    assert_eq!(
        store
            .deployments(
                &DeploymentFilter::default(),
                &Visibility::All,
                Page::default()
            )
            .unwrap()
            .count,
        2
    );
}

fn a_deleted_release_cannot_be_deployed(db: &TestDatabase) {
    let store = db.open();
    let v1 = release(&store, "hello", "1");
    store.delete_release(v1, CREATED_BY).unwrap();
    let new = NewDeployment {
        release_id: v1,
        context: ContextName::parse("prod").unwrap(),
        manifest: String::new(),
        created_by: CREATED_BY.to_owned(),
        rollback: false,
        auto_rollback: false,
        prune: true,
    };
    let error = store.create_deployment(&new, "rendered").unwrap_err();
    assert!(matches!(error, StoreError::NotFound(_)), "{error}");
}

fn one_deployment_per_service_and_context_runs_at_a_time_in_order(db: &TestDatabase) {
    let store = db.open();
    let v1 = release(&store, "hello", "1");
    let v2 = release(&store, "hello", "2");
    let a1 = deploy(&store, v1, "prod");
    let a2 = deploy(&store, v2, "prod");
    let b1 = deploy(&store, v2, "staging");

    assert_eq!(claimed_ids(&store, "w1", LEASE), [a1, b1]);
    assert_eq!(status(&store, a1), DeploymentStatus::Applying);
    assert!(
        claimed_ids(&store, "w2", LEASE).is_empty(),
        "a2 waits for a1"
    );
    assert!(
        !finish(&store, a1, "w2"),
        "only the holder records progress"
    );
    assert!(finish(&store, a1, "w1"));
    assert_eq!(claimed_ids(&store, "w2", LEASE), [a2]);
    assert!(claimed_ids(&store, "w1", LEASE).is_empty());

    let done = store.deployment(a1).unwrap().unwrap();
    assert_eq!(done.deployment.status, DeploymentStatus::Succeeded);
    assert!(done.deployment.started_on.is_some() && done.deployment.finished_on.is_some());
    let lines: Vec<&str> = done.log.iter().map(|l| l.content.as_str()).collect();
    assert_eq!(lines, ["rendered", "started by worker w1", "done"]);
    assert!(
        !finish(&store, a1, "w1"),
        "a finished deployment takes no more progress"
    );
}

fn a_claim_takes_the_oldest_lane_heads_up_to_its_max(db: &TestDatabase) {
    let store = db.open();
    let hello = release(&store, "hello", "1");
    let other = release(&store, "other", "1");
    let a1 = deploy(&store, hello, "prod");
    let b1 = deploy(&store, hello, "staging");
    let a2 = deploy(&store, hello, "prod");
    let c1 = deploy(&store, other, "prod");
    let claim = |worker: &str| -> Vec<Uuid> {
        store
            .claim_deployments(worker, LEASE, 2)
            .unwrap()
            .into_iter()
            .map(|claim| claim.id)
            .collect()
    };
    assert_eq!(claim("w1"), [a1, b1], "the two oldest heads");
    assert_eq!(claim("w2"), [c1], "a2 waits behind a1, c1 does not");
    assert!(claim("w3").is_empty());
    assert!(finish(&store, a1, "w1"));
    assert_eq!(claim("w3"), [a2]);
}

fn a_lapsed_claim_is_resumed_and_at_last_failed(db: &TestDatabase) {
    let store = db.open();
    let v1 = release(&store, "hello", "1");
    let id = deploy(&store, v1, "prod");
    assert_eq!(claimed_ids(&store, "w1", Duration::ZERO), [id]);
    std::thread::sleep(Duration::from_millis(5));
    for attempt in 2..=MAX_ATTEMPTS {
        let claims = store.claim_deployments("w2", Duration::ZERO, 10).unwrap();
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].attempt, attempt);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!finish(&store, id, "w1"), "w1 lost its claim");
    assert!(store.claim_deployments("w3", LEASE, 10).unwrap().is_empty());
    let failed = store.deployment(id).unwrap().unwrap();
    assert_eq!(failed.deployment.status, DeploymentStatus::Failed);
    let error = failed.deployment.error.unwrap();
    assert!(error.starts_with("interrupted 3 times"), "{error}");
    let resumed = failed
        .log
        .iter()
        .filter(|l| l.content.contains("resumed by worker w2"))
        .count();
    assert_eq!(resumed as i32, MAX_ATTEMPTS - 1);
    assert_eq!(failed.log.last().unwrap().stream, Stream::Stderr);
}

fn released_claims_are_resumed_at_once_and_renewed_ones_are_not(db: &TestDatabase) {
    let store = db.open();
    let v1 = release(&store, "hello", "1");
    let id = deploy(&store, v1, "prod");
    assert_eq!(claimed_ids(&store, "w1", Duration::from_millis(50)), [id]);
    assert_eq!(store.renew_claims("w1", LEASE).unwrap(), 1);
    std::thread::sleep(Duration::from_millis(60));
    assert!(claimed_ids(&store, "w2", LEASE).is_empty(), "renewed");
    assert_eq!(store.release_claims("w1").unwrap(), 1);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(claimed_ids(&store, "w2", LEASE), [id]);
    assert!(finish(&store, id, "w2"));
    assert_eq!(status(&store, id), DeploymentStatus::Succeeded);
}

fn concurrent_writers_all_succeed(db: &TestDatabase) {
    let store = db.open();
    let release = release(&store, "hello", "1");
    let claim_and_finish = |store: &Store, worker: &str| {
        let claimed = claimed_ids(store, worker, LEASE);
        for id in &claimed {
            assert!(finish(store, *id, worker));
        }
        claimed.len()
    };
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let store = store.clone();
            std::thread::spawn(move || {
                let worker = format!("w{thread}");
                for _ in 0..15 {
                    deploy(&store, release, &format!("ctx-{thread}"));
                    claim_and_finish(&store, &worker);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    while claim_and_finish(&store, "sweeper") > 0 {}
    let succeeded = store
        .deployments(
            &DeploymentFilter {
                status: Some(DeploymentStatus::Succeeded),
                ..DeploymentFilter::default()
            },
            &Visibility::All,
            Page::default(),
        )
        .unwrap();
    assert_eq!(succeeded.count, 120);
}

/// Claims and ends the lane head of `worker` with `status`.
fn end_next(store: &Store, status: DeploymentStatus) -> Uuid {
    let claim = store
        .claim_deployments("w", Duration::from_secs(30), 1)
        .unwrap()
        .pop()
        .expect("a deployment to claim");
    let progress = Progress {
        status: Some(status),
        ..Progress::default()
    };
    assert!(
        store
            .record_progress(claim.id, "w", Duration::from_secs(30), &progress)
            .unwrap()
    );
    claim.id
}

fn cancel_ends_a_pending_deployment_and_asks_a_running_one(db: &TestDatabase) {
    let store = db.open();
    let v1 = release(&store, "hello", "1");
    let running = deploy(&store, v1, "prod");
    let pending = deploy(&store, v1, "prod");
    let claimed = store
        .claim_deployments("w", Duration::from_secs(30), 8)
        .unwrap();
    assert_eq!(claimed.len(), 1, "one per lane");
    assert_eq!(claimed[0].id, running);
    let cancel = |id| {
        store
            .transaction(|tx| tx.cancel_deployment(id, "alice"))
            .unwrap()
    };

    assert_eq!(cancel(pending), Cancellation::Canceled);
    let canceled = store.deployment(pending).unwrap().unwrap();
    assert_eq!(canceled.deployment.status, DeploymentStatus::Canceled);
    assert!(canceled.deployment.finished_on.is_some());
    assert_eq!(
        cancel(pending),
        Cancellation::Ended(DeploymentStatus::Canceled)
    );

    assert_eq!(store.cancel_requested_by(running).unwrap(), None);
    assert_eq!(cancel(running), Cancellation::Requested(true));
    assert_eq!(
        cancel(running),
        Cancellation::Requested(false),
        "asked once"
    );
    assert_eq!(
        store.cancel_requested_by(running).unwrap().as_deref(),
        Some("alice")
    );
    assert_eq!(cancel(Uuid::now_v7()), Cancellation::Unknown);

    let deleted = deploy(&store, v1, "prod");
    store.delete_deployment(deleted, "alice").unwrap();
    assert_eq!(
        cancel(deleted),
        Cancellation::Unknown,
        "deleted: as if unknown"
    );
    assert_eq!(store.cancel_requested_by(deleted).unwrap(), None);
}

fn rollbacks_find_the_newest_ended_and_the_last_good_release(db: &TestDatabase) {
    let store = db.open();
    let (v1, v2, v3) = (
        release(&store, "hello", "1"),
        release(&store, "hello", "2"),
        release(&store, "hello", "3"),
    );
    let service = store.release(v1).unwrap().unwrap().release.service.id;
    let prod = ContextName::parse("prod").unwrap();
    assert_eq!(store.newest_ended_deployment(service, &prod).unwrap(), None);
    assert_eq!(store.last_good_release(service, &prod, None).unwrap(), None);

    deploy(&store, v1, "prod");
    end_next(&store, DeploymentStatus::Succeeded);
    deploy(&store, v2, "prod");
    end_next(&store, DeploymentStatus::Succeeded);
    deploy(&store, v3, "prod");
    let failed = end_next(&store, DeploymentStatus::Failed);
    deploy(&store, v1, "staging");
    end_next(&store, DeploymentStatus::Succeeded);

    assert_eq!(
        store.newest_ended_deployment(service, &prod).unwrap(),
        Some((DeploymentStatus::Failed, v3))
    );
    assert_eq!(
        store.last_good_release(service, &prod, None).unwrap(),
        Some(v2)
    );
    assert_eq!(
        store.last_good_release(service, &prod, Some(v2)).unwrap(),
        Some(v1)
    );
    // A deleted deployment does not count; a deleted release is never picked.
    store.delete_deployment(failed, "alice").unwrap();
    assert_eq!(
        store.newest_ended_deployment(service, &prod).unwrap(),
        Some((DeploymentStatus::Succeeded, v2))
    );
    store.delete_release(v1, "alice").unwrap();
    assert_eq!(
        store.last_good_release(service, &prod, Some(v2)).unwrap(),
        None
    );
}

store_tests!(
    cancel_ends_a_pending_deployment_and_asks_a_running_one,
    rollbacks_find_the_newest_ended_and_the_last_good_release,
    concurrent_writers_all_succeed,
    create_get_list_and_delete,
    a_deleted_release_cannot_be_deployed,
    one_deployment_per_service_and_context_runs_at_a_time_in_order,
    a_claim_takes_the_oldest_lane_heads_up_to_its_max,
    a_lapsed_claim_is_resumed_and_at_last_failed,
    released_claims_are_resumed_at_once_and_renewed_ones_are_not,
);
