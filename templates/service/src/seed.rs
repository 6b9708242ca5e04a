//! `seed`: synthetic clinics, accounts and patients for a development database
//! (HIPAA 164.308(a)(1)(ii)(B): no real PHI outside production). Never real data, and
//! never on a database that is not marked development.
//!
//! The same seed gives the same clinics and patients (a ChaCha8 generator; names from the
//! `fake` crate). Everything announces itself as synthetic: record numbers start with
//! `SYN-`, email addresses are at `example.org` (reserved for examples, RFC 2606) and
//! phone numbers are in 555-0100..0199, which the North American plan keeps for fiction.
//! The accounts' passwords and TOTP secrets are random on every run and written only to
//! the `--users-out` file.

use crate::audit::{self, AuditAction, AuditContext, Event, Outcome};
use crate::clock::{Clock, SystemClock};
use std::path::Path;

use chrono::{Duration, NaiveDate};
use fake::Fake;
use fake::faker::name::en::{FirstName, LastName};
use phi_guard::Phi;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use sqlx::PgPool;

use crate::accounts::{self, AccountError, ClinicChoice, NewUser};
use crate::auth::Role;
use crate::auth::password::{Password, PasswordHasher};
use crate::config::Environment;
use crate::crypto::Keyring;
use crate::crypto::keyring::KeyError;
use crate::db::{self, Deployment};
use crate::ids::{ClinicId, to_uuid};
use crate::models::ClinicalRecords;
use crate::models::patient::{NewPatient, Patients};
use crate::policy::{TENANCY, Tenancy};

/// The seed `seed` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_240_101;

/// The synthetic clinics: two, so development can try to cross between them (tenancy =
/// multi); one where the database serves one clinic (tenancy = single).
pub const CLINICS: &[&str] = match TENANCY {
    Tenancy::Multi => &["Synthetic Clinic A", "Synthetic Clinic B"],
    Tenancy::Single => &["Synthetic Clinic A"],
};

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub seed: u64,
    pub patients_per_clinic: usize,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            patients_per_clinic: 25,
        }
    }
}

/// A development login, as written to the `--users-out` file.
#[derive(Debug, Clone, Serialize)]
pub struct DevAccount {
    pub email: String,
    pub password: String,
    /// Base32, for an authenticator app; absent where the role signs in without TOTP.
    pub totp_secret: Option<String>,
    pub role: Role,
    pub clinic_id: ClinicId,
    pub clinic_name: String,
}

/// What was seeded.
#[derive(Debug, Clone, Serialize)]
pub struct Seeded {
    pub note: &'static str,
    pub clinics: Vec<ClinicId>,
    pub patients: usize,
    pub accounts: Vec<DevAccount>,
}

/// Why seeding was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seed refuses to run with APP_ENV=production")]
    ProductionEnvironment,
    #[error(
        "seed refuses this database: it is marked {0:?}, and seed writes only to databases \
         marked development (run `migrate` with APP_ENV=development on a fresh database)"
    )]
    NotDevelopment(Deployment),
    #[error("this database holds seeded accounts already: seed a fresh database")]
    AlreadySeeded,
    #[error("{0}")]
    Account(AccountError),
    #[error("database: {0}")]
    Database(#[from] db::DbError),
    #[error("cannot store a synthetic record: {0}")]
    Record(#[from] crate::error::ApiError),
    #[error("encryption keys: {0}")]
    Keys(#[from] KeyError),
    #[error("cannot write the accounts file: {0}")]
    Write(std::io::Error),
}

impl From<AccountError> for SeedError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::EmailTaken | AccountError::OneClinicOnly => Self::AlreadySeeded,
            other => Self::Account(other),
        }
    }
}

impl From<sqlx::Error> for SeedError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(db::DbError::Sqlx(error))
    }
}

