//! Tokens, the audit chain and namespace visibility, on both backends.

#[macro_use]
mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::{Duration, Utc};
use common::new_release;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use kubernaut_domain::{
    AuditAction, Grant, Grants, Namespace, NewAuditEvent, NewToken, Page, Pattern, SecretHash,
    TokenName, Visibility,
};
use kubernaut_store::testing::{TestDatabase, Writes};
use kubernaut_store::{
    AuditFilter, Deletion, ReleaseFilter, ServiceFilter, Store, StoreError, TokenFilter,
};
use uuid::Uuid;

fn new_token(name: &str, grants: Grants) -> NewToken {
    NewToken {
        name: TokenName::parse(name).unwrap(),
        grants,
        expires_on: Some(Utc::now() + Duration::days(90)),
        created_by: "admin".into(),
    }
}

fn viewer_of(namespace: &str) -> Grants {
    Grants::new(vec![Grant::parse("viewer", namespace, None).unwrap()]).unwrap()
}

fn event(actor: &str, action: AuditAction, namespace: &str) -> NewAuditEvent {
    NewAuditEvent {
        actor: actor.into(),
        action,
        resource_type: "release",
        resource_id: Some(Uuid::now_v7().to_string()),
        namespace: Some(namespace.into()),
        context: None,
        remote_addr: Some("127.0.0.1".into()),
        request_id: None,
        details: serde_json::Map::new(),
    }
}

fn tokens_are_found_by_the_hash_of_their_secret(db: &TestDatabase) {
    let store = db.open();
    assert!(!store.transaction(|tx| tx.global_admin_ever()).unwrap());
    let hash = SecretHash::of("knt_secret-one");
    let token = store
        .transaction(|tx| tx.create_token(&new_token("ci", viewer_of("default")), &hash))
        .unwrap();
    assert_eq!(token.name.as_str(), "ci");
    assert_eq!(token.grants, viewer_of("default"));
    assert!(!store.transaction(|tx| tx.global_admin_ever()).unwrap());

    let found = store.token_by_secret(&hash).unwrap().unwrap();
    assert_eq!(found, token);
    assert_eq!(store.token(token.id).unwrap().unwrap(), token);
    assert!(
        store
            .token_by_secret(&SecretHash::of("knt_other"))
            .unwrap()
            .is_none()
    );

    let admin = store
        .transaction(|tx| {
            tx.create_token(
                &new_token("root", Grants::global_admin()),
                &SecretHash::of("knt_root"),
            )
        })
        .unwrap();
    assert!(store.transaction(|tx| tx.global_admin_ever()).unwrap());
    assert_eq!(
        store
            .transaction(|tx| tx.revoke_token(admin.id, "root"))
            .unwrap(),
        Deletion::Done
    );
    assert!(
        store.transaction(|tx| tx.global_admin_ever()).unwrap(),
        "a revoked global admin still counts"
    );
}

