//! TLS 1.3 terminated in-process (`tls = rustls`): the real listener on a loopback port,
//! with a throwaway self-signed certificate generated for the run (no key is committed).
//! HIPAA 164.312(a)(2)(iv); HIPAA 164.312(e)(1) transmission security.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use rustls::pki_types::{CertificateDer, ServerName};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};
use tokio_rustls::TlsConnector;

use ::service::{
    AppState,
    config::{Config, TlsFiles},
    tls::{self, TlsError},
};

/// PEM files of a fresh self-signed certificate for `localhost`, removed on drop.
struct TestCertificate {
    dir: PathBuf,
    files: TlsFiles,
    der: CertificateDer<'static>,
}

impl TestCertificate {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "tls-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let files = TlsFiles {
            cert: dir.join("chain.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, generated.cert.pem()).unwrap();
        std::fs::write(&files.key, generated.signing_key.serialize_pem()).unwrap();
        Self {
            dir,
            files,
            der: generated.cert.der().clone(),
        }
    }
}

impl Drop for TestCertificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The service behind the real TLS listener on 127.0.0.1, with a database it never
/// reaches (`/healthz` needs none). Stops when dropped.
struct TlsServer {
    addr: SocketAddr,
    certificate: TestCertificate,
    _stop: oneshot::Sender<()>,
}

impl TlsServer {
    async fn start() -> Self {
        let certificate = TestCertificate::new();
        let tls_config = tls::server_config(&certificate.files).unwrap();
        let config = Config::from_lookup(|_| None).unwrap();
        let options = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(9)
            .username("nobody");
        let state = AppState::new(PgPoolOptions::new().connect_lazy_with(options), &config)
            .expect("the shipped vendor list holds");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(::service::serve_tls(listener, tls_config, state, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            certificate,
            _stop: stop,
        }
    }

    /// A client that trusts the server's certificate and offers only `versions`.
    fn client(&self, versions: &[&'static rustls::SupportedProtocolVersion]) -> TlsConnector {
        client_trusting(&self.certificate.der, versions)
    }
}

/// A client that trusts `certificate` and offers only `versions`.
fn client_trusting(
    certificate: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

#[tokio::test]
async fn tls12_client_is_refused() {
    let server = TlsServer::start().await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let result = server
        .client(&[&rustls::version::TLS12])
        .connect(localhost(), tcp)
        .await;
    let Err(error) = result else {
        panic!("a TLS 1.2-only client must not get a session");
    };
    assert!(
        error.to_string().contains("ProtocolVersion"),
        "expected a protocol_version alert, got: {error}"
    );
}

#[tokio::test]
async fn tls13_client_is_served() {
    let server = TlsServer::start().await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut stream = server
        .client(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .connect(localhost(), tcp)
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );

    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    // A peer that closes without close_notify ends the read with an error; what arrived
    // before it is the response.
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 200"), "{response}");
    assert!(
        response.contains("strict-transport-security: max-age="),
        "{response}"
    );
    assert!(response.ends_with(r#"{"status":"ok"}"#), "{response}");
}

/// The `serve` command of the built binary, as an operator starts it: certificate files
/// from the environment, on a development database, and the in-process tests above are not
/// the only proof that the listener refuses TLS 1.2 (HIPAA 164.312(e)(1)).
struct ServedBinary {
    child: std::process::Child,
    addr: SocketAddr,
    certificate: TestCertificate,
    _db: crate::support::TestDb,
}

impl ServedBinary {
    async fn start() -> Self {
        let db = crate::support::TestDb::new().await;
        let certificate = TestCertificate::new();
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap()
        };
        let child = std::process::Command::new(crate::support::binary())
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", &db.service_url)
            .env("BIND_ADDR", addr.to_string())
            .env("TLS_CERT_FILE", &certificate.files.cert)
            .env("TLS_KEY_FILE", &certificate.files.key)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while TcpStream::connect(addr).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "serve never listened");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self {
            child,
            addr,
            certificate,
            _db: db,
        }
    }
}

impl Drop for ServedBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_built_binary_refuses_tls12_and_serves_tls13() {
    let served = ServedBinary::start().await;
    let der = &served.certificate.der;
    let tcp = TcpStream::connect(served.addr).await.unwrap();
    let refused = client_trusting(der, &[&rustls::version::TLS12])
        .connect(localhost(), tcp)
        .await;
    assert!(refused.is_err(), "a TLS 1.2-only client got a session");
    let tcp = TcpStream::connect(served.addr).await.unwrap();
    let stream = client_trusting(der, &[&rustls::version::TLS13, &rustls::version::TLS12])
        .connect(localhost(), tcp)
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[test]
fn missing_or_invalid_certificate_files_stop_the_start() {
    let certificate = TestCertificate::new();

    let missing = TlsFiles {
        cert: certificate.dir.join("no-such-chain.pem"),
        key: certificate.files.key.clone(),
    };
    let error = tls::server_config(&missing).unwrap_err();
    assert!(
        matches!(
            error,
            TlsError::Unreadable {
                variable: "TLS_CERT_FILE",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().starts_with("TLS_CERT_FILE="), "{error}");

    let not_pem = certificate.dir.join("not-pem.txt");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let error = tls::server_config(&TlsFiles {
        cert: not_pem.clone(),
        key: certificate.files.key.clone(),
    })
    .unwrap_err();
    assert!(
        matches!(
            error,
            TlsError::Invalid {
                variable: "TLS_CERT_FILE",
                ..
            }
        ),
        "{error}"
    );

    // The certificate where the key should be: no private key in it.
    let error = tls::server_config(&TlsFiles {
        cert: certificate.files.cert.clone(),
        key: certificate.files.cert.clone(),
    })
    .unwrap_err();
    assert!(
        matches!(
            error,
            TlsError::Invalid {
                variable: "TLS_KEY_FILE",
                ..
            }
        ),
        "{error}"
    );

    // A key that belongs to another certificate.
    let other = TestCertificate::new();
    let error = tls::server_config(&TlsFiles {
        cert: certificate.files.cert.clone(),
        key: other.files.key.clone(),
    })
    .unwrap_err();
    assert!(matches!(error, TlsError::Rejected(_)), "{error}");

    assert!(tls::server_config(&certificate.files).is_ok());
}
