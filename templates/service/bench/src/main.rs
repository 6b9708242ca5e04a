//! Load benchmark of the service over loopback, on a throwaway PostgreSQL cluster with
//! synthetic data. Run by hand, never in CI:
//!
//! ```sh
//! cargo run --release -p bench -- [--seconds 5] [--connections 8] [--storm 16]
//! ```
//!
//! It reports ratios against a baseline measured in the same run, on the same machine,
//! so the figures compare across machines:
//!
//! 1. `GET /healthz` (no session, no database): the floor of throughput and latency;
//! 2. the cost of the controls: `GET /patients/{id}` (session check, clinic-scoped
//!    transaction under row-level security, decryption of every PHI field, an audit event
//!    in the same transaction) side by side with a baseline handler in the same service
//!    that reads the same row after the same session check with no audit, no decryption
//!    and no RLS context ([`baseline`]); the two alternate in rounds under the same load,
//!    and the target is at least 60% of the baseline's throughput with a p99 under 2x;
//! 3. `POST /auth/login` latency, one at a time (Argon2id at the configured cost);
//! 4. reads as in 2 while `--storm` clients log in without pause: the p99 of the reads
//!    against 2's, which shows whether password hashing stays off the async workers.
//!
//! Every phase is bounded in time (`--seconds`, at most 60) and sends traffic to
//! 127.0.0.1 only.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use ::service::accounts::{self, ClinicChoice, NewUser};
use ::service::auth::password::{Password, PasswordHasher};
use ::service::auth::{Role, totp};
use ::service::clock::{Clock, SystemClock};
use ::service::config::{Config, Environment};
use ::service::crypto::Keyring;
use ::service::crypto::password_hash;
use ::service::seed::{self, SeedOptions};
use ::service::{AppState, db};

mod baseline;

/// Rounds in which the protected read and its baseline alternate.
const ROUNDS: u32 = 3;
/// The targets of the controls benchmark: the protected read keeps at least this share
/// of the baseline's throughput...
const TARGET_THROUGHPUT: f64 = 0.60;
/// ...and its p99 latency stays under this multiple of the baseline's.
const TARGET_P99: f64 = 2.0;

type HttpClient = Client<HttpConnector, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "synthetic benchmark passphrase";

/// The next client address of an authentication call (see `call`).
static NEXT_ADDRESS: AtomicU32 = AtomicU32::new(1);

struct Settings {
    seconds: u64,
    connections: usize,
    storm: usize,
    logins: usize,
}

