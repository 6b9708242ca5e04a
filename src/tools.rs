//! The programs medforge runs but does not ship: sqlx-cli and PostgreSQL's. Where each is
//! found, and the one line that installs it, said whenever one is missing (exit 2).

use std::ffi::OsStr;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The sqlx-cli release medforge's CI installs (`.ci/run`), matching the generated
/// project's sqlx.
pub const SQLX_CLI_VERSION: &str = "0.9.0";
/// How to get sqlx-cli, said whenever it is missing.
pub const SQLX_INSTALL: &str = "cargo install --locked sqlx-cli --version 0.9.0 \
                                --no-default-features --features postgres,rustls";
pub const POSTGRES_INSTALL: &str =
    "apt-get install postgresql (Debian, Ubuntu) or brew install postgresql (macOS)";

/// sqlx-cli's `sqlx`, or what to install.
pub fn find_sqlx() -> Result<PathBuf> {
    find_on_path("sqlx").ok_or_else(|| Error::MissingTool {
        tool: "sqlx-cli",
        install: SQLX_INSTALL.to_owned(),
    })
}

/// A program on PATH.
pub fn find_on_path(tool: impl AsRef<OsStr>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool.as_ref()))
        .find(|candidate| candidate.is_file())
}

/// A PostgreSQL program: on PATH, or in Debian's versioned directories, which are not.
pub fn find_postgres_tool(tool: &str) -> Option<PathBuf> {
    find_on_path(tool).or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|version| version.path().join("bin").join(tool))
            .filter(|candidate| candidate.is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pinned sqlx-cli: the install line medforge prints is the one its CI runs.
    #[test]
    fn the_sqlx_install_line_pins_the_version_ci_installs() {
        assert!(
            SQLX_INSTALL.contains(&format!("--version {SQLX_CLI_VERSION} ")),
            "{SQLX_INSTALL}"
        );
        let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
        assert!(
            ci.contains(&format!("sqlx-cli --version {SQLX_CLI_VERSION} ")),
            "{ci}"
        );
    }
}