fn names_are_unique_among_live_tokens(db: &TestDatabase) {
    let store = db.open();
    let create = |secret: &str| {
        store.transaction(|tx| {
            tx.create_token(&new_token("ci", viewer_of("*")), &SecretHash::of(secret))
        })
    };
    let first = create("knt_1").unwrap();
    match create("knt_2") {
        Err(StoreError::Conflict(message)) => assert_eq!(
            message,
            "a token named ci exists already; revoke it first or choose another name"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let revoke = |id| {
        store
            .transaction(|tx| tx.revoke_token(id, "admin"))
            .unwrap()
    };
    assert_eq!(revoke(first.id), Deletion::Done);
    assert_eq!(revoke(first.id), Deletion::AlreadyDone);
    assert_eq!(revoke(Uuid::now_v7()), Deletion::Unknown);
    let second = create("knt_2").unwrap();

    let revoked = store.token(first.id).unwrap().unwrap();
    assert!(revoked.revoked_on.is_some());
    let list = |revoked| {
        store
            .tokens(
                &TokenFilter {
                    name: Some(TokenName::parse("ci").unwrap()),
                    revoked,
                },
                Page::default(),
            )
            .unwrap()
    };
    let all = list(None);
    assert_eq!(all.count, 2);
    assert_eq!(all.items[0].id, second.id, "newest first");
    assert_eq!(list(Some(true)).items[0].id, first.id);
    assert_eq!(list(Some(false)).items[0].id, second.id);
    assert_eq!(list(Some(false)).count, 1);
}

fn last_use_is_written_at_most_once_per_window(db: &TestDatabase) {
    let store = db.open();
    let token = store
        .transaction(|tx| {
            tx.create_token(&new_token("ci", viewer_of("*")), &SecretHash::of("knt_1"))
        })
        .unwrap();
    assert_eq!(token.last_used_on, None);
    let now = Utc::now();
    let window = Duration::seconds(55);
    assert!(store.touch_token(token.id, now, now - window).unwrap());
    let later = now + Duration::seconds(10);
    assert!(!store.touch_token(token.id, later, later - window).unwrap());
    let much_later = now + Duration::seconds(60);
    assert!(
        store
            .touch_token(token.id, much_later, much_later - window)
            .unwrap()
    );
    let stored = store
        .token(token.id)
        .unwrap()
        .unwrap()
        .last_used_on
        .unwrap();
    assert_eq!(stored.timestamp_micros(), much_later.timestamp_micros());
}

fn audit_events_chain_and_filter(db: &TestDatabase) {
    let store = db.open();
    assert!(store.verify_audit().unwrap().ok());
    for (actor, action, namespace) in [
        ("ci", AuditAction::ReleaseCreate, "default"),
        ("ci", AuditAction::DeploymentCreate, "default"),
        ("alice", AuditAction::ReleaseDelete, "jobs"),
    ] {
        store
            .transaction(|tx| tx.append_audit(event(actor, action, namespace)))
            .unwrap();
    }
    let all = store
        .audit_events(&AuditFilter::default(), Page::default())
        .unwrap();
    assert_eq!(all.count, 3);
    let actions: Vec<AuditAction> = all.items.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::ReleaseDelete,
            AuditAction::DeploymentCreate,
            AuditAction::ReleaseCreate
        ],
        "newest first"
    );
    let by_ci = store
        .audit_events(
            &AuditFilter {
                actor: Some("ci".into()),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .unwrap();
    assert_eq!(by_ci.count, 2);
    let in_jobs = store
        .audit_events(
            &AuditFilter {
                namespace: Some("jobs".into()),
                action: Some(AuditAction::ReleaseDelete),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .unwrap();
    assert_eq!(in_jobs.count, 1);
    let future = store
        .audit_events(
            &AuditFilter {
                since: Some(Utc::now() + Duration::minutes(1)),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .unwrap();
    assert_eq!(future.count, 0);

    let verified = store.verify_audit().unwrap();
    assert!(verified.ok(), "{verified:?}");
    assert_eq!(verified.events, 3);
}

/// Runs `sql` on the test database directly, as someone with database access would.
fn tamper(db: &TestDatabase, sql: &str) {
    let url = db.url();
    if url.starts_with("sqlite://") {
        let mut conn = SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
        conn.batch_execute(sql).unwrap();
    } else {
        let mut conn = PgConnection::establish(url).unwrap();
        conn.batch_execute(sql).unwrap();
    }
}

fn an_altered_event_is_named_by_verify(db: &TestDatabase) {
    let store = db.open();
    let mut ids = Vec::new();
    for actor in ["a", "b", "c", "d"] {
        let appended = store
            .transaction(|tx| tx.append_audit(event(actor, AuditAction::ReleaseCreate, "ns")))
            .unwrap();
        ids.push(appended.id);
    }
    tamper(
        db,
        &format!(
            "UPDATE audit_events SET actor = 'mallory' WHERE id = '{}'",
            ids[1]
        ),
    );
    let verified = store.verify_audit().unwrap();
    assert_eq!(verified.first_bad_event, Some(ids[1]));
    assert_eq!(verified.events, 4);
    assert!(!verified.ok());

    tamper(db, "UPDATE audit_events SET actor = 'b' WHERE seq = 2");
    assert!(store.verify_audit().unwrap().ok());
    tamper(db, "DELETE FROM audit_events WHERE seq = 4");
    let verified = store.verify_audit().unwrap();
    assert!(
        !verified.ok(),
        "removing the last event shows at the head: {verified:?}"
    );
}

fn concurrent_appends_from_two_stores_keep_one_chain(db: &TestDatabase) {
    // Two stores, each with its own pool, stand for two replicas on one database.
    let stores = [db.open(), db.open()];
    let writers = 8;
    let per_writer = 10;
    let barrier = Arc::new(Barrier::new(writers));
    let handles: Vec<_> = (0..writers)
        .map(|i| {
            let store: Store = stores[i % 2].clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..per_writer {
                    store
                        .transaction(|tx| {
                            tx.append_audit(event(
                                &format!("writer-{i}"),
                                AuditAction::ReleaseCreate,
                                "ns",
                            ))
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let verified = stores[0].verify_audit().unwrap();
    assert!(verified.ok(), "{verified:?}");
    assert_eq!(verified.events, (writers * per_writer) as u64);
}

fn lists_hold_only_visible_namespaces(db: &TestDatabase) {
    let store = db.open();
    for (service, namespace) in [
        ("a", "default"),
        ("b", "team-x"),
        ("c", "team-y"),
        ("d", "jobs"),
    ] {
        for version in ["1", "2"] {
            store
                .create_release(&new_release(service, namespace, version, &[]))
                .unwrap();
        }
    }
    let visible = Visibility::Matching(vec![
        Pattern::Exact("default".into()),
        Pattern::Prefix("team-".into()),
    ]);
    let releases = store
        .releases(&ReleaseFilter::default(), &visible, Page::default())
        .unwrap();
    assert_eq!(releases.count, 6);
    assert_eq!(releases.items.len(), 6);
    assert!(
        releases
            .items
            .iter()
            .all(|r| r.service.namespace.as_str() != "jobs")
    );
    let services = store
        .services(&ServiceFilter::default(), &visible, Page::default())
        .unwrap();
    assert_eq!(services.count, 3);
    let only_jobs = Visibility::Matching(vec![Pattern::Exact("jobs".into())]);
    let filtered = store
        .releases(
            &ReleaseFilter {
                namespace: Some(Namespace::parse("default").unwrap()),
                ..ReleaseFilter::default()
            },
            &only_jobs,
            Page::default(),
        )
        .unwrap();
    assert_eq!(
        filtered.count, 0,
        "a filter cannot widen what a token may see"
    );
    let nothing = Visibility::Matching(vec![Pattern::Exact("elsewhere".into())]);
    assert_eq!(
        store
            .releases(&ReleaseFilter::default(), &nothing, Page::default())
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        store
            .releases(&ReleaseFilter::default(), &Visibility::All, Page::default())
            .unwrap()
            .count,
        8
    );
}

store_tests!(
    tokens_are_found_by_the_hash_of_their_secret,
    names_are_unique_among_live_tokens,
    last_use_is_written_at_most_once_per_window,
    audit_events_chain_and_filter,
    an_altered_event_is_named_by_verify,
    concurrent_appends_from_two_stores_keep_one_chain,
    lists_hold_only_visible_namespaces,
);
