//! The store test-suite, run on SQLite always and on PostgreSQL when
//! `KUBERNAUT_TEST_DATABASE_URL` names a server. Each test gets its own database.

#[macro_use]
mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use kubernaut_domain::{
    Namespace, NewRelease, Page, ServiceName, TemplateSource, Version, Visibility,
};
use kubernaut_store::testing::{TestDatabase, Writes};
use kubernaut_store::{
    Deletion, Outcome, ReleaseFilter, ServiceFilter, Store, StoreError, StoreOptions,
};
use uuid::Uuid;

use common::{CREATED_BY, new_release};

fn with_template(mut release: NewRelease, source: &str) -> NewRelease {
    release.template = TemplateSource::parse(source).unwrap();
    release
}

fn created(outcome: Outcome<kubernaut_domain::ReleaseDetail>) -> kubernaut_domain::ReleaseDetail {
    match outcome {
        Outcome::Created(detail) => detail,
        Outcome::Existing(detail) => panic!("expected a new release, got existing {detail:?}"),
    }
}

fn page(limit: u32, offset: u64) -> Page {
    Page::parse(Some(&limit.to_string()), Some(&offset.to_string())).unwrap()
}

fn filter(service: Option<&str>, namespace: Option<&str>, version: Option<&str>) -> ReleaseFilter {
    ReleaseFilter {
        service: service.map(|s| ServiceName::parse(s).unwrap()),
        namespace: namespace.map(|n| Namespace::parse(n).unwrap()),
        version: version.map(|v| Version::parse(v).unwrap()),
    }
}

fn versions(store: &Store, filter: &ReleaseFilter, page: Page) -> (Vec<String>, u64) {
    let listed = store.releases(filter, &Visibility::All, page).unwrap();
    let versions = listed
        .items
        .iter()
        .map(|r| format!("{}/{}", r.service.name, r.version))
        .collect();
    (versions, listed.count)
}

fn create_then_get_round_trips(db: &TestDatabase) {
    let store = db.open();
    let new = new_release(
        "hello",
        "default",
        "42",
        &[("image", "nginx:1"), ("commit", "3f2a")],
    );
    let detail = created(store.create_release(&new).unwrap());
    assert_eq!(detail.release.service.name.as_str(), "hello");
    assert_eq!(detail.release.version.as_str(), "42");
    assert_eq!(detail.release.attributes, new.attributes);
    assert_eq!(detail.release.created_by, CREATED_BY);
    assert_eq!(detail.release.template.checksum, new.template.checksum());

    let read = store.release(detail.release.id).unwrap().expect("stored");
    assert_eq!(read, detail);
    assert_eq!(store.release(Uuid::new_v4()).unwrap(), None);
}

fn identical_repeat_returns_the_existing_release(db: &TestDatabase) {
    let store = db.open();
    let new = new_release("hello", "default", "42", &[("image", "nginx:1")]);
    let first = created(store.create_release(&new).unwrap());
    match store.create_release(&new).unwrap() {
        Outcome::Existing(again) => assert_eq!(again, first),
        Outcome::Created(again) => panic!("created a second release {again:?}"),
    }
    assert_eq!(
        versions(&store, &ReleaseFilter::default(), Page::default()).1,
        1
    );
}

fn same_version_with_other_content_conflicts(db: &TestDatabase) {
    let store = db.open();
    let new = new_release("hello", "default", "42", &[("image", "nginx:1")]);
    created(store.create_release(&new).unwrap());

    let other_attrs = new_release("hello", "default", "42", &[("image", "nginx:2")]);
    let err = store.create_release(&other_attrs).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "release 42 of service hello in namespace default already exists with different \
         attributes; release a new version instead"
    );
    let other_template = with_template(new.clone(), "kind: Other\n");
    let err = store.create_release(&other_template).unwrap_err();
    assert!(err.to_string().contains("with different template"), "{err}");

    let (listed, count) = versions(&store, &ReleaseFilter::default(), Page::default());
    assert_eq!((listed, count), (vec!["hello/42".to_owned()], 1));
}

