//! `cargo xtask msrv`: the publishable crates on the toolchain their
//! `rust-version` names.
//!
//! Installs that toolchain with rustup if it is missing (minimal profile),
//! then `cargo +VERSION check --locked --all-features --lib --bins` for every
//! publishable crate, in `target/msrv` so the workspace's own artifacts stay.
//! Tests are not checked: `rust-version` promises that merchants can build
//! the crates, and dev-dependencies such as proptest need newer compilers.

use std::time::Instant;

use crate::package::publishable;
use crate::{run_status, secs, toolchain_cargo};

/// Checks every publishable crate with the toolchain of its `rust-version`.
pub(crate) fn run() -> Result<(), String> {
    let start = Instant::now();
    let (published, target_dir) = publishable()?;
    let mut versions: Vec<&str> = published
        .iter()
        .map(|p| {
            p.rust_version
                .as_deref()
                .ok_or_else(|| format!("{} declares no rust-version", p.name))
        })
        .collect::<Result<_, _>>()?;
    versions.sort_unstable();
    versions.dedup();
    let [version] = versions[..] else {
        return Err(format!(
            "the publishable crates declare different rust-versions: {versions:?}"
        ));
    };
    run_status(
        &format!("rustup toolchain install {version}"),
        std::process::Command::new("rustup").args([
            "toolchain",
            "install",
            version,
            "--profile",
            "minimal",
        ]),
    )?;
    let mut check = toolchain_cargo(version);
    check
        .args(["check", "--locked", "--all-features", "--lib", "--bins"])
        .arg("--target-dir")
        .arg(target_dir.join("msrv"));
    for p in &published {
        check.args(["--package", &p.name]);
    }
    run_status(&format!("cargo +{version} check"), &mut check)?;
    println!(
        "xtask msrv: {} crates build on Rust {version} ({})",
        published.len(),
        secs(start.elapsed())
    );
    Ok(())
}