impl Settings {
    fn from_args() -> Result<Self, String> {
        let mut settings = Settings {
            seconds: 5,
            connections: 8,
            storm: 16,
            logins: 20,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        for pair in args.chunks(2) {
            let value = pair.get(1).ok_or("every option takes a value")?;
            let number: usize = value
                .parse()
                .map_err(|_| format!("not a number: {value}"))?;
            match pair[0].as_str() {
                "--seconds" => settings.seconds = (number as u64).clamp(1, 60),
                "--connections" => settings.connections = number.clamp(1, 64),
                "--storm" => settings.storm = number.clamp(1, 64),
                "--logins" => settings.logins = number.clamp(1, 200),
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(settings)
    }
}

fn main() -> ExitCode {
    let settings = match Settings::from_args() {
        Ok(settings) => settings,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bench: {error}");
            return ExitCode::from(2);
        }
    };
    // The service gets the runtime it would get in production (a worker per CPU); the
    // load comes from a runtime of its own.
    let runtimes = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .and_then(|server| {
            let client = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            Ok((server, client))
        });
    let (server, client) = match runtimes {
        Ok(runtimes) => runtimes,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    match client.block_on(run(&settings, server.handle().clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: &Settings, server: tokio::runtime::Handle) -> Result<(), BoxError> {
    let cluster = tokio::task::spawn_blocking(pg_throwaway::Cluster::start).await??;
    let admin = PgConnectOptions::from_str(&cluster.superuser_url("postgres"))?;
    let roles = db::bootstrap::bootstrap(&admin, "bench").await?;
    db::migrate(roles.owner.clone(), Environment::Development).await?;
    let pool = db::connect(roles.service.clone()).await?;
    let config = Config::from_lookup(|_| None)?;
    let keyring = Keyring::new(config.keks.clone());
    let seeded = seed::seed(
        &pool,
        &PasswordHasher::for_this_machine(),
        &keyring,
        Environment::Development,
        &SeedOptions::default(),
    )
    .await?;
    let clinic = seeded.clinics[0];

    // The service, with its own pool, on its own runtime.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = Arc::clone(&stop);
    let service = roles.service.clone();
    let superuser = cluster.superuser_url("bench");
    server.spawn(async move {
        let pool = db::connect(service).await?;
        let unscoped = PgPoolOptions::new()
            .max_connections(10)
            .connect(&superuser)
            .await?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let mut state = AppState::new(pool, &config)?;
        // Logins come from addresses of their own (see `call`), as a storm from many
        // machines would: from one address, the per-address rate limit answers 429
        // before any hashing, and the storm phase would measure nothing. The addresses
        // are read from X-Forwarded-For, trusted here as if from a proxy.
        state.behind_tls_proxy = true;
        let app = baseline::router(state, unscoped);
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            stopped.notified().await;
        })
        .await?;
        Ok::<(), BoxError>(())
    });

    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let base = format!("http://{address}");

    // One clinician per reading connection: sessions of their own, as real users have.
    let hasher = PasswordHasher::new(1);
    let mut tokens = Vec::new();
    for n in 0..settings.connections {
        let user = accounts::create(
            &pool,
            &hasher,
            &keyring,
            &SystemClock,
            NewUser {
                email: format!("bench-clinician-{n}@bench.example.org"),
                role: Role::Clinician,
                clinic: ClinicChoice::Existing(clinic),
                password: Password::new(PASSWORD),
            },
        )
        .await?;
        let secret = user
            .totp_secret
            .as_deref()
            .and_then(totp::decode_base32)
            .ok_or("no TOTP secret")?;
        tokens.push(sign_in(&client, &base, &user.email, &secret).await?);
    }
    let auditor = seeded
        .accounts
        .iter()
        .find(|account| account.role == Role::Auditor)
        .ok_or("no auditor seeded")?
        .clone();

    let page = call(
        &client,
        Method::GET,
        &format!("{base}/patients?limit=1"),
        Some(&tokens[0]),
        None,
    )
    .await?;
    let patient = page.1["items"][0]["id"]
        .as_str()
        .ok_or("no patient")?
        .to_owned();
    let read_uri = format!("{base}/patients/{patient}");

    print_header(settings);
    let duration = Duration::from_secs(settings.seconds);

    let baseline = load(&client, &format!("{base}/healthz"), &tokens, duration, None).await;
    report("GET /healthz (baseline)", &baseline, None);

    // The cost of the controls, side by side: the two alternate in rounds, so both see
    // the same machine, cache and database state.
    let unprotected_uri = format!("{base}{}", baseline::PATH.replace("{id}", &patient));
    let slice = duration / ROUNDS;
    let (mut unprotected, mut reads) = (Run::default(), Run::default());
    for _ in 0..ROUNDS {
        unprotected.absorb(load(&client, &unprotected_uri, &tokens, slice, None).await);
        reads.absorb(load(&client, &read_uri, &tokens, slice, None).await);
    }
    say(format!(
        "the cost of the controls ({ROUNDS} alternating rounds, {} connections):",
        tokens.len()
    ));
    report(
        "  baseline: same session check, no RLS context, no decryption, no audit",
        &unprotected,
        Some(&baseline),
    );
    report(
        "  GET /patients/{id}: RLS, decryption, audit event in the transaction",
        &reads,
        Some(&unprotected),
    );
    let throughput = reads.throughput() / unprotected.throughput().max(0.001);
    let p99 = ms(percentile(&reads.latencies, 0.99))
        / ms(percentile(&unprotected.latencies, 0.99)).max(0.001);
    say(format!(
        "  target: throughput at least {:.0}% of the baseline's ({}: {:.0}%), p99 under {TARGET_P99:.1}x ({}: {p99:.2}x)",
        TARGET_THROUGHPUT * 100.0,
        if throughput >= TARGET_THROUGHPUT {
            "met"
        } else {
            "NOT met"
        },
        throughput * 100.0,
        if p99 < TARGET_P99 { "met" } else { "NOT met" },
    ));

    let mut logins = Vec::new();
    for _ in 0..settings.logins {
        let started = Instant::now();
        let (status, _) = log_in(&client, &base, &auditor.email, &auditor.password).await?;
        // Past the account's free attempts (a password step never completed with TOTP
        // counts as one until the second factor clears it), a login is refused with 401
        // after the same hashing work: both are a login's cost.
        if status == StatusCode::OK || status == StatusCode::UNAUTHORIZED {
            logins.push(started.elapsed());
        }
    }
    logins.sort();
    say(format!(
        "POST /auth/login, one at a time: {} logins, p50 {:.1} ms, p99 {:.1} ms",
        logins.len(),
        ms(percentile(&logins, 0.50)),
        ms(percentile(&logins, 0.99)),
    ));

    let storm = Storm {
        clients: settings.storm,
        email: auditor.email.clone(),
        password: auditor.password.clone(),
        base: base.clone(),
    };
    let during = load(&client, &read_uri, &tokens, duration, Some(storm)).await;
    report(
        "GET /patients/{id} during a login storm",
        &during,
        Some(&reads),
    );
    say(format!(
        "  logins answered during the storm (accepted or refused, each hashed): {} ({:.1}/s); answered 503 (hashing queue full): {}",
        during.logins_ok,
        during.logins_ok as f64 / duration.as_secs_f64(),
        during.logins_busy
    ));
    say(format!(
        "  p99 of reads during the storm / without: {:.2}x",
        ms(percentile(&during.latencies, 0.99)) / ms(percentile(&reads.latencies, 0.99)).max(0.001)
    ));

    stop.notify_waiters();
    drop(cluster);
    Ok(())
}

fn print_header(settings: &Settings) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    say(format!(
        "machine: {cpus} CPUs, {model}, kernel {}",
        kernel.trim()
    ));
    say(format!(
        "settings: {} s per phase, {} reading connections (one clinician session each), \
         {} storm clients, {} sequential logins; Argon2id m={} KiB t={} p={}, {} hashing slot(s); \
         build {}",
        settings.seconds,
        settings.connections,
        settings.storm,
        settings.logins,
        password_hash::ARGON2_M_KIB,
        password_hash::ARGON2_T,
        password_hash::ARGON2_P,
        (cpus / 2).max(1),
        if cfg!(debug_assertions) {
            "debug (use --release for figures)"
        } else {
            "release"
        },
    ));
}

fn say(line: String) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn report(name: &str, run: &Run, baseline: Option<&Run>) {
    let throughput = run.latencies.len() as f64 / run.elapsed.as_secs_f64();
    let mut line = format!(
        "{name}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        throughput,
        ms(percentile(&run.latencies, 0.50)),
        ms(percentile(&run.latencies, 0.99)),
        run.errors,
    );
    if let Some(baseline) = baseline {
        let base = baseline.latencies.len() as f64 / baseline.elapsed.as_secs_f64();
        line.push_str(&format!(
            "; throughput {:.2}x, p50 {:.2}x, p99 {:.2}x of the line above",
            throughput / base.max(0.001),
            ms(percentile(&run.latencies, 0.50))
                / ms(percentile(&baseline.latencies, 0.50)).max(0.001),
            ms(percentile(&run.latencies, 0.99))
                / ms(percentile(&baseline.latencies, 0.99)).max(0.001),
        ));
    }
    say(line);
}

#[derive(Default)]
struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: usize,
    logins_ok: usize,
    logins_busy: usize,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(0.001)
    }

