//! Project automation for et-rs, run as `cargo xtask <command>`.
//!
//! * `test [ARGS…]`: README's test command: `cargo test --workspace`, then
//!   how many tests were skipped for want of a service, and how to get it.
//! * `ci`: the checks CI runs (fmt, clippy, doc, tests incl. the fuzz corpus
//!   replay and the demo), failing fast, with each step's duration.
//! * `fuzz [--target T] [--seconds N]`: every cargo-fuzz target (or one) on
//!   the nightly toolchain, with the executions each ran.
//! * `bench-report`: the criterion benches briefly plus `openssl speed`, in one
//!   table, then the webhook receiver end to end and `sandbox-load`, each
//!   target judged PASS or MISS.
//! * `instructions [--update]`: the hot paths' instruction counts under
//!   valgrind (gungraun), held against `benches/instructions-baseline.json`.
//! * `inbox-load`: et-inbox on PostgreSQL under load, a SIGKILL, ended
//!   connections and a PostgreSQL restart.
//! * `package`: packages every publishable crate, then builds and tests each
//!   from its package (`cargo publish --dry-run`, and more).
//! * `msrv`: checks the publishable crates on their declared `rust-version`.
//! * `sandbox-load`: the local sandbox under 1,000 keep-alive clients and a
//!   1,000-connection slowloris, in this process (it links the sandbox).
//! * `sandbox-memory`: the sandbox's peak RSS under three 18.7 MB envelopes
//!   at a time, valid and badly signed, the sandbox in a child process.
//!
//! Only `std::process::Command` drives the tools, apart from `sandbox-load`.

mod bench;
mod ci;
mod fuzz;
mod inbox_load;
mod instructions;
mod msrv;
mod package;
mod sandbox_load;
mod sandbox_memory;
mod test;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test [ARGS...]                     cargo test --workspace, then the tests skipped for want of a service
  ci                                 fmt, clippy, doc, tests (what CI runs)
  fuzz [--target T] [--seconds N]    run cargo-fuzz targets on nightly (default 60 s each)
  bench-report                       criterion benches + openssl speed, webhook and sandbox load; targets
  instructions [--update]            hot paths' instruction counts (valgrind) against the committed baseline
  inbox-load                         et-inbox on PostgreSQL: 20,000 deliveries; SIGKILL, ended connections, restart
  package                            package the publishable crates, build and test them from the packages
  msrv                               check the publishable crates with the toolchain of their rust-version
  sandbox-load                       1,000 keep-alive clients + 1,000 slowloris against the sandbox (~30 s)
  sandbox-memory                     the sandbox's peak RSS under 3 x 18.7 MB envelopes at a time, 10 rounds";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("ci") => ci::run(),
        Some("fuzz") => fuzz::Options::parse(&args[1..]).and_then(|o| fuzz::run(&o)),
        Some("bench-report") => bench::run(),
        Some("instructions") => instructions::run(&args[1..]),
        Some("inbox-load") => inbox_load::run(),
        Some("package") => package::run(),
        Some("msrv") => msrv::run(),
        Some("sandbox-load") => sandbox_load::run().map(drop),
        Some("sandbox-memory") => sandbox_memory::run(),
        // The sandbox process `sandbox-memory` starts (not for people).
        Some("sandbox-memory-serve") => match args.get(1) {
            Some(dir) => sandbox_memory::serve(dir),
            None => Err("sandbox-memory-serve DIR".into()),
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown or missing command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo the user invoked us with (so `cargo +nightly xtask` stays consistent).
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// A `cargo` of another toolchain (`+nightly`, `+1.85`): the rustup proxy on
/// PATH, not the toolchain's own binary, with the variables pinning ours removed.
fn toolchain_cargo(toolchain: &str) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{toolchain}")).current_dir(root());
    for var in ["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTDOC", "CARGO"] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `cmd` with inherited stdio; fails with `what` if it cannot start or exits non-zero.
fn run_status(what: &str, cmd: &mut Command) -> Result<Duration, String> {
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: could not start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(start.elapsed())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Formats a duration as seconds with one decimal.
fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
