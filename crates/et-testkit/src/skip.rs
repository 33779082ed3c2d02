//! A test that needs a service (PostgreSQL, a browser…) and does not find
//! it: skipped loudly and counted, or failed under `ET_REQUIRE_SERVICES=1`.
//!
//! libtest has no "skipped" outcome: a test that returns early passes. So
//! each skip is also recorded, one line in [`record_file`], and
//! `cargo xtask test` (README's test command: `cargo test --workspace`
//! plus this summary) prints how many tests were skipped, for want of
//! which service, and the command that provides it. `.ci/run` sets
//! `ET_REQUIRE_SERVICES=1`, where a missing service fails the test instead.

use std::io::Write;
use std::path::PathBuf;

/// The variable that makes a missing service a failure (`.ci/run` sets it to `1`).
pub const REQUIRE_SERVICES: &str = "ET_REQUIRE_SERVICES";
/// The variable naming the record file (`cargo xtask test` sets it).
pub const RECORD_FILE: &str = "ET_SKIPPED_FILE";
/// The record file's name in the target directory, when [`RECORD_FILE`] is not set.
pub const RECORD_NAME: &str = "et-skipped.txt";

/// `found`, or, when it is `None`: under `ET_REQUIRE_SERVICES=1` a panic
/// (the test fails), otherwise a loud `SKIPPED` on stderr and a line in
/// [`record_file`], and `None` (the test returns). `test` names the test,
/// `service` what it needs ("PostgreSQL"), `how_to_get` the command or
/// setting that provides it.
pub fn require_service<T>(
    found: Option<T>,
    test: &str,
    service: &str,
    how_to_get: &str,
) -> Option<T> {
    if found.is_some() {
        return found;
    }
    assert!(
        std::env::var(REQUIRE_SERVICES).as_deref() != Ok("1"),
        "{REQUIRE_SERVICES}=1 but {service} is missing: {test} cannot run ({how_to_get})"
    );
    // Straight to the process's stderr: libtest captures `eprintln!` of a
    // passing test, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: no {service} ({how_to_get}) ***\n"
    );
    if let Some(path) = record_file() {
        let line = format!(
            "{}\t{}\t{}\n",
            clean(test),
            clean(service),
            clean(how_to_get)
        );
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = appended {
            let _ = writeln!(
                std::io::stderr(),
                "(skip not recorded in {}: {e})",
                path.display()
            );
        }
    }
    None
}

/// Where skips are recorded: `ET_SKIPPED_FILE`, or `et-skipped.txt` in
/// the target directory of the running test binary (`target/debug/deps/…`
/// → `target/`).
pub fn record_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(RECORD_FILE) {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let target = exe.parent()?.parent()?.parent()?;
    Some(target.join(RECORD_NAME))
}

/// One skip as [`require_service`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The test.
    pub test: String,
    /// What it needed.
    pub service: String,
    /// The command or setting that provides it.
    pub how_to_get: String,
}

/// The skips recorded in `text` (the record file's content).
pub fn read_record(text: &str) -> Vec<Skip> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            Some(Skip {
                test: parts.next()?.to_owned(),
                service: parts.next()?.to_owned(),
                how_to_get: parts.next()?.to_owned(),
            })
        })
        .collect()
}

/// The end-of-run summary: how many tests were skipped, per service with
/// the command that provides it; `None` when none was.
pub fn summary(skips: &[Skip]) -> Option<String> {
    if skips.is_empty() {
        return None;
    }
    let mut services: Vec<(&str, &str, usize)> = Vec::new();
    for skip in skips {
        match services
            .iter_mut()
            .find(|(service, how, _)| *service == skip.service && *how == skip.how_to_get)
        {
            Some(entry) => entry.2 += 1,
            None => services.push((&skip.service, &skip.how_to_get, 1)),
        }
    }
    let tests = |n: usize| match n {
        1 => "1 test".to_owned(),
        n => format!("{n} tests"),
    };
    let mut text = format!(
        "SKIPPED {} for want of a service (they count as passed above):",
        tests(skips.len())
    );
    for (service, how, n) in services {
        text.push_str(&format!("\n  {service}: {}; to run them: {how}", tests(n)));
    }
    Some(text)
}

/// A record field: one line, no tab.
fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_service_is_handed_back_untouched() {
        assert_eq!(require_service(Some(5), "t", "PostgreSQL", "x"), Some(5));
    }

    #[test]
    fn the_summary_counts_skips_per_service_with_the_command_that_provides_it() {
        let record = "a\tPostgreSQL\tset ET_INBOX_PG_URL\nb\tPostgreSQL\tset ET_INBOX_PG_URL\nc\tChromium\tapt-get install chromium\n";
        let skips = read_record(record);
        assert_eq!(skips.len(), 3);
        let text = summary(&skips).expect("skips");
        assert!(
            text.starts_with("SKIPPED 3 tests for want of a service"),
            "{text}"
        );
        assert!(
            text.contains("\n  PostgreSQL: 2 tests; to run them: set ET_INBOX_PG_URL"),
            "{text}"
        );
        assert!(
            text.contains("\n  Chromium: 1 test; to run them: apt-get install chromium"),
            "{text}"
        );
        assert_eq!(summary(&[]), None);
    }
}