fn identical_templates_are_stored_once(db: &TestDatabase) {
    let store = db.open();
    let a = created(
        store
            .create_release(&new_release("a", "default", "1", &[]))
            .unwrap(),
    );
    let b = created(
        store
            .create_release(&new_release("b", "default", "1", &[]))
            .unwrap(),
    );
    assert_eq!(a.release.template, b.release.template);
    let c = created(
        store
            .create_release(&with_template(
                new_release("a", "default", "2", &[]),
                "kind: X\n",
            ))
            .unwrap(),
    );
    assert_ne!(c.release.template.id, a.release.template.id);
}

fn lists_are_newest_first_counted_and_paged(db: &TestDatabase) {
    let store = db.open();
    for (service, namespace, version) in [
        ("a", "default", "1"),
        ("b", "jobs", "1"),
        ("a", "default", "2"),
        ("a", "jobs", "1"),
        ("b", "jobs", "2"),
    ] {
        created(
            store
                .create_release(&new_release(service, namespace, version, &[("k", version)]))
                .unwrap(),
        );
    }
    let all = ReleaseFilter::default();
    assert_eq!(
        versions(&store, &all, Page::default()),
        (
            ["b/2", "a/1", "a/2", "b/1", "a/1"]
                .map(String::from)
                .to_vec(),
            5
        )
    );
    assert_eq!(
        versions(&store, &all, page(2, 1)),
        (["a/1", "a/2"].map(String::from).to_vec(), 5)
    );
    assert_eq!(versions(&store, &all, page(10, 5)), (vec![], 5));

    let listed = store.releases(&all, &Visibility::All, page(1, 0)).unwrap();
    assert_eq!((listed.limit, listed.offset), (1, 0));
    assert_eq!(listed.items[0].attributes.get("k"), Some("2"));
}

fn lists_filter_exactly(db: &TestDatabase) {
    let store = db.open();
    for (service, namespace, version) in [
        ("a", "default", "1"),
        ("b", "jobs", "1"),
        ("a", "default", "2"),
        ("a", "jobs", "1"),
    ] {
        created(
            store
                .create_release(&new_release(service, namespace, version, &[]))
                .unwrap(),
        );
    }
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        (
            filter(Some("a"), None, None),
            strings(&["a/1", "a/2", "a/1"]),
        ),
        (
            filter(Some("a"), Some("default"), None),
            strings(&["a/2", "a/1"]),
        ),
        (filter(None, Some("jobs"), None), strings(&["a/1", "b/1"])),
        (
            filter(None, None, Some("1")),
            strings(&["a/1", "b/1", "a/1"]),
        ),
        (filter(Some("a"), None, Some("1")), strings(&["a/1", "a/1"])),
        (filter(Some("a"), Some("jobs"), Some("2")), strings(&[])),
        (filter(Some("zzz"), None, None), strings(&[])),
        (filter(None, None, Some("9")), strings(&[])),
    ];
    for (filter, expected) in cases {
        let count = expected.len() as u64;
        assert_eq!(
            versions(&store, &filter, Page::default()),
            (expected, count),
            "{filter:?}"
        );
    }
    // The count ignores paging.
    assert_eq!(
        versions(&store, &filter(Some("a"), None, None), page(1, 0)).1,
        3
    );
    assert_eq!(
        versions(&store, &filter(None, None, Some("1")), page(1, 0)).1,
        3
    );
}

fn delete_is_soft_and_safe_to_retry(db: &TestDatabase) {
    let store = db.open();
    let new = new_release("hello", "default", "42", &[]);
    let first = created(store.create_release(&new).unwrap());
    created(
        store
            .create_release(&new_release("hello", "default", "43", &[]))
            .unwrap(),
    );
    let id = first.release.id;

    assert_eq!(store.delete_release(id, "ci").unwrap(), Deletion::Done);
    assert_eq!(store.release(id).unwrap(), None);
    assert_eq!(
        versions(&store, &ReleaseFilter::default(), Page::default()),
        (vec!["hello/43".to_owned()], 1)
    );
    assert_eq!(
        versions(&store, &filter(Some("hello"), None, None), Page::default()).1,
        1
    );
    assert_eq!(
        store.delete_release(id, "ci").unwrap(),
        Deletion::AlreadyDone,
        "deleting twice succeeds"
    );
    assert_eq!(
        versions(&store, &ReleaseFilter::default(), Page::default()).1,
        1
    );
    assert_eq!(
        store.delete_release(Uuid::new_v4(), "ci").unwrap(),
        Deletion::Unknown
    );

    // A deleted version can be released again, as a new release.
    let again = created(store.create_release(&new).unwrap());
    assert_ne!(again.release.id, id);
    assert_eq!(
        versions(&store, &ReleaseFilter::default(), Page::default()).1,
        2
    );
}

