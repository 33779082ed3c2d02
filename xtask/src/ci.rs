//! `cargo xtask ci`: the same checks as CI, in order, failing fast.

use std::time::Instant;

use crate::{cargo, run_status, secs};

/// One CI step: a name and the cargo arguments, plus an optional environment variable.
struct Step {
    name: String,
    args: Vec<&'static str>,
    env: Option<(&'static str, &'static str)>,
}

impl Step {
    /// `cargo {args}`, named `name`.
    fn cargo(name: &str, args: &[&'static str]) -> Step {
        Step {
            name: name.to_owned(),
            args: args.to_vec(),
            env: None,
        }
    }

    /// `cargo test` of [`CRYPTO_TESTS`] alone with `features` (none: pure
    /// Rust), named `et-crypto {label}`.
    fn crypto(label: &str, features: Option<&'static str>) -> Step {
        let mut args = vec!["test", "-p", CRYPTO_TESTS];
        args.extend(features.into_iter().flat_map(|f| ["--features", f]));
        Step::cargo(&format!("et-crypto {label}"), &args)
    }
}

/// The package whose tests run et-crypto with one backend set at a time.
const CRYPTO_TESTS: &str = "et-crypto";

/// et-crypto's backends alone and all together: label and `--features`.
const CRYPTO_BACKENDS: &[(&str, Option<&str>)] = &[
    ("pure Rust", None),
    ("aws-lc", Some("aws-lc")),
    ("openssl", Some("openssl")),
    ("all backends", Some("aws-lc,openssl")),
];

/// The steps, in the order they run.
fn steps() -> Vec<Step> {
    let mut steps = vec![
        Step::cargo("fmt", &["fmt", "--all", "--check"]),
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step {
            env: Some(("RUSTDOCFLAGS", "-Dwarnings")),
            ..Step::cargo("doc", &["doc", "--workspace", "--no-deps"])
        },
        // Includes et-fuzz's corpus replay and et-cli's demo integration test.
        // et-cli enables aws-lc and openssl, so this tests every crate with all
        // three RSA backends.
        // README's test command: `cargo test --workspace` and the count of tests
        // skipped for want of a service (none under `.ci/run`'s
        // ET_REQUIRE_SERVICES=1, where a missing service fails its test).
        Step::cargo("test", &["xtask", "test"]),
    ];
    // et-crypto with each backend alone and all together (its own crate
    // only, to keep CI time sane): the cfg paths the workspace build unifies away.
    steps.extend(
        CRYPTO_BACKENDS
            .iter()
            .map(|&(label, features)| Step::crypto(label, features)),
    );
    steps.extend([
        // The hot paths' instruction counts against the committed baseline
        // (valgrind, which `.ci/run` installs; gungraun's runner, which this installs).
        Step::cargo("instructions", &["xtask", "instructions"]),
        // Merchant keys on a PKCS#11 token: SoftHSM2, which `.ci/run` installs.
        Step::crypto("pkcs11", Some("pkcs11")),
        // Its tests that need the test kit's token store, in et-tests (no
        // published crate dev-depends on the kit), with the same feature
        // alone: et-tests forwards `pkcs11` to et-crypto through et-cli.
        Step::cargo(
            "et-crypto pkcs11 (et-tests)",
            &[
                "test",
                "-p",
                "et-tests",
                "--no-default-features",
                "--features",
                "pkcs11",
                "--test",
                "crypto",
                "--test",
                "crypto_pkcs11_login",
            ],
        ),
        // Licences, duplicate/banned crates and sources (deny.toml); `.ci/run`
        // installs cargo-deny. Advisories need a database CI cannot fetch: they
        // are checked separately (SECURITY.md).
        Step::cargo("deny", &["deny", "check", "licenses", "bans", "sources"]),
        // Every publishable crate packaged, then built and tested from its package.
        Step::cargo("package", &["xtask", "package"]),
    ]);
    steps
}

/// Runs every step; stops at the first failure and names it.
pub(crate) fn run() -> Result<(), String> {
    let start = Instant::now();
    let mut timings = Vec::new();
    for step in steps() {
        println!("xtask ci: == {} (cargo {})", step.name, step.args.join(" "));
        let mut cmd = cargo();
        cmd.args(&step.args);
        if let Some((key, value)) = step.env {
            cmd.env(key, value);
        }
        let took = run_status(&format!("ci step `{}`", step.name), &mut cmd).map_err(|e| {
            format!(
                "{e}; fix it and rerun `cargo xtask ci` (passed so far: {})",
                summary(&timings)
            )
        })?;
        println!("xtask ci: {} ok in {}", step.name, secs(took));
        timings.push((step.name, took));
    }
    println!(
        "xtask ci: all steps passed in {}: {}",
        secs(start.elapsed()),
        summary(&timings)
    );
    Ok(())
}

fn summary(timings: &[(String, std::time::Duration)]) -> String {
    if timings.is_empty() {
        return "none".into();
    }
    timings
        .iter()
        .map(|(name, took)| format!("{name} {}", secs(*took)))
        .collect::<Vec<_>>()
        .join(", ")
}
