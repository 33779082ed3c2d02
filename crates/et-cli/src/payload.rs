//! `et call OP PAYLOAD`: one JSON object with the operation's fields, read
//! as the operation et-model types (so an error names the field), then
//! split into `data` and `sensitive_data` as the typed API splits it
//! ([`et_proto::Merchant::payloads`]); and `et call OP --template`, a
//! payload with the fields the operation requires.

use et_model::{Effect, FieldRule, Operation, ServerType};
use et_proto::{Merchant, Profile};
use serde::de::DeserializeOwned;

use crate::envelope::Payloads;
use crate::error::{CliResult, Failure};

/// Something done with the typed operation a `server_type` selects.
trait WithOperation {
    type Output;
    /// Does it with `Op`, whose wire fields and rules are `fields` and `rules`.
    fn with<Op: Operation>(self, fields: &'static [&'static str], rules: Rules) -> Self::Output;
}

/// A payload type's declared rules (`RULES` of et-model's payload types).
type Rules = &'static [(&'static str, &'static [FieldRule])];

/// `dispatch`: runs `job` with the operation of [`et_model::for_each_operation!`]
/// that `server_type` selects under `profile`; `None` when et-model types none.
macro_rules! dispatch {
    ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
        fn dispatch<J: WithOperation>(
            profile: &Profile,
            server_type: &ServerType,
            job: J,
        ) -> Option<J::Output> {
            $(
                let default = <et_model::$op as Operation>::SERVER_TYPE;
                if profile.accepts_server_type(&default, server_type.as_str()) {
                    return Some(job.with::<et_model::$op>(et_model::$op::FIELDS, et_model::$op::RULES));
                }
            )*
            None
        }
    };
}
et_model::for_each_operation!(dispatch);

/// The payloads of one `PAYLOAD` file's text (`shown` names it in errors):
/// read as the operation's request, validated unless `no_validate`, split.
pub(crate) fn split(
    merchant: &Merchant,
    server_type: &ServerType,
    text: &str,
    shown: &str,
    no_validate: bool,
) -> CliResult<Payloads> {
    let job = Split {
        merchant,
        server_type,
        text,
        no_validate,
    };
    dispatch(merchant.profile(), server_type, job)
        .unwrap_or_else(|| {
            Err(Failure::usage(format_args!(
                "`{}` is not an operation et-model types, so et cannot tell which fields \
                 go in `data` and which in `sensitive_data`: give them with --data and --sensitive",
                server_type.as_str()
            )))
        })
        .map_err(|f| f.context(shown))
}

/// [`split`]'s job.
struct Split<'a> {
    merchant: &'a Merchant,
    server_type: &'a ServerType,
    text: &'a str,
    no_validate: bool,
}

impl WithOperation for Split<'_> {
    type Output = CliResult<Payloads>;

    fn with<Op: Operation>(self, _: &'static [&'static str], _: Rules) -> Self::Output {
        let op: Op = read_fields(self.text)?;
        if !self.no_validate {
            op.validate().map_err(|e| {
                Failure::usage(et_proto::Error::from(e)).context(format_args!(
                    "{} not sent (--no-validate sends it anyway)",
                    self.server_type.as_str()
                ))
            })?;
        }
        let (data, sensitive) = self.merchant.payloads(&op).map_err(Failure::usage)?;
        Ok(Payloads {
            data,
            sensitive: sensitive.to_string(),
        })
    }
}

/// What one copy of the operation `server_type` selects does at ET; `None`
/// for one et-model does not type.
pub(crate) fn effect(profile: &Profile, server_type: &ServerType) -> Option<Effect> {
    struct EffectOf;
    impl WithOperation for EffectOf {
        type Output = Effect;
        fn with<Op: Operation>(self, _: &'static [&'static str], _: Rules) -> Effect {
            Op::EFFECT
        }
    }
    dispatch(profile, server_type, EffectOf)
}

/// `text` read as `T`; an error names the field (`tuituon: …`) or, for
/// text that is not JSON, where it breaks in words.
pub(crate) fn read_fields<T: DeserializeOwned>(text: &str) -> CliResult<T> {
    use serde_json::error::Category;
    let mut json = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = field_path(e.path());
        let inner = e.into_inner();
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                Failure::usage(crate::input::not_json(&inner))
            }
            Category::Data if path.is_empty() => Failure::usage(without_position(&inner)),
            Category::Data => Failure::usage(format_args!("{path}: {}", without_position(&inner))),
        }
    })?;
    json.end()
        .map_err(|e| Failure::usage(crate::input::not_json(&e)))?;
    Ok(value)
}

/// A field's path as its wire names (`fee_type_list[1].fee_type_desc`),
/// without serde_json's internal names (an amount is read as a raw value).
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut shown = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Map { key } if key.starts_with("$serde_json") => {}
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !shown.is_empty() {
                    shown.push('.');
                }
                shown.push_str(key);
            }
            Segment::Seq { index } => shown.push_str(&format!("[{index}]")),
            Segment::Unknown => {}
        }
    }
    shown
}

/// serde_json's message without its ` at line L column C`.
pub(crate) fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

