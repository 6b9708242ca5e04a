//! TLS 1.3 terminated in this process with rustls (the `tls = rustls` answer), so no
//! proxy between client and service sees plaintext. TLS 1.2 and older are refused at the
//! handshake. HIPAA 164.312(a)(2)(iv); OWASP ASVS V14.1; HIPAA 164.312(e)(1) transmission security; GDPR
//! Art. 32; nDSG Art. 8.
//!
//! The certificate chain and private key come from the PEM files named by `TLS_CERT_FILE`
//! and `TLS_KEY_FILE` ([`crate::config::TlsFiles`]); they are read once at startup, and
//! a missing, unreadable or invalid file stops the service before it listens.

use std::{
    fmt, io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, mpsc},
};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// The stream of one accepted TLS connection.
pub type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// How long a client may take to complete the handshake before its connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many handshakes may be in progress at once; further connections wait in the
/// kernel's backlog.
pub const MAX_PENDING_HANDSHAKES: usize = 1024;

/// Reads the certificate chain and key named by `files` and builds the TLS 1.3-only
/// server configuration.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certificates(&files.cert)?;
    let key = read_private_key(&files.key)?;
    server_config_from(certs, key)
}

/// The TLS 1.3-only server configuration for a certificate chain (leaf first) and its key.
pub fn server_config_from(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    // The provider is named rather than taken from the process default, so that another
    // dependency enabling a second provider cannot change or break it.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|error| TlsError::Rejected(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| TlsError::Rejected(error.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|error| pem_error("TLS_CERT_FILE", path, error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error("TLS_CERT_FILE", path, error))?;
    if certs.is_empty() {
        return Err(TlsError::Invalid {
            variable: "TLS_CERT_FILE",
            path: path.to_owned(),
            reason: "holds no PEM certificate".to_owned(),
        });
    }
    Ok(certs)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| pem_error("TLS_KEY_FILE", path, error))
}

/// Never quotes the file's contents: a key file's bytes stay out of logs.
fn pem_error(variable: &'static str, path: &Path, error: rustls_pki_types::pem::Error) -> TlsError {
    use rustls_pki_types::pem::Error;
    let reason = match error {
        Error::Io(error) => {
            return TlsError::Unreadable {
                variable,
                path: path.to_owned(),
                error: error.to_string(),
            };
        }
        Error::NoItemsFound if variable == "TLS_KEY_FILE" => {
            "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"
        }
        Error::NoItemsFound => "holds no PEM certificate",
        Error::SectionTooLarge => "holds a PEM section that is too large",
        _ => "is not valid PEM",
    };
    TlsError::Invalid {
        variable,
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Why the TLS listener cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsError {
    /// The file cannot be opened or read.
    Unreadable {
        variable: &'static str,
        path: PathBuf,
        error: String,
    },
    /// The file is not what the variable names.
    Invalid {
        variable: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// rustls refused the certificate and key (a key that does not fit the certificate).
    Rejected(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable {
                variable,
                path,
                error,
            } => write!(f, "{variable}={} cannot be read: {error}", path.display()),
            Self::Invalid {
                variable,
                path,
                reason,
            } => write!(f, "{variable}={} {reason}", path.display()),
            Self::Rejected(error) => write!(
                f,
                "TLS_CERT_FILE and TLS_KEY_FILE do not make a usable certificate: {error}"
            ),
        }
    }
}

impl std::error::Error for TlsError {}

/// A listener that hands [`axum::serve`] only connections whose TLS 1.3 handshake has
/// completed. Handshakes run in their own tasks with a timeout, so a slow or silent client
/// cannot hold up the others.
pub struct TlsListener {
    local_addr: SocketAddr,
    handshaken: mpsc::Receiver<(TlsStream, SocketAddr)>,
}

impl TlsListener {
    /// Accepts TCP connections on `listener` and completes their handshakes with `config`.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (sender, handshaken) = mpsc::channel(64);
        tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), sender));
        Ok(Self {
            local_addr,
            handshaken,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream, SocketAddr)>,
) {
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    loop {
        let Ok(permit) = pending.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            () = sender.closed() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    drop(permit);
                    // Fails only when the server is shutting down.
                    let _ = sender.send((stream, remote)).await;
                }
                // A refused protocol version lands here: no request is ever read.
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(accepted) => accepted,
            // The accept loop has stopped; serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}
