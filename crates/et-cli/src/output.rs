//! Writing to stdout and stderr without panicking, and without letting
//! outside text drive the terminal.
//!
//! Much of what `et` prints came from outside: ET's `message`, payload
//! values, URLs, a server's error text, a file name. A terminal obeys the
//! control characters in such text (`\x1b]0;pwned\x07` sets its title,
//! `\x1b[2J` clears it), so every write goes through [`escape_controls`].
//!
//! `println!` panics when stdout is a pipe whose reader has gone
//! (`et … | head -1`), which would end as an "internal error" line. Here a
//! reader that has gone is not an error: the rest of the output is dropped
//! quietly and the exit code still says how the command went.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use crate::error::{CliResult, Failure};

/// Writes `text` to stdout, control characters escaped.
pub(crate) fn text(text: impl fmt::Display) -> CliResult {
    let text = text.to_string();
    let mut out = io::stdout().lock();
    quiet_on_broken_pipe(
        out.write_all(escape_controls(&text).as_bytes())
            .and_then(|()| out.flush()),
    )
}

/// Writes `text` and a newline to stdout.
pub(crate) fn line(text: impl fmt::Display) -> CliResult {
    self::text(format_args!("{text}\n"))
}

/// Writes `value` as indented JSON and a newline to stdout. Raw JSON inside
/// it (et-model's `RawJson`) keeps its exact text: `82800.00` stays
/// `82800.00`, where serde_json's pretty printer would need a float.
pub(crate) fn json(value: &impl Serialize) -> CliResult {
    let compact =
        serde_json::to_string(value).map_err(|e| Failure::usage(e).context("writing JSON"))?;
    line(indent_json(&compact))
}

/// Writes JSON text from outside (a sandbox's answer) indented as [`json`]
/// does, numbers and strings verbatim; text that is not JSON as it is.
pub(crate) fn json_text(text: &str) -> CliResult {
    let text = text.trim();
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => line(indent_json(text)),
        Err(_) => line(text),
    }
}

/// Writes one line to stderr, control characters escaped; if even that
/// fails there is nobody left to tell.
pub(crate) fn error_line(text: impl fmt::Display) {
    let text = format!("{text}\n");
    let _ = io::stderr()
        .lock()
        .write_all(escape_controls(&text).as_bytes());
}

/// `text` with every character that can drive a terminal written as a JSON
/// escape (`\u001b`): C0 controls but newline and tab, DEL, the C1 controls
/// (U+0080–U+009F; U+009B starts a sequence like ESC `[`), and the Unicode
/// bidirectional overrides and isolates, which reorder what is shown. Inside
/// a JSON string the escape means the same character, so JSON output stays
/// valid and equal in value.
pub(crate) fn escape_controls(text: &str) -> Cow<'_, str> {
    let drives_terminal = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(drives_terminal) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if drives_terminal(c) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Re-indents valid JSON text by two spaces per level, as serde_json's
/// pretty printer does, copying every string and number token verbatim.
/// Whitespace between tokens is replaced, so a carriage return from
/// outside cannot survive between them.
fn indent_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                let mut escaped = false;
                for c in chars.by_ref() {
                    out.push(c);
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                if let Some(close) = chars.next_if(|&n| n == '}' || n == ']') {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn quiet_on_broken_pipe(result: io::Result<()>) -> CliResult {
    match result {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Failure::usage(e).context("writing to stdout"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_pipe_is_quiet() {
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(quiet_on_broken_pipe(Err(broken)).is_ok());
        let full = io::Error::other("disk full");
        let failure = quiet_on_broken_pipe(Err(full)).expect_err("reported");
        assert_eq!(failure.to_string(), "writing to stdout: disk full");
    }

    #[test]
    fn terminal_controls_are_escaped_and_plain_text_is_not() {
        assert_eq!(
            escape_controls("\x1b]0;pwned\x07\x1b[2J"),
            "\\u001b]0;pwned\\u0007\\u001b[2J"
        );
        assert_eq!(
            escape_controls("a\rb\u{7f}\u{9b}31m\u{202e}c"),
            "a\\u000db\\u007f\\u009b31m\\u202ec"
        );
        let plain = "张三 pays 82800.00\n\tdone ✓";
        assert!(matches!(escape_controls(plain), Cow::Borrowed(p) if p == plain));
    }

    #[test]
    fn escaped_json_is_still_the_same_json() {
        let value = serde_json::json!({"message": "\u{1b}[2J\u{9b}\u{202e}x"});
        let printed = escape_controls(&indent_json(&value.to_string())).into_owned();
        assert!(
            printed.chars().all(|c| !c.is_control() || c == '\n'),
            "{printed:?}"
        );
        let back: serde_json::Value = serde_json::from_str(&printed).expect("valid JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn indenting_keeps_tokens_verbatim() {
        let compact = r#"{"a":[82800.00,9999999999999999.99,{}],"b":{"s":"x\"[,:]{"},"c":[]}"#;
        let indented = indent_json(compact);
        assert_eq!(
            indented,
            "{\n  \"a\": [\n    82800.00,\n    9999999999999999.99,\n    {}\n  ],\n  \"b\": {\n    \"s\": \"x\\\"[,:]{\"\n  },\n  \"c\": []\n}"
        );
        let plain = serde_json::json!({"a": [1, {"b": [true, null, "s"]}, {}], "c": []});
        assert_eq!(
            indent_json(&plain.to_string()),
            serde_json::to_string_pretty(&plain).expect("pretty"),
            "the layout of serde_json's pretty printer"
        );
    }
}
