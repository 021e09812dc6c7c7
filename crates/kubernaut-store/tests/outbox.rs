//! The notification outbox: deliveries stored with the deployment changes they announce, and
//! claimed, retried and ended by senders; on SQLite always and on PostgreSQL when configured.

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::{CREATED_BY, new_release};
use kubernaut_domain::{
    ContextName, DeliveryStatus, DeploymentDetail, DeploymentStatus, NewDeployment,
    NotificationEvent, Stream,
};
use kubernaut_store::testing::{TestDatabase, Writes};
use kubernaut_store::{
    Attempt, AttemptEnd, Cancellation, NewDelivery, Progress, Store, Subscribers,
};
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

/// Two webhooks: `all` hears of everything; `prod` of ends of deployments to `prod*`.
struct TwoWebhooks;

impl Subscribers for TwoWebhooks {
    fn wants(&self, _: NotificationEvent, _: &ContextName) -> bool {
        true
    }

    fn deliveries(
        &self,
        event: NotificationEvent,
        deployment: &DeploymentDetail,
    ) -> Vec<NewDelivery> {
        let payload = format!(
            "{} {} {}",
            event,
            deployment.deployment.status,
            deployment
                .log
                .last()
                .map_or("", |line| line.content.as_str())
        );
        let mut deliveries = vec![NewDelivery {
            webhook: "all".to_owned(),
            payload: payload.clone(),
        }];
        if event != NotificationEvent::Started
            && deployment.deployment.context.as_str().starts_with("prod")
        {
            deliveries.push(NewDelivery {
                webhook: "prod".to_owned(),
                payload,
            });
        }
        deliveries
    }
}

fn open(db: &TestDatabase) -> Store {
    db.open().with_subscribers(Arc::new(TwoWebhooks))
}

