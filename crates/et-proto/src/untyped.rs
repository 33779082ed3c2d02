//! Reading an untyped request's two payloads as the operation its
//! `server_type` selects: what ET's side does with every request it opens
//! ([`OpenedRequest::operation`](crate::OpenedRequest::operation)), and what
//! a tool that builds untyped requests checks before signing one
//! ([`validate_untyped`]).

use et_model::{Operation, Placement, ServerType};

use crate::envelope::parse_payload;
use crate::error::Error;
use crate::profile::Profile;

/// `data` and `sensitive_data`, each read as its part of `Op`, rebuilt into `Op`.
pub(crate) fn read_operation<Op: Operation>(data: &str, sensitive: &str) -> Result<Op, Error> {
    let data = parse_payload(data, Placement::Data)?;
    let sensitive = parse_payload(sensitive, Placement::Sensitive)?;
    Ok(Op::from_parts(data, sensitive))
}

/// Checks the payloads of an untyped request as the typed API checks a
/// typed one ([`Merchant::build_with`](crate::Merchant::build_with)) when
/// `server_type` selects an operation of [`et_model::for_each_operation!`]
/// under `profile` ([`Profile::accepts_server_type`]): each payload read as
/// its part of that operation ([`Error::InvalidPayload`]), then the
/// operation's `validate()` ([`Error::Validation`]). ET's side reads them
/// the same way. A `server_type` et-model does not type has nothing to be
/// checked against and passes.
///
/// [`Merchant::build_untyped`](crate::Merchant::build_untyped) sends its
/// payloads as given; call this first unless sending an invalid request
/// is the point (a test of ET's side).
pub fn validate_untyped(
    profile: &Profile,
    server_type: &ServerType,
    data_json: &str,
    sensitive_json: &str,
) -> Result<(), Error> {
    fn check<Op: Operation>(data: &str, sensitive: &str) -> Result<(), Error> {
        Ok(read_operation::<Op>(data, sensitive)?.validate()?)
    }
    macro_rules! check_the_selected {
        ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
            $(
                if profile.accepts_server_type(&<et_model::$op as Operation>::SERVER_TYPE, server_type.as_str()) {
                    return check::<et_model::$op>(data_json, sensitive_json);
                }
            )*
        };
    }
    et_model::for_each_operation!(check_the_selected);
    Ok(())
}
