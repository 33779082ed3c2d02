//! `cargo xtask instructions [--update]`: the instruction counts of the hot
//! paths (`benches/benches/instructions.rs`, gungraun over valgrind's
//! callgrind), held against `benches/instructions-baseline.json`.
//!
//! A count repeats for the same binary whatever else the machine does, so a
//! path that now takes more than [`TOLERANCE`] over its baseline fails the
//! run (CI runs this). `--update` writes the baseline from this run instead;
//! the closing note of a change that moves it says why.
//!
//! gungraun's runner must be the version of the gungraun library in
//! Cargo.lock: this installs it (`cargo install --locked`) when it is missing
//! or another version.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run_status};

/// How far a count may rise over its baseline before the run fails. Counts
/// that go through RSA move by up to ±0.3 % between runs (blinding); the
/// others repeat to the instruction, or within a few hundred instructions
/// when the allocator takes another path.
const TOLERANCE: f64 = 0.03;

/// Where the baseline lives, from the workspace root.
const BASELINE: &str = "benches/instructions-baseline.json";

/// Ratios the report states: (name, numerator, denominator, what it says).
const RATIOS: &[(&str, &str, &str)] = &[
    (
        "notification verify / its salted MD5",
        "proto/notification_verify.payment_6_fields",
        "proto/notification_md5.payment_6_fields",
    ),
    (
        "envelope build without RSA / with",
        "proto/envelope_build.create_order_without_rsa",
        "proto/envelope_build.create_order",
    ),
    (
        "50-order open without RSA / with",
        "proto/response_open.query_50_orders_without_rsa",
        "proto/response_open.query_50_orders",
    ),
];

/// Runs the benches and compares (or, with `--update`, rewrites) the baseline.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let update = match args {
        [] => false,
        [flag] if flag == "--update" => true,
        _ => return Err("usage: cargo xtask instructions [--update]".into()),
    };
    require_valgrind()?;
    ensure_runner()?;
    let out_dir = root().join("target/gungraun/benches/instructions");
    // Old results of a bench renamed since would otherwise be read as current.
    let _ = fs::remove_dir_all(&out_dir);
    run_status(
        "the instruction-count benches",
        cargo().args(["bench", "-p", "benches", "--bench", "instructions"]),
    )?;
    let counts = read_counts(&out_dir)?;
    let baseline_path = root().join(BASELINE);
    if update {
        let json = serde_json::to_string_pretty(&counts).map_err(|e| e.to_string())?;
        fs::write(&baseline_path, json + "\n")
            .map_err(|e| format!("{}: {e}", baseline_path.display()))?;
        println!(
            "xtask instructions: wrote {BASELINE} ({} counts)",
            counts.len()
        );
        return report(&counts, &counts);
    }
    let text = fs::read_to_string(&baseline_path)
        .map_err(|e| format!("{}: {e} (write it with --update)", baseline_path.display()))?;
    let baseline: BTreeMap<String, u64> =
        serde_json::from_str(&text).map_err(|e| format!("{BASELINE}: {e}"))?;
    report(&counts, &baseline)
}

