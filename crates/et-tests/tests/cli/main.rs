//! The `et` command's integration tests, one binary: `et` is this crate's
//! own build of et-cli's `main.rs` (`CARGO_BIN_EXE_et-under-test`). The metrics test
//! has its own binary (`cli_metrics.rs`): a `metrics` recorder is the
//! process's.

mod call;
mod cli;
mod common;
mod demo;
mod discoverability;
mod inbox;
mod institutions;
mod notify_send;
#[path = "../inbox/common/pg.rs"]
mod pg;
mod python_client;
mod record_replay;
