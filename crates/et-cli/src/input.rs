//! Reading the files the commands take: a path, or `-` for stdin.

use std::io::Read;
use std::path::Path;

use crate::error::{CliResult, Failure};

/// Read a whole input: `-` is stdin, anything else a file path.
pub fn read_input(path: &Path) -> CliResult<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::usage(e).context("reading stdin"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| Failure::usage(e).context(path.display()))
    }
}

/// Read an optional input; a missing one is stdin.
pub fn read_input_or_stdin(path: Option<&Path>) -> CliResult<Vec<u8>> {
    read_input(path.unwrap_or_else(|| Path::new("-")))
}

/// Read an optional JSON object input (`--data`, `--sensitive`) as its exact text.
///
/// The text is checked to be one JSON object but not re-serialised, so numbers
/// keep their written form (`130.00` stays `130.00`).
pub fn read_json_object(path: Option<&Path>, option: &str) -> CliResult<Option<String>> {
    let Some(path) = path else { return Ok(None) };
    let bytes = read_input(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("{option} {}: not UTF-8", path.display())))?;
    serde_json::from_str::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(&text)
        .map_err(|e| {
            Failure::usage(format!(
                "{option} {}: not a JSON object: {e}",
                path.display()
            ))
        })?;
    Ok(Some(text))
}