/// Prints each count beside its baseline and the ratios; fails on a
/// regression beyond [`TOLERANCE`] or a bench missing from either side.
fn report(counts: &BTreeMap<String, u64>, baseline: &BTreeMap<String, u64>) -> Result<(), String> {
    println!(
        "{:<52} {:>12} {:>12} {:>8}",
        "bench", "instructions", "baseline", "change"
    );
    let mut failures = Vec::new();
    for (name, &now) in counts {
        let Some(&then) = baseline.get(name) else {
            failures.push(format!("{name}: not in {BASELINE} (add it with --update)"));
            continue;
        };
        let change = now as f64 / then as f64 - 1.0;
        let verdict = if change > TOLERANCE { "REGRESSED" } else { "" };
        println!(
            "{name:<52} {now:>12} {then:>12} {:>+7.2}% {verdict}",
            change * 100.0
        );
        if change > TOLERANCE {
            failures.push(format!(
                "{name}: {now} instructions, {:+.2}% over the baseline's {then}",
                change * 100.0
            ));
        }
    }
    failures.extend(
        baseline
            .keys()
            .filter(|name| !counts.contains_key(*name))
            .map(|name| format!("{name}: in {BASELINE} but no longer measured")),
    );
    for (what, numerator, denominator) in RATIOS {
        if let (Some(n), Some(d)) = (counts.get(*numerator), counts.get(*denominator)) {
            println!("{what}: {:.2}×", *n as f64 / *d as f64);
        }
    }
    if failures.is_empty() {
        println!(
            "xtask instructions: every count within {:.0}% of its baseline",
            TOLERANCE * 100.0
        );
        Ok(())
    } else {
        Err(format!(
            "instruction counts over the baseline by more than {:.0}%:\n  {}\n\
             (if the change is intended, run `cargo xtask instructions --update` and say why)",
            TOLERANCE * 100.0,
            failures.join("\n  ")
        ))
    }
}

/// Every bench's instruction count (callgrind's `Ir`), keyed `group/bench.id`.
fn read_counts(out_dir: &Path) -> Result<BTreeMap<String, u64>, String> {
    let mut counts = BTreeMap::new();
    for group in read_dir(out_dir)? {
        for bench in read_dir(&group)? {
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
            let (Some(group_name), Some(bench_name)) = (name(&group), name(&bench)) else {
                continue;
            };
            let out = bench.join(format!("callgrind.{bench_name}.out"));
            let text = fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let ir =
                instructions(&text).ok_or_else(|| format!("{}: no Ir total", out.display()))?;
            counts.insert(format!("{group_name}/{bench_name}"), ir);
        }
    }
    if counts.is_empty() {
        return Err(format!("no results under {}", out_dir.display()));
    }
    Ok(counts)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    paths.sort();
    Ok(paths)
}

/// The `Ir` figure of a callgrind output file: the column of `Ir` in its
/// `events:` line, read from its `summary:` line.
fn instructions(callgrind_out: &str) -> Option<u64> {
    let line = |prefix: &str| {
        callgrind_out
            .lines()
            .find_map(|l| l.strip_prefix(prefix).map(str::split_whitespace))
    };
    let column = line("events:")?.position(|event| event == "Ir")?;
    line("summary:")?.nth(column)?.parse().ok()
}

fn require_valgrind() -> Result<(), String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("valgrind is not installed (Debian: apt-get install valgrind)".into()),
    }
}

/// Installs gungraun-runner at the version of the gungraun library in Cargo.lock.
fn ensure_runner() -> Result<(), String> {
    let lock = fs::read_to_string(root().join("Cargo.lock")).map_err(|e| e.to_string())?;
    let version = locked_version(&lock, "gungraun").ok_or("gungraun is not in Cargo.lock")?;
    let installed = Command::new("gungraun-runner")
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains(&version))
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    run_status(
        "installing gungraun-runner",
        cargo().args([
            "install",
            "--locked",
            "gungraun-runner",
            "--version",
            &version,
        ]),
    )
    .map(drop)
}

/// The version Cargo.lock records for `package`.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    lines.find(|l| *l == name_line)?;
    let version = lines
        .next()?
        .strip_prefix("version = \"")?
        .strip_suffix('"')?;
    Some(version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instruction_count_is_read_from_the_ir_column_of_the_summary() {
        let out = "version: 1\nevents: Dr Ir Dw\nsummary: 5 2949 7\ntotals: 5 2949 7\n";
        assert_eq!(instructions(out), Some(2949));
        assert_eq!(instructions("events: Dr\nsummary: 5\n"), None);
    }

    #[test]
    fn the_locked_version_is_the_line_after_the_package_name() {
        let lock = "[[package]]\nname = \"gungraun\"\nversion = \"0.20.0\"\n";
        assert_eq!(locked_version(lock, "gungraun").as_deref(), Some("0.20.0"));
        assert_eq!(locked_version(lock, "gungraun-runner"), None);
    }
}
