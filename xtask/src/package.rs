//! `cargo xtask package`: `cargo publish --dry-run` for every publishable
//! crate at once, and their tests run from the packaged files.
//!
//! 1. `cargo metadata` names the crates whose `publish` allows crates.io.
//!    None takes an unpublished crate even as a dev-dependency: the tests
//!    that need the test kit live in `crates/et-tests` (docs/architecture.md).
//! 2. `cargo package --no-verify` packs them into `target/package/*.crate`.
//!    None is on crates.io yet; packaged together, cargo resolves their
//!    dependencies on each other through a local registry of the packages
//!    it just made.
//! 3. Each `.crate` is unpacked into `target/package-check/`, under a
//!    workspace manifest whose `[patch.crates-io]` points every published
//!    crate at its unpacked sibling, with the root's `Cargo.lock` (same
//!    dependency versions) and `[profile.*]` tables.
//! 4. `cargo test --workspace --all-features` there, in the root's target
//!    directory so dependencies already built by `cargo test --workspace`
//!    are reused. Every library, binary, example, test and README doctest
//!    builds from the packaged files alone and the tests run, so a crate
//!    that reaches outside its directory fails here though it works in the
//!    workspace: `include_str!("../../x")` at compile time,
//!    `CARGO_MANIFEST_DIR/..` at run time. `cargo publish --dry-run` itself
//!    builds only libraries and binaries, and cannot resolve crates that
//!    are not on crates.io yet.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::{cargo, root, run_status, secs};

/// One crate to publish.
pub(crate) struct Published {
    pub name: String,
    version: String,
    /// Its `rust-version`, if it declares one.
    pub rust_version: Option<String>,
}

impl Published {
    /// `name-version`: the `.crate` file's stem and its top directory.
    fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// Packages, unpacks, builds and tests every publishable crate.
pub(crate) fn run() -> Result<(), String> {
    let start = Instant::now();
    let (published, target_dir) = publishable()?;
    if published.is_empty() {
        return Err("no workspace crate has `publish = true`".into());
    }
    let names: Vec<&str> = published.iter().map(|p| p.name.as_str()).collect();
    println!("xtask package: {}", names.join(", "));
    let mut package = cargo();
    package.args(["package", "--no-verify", "--allow-dirty"]);
    for name in &names {
        package.args(["--package", name]);
    }
    run_status("cargo package", &mut package)?;

    let check = target_dir.join("package-check");
    unpack(&published, &target_dir.join("package"), &check)?;
    fs::write(check.join("Cargo.toml"), check_manifest(&published)?)
        .map_err(|e| format!("writing {}: {e}", check.display()))?;
    fs::copy(root().join("Cargo.lock"), check.join("Cargo.lock"))
        .map_err(|e| format!("copying Cargo.lock: {e}"))?;

    let mut test = cargo();
    test.current_dir(&check)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["test", "--workspace", "--all-features", "--no-fail-fast"]);
    run_status("building and testing the packaged crates", &mut test).map_err(|e| {
        format!(
            "{e}: a crate builds in the workspace but not from its package \
             (a file outside its directory, or one its package leaves out?); \
             the unpacked crates are in {}",
            check.display()
        )
    })?;
    println!(
        "xtask package: {} crates packaged, built and tested from their packages in {}",
        published.len(),
        secs(start.elapsed())
    );
    Ok(())
}

/// The crates `cargo metadata` says may go to crates.io (`publish` absent,
/// `true`, or listing `crates-io`), and the target directory.
pub(crate) fn publishable() -> Result<(Vec<Published>, PathBuf), String> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or("cargo metadata names no target_directory")?;
    let published = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata lists no packages")?
        .iter()
        .filter(|p| match &p["publish"] {
            Value::Null => true,
            Value::Array(registries) => registries.iter().any(|r| r == "crates-io"),
            _ => false,
        })
        .map(|p| Published {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            version: p["version"].as_str().unwrap_or_default().to_owned(),
            rust_version: p["rust_version"].as_str().map(str::to_owned),
        })
        .collect();
    Ok((published, PathBuf::from(target_dir)))
}

/// Unpacks each `.crate` from `from` into a fresh `check` directory.
fn unpack(published: &[Published], from: &Path, check: &Path) -> Result<(), String> {
    if check.exists() {
        fs::remove_dir_all(check).map_err(|e| format!("clearing {}: {e}", check.display()))?;
    }
    fs::create_dir_all(check).map_err(|e| format!("creating {}: {e}", check.display()))?;
    for p in published {
        let file = from.join(format!("{}.crate", p.dir_name()));
        // `--touch`: cargo stores one fixed mtime in every `.crate`, so the
        // packaged files' own mtimes would make a changed file look fresh.
        let mut tar = std::process::Command::new("tar");
        tar.args(["--touch", "-xzf"])
            .arg(&file)
            .arg("-C")
            .arg(check);
        run_status(&format!("unpacking {}", file.display()), &mut tar)?;
    }
    Ok(())
}

/// The unpacked crates as one workspace, each resolving the others (which
/// it names by version only, as on crates.io) to their unpacked copies.
fn check_manifest(published: &[Published]) -> Result<String, String> {
    let root_manifest = fs::read_to_string(root().join("Cargo.toml"))
        .map_err(|e| format!("reading Cargo.toml: {e}"))?;
    let members: Vec<String> = published
        .iter()
        .map(|p| format!("\"{}\"", p.dir_name()))
        .collect();
    let mut manifest = format!(
        "# Written by `cargo xtask package`.\n[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[patch.crates-io]\n",
        members.join(", ")
    );
    for p in published {
        manifest.push_str(&format!("{} = {{ path = \"{}\" }}\n", p.name, p.dir_name()));
    }
    manifest.push('\n');
    manifest.push_str(&profile_tables(&root_manifest));
    Ok(manifest)
}

/// The `[profile.*]` tables of a manifest, verbatim: the same profiles mean
/// the dependencies built for the workspace are reused, not rebuilt.
fn profile_tables(manifest: &str) -> String {
    let mut in_profile = false;
    let mut out = String::new();
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_profile = line.starts_with("[profile.");
        }
        if in_profile {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_tables_keep_only_profiles() {
        let manifest = "[workspace]\nmembers = []\n\n[profile.release]\ndebug = 1\n\n\
                        [workspace.dependencies]\nx = \"1\"\n\n[profile.dev.package.\"*\"]\nopt-level = 2\n";
        assert_eq!(
            profile_tables(manifest),
            "[profile.release]\ndebug = 1\n\n[profile.dev.package.\"*\"]\nopt-level = 2\n"
        );
    }
}
