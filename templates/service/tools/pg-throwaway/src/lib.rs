//! A throwaway PostgreSQL cluster: real PostgreSQL, never a mock, no Docker.
//!
//! [`Cluster::start`] runs `initdb` into a fresh temporary directory, starts the server on
//! a free port on 127.0.0.1 (its socket directory inside the temporary directory), and
//! hands back a superuser URL. The cluster is gone when the process ends, however it ends:
//! dropping the [`Cluster`] stops it, and a watchdog process stops it and removes its
//! directory once the process that started it has exited (a test binary keeps its cluster
//! in a `static`, which is never dropped; a panic or Ctrl-C skips destructors).
//!
//! PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
//! (`runuser`, or `setpriv`), which owns the temporary directory.
//!
//! The superuser has a random password (SCRAM), and the server listens on loopback only:
//! other local users cannot walk into the cluster while it runs.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Name of the cluster's superuser.
pub const SUPERUSER: &str = "postgres";

/// What went wrong starting a cluster. Each message says what to do.
#[derive(Debug)]
pub enum Error {
    /// `initdb` and `pg_ctl` were not found.
    MissingBinaries,
    /// Running as root, but there is no unprivileged `postgres` user to run the server as.
    NoPostgresUser,
    /// A file operation failed.
    Io(&'static str, io::Error),
    /// A PostgreSQL tool exited with an error; its output is attached.
    Command { what: String, output: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingBinaries => f.write_str(
                "PostgreSQL server binaries (initdb, pg_ctl) not found in PG_BINDIR, \
                 `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH: install postgresql \
                 (Debian: apt-get install postgresql)",
            ),
            Self::NoPostgresUser => f.write_str(
                "running as root, and PostgreSQL refuses to run as root: create an unprivileged \
                 `postgres` user (Debian: apt-get install postgresql creates it) or run as a \
                 normal user",
            ),
            Self::Io(what, error) => write!(f, "{what}: {error}"),
            Self::Command { what, output } => write!(f, "{what} failed:\n{output}"),
        }
    }
}

impl std::error::Error for Error {}

/// A running throwaway cluster.
pub struct Cluster {
    root: PathBuf,
    bindir: PathBuf,
    run_as: Option<String>,
    port: u16,
    password: String,
    watchdog: Option<Child>,
}

