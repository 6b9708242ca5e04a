//! A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, a free
//! port on loopback, run as the unprivileged `postgres` user when the tests run as root
//! (the server refuses to run as root), stopped and deleted on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

pub struct Cluster {
    root: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    run_as: Option<&'static str>,
}

impl Cluster {
    pub fn start() -> Cluster {
        let bin = postgres_bin_dir().expect(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql \
             (Debian: apt-get install postgresql)",
        );
        let root = tempfile::tempdir().expect("temporary directory");
        let run_as = is_root().then_some("postgres");
        if let Some(user) = run_as {
            let status = Command::new("chown")
                .args([user, &root.path().to_string_lossy()])
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "cannot hand {} to {user}",
                root.path().display()
            );
        }
        let port = free_port();
        let cluster = Cluster {
            root,
            bin,
            port,
            run_as,
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
                "-D",
                &data.to_string_lossy(),
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            cluster.root.path().display()
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &cluster.root.path().join("server.log").to_string_lossy(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        cluster
    }

    /// A URL for database `name` as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one SQL statement with psql and returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .arg(self.url(database))
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        let output = command.args(args).output().expect("PostgreSQL tool runs");
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

/// Debian keeps the server tools in a versioned directory, not on PATH; some machines
/// link a few of them onto PATH as well. Prefer a directory that has them all.
fn postgres_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &PathBuf| {
        ["initdb", "pg_ctl", "psql"]
            .iter()
            .all(|t| dir.join(t).is_file())
    };
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|versions| versions.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versioned.sort();
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    versioned.into_iter().rev().chain(on_path).find(complete)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}