    /// Adds `other`'s requests and time to this run's.
    fn absorb(&mut self, other: Run) {
        self.latencies.extend(other.latencies);
        self.latencies.sort();
        self.elapsed += other.elapsed;
        self.errors += other.errors;
        self.logins_ok += other.logins_ok;
        self.logins_busy += other.logins_busy;
    }
}

struct Storm {
    clients: usize,
    email: String,
    password: String,
    base: String,
}

/// `GET uri` from one loop per token for `duration`, while `storm` clients log in.
async fn load(
    client: &HttpClient,
    uri: &str,
    tokens: &[String],
    duration: Duration,
    storm: Option<Storm>,
) -> Run {
    let running = Arc::new(AtomicBool::new(true));
    let mut stormers = Vec::new();
    if let Some(storm) = &storm {
        for _ in 0..storm.clients {
            let (client, running) = (client.clone(), Arc::clone(&running));
            let (base, email, password) = (
                storm.base.clone(),
                storm.email.clone(),
                storm.password.clone(),
            );
            stormers.push(tokio::spawn(async move {
                let (mut ok, mut busy) = (0, 0);
                while running.load(Ordering::Relaxed) {
                    match log_in(&client, &base, &email, &password).await {
                        Ok((StatusCode::OK | StatusCode::UNAUTHORIZED, _)) => ok += 1,
                        Ok((StatusCode::SERVICE_UNAVAILABLE, _)) => busy += 1,
                        _ => {}
                    }
                }
                (ok, busy)
            }));
        }
        // Let the storm build up before measuring.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let started = Instant::now();
    let mut readers = Vec::new();
    for token in tokens {
        let (client, uri, token) = (client.clone(), uri.to_owned(), token.clone());
        readers.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while started.elapsed() < duration {
                let sent = Instant::now();
                match call(&client, Method::GET, &uri, Some(&token), None).await {
                    Ok((StatusCode::OK, _)) => latencies.push(sent.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut run = Run {
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
        errors: 0,
        logins_ok: 0,
        logins_busy: 0,
    };
    for reader in readers {
        if let Ok((latencies, errors)) = reader.await {
            run.latencies.extend(latencies);
            run.errors += errors;
        }
    }
    run.elapsed = started.elapsed();
    running.store(false, Ordering::Relaxed);
    for stormer in stormers {
        if let Ok((ok, busy)) = stormer.await {
            run.logins_ok += ok;
            run.logins_busy += busy;
        }
    }
    run.latencies.sort();
    run
}

async fn sign_in(
    client: &HttpClient,
    base: &str,
    email: &str,
    secret: &[u8],
) -> Result<String, BoxError> {
    let (_, login) = log_in(client, base, email, PASSWORD).await?;
    let pending = login["token"].as_str().ok_or("login refused")?.to_owned();
    let code = totp::code_at(secret, SystemClock.now());
    let (_, session) = call(
        client,
        Method::POST,
        &format!("{base}/auth/mfa"),
        Some(&pending),
        Some(json!({ "code": code })),
    )
    .await?;
    Ok(session["token"].as_str().ok_or("mfa refused")?.to_owned())
}

async fn log_in(
    client: &HttpClient,
    base: &str,
    email: &str,
    password: &str,
) -> Result<(StatusCode, Value), BoxError> {
    call(
        client,
        Method::POST,
        &format!("{base}/auth/login"),
        None,
        Some(json!({ "email": email, "password": password })),
    )
    .await
}

async fn call(
    client: &HttpClient,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(StatusCode, Value), BoxError> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-session-transport", "bearer");
    if uri.contains("/auth/") {
        // A fresh address per authentication call (10.0.0.0/8, counting up).
        let n = NEXT_ADDRESS.fetch_add(1, Ordering::Relaxed);
        let [_, a, b, c] = n.to_be_bytes();
        request = request.header("x-forwarded-for", format!("10.{a}.{b}.{c}"));
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))?,
        None => request.body(Full::new(Bytes::new()))?,
    };
    let response = client.request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