fn concurrent_identical_creates_make_one_release(db: &TestDatabase) {
    let store = db.open();
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let new = new_release("race", "default", "1", &[("image", "nginx")]);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (store, barrier, new) = (store.clone(), barrier.clone(), new.clone());
            thread::spawn(move || {
                barrier.wait();
                store.create_release(&new).unwrap()
            })
        })
        .collect();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Created(_)))
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    let ids: std::collections::HashSet<_> = outcomes
        .into_iter()
        .map(|o| o.into_inner().release.id)
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        versions(&store, &ReleaseFilter::default(), Page::default()).1,
        1
    );
    assert_eq!(
        store
            .services(&ServiceFilter::default(), &Visibility::All, Page::default())
            .unwrap()
            .count,
        1
    );
}

fn services_are_listed_and_show_their_latest_release(db: &TestDatabase) {
    let store = db.open();
    created(
        store
            .create_release(&new_release("a", "default", "1", &[]))
            .unwrap(),
    );
    created(
        store
            .create_release(&new_release("b", "jobs", "1", &[]))
            .unwrap(),
    );
    let latest = created(
        store
            .create_release(&new_release("a", "default", "2", &[]))
            .unwrap(),
    );

    let listed = store
        .services(&ServiceFilter::default(), &Visibility::All, Page::default())
        .unwrap();
    assert_eq!(listed.count, 2);
    let names: Vec<_> = listed.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    let jobs = ServiceFilter {
        namespace: Some(Namespace::parse("jobs").unwrap()),
        ..ServiceFilter::default()
    };
    let listed = store
        .services(&jobs, &Visibility::All, Page::default())
        .unwrap();
    assert_eq!((listed.count, listed.items[0].name.as_str()), (1, "b"));

    let service_id = latest.release.service.id;
    let detail = store.service(service_id).unwrap().expect("service exists");
    assert_eq!(detail.latest_release, Some(latest.release.clone()));

    store.delete_release(latest.release.id, "ci").unwrap();
    let detail = store.service(service_id).unwrap().unwrap();
    assert_eq!(detail.latest_release.unwrap().version.as_str(), "1");
    assert_eq!(store.service(Uuid::new_v4()).unwrap(), None);
}

fn reopening_keeps_the_data(db: &TestDatabase) {
    let id = {
        let store = db.open();
        created(
            store
                .create_release(&new_release("a", "default", "1", &[]))
                .unwrap(),
        )
        .release
        .id
    };
    let store = db.open();
    assert!(store.release(id).unwrap().is_some());
    store.ping(std::time::Duration::from_secs(1)).unwrap();
}

store_tests!(
    create_then_get_round_trips,
    identical_repeat_returns_the_existing_release,
    same_version_with_other_content_conflicts,
    identical_templates_are_stored_once,
    lists_are_newest_first_counted_and_paged,
    lists_filter_exactly,
    delete_is_soft_and_safe_to_retry,
    concurrent_identical_creates_make_one_release,
    services_are_listed_and_show_their_latest_release,
    reopening_keeps_the_data,
);

#[test]
fn unknown_schemes_are_refused_before_connecting() {
    let err = Store::open("mysql://root@localhost/k", &StoreOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl { .. }), "{err:?}");
}

#[test]
fn an_unreachable_postgres_reports_the_real_cause() {
    let err = Store::open(
        "postgres://u:secret@127.0.0.1:1/k",
        &StoreOptions::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("cannot connect to database postgres://u:***@127.0.0.1:1/k: "),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains("secret"));
}

#[test]
fn an_unopenable_sqlite_file_names_its_path() {
    let err = Store::open("sqlite:///nonexistent-dir/k.db", &StoreOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("cannot connect to database sqlite:///nonexistent-dir/k.db: "),
        "{message}"
    );
    assert!(message.contains("/nonexistent-dir/k.db"), "{message}");
}
