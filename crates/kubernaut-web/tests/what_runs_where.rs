//! What runs where costs three statements (the session; the services, then their lanes) however
//! many services and contexts there are; on SQLite always and on PostgreSQL when configured.
//! Alone in its test binary: it counts every statement the process runs.

#[allow(dead_code, reason = "not every test file uses every helper")]
mod common;

use std::sync::{Mutex, PoisonError};

use actix_web::http::StatusCode;
use common::{admin_session, app, deploy, get, release, ui};
use kubernaut_store::testing::{TestDatabase, count_queries, queries};

/// The tests take turns, so that one's statements are not counted in the other's.
static COUNTING: Mutex<()> = Mutex::new(());

fn the_matrix_is_two_queries_whatever_its_size(db: &TestDatabase) {
    let _turn = COUNTING.lock().unwrap_or_else(PoisonError::into_inner);
    count_queries();
    actix_web::rt::System::new().block_on(async {
        let (app, admin) = app(db.open()).await;
        let ui = ui(&app).await;
        let session = admin_session(&app).await;
        let mut statements = Vec::new();
        for round in 0..3 {
            for n in 0..5 {
                let service = format!("svc-{round}-{n}");
                let r = release(&app, &admin, &service, "default", "1", "x").await;
                deploy(&app, &admin, r, "prod").await;
                if n % 2 == 0 {
                    deploy(&app, &admin, r, "staging").await;
                }
            }
            let before = queries();
            let page = get(&ui, "/", Some(&session)).await;
            statements.push(queries() - before);
            assert_eq!(page.status, StatusCode::OK);
            assert_eq!(
                page.body.matches("<tr><th scope=\"row\">").count(),
                5 * (round + 1)
            );
        }
        assert_eq!(
            statements,
            [3, 3, 3],
            "the session, the services, their lanes (beside the pool's check-out pings)"
        );
    });
}

#[test]
fn sqlite() {
    the_matrix_is_two_queries_whatever_its_size(&TestDatabase::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL: set KUBERNAUT_TEST_DATABASE_URL"]
fn postgres() {
    the_matrix_is_two_queries_whatever_its_size(&TestDatabase::postgres());
}
