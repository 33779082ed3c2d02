//! `cargo xtask test [ARGS…]`: README's test command. `cargo test
//! --workspace ARGS…`, then how many tests were skipped for want of a
//! service (PostgreSQL, a browser) and the command that provides each
//! (et-testkit's `skip`), since libtest counts a skipped test as passed.
//! `cargo test --workspace` alone still works; it just prints no summary.

use std::path::PathBuf;

use et_testkit::skip;

use crate::{cargo, root};

/// Runs the workspace's tests with a fresh skip record, then prints the
/// summary; fails as `cargo test` did.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let record = record_file();
    match std::fs::remove_file(&record) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", record.display()))
        }
        _ => {}
    }
    let mut command = cargo();
    command
        .args(["test", "--workspace"])
        .args(args)
        .env(skip::RECORD_FILE, &record);
    let status = command
        .status()
        .map_err(|e| format!("could not start cargo test: {e}"))?;
    let recorded = std::fs::read_to_string(&record).unwrap_or_default();
    match skip::summary(&skip::read_record(&recorded)) {
        Some(summary) => println!("\nxtask test: {summary}"),
        None => println!("\nxtask test: no test skipped for want of a service"),
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test --workspace failed ({status})"))
    }
}

/// `target/et-skipped.txt` (or under `CARGO_TARGET_DIR`).
fn record_file() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join(skip::RECORD_NAME)
}
