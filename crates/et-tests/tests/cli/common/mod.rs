//! What the `et` binary's integration tests share.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The `et` binary Cargo built for these tests (this crate's `[[bin]]`).
pub(crate) const ET: &str = env!("CARGO_BIN_EXE_et-under-test");

/// Runs `et` with `args`, feeding it `stdin`; its exit status and output.
pub(crate) fn et_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(ET)
        .args(args)
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
