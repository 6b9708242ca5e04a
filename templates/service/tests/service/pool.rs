//! Connection-pool exhaustion: a request holds one pooled connection (its transaction)
//! and never waits for a second one while it does. If it did, a burst of requests as
//! large as the pool would each hold one and wait for another forever, and the whole
//! service would hang (HIPAA 164.306(a)(1), GDPR Art. 32(1)(b): PHI stays available
//! under load).
//!
//! Each test runs many requests at once against a pool of two connections, on the paths
//! that used to take a second connection, and must finish well within the time a pool
//! waits for a connection (30 s) before giving up.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use uuid::Uuid;

use ::service::crypto::tenant_key;
use ::service::crypto::{Field, Kek, KekRing, Keyring};
use ::service::db;
use ::service::ids::to_uuid;

use crate::egress::{Fixture, SIGNED};
use crate::support::{TestApp, TestDb};

/// The pool the tests squeeze: fewer connections than concurrent requests.
const POOL_SIZE: u32 = 2;
/// How long a burst may take before the pool counts as deadlocked.
const DEADLINE: Duration = Duration::from_secs(20);

const NOTE: Field = Field::new("notes", "body");

/// Runs every task of `tasks` to its end within [`DEADLINE`]; returns their results.
async fn within_deadline<T: 'static>(mut tasks: JoinSet<T>) -> Vec<T> {
    let all = async {
        let mut results = Vec::new();
        while let Some(result) = tasks.join_next().await {
            results.push(result.unwrap());
        }
        results
    };
    tokio::time::timeout(DEADLINE, all)
        .await
        .expect("the requests deadlocked on the connection pool")
}

#[tokio::test]
async fn first_keys_of_many_new_clinics_at_once_do_not_deadlock_the_pool() {
    let app = Arc::new(TestApp::with_pool_size(POOL_SIZE).await);
    let mut clinics = Vec::new();
    // As many new clinics as the database may hold (`tenancy = single`: one).
    for number in 0..::service::seed::CLINICS.len() {
        clinics.push(app.clinic(&format!("Synthetic Clinic {number}")).await);
    }
    // Three first requests per clinic, all at once: each holds its transaction while its
    // clinic's first keys are made, some of them racing for the same clinic.
    let mut tasks = JoinSet::new();
    for clinic in clinics.iter().copied().cycle().take(3 * clinics.len()) {
        let app = Arc::clone(&app);
        tasks.spawn(async move {
            let mut tx = db::begin_scoped(&app.pool, clinic, None).await.unwrap();
            let keys = app
                .state
                .keyring
                .for_clinic(&mut tx, to_uuid(clinic))
                .await
                .unwrap();
            let row = Uuid::new_v4();
            let sealed = keys.seal_text(NOTE, row, "synthetic note").unwrap();
            tx.commit().await.unwrap();
            (clinic, row, sealed)
        });
    }
    let sealed = within_deadline(tasks).await;

    // One data key and one blind-index key per clinic, and every value sealed in the
    // race opens with them: no request sealed with a key that lost.
    let mut owner = TestDb::connect(&app.db.owner).await;
    // The test service runs on the development key.
    let restarted = Keyring::new(KekRing::single(Kek::development()));
    for clinic in &clinics {
        let stored = tenant_key::of_clinic(&mut owner, to_uuid(*clinic))
            .await
            .unwrap();
        assert_eq!(stored.len(), 2, "one data key and one blind-index key");
    }
    for (clinic, row, value) in sealed {
        let mut tx = db::begin_scoped(&app.pool, clinic, None).await.unwrap();
        let keys = restarted
            .for_clinic(&mut tx, to_uuid(clinic))
            .await
            .unwrap();
        assert_eq!(keys.open_text(NOTE, row, &value).unwrap(), "synthetic note");
    }
}

#[tokio::test]
async fn concurrent_egress_sends_do_not_deadlock_the_pool() {
    let fixture = Arc::new(Fixture::with_app(TestApp::with_pool_size(POOL_SIZE).await).await);
    // Each send comes from a request holding its transaction, and is audited.
    let sends = 8;
    let mut tasks = JoinSet::new();
    for _ in 0..sends {
        let fixture = Arc::clone(&fixture);
        tasks.spawn(async move {
            fixture
                .send_with(&fixture.client, SIGNED, fixture.vendor.url())
                .await
                .map(|response| response.status)
                .map_err(|error| error.to_string())
        });
    }
    for result in within_deadline(tasks).await {
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(fixture.vendor.hits(), sends);
    let mut admin = TestDb::connect(&fixture.app.db.admin).await;
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'egress' AND outcome = 'success'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(recorded, sends as i64);
}