/// Seeds the database behind `pool` (the service role).
pub async fn seed(
    pool: &PgPool,
    hasher: &PasswordHasher,
    keyring: &Keyring,
    environment: Environment,
    options: &SeedOptions,
) -> Result<Seeded, SeedError> {
    if environment == Environment::Production {
        return Err(SeedError::ProductionEnvironment);
    }
    let deployment = db::deployment(&mut *pool.acquire().await?).await?;
    if deployment != Deployment::Development {
        return Err(SeedError::NotDevelopment(deployment));
    }

    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut seeded = Seeded {
        note: "Synthetic development accounts: never use them, or this file, outside development.",
        clinics: Vec::new(),
        patients: 0,
        accounts: Vec::new(),
    };
    for (index, name) in CLINICS.iter().enumerate() {
        let letter = char::from(b'a' + u8::try_from(index).unwrap_or(25));
        let mut clinic = None;
        // The author of the clinic's synthetic records.
        let mut clinician = None;
        for role in Role::ALL {
            let password = random_password()?;
            let created = accounts::create(
                pool,
                hasher,
                keyring,
                &SystemClock,
                NewUser {
                    email: format!("{role}@clinic-{letter}.example.org"),
                    role,
                    clinic: clinic.map_or_else(
                        || ClinicChoice::New((*name).to_owned()),
                        ClinicChoice::Existing,
                    ),
                    password: Password::new(password.clone()),
                },
            )
            .await?;
            clinic = Some(created.clinic_id);
            if role == Role::Clinician {
                clinician = Some(created.user_id);
            }
            seeded.accounts.push(DevAccount {
                email: created.email,
                password,
                totp_secret: created.totp_secret,
                role,
                clinic_id: created.clinic_id,
                clinic_name: (*name).to_owned(),
            });
        }
        let Some(clinic) = clinic else { continue };
        seeded.clinics.push(clinic);

        let mut tx = db::begin_scoped(pool, clinic, clinician).await?;
        let keys = keyring.for_clinic(&mut tx, to_uuid(clinic)).await?;
        let mut patients = Vec::new();
        for number in 1..=options.patients_per_clinic {
            let patient = synthetic_patient(&mut rng, letter, number);
            patients.push(Patients::create(&mut tx, &keys, patient).await?.id);
            seeded.patients += 1;
        }
        // The resources added with `medforge add resource`: a few records each (of each
        // patient, where they belong to one), written between these lines.
        // medforge:resource-seed:start
        // medforge:resource-seed:end
        // HIPAA 164.312(b): seeding is an administrative command, on the record.
        let seeded_event = Event::new(AuditAction::Seed, Outcome::Success).on("patients", None);
        audit::record(
            &mut tx,
            &AuditContext::command(clinic, SystemClock.now()),
            &[seeded_event],
        )
        .await?;
        tx.commit().await?;
    }
    tracing::info!(
        clinics = seeded.clinics.len(),
        patients = seeded.patients,
        accounts = seeded.accounts.len(),
        seed = options.seed,
        "seeded synthetic data"
    );
    Ok(seeded)
}

/// Writes the development accounts to `path`, readable by the owner only.
pub fn write_accounts(path: &Path, seeded: &Seeded) -> Result<(), SeedError> {
    use std::io::Write as _;

    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(SeedError::Write)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(SeedError::Write)?;
    let json = serde_json::to_vec_pretty(seeded).map_err(|e| SeedError::Write(e.into()))?;
    file.write_all(&json).map_err(SeedError::Write)?;
    file.write_all(b"\n").map_err(SeedError::Write)
}

/// One synthetic patient: the `number`-th of clinic `letter`, drawn from `rng`.
fn synthetic_patient(rng: &mut ChaCha8Rng, letter: char, number: usize) -> NewPatient {
    let given: String = FirstName().fake_with_rng(rng);
    let family: String = LastName().fake_with_rng(rng);
    // Born between 1935 and 2022, from a fixed origin so the seed alone decides the date.
    let origin = NaiveDate::from_ymd_opt(1935, 1, 1).unwrap_or_default();
    let born = origin + Duration::days(rng.random_range(0..32_000));
    let phone = format!("+1-202-555-01{:02}", rng.random_range(0..100));
    NewPatient {
        mrn: Phi::new(format!("SYN-{}-{number:06}", letter.to_ascii_uppercase())),
        given_name: Phi::new(given),
        family_name: Phi::new(family),
        date_of_birth: Phi::new(born),
        phone: Phi::new(Some(phone)),
    }
}

fn random_password() -> Result<String, SeedError> {
    let mut bytes = [0u8; 15];
    getrandom::fill(&mut bytes).map_err(|_| SeedError::Account(AccountError::Random))?;
    Ok(format!(
        "syn-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}