/// A payload with the fields `server_type` requires under `profile`, empty
/// (`""`, `0.00`, `[""]`: whichever the field reads), for the user to fill
/// in; and the names of the fields it may also have.
pub(crate) fn template(
    profile: &Profile,
    server_type: &ServerType,
) -> CliResult<(String, Vec<&'static str>)> {
    dispatch(profile, server_type, Template).ok_or_else(|| {
        Failure::usage(format_args!(
            "`{}` is not an operation et-model types: it has no template",
            server_type.as_str()
        ))
    })
}

/// What an empty field can be written as: an amount's first.
const EMPTY_AMOUNT: [&str; 3] = ["0.00", "\"\"", "[\"\"]"];
/// What another empty field can be written as, tried in order.
const EMPTY: [&str; 2] = ["\"\"", "[\"\"]"];

/// [`template`]'s job.
struct Template;

impl WithOperation for Template {
    type Output = (String, Vec<&'static str>);

    /// The fields the operation's rules require, then those it cannot be
    /// read without (serde's "missing field"), each with the first empty
    /// value it reads.
    fn with<Op: Operation>(self, fields: &'static [&'static str], rules: Rules) -> Self::Output {
        let rules_of = |name: &str| {
            rules
                .iter()
                .find(|(field, _)| *field == name)
                .map_or(&[][..], |(_, rules)| *rules)
        };
        let mut required: Vec<&'static str> = fields
            .iter()
            .copied()
            .filter(|name| rules_of(name).contains(&FieldRule::Required))
            .collect();
        let mut written = Vec::new();
        for _ in 0..=fields.len() {
            written = required
                .iter()
                .map(|name| (*name, empty_value::<Op>(name, rules_of(name))))
                .collect::<Vec<_>>();
            let text = object(&written);
            let missing = match serde_json::from_str::<Op>(&text) {
                Err(e) => missing_field(&e).and_then(|m| fields.iter().find(|f| **f == m)),
                Ok(_) => None,
            };
            match missing {
                Some(name) if !required.contains(name) => required.push(name),
                _ => break,
            }
        }
        written.sort_by_key(|(name, _)| fields.iter().position(|f| f == name));
        let others = fields
            .iter()
            .copied()
            .filter(|f| !required.contains(f))
            .collect();
        (object(&written), others)
    }
}

/// The first empty value field `name` of `Op` reads.
fn empty_value<Op: Operation>(name: &str, rules: &[FieldRule]) -> &'static str {
    let amount = rules
        .iter()
        .any(|r| matches!(r, FieldRule::Positive | FieldRule::NonNegative));
    let candidates: &[&'static str] = if amount { &EMPTY_AMOUNT } else { &EMPTY };
    // Another field missing is not this one's fault.
    let fits = |empty: &str| {
        let one = format!("{{\"{name}\":{empty}}}");
        let mut json = serde_json::Deserializer::from_str(&one);
        match serde_path_to_error::deserialize::<_, Op>(&mut json) {
            Ok(_) => true,
            Err(e) => field_path(e.path()) != name,
        }
    };
    candidates
        .iter()
        .copied()
        .find(|e| fits(e))
        .unwrap_or(candidates[0])
}

/// The field serde names in a "missing field `x`" error.
fn missing_field(e: &serde_json::Error) -> Option<String> {
    let text = without_position(e);
    let name = text.strip_prefix("missing field `")?.strip_suffix('`')?;
    Some(name.to_owned())
}

/// `{"name": value, …}`, one field a line.
fn object(fields: &[(&str, &str)]) -> String {
    let lines: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("  \"{name}\": {value}"))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use et_model::CreateOrder;

    #[test]
    fn an_error_in_a_field_names_the_field_not_a_line_and_column() {
        let text = "{\n  \"merchant_order_id\": \"M1\",\n  \"tuituon\": \"lots\"\n}";
        let err = read_fields::<CreateOrder>(text).expect_err("not an amount");
        let shown = err.to_string();
        assert!(shown.starts_with("tuituon: "), "{shown}");
        assert!(!shown.contains("line"), "{shown}");
    }

    #[test]
    fn text_that_is_not_json_says_so_with_its_position_in_words() {
        let err = read_fields::<CreateOrder>("{\"merchant_order_id\": ").expect_err("cut short");
        let shown = err.to_string();
        assert!(shown.starts_with("not valid JSON: "), "{shown}");
        assert!(shown.contains("line 1, column 22"), "{shown}");
    }

    #[test]
    fn the_create_order_template_has_its_required_fields_and_reads_back() {
        let profile = Profile::default();
        let (text, others) =
            template(&profile, &ServerType::CreateOrder).expect("a typed operation");
        for field in [
            "merchant_order_id",
            "merchant_user_key",
            "country_code",
            "currency_code",
            "tuituon",
        ] {
            assert!(text.contains(&format!("\"{field}\"")), "{field} in {text}");
        }
        assert!(text.contains("\"tuituon\": 0.00"), "{text}");
        assert!(others.contains(&"notify_url"), "{others:?}");
        read_fields::<CreateOrder>(&text).expect("the template reads as the operation");
    }
}