fn deploy(store: &Store, version: &str, context: &str) -> Uuid {
    let release = store
        .create_release(&new_release("hello", "default", version, &[]))
        .unwrap()
        .into_inner()
        .release
        .id;
    let new = NewDeployment {
        release_id: release,
        context: ContextName::parse(context).unwrap(),
        manifest: String::new(),
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

/// `(webhook, event, status)` of each delivery of a deployment, oldest first.
fn deliveries(store: &Store, id: Uuid) -> Vec<(String, NotificationEvent, DeliveryStatus)> {
    store
        .notifications(id)
        .unwrap()
        .into_iter()
        .map(|(d, _)| (d.webhook, d.event, d.status))
        .collect()
}

fn events_are_stored_with_the_changes_they_announce(db: &TestDatabase) {
    let store = open(db);
    let first = deploy(&store, "1", "prod-eu");
    let second = deploy(&store, "2", "prod-eu");
    assert!(
        deliveries(&store, first).is_empty(),
        "pending: no event yet"
    );

    let claims = store.claim_deployments("w", LEASE, 8).unwrap();
    assert_eq!(claims.len(), 1);
    let pending = DeliveryStatus::Pending;
    assert_eq!(
        deliveries(&store, first),
        [("all".to_owned(), NotificationEvent::Started, pending)]
    );
    let ended = store
        .record_progress(
            first,
            "w",
            LEASE,
            &Progress {
                status: Some(DeploymentStatus::Failed),
                error: Some("boom".to_owned()),
                lines: vec![(Stream::Stderr, "it broke".to_owned())],
            },
        )
        .unwrap();
    assert!(ended);
    assert_eq!(
        deliveries(&store, first),
        [
            ("all".to_owned(), NotificationEvent::Started, pending),
            ("all".to_owned(), NotificationEvent::Failed, pending),
            ("prod".to_owned(), NotificationEvent::Failed, pending),
        ]
    );
    // A sender may leave a webhook out (one whose receiver holds up its posts).
    let only_prod = store
        .claim_notifications("t", LEASE, 10, &["all".to_owned()])
        .unwrap();
    let webhooks: Vec<&str> = only_prod.iter().map(|d| d.webhook.as_str()).collect();
    assert_eq!(webhooks, ["prod"]);
    // The payload is made in the transaction of the change: it sees the last log line.
    let due = store.claim_notifications("s", LEASE, 10, &[]).unwrap();
    let failed = due
        .iter()
        .find(|d| d.event == NotificationEvent::Failed)
        .unwrap();
    assert_eq!(failed.payload, "deployment.failed failed it broke");

    let canceled = store
        .transaction(|tx| tx.cancel_deployment(second, "alice"))
        .unwrap();
    assert_eq!(canceled, Cancellation::Canceled);
    let events: Vec<_> = deliveries(&store, second)
        .into_iter()
        .map(|(webhook, event, _)| (webhook, event))
        .collect();
    assert_eq!(
        events,
        [
            ("all".to_owned(), NotificationEvent::Canceled),
            ("prod".to_owned(), NotificationEvent::Canceled),
        ]
    );
}

fn one_sender_holds_a_delivery_until_it_records_an_attempt(db: &TestDatabase) {
    let store = open(db);
    let id = deploy(&store, "1", "dev");
    store.claim_deployments("w", LEASE, 8).unwrap();

    let mine = store.claim_notifications("a", LEASE, 10, &[]).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].attempt, 1);
    assert!(
        store
            .claim_notifications("b", LEASE, 10, &[])
            .unwrap()
            .is_empty(),
        "held by a"
    );
    let failure = Attempt {
        status: Some(500),
        error: Some("the receiver answered 500".to_owned()),
        duration: Duration::from_millis(12),
    };
    assert!(
        !store
            .record_notification_attempt(mine[0].id, "b", &failure, AttemptEnd::Failed)
            .unwrap(),
        "b does not hold it"
    );

    // A failed attempt makes it due again at the time given, for any sender.
    let retry = AttemptEnd::RetryAt(Utc::now());
    assert!(
        store
            .record_notification_attempt(mine[0].id, "a", &failure, retry)
            .unwrap()
    );
    let again = store.claim_notifications("b", LEASE, 10, &[]).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempt), (mine[0].id, 2));
    let success = Attempt {
        status: Some(204),
        error: None,
        duration: Duration::from_millis(3),
    };
    assert!(
        store
            .record_notification_attempt(again[0].id, "b", &success, AttemptEnd::Delivered)
            .unwrap()
    );
    assert!(
        store
            .claim_notifications("a", LEASE, 10, &[])
            .unwrap()
            .is_empty()
    );

    let (delivery, history) = store.notifications(id).unwrap().remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 2);
    assert_eq!(delivery.last_status, Some(204));
    assert!(delivery.delivered_on.is_some());
    assert_eq!(delivery.next_attempt_on, None);
    let seen: Vec<_> = history
        .iter()
        .map(|a| (a.status, a.error.clone(), a.duration_ms))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(500), Some("the receiver answered 500".to_owned()), 12),
            (Some(204), None, 3)
        ]
    );
    assert_eq!(store.pending_notifications().unwrap(), 0);
}

fn a_lapsed_claim_lets_another_sender_send_it_again(db: &TestDatabase) {
    let store = open(db);
    deploy(&store, "1", "dev");
    store.claim_deployments("w", LEASE, 8).unwrap();
    let lost = store
        .claim_notifications("dead", Duration::ZERO, 10, &[])
        .unwrap();
    assert_eq!(lost.len(), 1);
    std::thread::sleep(Duration::from_millis(5));
    let resumed = store.claim_notifications("alive", LEASE, 10, &[]).unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].id, lost[0].id, "the same delivery id");
    assert_eq!(resumed[0].attempt, 1, "the dead sender recorded no attempt");
    assert_eq!(store.pending_notifications().unwrap(), 1);
}

fn without_subscribers_nothing_is_stored(db: &TestDatabase) {
    let store = db.open();
    let id = deploy(&store, "1", "dev");
    store.claim_deployments("w", LEASE, 8).unwrap();
    assert!(store.notifications(id).unwrap().is_empty());
}

store_tests!(
    events_are_stored_with_the_changes_they_announce,
    one_sender_holds_a_delivery_until_it_records_an_attempt,
    a_lapsed_claim_lets_another_sender_send_it_again,
    without_subscribers_nothing_is_stored,
);
