//! Synthetic data only, and never into a database that is not marked development
//! (HIPAA 164.308(a)(1)(ii)(B): no real PHI outside production).

use axum::http::StatusCode;
use sqlx::PgPool;

use ::service::auth::Role;
use ::service::auth::password::PasswordHasher;
use ::service::config::Environment;
use ::service::crypto::{Kek, KekRing, Keyring};
use ::service::db::{self, Deployment};
use ::service::ids::to_uuid;
use ::service::models::ClinicalRecords;
use ::service::models::patient::Patients;
use ::service::seed::{self, CLINICS, SeedError, SeedOptions, Seeded};

use crate::support::{LOOPBACK, TestApp, TestDb};

const OPTIONS: SeedOptions = SeedOptions {
    seed: 7,
    patients_per_clinic: 4,
};

async fn seeded(db: &TestDb, options: &SeedOptions) -> (PgPool, Seeded) {
    let pool = db.service_pool(2).await;
    let seeded = seed::seed(
        &pool,
        &PasswordHasher::new(2),
        &development_keys(),
        Environment::Development,
        options,
    )
    .await
    .unwrap();
    (pool, seeded)
}

/// Every seeded patient, clinic by clinic, as (mrn, given, family, birth date, phone).
async fn patients(pool: &PgPool, seeded: &Seeded) -> Vec<(String, String, String, String, String)> {
    let mut all = Vec::new();
    for clinic in &seeded.clinics {
        let mut tx = db::begin_scoped(pool, *clinic, None).await.unwrap();
        let keys = development_keys()
            .for_clinic(&mut tx, to_uuid(*clinic))
            .await
            .unwrap();
        let mut page = Patients::list(&mut tx, &keys, None, 1000).await.unwrap();
        page.sort_by(|a, b| a.mrn.expose().cmp(b.mrn.expose()));
        all.extend(page.into_iter().map(|p| {
            (
                p.mrn.expose().clone(),
                p.given_name.expose().clone(),
                p.family_name.expose().clone(),
                p.date_of_birth.expose().to_string(),
                p.phone.expose().clone().unwrap_or_default(),
            )
        }));
    }
    all
}

#[tokio::test]
async fn seed_is_deterministic() {
    let (first, second, other) = (
        TestDb::new().await,
        TestDb::new().await,
        TestDb::new().await,
    );
    let (pool_1, seeded_1) = seeded(&first, &OPTIONS).await;
    let (pool_2, seeded_2) = seeded(&second, &OPTIONS).await;
    let (pool_3, seeded_3) = seeded(
        &other,
        &SeedOptions {
            seed: OPTIONS.seed + 1,
            ..OPTIONS
        },
    )
    .await;

    let patients_1 = patients(&pool_1, &seeded_1).await;
    assert_eq!(
        patients_1.len(),
        CLINICS.len() * OPTIONS.patients_per_clinic
    );
    assert_eq!(
        patients_1,
        patients(&pool_2, &seeded_2).await,
        "same seed, same patients"
    );
    assert_ne!(
        patients_1,
        patients(&pool_3, &seeded_3).await,
        "another seed, others"
    );
}

#[tokio::test]
async fn seeded_data_is_visibly_synthetic_and_covers_every_role_in_every_clinic() {
    let app = TestApp::new().await;
    let seeded = seed::seed(
        &app.pool,
        &app.state.hasher,
        &app.state.keyring,
        Environment::Development,
        &OPTIONS,
    )
    .await
    .unwrap();
    assert_eq!(seeded.clinics.len(), CLINICS.len());
    for clinic in &seeded.clinics {
        for role in Role::ALL {
            assert!(
                seeded
                    .accounts
                    .iter()
                    .any(|a| a.clinic_id == *clinic && a.role == role),
                "{role} in every clinic"
            );
        }
    }
    for account in &seeded.accounts {
        assert!(account.email.ends_with(".example.org"), "{}", account.email);
        assert_eq!(account.totp_secret.is_some(), account.role.requires_mfa());
    }
    for (mrn, _, _, _, phone) in patients(&app.pool, &seeded).await {
        assert!(mrn.starts_with("SYN-"), "{mrn}");
        assert!(phone.contains("-555-01"), "{phone}");
    }

    // The accounts file is written for the owner's eyes only, and its logins work.
    let dir = tempfile_dir();
    let path = dir.join("accounts.json");
    seed::write_accounts(&path, &seeded).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "not readable by others");
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let first = &written["accounts"][0];
    for key in ["email", "password", "totp_secret", "role", "clinic_id"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let auditor = seeded
        .accounts
        .iter()
        .find(|a| a.role == Role::Auditor)
        .unwrap();
    let login = app
        .log_in(&auditor.email, &auditor.password, LOOPBACK)
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn seed_refuses_a_production_database() {
    let db = TestDb::new().await;
    db::migrate(db.owner.clone(), Environment::Production)
        .await
        .unwrap();
    let pool = db.service_pool(1).await;
    let refused = seed::seed(
        &pool,
        &PasswordHasher::new(1),
        &development_keys(),
        Environment::Development,
        &OPTIONS,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        refused,
        SeedError::NotDevelopment(Deployment::Production)
    ));

    // Production is final: neither migrate nor the owner turns it back.
    db::migrate(db.owner.clone(), Environment::Development)
        .await
        .unwrap();
    let mut owner = TestDb::connect(&db.owner).await;
    assert_eq!(
        db::deployment(&mut owner).await.unwrap(),
        Deployment::Production
    );
    let downgrade = sqlx::query("UPDATE deployment SET environment = 'development'")
        .execute(&mut owner)
        .await;
    assert!(downgrade.is_err());
}

#[tokio::test]
async fn seed_refuses_an_unmarked_database_and_production_mode() {
    let db = TestDb::new().await;
    let mut owner = TestDb::connect(&db.owner).await;
    sqlx::query("UPDATE deployment SET environment = 'unmarked'")
        .execute(&mut owner)
        .await
        .unwrap();
    let pool = db.service_pool(1).await;
    let hasher = PasswordHasher::new(1);
    let refused = seed::seed(
        &pool,
        &hasher,
        &development_keys(),
        Environment::Development,
        &OPTIONS,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        refused,
        SeedError::NotDevelopment(Deployment::Unmarked)
    ));

    let refused = seed::seed(
        &pool,
        &hasher,
        &development_keys(),
        Environment::Production,
        &OPTIONS,
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, SeedError::ProductionEnvironment));
}

/// The key ring a development service runs with.
fn development_keys() -> Keyring {
    Keyring::new(KekRing::single(Kek::development()))
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("seed-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