impl Cluster {
    /// Creates and starts a cluster, and arms the watchdog that removes it when this
    /// process exits.
    pub fn start() -> Result<Self, Error> {
        let bindir = find_bindir().ok_or(Error::MissingBinaries)?;
        let run_as = if is_root() {
            if !user_exists(SUPERUSER) {
                return Err(Error::NoPostgresUser);
            }
            Some(SUPERUSER.to_owned())
        } else {
            None
        };
        // As root, under /tmp: the `postgres` user must be able to reach the directory,
        // and a TMPDIR inside root's home would be closed to it.
        let parent = if run_as.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let root = tempfile::Builder::new()
            .prefix("pg-throwaway-")
            .tempdir_in(parent)
            .map_err(|e| Error::Io("cannot create a temporary directory", e))?
            .keep();
        let mut cluster = Cluster {
            root,
            bindir,
            run_as,
            port: 0,
            password: random_hex(24)?,
            watchdog: None,
        };
        // Armed before anything is started, so even a failed start is cleaned up.
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        cluster.init()?;
        cluster.run()?;
        Ok(cluster)
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for the superuser, to `database`.
    pub fn superuser_url(&self, database: &str) -> String {
        self.url(SUPERUSER, &self.password, database)
    }

    /// A URL for `user` with `password`, to `database`, on this cluster.
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The directory holding the data directory, the socket and the server log.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn init(&self) -> Result<(), Error> {
        let password_file = self.root.join("pwfile");
        std::fs::write(&password_file, &self.password)
            .map_err(|e| Error::Io("cannot write the password file", e))?;
        std::fs::create_dir(self.root.join("socket"))
            .map_err(|e| Error::Io("cannot create the socket directory", e))?;
        if let Some(user) = &self.run_as {
            chown_to(user, &self.root)?;
        }
        let result = self.pg_tool(
            "initdb",
            &[
                "--pgdata".as_ref(),
                self.data_dir().as_os_str(),
                "--username".as_ref(),
                SUPERUSER.as_ref(),
                "--pwfile".as_ref(),
                password_file.as_os_str(),
                "--auth".as_ref(),
                "scram-sha-256".as_ref(),
                "--encoding".as_ref(),
                "UTF8".as_ref(),
                "--locale".as_ref(),
                "C".as_ref(),
                // Throwaway data: no fsync while creating it either.
                "--no-sync".as_ref(),
            ],
        );
        let _ = std::fs::remove_file(&password_file);
        result.map(|_| ())
    }

    /// Starts the server on a free port; retries when another process takes the port
    /// between the probe and the start.
    fn run(&mut self) -> Result<(), Error> {
        let mut last_error = None;
        for _ in 0..3 {
            self.port = free_port()?;
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} \
                 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                 -c max_connections=200 -c shared_buffers=32MB",
                self.port,
                self.root.join("socket").display()
            );
            let log = self.root.join("server.log");
            match self.pg_tool(
                "pg_ctl",
                &[
                    "start".as_ref(),
                    "--pgdata".as_ref(),
                    self.data_dir().as_os_str(),
                    "--log".as_ref(),
                    log.as_os_str(),
                    "--wait".as_ref(),
                    "--timeout".as_ref(),
                    "60".as_ref(),
                    "-o".as_ref(),
                    options.as_ref(),
                ],
            ) {
                Ok(_) => return Ok(()),
                Err(error) => {
                    let server_log = std::fs::read_to_string(&log).unwrap_or_default();
                    last_error = Some(match error {
                        Error::Command { what, output } => Error::Command {
                            what,
                            output: format!("{output}\nserver log:\n{server_log}"),
                        },
                        other => other,
                    });
                }
            }
        }
        Err(last_error.unwrap_or(Error::MissingBinaries))
    }

    /// Runs a PostgreSQL tool from the cluster's bindir, as the `postgres` user when root.
    fn pg_tool(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Result<Output, Error> {
        let program = self.bindir.join(tool);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                if !has_program("runuser") {
                    command = Command::new("setpriv");
                    command
                        .arg(format!("--reuid={user}"))
                        .arg(format!("--regid={user}"))
                        .arg("--init-groups")
                        .arg(&program);
                }
                command
            }
            None => Command::new(&program),
        };
        let output = command
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Io("cannot run a PostgreSQL tool", e))?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(Error::Command {
                what: format!("{} {tool}", self.bindir.display()),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }

    /// A shell that waits for this process to exit, then stops the server (immediate
    /// shutdown: throwaway data needs no checkpoint) and removes the directory. It ignores
    /// the terminal's signals, so Ctrl-C cannot kill it before it has cleaned up.
    fn spawn_watchdog(&self) -> Result<Child, Error> {
        const SCRIPT: &str = r#"
trap '' INT HUP TERM QUIT
parent="$1"; root="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$root/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$root"
"#;
        Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("pg-throwaway-watchdog")
            .arg(std::process::id().to_string())
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Io("cannot start the cluster watchdog", e))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            let _ = self.pg_tool(
                "pg_ctl",
                &[
                    "stop".as_ref(),
                    "--pgdata".as_ref(),
                    self.data_dir().as_os_str(),
                    "--mode".as_ref(),
                    "immediate".as_ref(),
                    "--wait".as_ref(),
                ],
            );
        }
        let _ = std::fs::remove_dir_all(&self.root);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

/// Where `initdb` and `pg_ctl` are: `PG_BINDIR`, `pg_config --bindir`, the newest
/// `/usr/lib/postgresql/*/bin` (Debian, Ubuntu), or `PATH`.
pub fn find_bindir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BINDIR").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    if let Some(dir) = from_pg_config.filter(|dir| has_tools(dir)) {
        return Some(dir);
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    debian.sort();
    if let Some((_, dir)) = debian.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|dir| has_tools(dir)))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn has_program(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Gives `dir` and everything in it to `user`, who will run the server.
fn chown_to(user: &str, dir: &Path) -> Result<(), Error> {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:"))
        .arg(dir)
        .status()
        .map_err(|e| Error::Io("cannot run chown", e))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            what: format!("chown -R {user}: {}", dir.display()),
            output: String::new(),
        })
    }
}

fn free_port() -> Result<u16, Error> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| Error::Io("cannot find a free port on 127.0.0.1", e))
}

/// `bytes` random bytes from the operating system, as hex.
pub fn random_hex(bytes: usize) -> Result<String, Error> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|e| Error::Io("no operating system randomness", e.into()))?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_say_how_to_install_postgresql() {
        let message = Error::MissingBinaries.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
    }

    #[test]
    fn random_hex_is_long_and_fresh() {
        let a = random_hex(16).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_hex(16).unwrap());
    }
}
