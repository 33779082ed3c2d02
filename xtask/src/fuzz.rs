//! `cargo xtask fuzz`: runs the cargo-fuzz targets on nightly and counts executions.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{root, run_status};

/// Command-line options of `cargo xtask fuzz`.
pub(crate) struct Options {
    target: Option<String>,
    seconds: u64,
}

impl Options {
    /// Parses `[--target T] [--seconds N]`.
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            target: None,
            seconds: 60,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--target" => options.target = Some(value()?),
                "--seconds" => {
                    let v = value()?;
                    options.seconds = v
                        .parse()
                        .map_err(|_| format!("--seconds takes a whole number, got {v:?}"))?;
                }
                other => return Err(format!("unknown fuzz option {other:?}")),
            }
        }
        Ok(options)
    }
}

/// What one target's run produced.
struct Outcome {
    target: String,
    executions: Option<u64>,
    crash: Option<String>,
}

/// Installs cargo-fuzz if needed, then fuzzes each selected target in turn.
pub(crate) fn run(options: &Options) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let all = targets()?;
    let selected: Vec<String> = match &options.target {
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => return Err(format!("no fuzz target {t:?}; targets: {}", all.join(", "))),
        None => all,
    };
    let outcomes = selected
        .iter()
        .map(|t| fuzz_one(t, options.seconds))
        .collect::<Result<Vec<_>, _>>()?;
    println!("\n{:<28} {:>14}  result", "target", "executions");
    for o in &outcomes {
        let execs = o.executions.map_or("?".into(), |n| n.to_string());
        let result = o.crash.as_deref().unwrap_or("no crash");
        println!("{:<28} {:>14}  {result}", o.target, execs);
    }
    let crashed = outcomes.iter().filter(|o| o.crash.is_some()).count();
    if crashed > 0 {
        return Err(format!(
            "{crashed} target(s) crashed; reproducers are in fuzz/artifacts/<target>/"
        ));
    }
    Ok(())
}

fn nightly_cargo() -> Command {
    crate::toolchain_cargo("nightly")
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = nightly_cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    println!("xtask fuzz: cargo-fuzz missing, installing it (cargo install cargo-fuzz --locked)");
    run_status(
        "cargo install cargo-fuzz",
        Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]),
    )
    .map(drop)
}

/// The targets are the files in fuzz/fuzz_targets/.
fn targets() -> Result<Vec<String>, String> {
    let dir = root().join("fuzz/fuzz_targets");
    let entries = fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Fuzzes one target. New inputs go to a scratch corpus under fuzz/target so the
/// committed seed corpus (read-only here) stays small.
fn fuzz_one(target: &str, seconds: u64) -> Result<Outcome, String> {
    let scratch = root().join("fuzz/target/corpus-work").join(target);
    fs::create_dir_all(&scratch).map_err(|e| format!("creating {}: {e}", scratch.display()))?;
    let seeds = root().join("fuzz/corpus").join(target);
    println!("xtask fuzz: == {target} for {seconds} s");
    let mut child = nightly_cargo()
        // Safe Rust only (unsafe_code = forbid): ASan would halve throughput for nothing.
        .args(["fuzz", "run", "--sanitizer", "none", target])
        .arg(&scratch)
        .arg(&seeds)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-print_final_stats=1",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting cargo fuzz: {e}"))?;
    let mut log = LogScan::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            log.scan(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo fuzz: {e}"))?;
    let crash = (!status.success()).then(|| log.crash_summary(&status.to_string()));
    Ok(Outcome {
        target: target.to_owned(),
        executions: log.executions,
        crash,
    })
}

/// What we learn from libFuzzer's stderr.
#[derive(Default)]
struct LogScan {
    executions: Option<u64>,
    panic: Option<String>,
    artifact: Option<String>,
}

impl LogScan {
    fn scan(&mut self, line: &str) {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            self.executions = n.trim().parse().ok().or(self.executions);
        } else if let Some(n) = done_count(line) {
            // `#N DONE` comes first; the final stat line, when printed, overrides it.
            self.executions.get_or_insert(n);
        } else if line.contains("panicked at") {
            self.panic.get_or_insert_with(|| line.trim().to_owned());
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.artifact = Some(path.trim().to_owned());
        }
    }

    fn crash_summary(&self, status: &str) -> String {
        format!(
            "CRASH ({status}): {} -> {}",
            self.panic.as_deref().unwrap_or("no panic message"),
            self.artifact.as_deref().unwrap_or("no artifact written")
        )
    }
}

/// Parses libFuzzer's `#123456\tDONE   cov: ...` line.
fn done_count(line: &str) -> Option<u64> {
    let rest = line.strip_prefix('#')?;
    let (count, tail) = rest.split_once(char::is_whitespace)?;
    tail.trim_start()
        .starts_with("DONE")
        .then(|| count.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_executions_and_crashes_from_libfuzzer_output() {
        let mut log = LogScan::default();
        log.scan("#4096\tpulse  cov: 10 ft: 12 corp: 3/40b exec/s: 2048 rss: 40Mb");
        log.scan("#52133\tDONE   cov: 410 ft: 900 corp: 80/2Kb exec/s: 868 rss: 70Mb");
        assert_eq!(log.executions, Some(52133));
        log.scan("stat::number_of_executed_units: 52134");
        assert_eq!(log.executions, Some(52134));
        log.scan("thread '<unnamed>' panicked at src/lib.rs:3:5:");
        log.scan("Test unit written to fuzz/artifacts/t/crash-abc");
        let summary = log.crash_summary("exit status: 77");
        assert!(summary.contains("src/lib.rs:3:5"), "{summary}");
        assert!(summary.ends_with("fuzz/artifacts/t/crash-abc"), "{summary}");
    }

    #[test]
    fn parses_options() {
        let args = ["--target", "aes_decrypt", "--seconds", "5"].map(String::from);
        let o = Options::parse(&args).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.target.as_deref(), o.seconds), (Some("aes_decrypt"), 5));
        assert!(Options::parse(&["--seconds".into(), "x".into()]).is_err());
    }
}
