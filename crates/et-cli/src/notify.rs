//! `et notify sign` and `et notify verify`: ET's salted-MD5 notifications.

use et_crypto::Zeroizing;
use et_proto::{
    read_notification_body, sign_notification_by, sniffs_as_json, MatchedRule, Message,
    NotificationFields, NotificationVerifier, UntypedObject,
};

use crate::cli::{NotifyArgs, SaltArgs};
use crate::error::{CliResult, Failure};
use crate::input::{read_input_or_stdin, read_salt_file, Input};
use crate::profile::ProfileOptions;

/// `et notify sign`: the body with its `sign` (replacing any) by the
/// profile's notification rule, in the body's own format: JSON in, JSON
/// out; form-urlencoded in, form-urlencoded out, and then with no newline
/// after it: the body exactly as ET would send it, so that `> file` then
/// `et notify verify file` or `curl --data-binary @file` carry it intact
/// (a newline would be part of the last value, which is signed without).
pub(crate) fn sign(args: &NotifyArgs) -> CliResult {
    let body = read_body(args)?;
    let fields = read_notification_body(None, &body).map_err(Failure::usage)?;
    let rule = args.profile.to_profile()?.notify_sign_rule;
    let signed = sign_notification_by(&salt(&args.salt)?, rule, fields);
    if sniffs_as_json(&body) {
        crate::output::line(String::from_utf8_lossy(&signed))
    } else {
        crate::output::text(json_to_form(&signed)?)
    }
}

/// `et notify verify`: exit 0 and print kind, rule, dedup key and fields when
/// the `sign` matches; exit 1 with the reason when it does not. The body is
/// verified byte for byte, as et-http's receiver verifies it, so the two
/// agree: a form body with a trailing newline (an editor's, `echo`'s) is
/// refused by both, saying why ([`et_http::unsigned_trailing_whitespace`]).
pub(crate) fn verify(args: &NotifyArgs) -> CliResult {
    // Verified as it is, as the receiver verifies what arrives: a form
    // body's trailing newline is part of its last value, which ET did not
    // sign (the failure says so).
    let body = read_input_or_stdin(args.file.as_deref(), Input::Notification)?;
    let profile = args.profile.to_profile()?;
    let salt = salt(&args.salt)?;
    let verified = NotificationVerifier::new(salt.as_str(), profile.notify_sign_rule)
        .with_extra_fields(profile.extra_notification_fields.iter().cloned())
        .with_exact_fields(profile.exact_keys)
        .verify_owned(None, &body, std::time::SystemTime::now())
        .map_err(|e| {
            let found = et_proto::detect::notification(&profile, &salt, None, &body).ok();
            let unsigned = et_http::unsigned_trailing_whitespace(&body).map(str::to_owned);
            Failure::rejected(e)
                .hint(unsigned)
                .hint(crate::profile::verifies_with(found, &profile))
        })?;
    let report = serde_json::json!({
        "kind": verified.kind().as_str(),
        "rule": match verified.matched_rule() {
            MatchedRule::V2 => "v2",
            MatchedRule::V1Printed => "v1-printed",
        },
        "dedup_key": verified.dedup_key(),
        "fields": fields_json(verified.fields()),
    });
    crate::output::json(&report)
}

/// The salt from `--salt-file`, else `--salt` or `ET_NOTIFY_SALT`.
pub(crate) fn salt(args: &SaltArgs) -> CliResult<Zeroizing<String>> {
    match (&args.salt_file, &args.salt) {
        (Some(path), _) => read_salt_file(path),
        (None, Some(salt)) => Ok(Zeroizing::new(salt.clone())),
        (None, None) => Err(Failure::usage(
            "no salt: give --salt-file FILE (or set ET_NOTIFY_SALT); \
             a sandbox's salt is in its merchant.json",
        )),
    }
}

/// Fields as a JSON object of their raw texts (the texts the MD5 covered).
fn fields_json(fields: NotificationFields<'_>) -> serde_json::Value {
    fields
        .iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.text().to_owned())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A signed JSON notification as a form-urlencoded body: the same fields,
/// each value its sign-string text, so the `sign` still matches.
pub(crate) fn json_to_form(signed: &[u8]) -> CliResult<String> {
    let fields =
        UntypedObject::parse_json(signed, Message::Notification).map_err(Failure::usage)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in fields.iter() {
        form.append_pair(key, value.text());
    }
    Ok(form.finish())
}

/// The body to sign without trailing whitespace: a file's final newline
/// would otherwise become part of a form body's last value.
fn read_body(args: &NotifyArgs) -> CliResult<Vec<u8>> {
    let mut body = read_input_or_stdin(args.file.as_deref(), Input::Notification)?;
    while body.last().is_some_and(u8::is_ascii_whitespace) {
        body.pop();
    }
    Ok(body)
}
