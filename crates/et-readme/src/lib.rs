//! The workspace README's Rust examples as doctests (`cargo test --doc -p
//! et-readme`), so what a newcomer copies compiles with today's API. The
//! README lives outside every published crate's directory, so no published
//! crate can include it: its packaged doctests would not find the file.

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
