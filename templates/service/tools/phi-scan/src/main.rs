//! `phi-scan --staged` is the pre-commit hook (.githooks/pre-commit): it scans what is
//! about to be committed, as staged, and exits 1 when a file holds an identifier that
//! looks real. `phi-scan --tracked` scans every tracked file as it is on disk, e.g. after
//! enabling the hook in an existing clone.
//!
//! Exit codes: 0 nothing found, 1 identifiers found, 2 usage or git error.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use phi_scan::{Finding, SYNTHETIC_FIXTURES, scan_file};

const USAGE: &str = "usage: phi-scan --staged | --tracked";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let staged = match args.as_slice() {
        [flag] if flag == "--staged" => true,
        [flag] if flag == "--tracked" => false,
        _ => return report_error(USAGE),
    };
    match scan(staged) {
        Ok(findings) if findings.is_empty() => ExitCode::SUCCESS,
        Ok(findings) => {
            {
                let mut stdout = io::stdout().lock();
                for finding in &findings {
                    let _ = writeln!(stdout, "{finding}");
                }
            }
            let _ = writeln!(
                io::stderr(),
                "phi-scan: {} identifier(s) that look real. Real patient data never belongs \
                 in this repository: replace them with synthetic values, or move test data \
                 that must look valid to {SYNTHETIC_FIXTURES}.",
                findings.len()
            );
            ExitCode::from(1)
        }
        Err(error) => report_error(&format!("phi-scan: {error}")),
    }
}

fn report_error(message: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "{message}");
    ExitCode::from(2)
}

fn scan(staged: bool) -> io::Result<Vec<Finding>> {
    // git prints paths relative to the repository root, so work from there.
    let root = git(Path::new("."), &["rev-parse", "--show-toplevel"])?;
    let root = PathBuf::from(String::from_utf8_lossy(&root).trim());
    let listing = if staged {
        git(
            &root,
            &[
                "diff",
                "--cached",
                "--name-only",
                "--diff-filter=ACMR",
                "-z",
            ],
        )?
    } else {
        git(&root, &["ls-files", "-z"])?
    };
    let mut findings = Vec::new();
    for path in listing.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path);
        let content = if staged {
            git(&root, &["show", &format!(":{path}")])?
        } else {
            match fs::read(root.join(path.as_ref())) {
                Ok(content) => content,
                // Deleted but not yet staged, or a submodule: nothing to read.
                Err(_) => continue,
            }
        };
        findings.extend(scan_file(&path, &content));
    }
    Ok(findings)
}

fn git(dir: &Path, args: &[&str]) -> io::Result<Vec<u8>> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run git: {e}")))?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}
