//! What the `et` binary's integration tests share.

#![allow(dead_code)] // each module uses a subset

use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// The `et` binary Cargo built for these tests (this crate's `[[bin]]`).
pub(crate) const ET: &str = env!("CARGO_BIN_EXE_et-under-test");

/// Output as text (lossily, so a test can print any bytes it got).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fails, with what `et` wrote to stderr, unless it exited 0.
#[track_caller]
pub(crate) fn assert_success(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `et` with `args`, not yet run.
pub(crate) fn et_command(args: &[&str]) -> Command {
    let mut command = Command::new(ET);
    command.args(args);
    command
}

/// Runs `et` with `args`, feeding it `stdin`; its exit status and output.
pub(crate) fn et_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = et_command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run et");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("et output")
}

/// `et call --endpoint ENDPOINT --dir STATE get_rate --data - EXTRA…`, the
/// rate of GBP.
pub(crate) fn et_get_rate(endpoint: &str, state: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "call",
        "--endpoint",
        endpoint,
        "--dir",
        state,
        "get_rate",
        "--data",
        "-",
    ];
    args.extend_from_slice(extra);
    et_stdin(&args, br#"{"currency_code":"GBP"}"#)
}

/// `et sandbox serve` as a child process, killed on drop however the test
/// ends.
pub(crate) struct Served {
    child: Child,
    /// The API endpoint it printed first.
    pub(crate) endpoint: String,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// `et sandbox serve --dir STATE --listen 127.0.0.1:0 OPTIONS…`, run by the
/// command `run` makes of its arguments ([`et_command`], or `et` under a
/// shell's setup); ready once it printed its endpoint.
pub(crate) fn serve_sandbox(
    run: impl FnOnce(&[&str]) -> Command,
    state: &str,
    options: &[&str],
) -> Served {
    let mut args = vec![
        "sandbox",
        "serve",
        "--dir",
        state,
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(options);
    let mut child = run(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("et sandbox serve");
    let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut served = Served {
        child,
        endpoint: String::new(),
        stdout,
    };
    served.endpoint = served
        .line()
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .expect("the endpoint in the first line")
        .to_owned();
    served
}

impl Served {
    /// The next line it prints.
    pub(crate) fn line(&mut self) -> String {
        self.stdout.next().expect("a line").expect("text")
    }

    /// Sends SIGTERM (as `kill`, systemd or a container runtime would) and
    /// waits up to 10 s for the process to exit.
    #[cfg(unix)]
    pub(crate) fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the demo with `options` and asserts that every step passed; its
/// report, and the report's lines for later messages.
pub(crate) async fn demo_passes(
    options: et_cli::demo::DemoOptions,
) -> (et_cli::demo::DemoReport, Vec<String>) {
    let report = et_cli::demo::run(&options, |_| {}).await;
    let lines: Vec<String> = report.steps.iter().map(ToString::to_string).collect();
    assert!(report.passed(), "demo failed:\n{}", lines.join("\n"));
    (report, lines)
}

/// The demo's default options with the test kit's fast 1024-bit keys.
pub(crate) fn quick_demo() -> et_cli::demo::DemoOptions {
    et_cli::demo::DemoOptions {
        bits: 1024,
        ..et_cli::demo::DemoOptions::default()
    }
}

/// Fails unless `report` has a step named each of `steps`.
#[track_caller]
pub(crate) fn assert_has_steps(report: &et_cli::demo::DemoReport, steps: &[&str]) {
    for step in steps {
        assert!(
            report.steps.iter().any(|s| s.name == *step),
            "missing step {step}"
        );
    }
}

/// What the passed step `name` of `report` says.
#[track_caller]
pub(crate) fn passed_step<'a>(report: &'a et_cli::demo::DemoReport, name: &str) -> &'a str {
    report
        .steps
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.outcome.as_deref().ok())
        .unwrap_or_else(|| panic!("no passed step {name} in {:#?}", report.steps))
}
