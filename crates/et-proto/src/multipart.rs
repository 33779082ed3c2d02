//! `multipart/form-data` notification bodies.
//!
//! ET's v1 page says notifications are posted as "FormData", which an HTTP
//! client may send as `multipart/form-data`. Refusing that would make ET
//! retry until it gives up and the event is lost, so the reader accepts it:
//! each part's `name` becomes a key and its body, as UTF-8 text, the value.
//! Line endings may be CRLF (RFC 7578) or bare LF (lenient senders).

use std::borrow::Cow;

use crate::error::{Error, Input};
use crate::raw::{refuse_repeated, FieldsRef, UntypedValueRef};

/// Reads a `multipart/form-data` body; `content_type` must carry the boundary.
pub(crate) fn parse_multipart<'a>(
    content_type: &str,
    body: &'a [u8],
) -> Result<FieldsRef<'a>, Error> {
    let boundary = boundary(content_type).ok_or(malformed("no boundary in the content type"))?;
    let text = std::str::from_utf8(body).map_err(|_| Error::NotUtf8 {
        context: Input::Multipart,
    })?;
    let delimiter = format!("--{boundary}");
    let mut sections = text.split(delimiter.as_str());
    // Anything before the first delimiter is a preamble and is ignored.
    sections.next();
    let mut entries: FieldsRef<'a> = Vec::new();
    for section in sections {
        if section.starts_with("--") {
            refuse_repeated(entries.iter().map(|(k, _)| k.as_ref()), Input::Multipart)?;
            return Ok(entries);
        }
        let (name, value) = part(section)?;
        entries.push((
            Cow::Owned(name),
            UntypedValueRef::form(Cow::Borrowed(value)),
        ));
    }
    Err(malformed("missing the closing boundary"))
}

/// The `boundary` parameter of a multipart content type, unquoted.
fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        let value = value.trim().trim_matches('"');
        (key.trim().eq_ignore_ascii_case("boundary") && !value.is_empty()).then_some(value)
    })
}

/// One part between two delimiters: its field name and its text.
fn part(section: &str) -> Result<(String, &str), Error> {
    let section =
        strip_line_end_prefix(section).ok_or(malformed("a part does not start on a new line"))?;
    let (headers, value) = section
        .split_once("\r\n\r\n")
        .or_else(|| section.split_once("\n\n"))
        .ok_or(malformed("a part has no blank line after its headers"))?;
    let value = value
        .strip_suffix("\r\n")
        .or_else(|| value.strip_suffix('\n'))
        .ok_or(malformed("a part does not end with a line break"))?;
    let name = headers
        .lines()
        .find_map(disposition_name)
        .ok_or(malformed("a part has no Content-Disposition name"))?;
    Ok((name, value))
}

fn strip_line_end_prefix(section: &str) -> Option<&str> {
    section
        .strip_prefix("\r\n")
        .or_else(|| section.strip_prefix('\n'))
}

/// `name` from a `Content-Disposition: form-data; name="…"` header line.
fn disposition_name(line: &str) -> Option<String> {
    let (header, value) = line.split_once(':')?;
    if !header.trim().eq_ignore_ascii_case("content-disposition") {
        return None;
    }
    value.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("name")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn malformed(reason: &'static str) -> Error {
    Error::MalformedMultipart { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=\"XyZ\"";

    fn body(line_end: &str) -> String {
        let part = |name: &str, value: &str| {
            format!("--XyZ{line_end}Content-Disposition: form-data; name=\"{name}\"{line_end}{line_end}{value}{line_end}")
        };
        format!(
            "preamble{line_end}{}{}--XyZ--{line_end}",
            part("order_id", "ET1"),
            part("pay_amount", "10000.00")
        )
    }

    #[test]
    fn reads_crlf_and_lf_bodies_keeping_text() {
        for line_end in ["\r\n", "\n"] {
            let body = body(line_end);
            let object =
                crate::UntypedObject::from_fields(parse_multipart(CT, body.as_bytes()).unwrap());
            assert_eq!(object.text("order_id"), Some("ET1"));
            assert_eq!(object.text("pay_amount"), Some("10000.00"));
            assert_eq!(object.iter().count(), 2);
        }
    }

    #[test]
    fn refuses_what_it_cannot_read_with_a_reason() {
        let cases: [(&str, &[u8]); 5] = [
            ("multipart/form-data", b"--XyZ--"),
            (
                CT,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n",
            ),
            (CT, b"--XyZ\r\nX-Other: 1\r\n\r\n1\r\n--XyZ--"),
            (
                CT,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n1\r\n--XyZ--",
            ),
            (CT, b"--XyZ\r\n\xff\xfe\r\n--XyZ--"),
        ];
        for (content_type, body) in cases {
            assert!(parse_multipart(content_type, body).is_err(), "{body:?}");
        }
    }

    #[test]
    fn duplicate_fields_are_refused() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n2\r\n--XyZ--";
        assert!(matches!(
            parse_multipart(CT, body.as_bytes()),
            Err(Error::DuplicateKey { .. })
        ));
    }
}
