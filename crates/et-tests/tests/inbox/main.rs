//! et-inbox's integration tests, one binary: the inbox on SQLite and
//! PostgreSQL, its consumer, reconciliation against the sandbox.

#[macro_use]
mod common;
mod admin;
mod consumer;
mod measure;
mod reconcile;
mod sandbox_faults;
mod semantics;
