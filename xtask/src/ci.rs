//! `cargo xtask ci`: the same checks as CI, in order, failing fast.

use std::time::Instant;

use crate::{cargo, run_status, secs};

/// One CI step: a name and the cargo arguments, plus an optional environment variable.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: Option<(&'static str, &'static str)>,
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        args: &["fmt", "--all", "--check"],
        env: None,
    },
    Step {
        name: "clippy",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: None,
    },
    Step {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps"],
        env: Some(("RUSTDOCFLAGS", "-Dwarnings")),
    },
    // Includes et-fuzz's corpus replay and et-cli's demo integration test.
    // et-cli enables aws-lc and openssl, so this tests every crate with all
    // three RSA backends.
    // README's test command: `cargo test --workspace` and the count of tests
    // skipped for want of a service (none under `.ci/run`'s
    // ET_REQUIRE_SERVICES=1, where a missing service fails its test).
    Step {
        name: "test",
        args: &["xtask", "test"],
        env: None,
    },
    // et-crypto with each backend alone and all together (its own crate
    // only, to keep CI time sane): the cfg paths the workspace build unifies away.
    Step {
        name: "et-crypto pure Rust",
        args: &["test", "-p", "et-crypto"],
        env: None,
    },
    Step {
        name: "et-crypto aws-lc",
        args: &["test", "-p", "et-crypto", "--features", "aws-lc"],
        env: None,
    },
    Step {
        name: "et-crypto openssl",
        args: &["test", "-p", "et-crypto", "--features", "openssl"],
        env: None,
    },
    Step {
        name: "et-crypto all backends",
        args: &["test", "-p", "et-crypto", "--features", "aws-lc,openssl"],
        env: None,
    },
    // The hot paths' instruction counts against the committed baseline
    // (valgrind, which `.ci/run` installs; gungraun's runner, which this installs).
    Step {
        name: "instructions",
        args: &["xtask", "instructions"],
        env: None,
    },
    // Merchant keys on a PKCS#11 token: SoftHSM2, which `.ci/run` installs.
    Step {
        name: "et-crypto pkcs11",
        args: &["test", "-p", "et-crypto", "--features", "pkcs11"],
        env: None,
    },
    // Its tests that need the test kit's token store, in et-tests (no
    // published crate dev-depends on the kit), with the same feature alone:
    // et-tests forwards `pkcs11` to et-crypto through et-cli.
    Step {
        name: "et-crypto pkcs11 (et-tests)",
        args: &[
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
        env: None,
    },
    // Licences, duplicate/banned crates and sources (deny.toml); `.ci/run`
    // installs cargo-deny. Advisories need a database CI cannot fetch: they
    // are checked separately (SECURITY.md).
    Step {
        name: "deny",
        args: &["deny", "check", "licenses", "bans", "sources"],
        env: None,
    },
    // Every publishable crate packaged, then built and tested from its package.
    Step {
        name: "package",
        args: &["xtask", "package"],
        env: None,
    },
];

/// Runs every step; stops at the first failure and names it.
pub(crate) fn run() -> Result<(), String> {
    let start = Instant::now();
    let mut timings = Vec::new();
    for step in STEPS {
        println!("xtask ci: == {} (cargo {})", step.name, step.args.join(" "));
        let mut cmd = cargo();
        cmd.args(step.args);
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

fn summary(timings: &[(&str, std::time::Duration)]) -> String {
    if timings.is_empty() {
        return "none".into();
    }
    timings
        .iter()
        .map(|(name, took)| format!("{name} {}", secs(*took)))
        .collect::<Vec<_>>()
        .join(", ")
}
