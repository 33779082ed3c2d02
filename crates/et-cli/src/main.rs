//! The `et` binary: parse arguments, run, print one line on failure.

use std::process::ExitCode;

fn main() -> ExitCode {
    et_cli::main_with_args(std::env::args_os())
}
