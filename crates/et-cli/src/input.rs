//! Reading the files the commands take: a path, or `-` for stdin. Every
//! read is bounded by the kind of input ([`Input`]), through et-sandbox's
//! one bounded reader: `--merchant-key /dev/zero` is an error naming the
//! input and its limit, not 2 GB of memory.

use std::path::Path;

use et_crypto::Zeroizing;
use et_sandbox::files;

use crate::error::{CliResult, Failure};

/// What an input holds, which decides how much of it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// A PEM, DER or Base64 key file.
    Key,
    /// A notification salt file.
    Salt,
    /// A `--data` or `--sensitive` JSON payload (attachments travel in them as Base64).
    Payload,
    /// A response body, as et-http's client would accept it.
    Response,
    /// A notification body, as et-http's webhook receiver would accept it.
    Notification,
    /// A `--profile` file.
    Profile,
    /// A file `et record` wrote: a request or reply body (each at most
    /// what the client accepts as a response), or its meta file.
    Recorded,
}

impl Input {
    /// The most bytes read from this kind of input.
    pub(crate) fn limit(self) -> u64 {
        let bytes = match self {
            Input::Key => return files::MAX_KEY_FILE,
            Input::Profile => return files::MAX_CONFIG_FILE,
            Input::Salt => 4 << 10,
            // Under the sandbox's 20 MiB request limit once encrypted and Base64-encoded.
            Input::Payload => 10 << 20,
            Input::Response | Input::Recorded => {
                et_http::TransportConfig::default().max_response_bytes
            }
            Input::Notification => et_http::ReceiverConfig::default().max_body_bytes,
        };
        bytes as u64
    }

    fn name(self) -> &'static str {
        match self {
            Input::Key => "a key file",
            Input::Salt => "a salt file",
            Input::Payload => "a payload",
            Input::Response => "a response",
            Input::Notification => "a notification",
            Input::Profile => "a profile file",
            Input::Recorded => "a recorded exchange file",
        }
    }
}

/// Read a whole input of kind `kind`: `-` is stdin, anything else a file path.
pub(crate) fn read_input(path: &Path, kind: Input) -> CliResult<Vec<u8>> {
    let (read, shown) = if path.as_os_str() == "-" {
        (
            files::read_bounded(std::io::stdin().lock(), kind.limit()),
            "stdin".into(),
        )
    } else {
        (
            files::read_file_bounded(path, kind.limit()),
            path.display().to_string(),
        )
    };
    read.map_err(|e| match files::too_large(&e) {
        Some(too_large) => Failure::usage(format_args!(
            "{shown}: longer than {} bytes, the limit for {}",
            too_large.limit,
            kind.name()
        )),
        None => Failure::usage(e).context(shown),
    })
}

/// Read an optional input; a missing one is stdin.
pub(crate) fn read_input_or_stdin(path: Option<&Path>, kind: Input) -> CliResult<Vec<u8>> {
    read_input(path.unwrap_or_else(|| Path::new("-")), kind)
}

/// Read a salt file: UTF-8, one trailing newline (`\n` or `\r\n`) dropped,
/// as editors and `echo` add one; not empty.
pub(crate) fn read_salt_file(path: &Path) -> CliResult<Zeroizing<String>> {
    let bytes = Zeroizing::new(read_input(path, Input::Salt)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format_args!("--salt-file {}: not UTF-8", path.display())))?;
    let salt = text
        .strip_suffix('\n')
        .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
    if salt.is_empty() {
        return Err(Failure::usage(format_args!(
            "--salt-file {}: empty",
            path.display()
        )));
    }
    Ok(Zeroizing::new(salt.to_owned()))
}

/// Read a profile file (`-` is stdin): `option` names where it was given.
pub(crate) fn read_profile_file(path: &Path, option: &str) -> CliResult<et_proto::Profile> {
    let shown = || format!("{option} {}", path.display());
    let bytes = read_input(path, Input::Profile).map_err(|f| f.context(option))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("{}: not UTF-8", shown())))?;
    et_proto::Profile::from_json(text).map_err(|e| Failure::usage(e).context(shown()))
}

/// Read an optional JSON object input (`--data`, `--sensitive`) as its exact text.
///
/// The text is checked to be one JSON object but not re-serialised, so numbers
/// keep their written form (`130.00` stays `130.00`).
pub(crate) fn read_json_object(path: Option<&Path>, option: &str) -> CliResult<Option<String>> {
    let Some(path) = path else { return Ok(None) };
    let bytes = read_input(path, Input::Payload).map_err(|f| f.context(option))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("{option} {}: not UTF-8", path.display())))?;
    serde_json::from_str::<std::collections::BTreeMap<String, serde::de::IgnoredAny>>(&text)
        .map_err(|e| {
            let why = match e.classify() {
                serde_json::error::Category::Data => {
                    format!(
                        "not a JSON object: {}",
                        crate::payload::without_position(&e)
                    )
                }
                _ => not_json(&e),
            };
            Failure::usage(format!("{option} {}: {why}", path.display()))
        })?;
    Ok(Some(text))
}

/// Text that is not JSON at all: what is wrong and where, in words.
pub(crate) fn not_json(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the text ends before the JSON does".to_owned(),
        _ => crate::payload::without_position(e),
    };
    format!(
        "not valid JSON: {what} (line {}, column {})",
        e.line(),
        e.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_input_is_refused_at_its_limit_naming_it() {
        let err = read_input(Path::new("/dev/zero"), Input::Key).expect_err("endless");
        assert_eq!(
            err.to_string(),
            "/dev/zero: longer than 65536 bytes, the limit for a key file"
        );
    }

    #[test]
    fn a_payload_that_is_not_json_is_told_apart_from_one_that_is_not_an_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"a\": 1,").expect("write");
        let err = read_json_object(Some(&path), "--data").expect_err("cut short");
        let shown = err.to_string();
        assert!(
            shown.ends_with(
                "bad.json: not valid JSON: the text ends before the JSON does (line 1, column 8)"
            ),
            "{shown}"
        );
        std::fs::write(&path, "[1]").expect("write");
        let err = read_json_object(Some(&path), "--data").expect_err("a list");
        assert!(
            err.to_string().contains("bad.json: not a JSON object: "),
            "{err}"
        );
        assert!(!err.to_string().contains("line"), "{err}");
    }

    #[test]
    fn a_salt_file_loses_one_trailing_newline_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("salt");
        for (content, salt) in [
            ("s4lt\n", "s4lt"),
            ("s4lt\r\n", "s4lt"),
            ("s4lt", "s4lt"),
            (" s4lt \n\n", " s4lt \n"),
        ] {
            std::fs::write(&path, content).expect("write");
            assert_eq!(
                read_salt_file(&path).expect("salt").as_str(),
                salt,
                "{content:?}"
            );
        }
        std::fs::write(&path, "\n").expect("write");
        assert!(read_salt_file(&path).is_err(), "empty");
    }
}
