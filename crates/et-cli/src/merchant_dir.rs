//! The merchant of a sandbox state directory, as `et call` and the demo use it.

use std::path::Path;

use et_proto::Credentials;
use et_sandbox::{SandboxDir, ET_PUBLIC_PEM, MERCHANT_PRIVATE_PEM};

use crate::error::{CliResult, Failure};
use crate::keys::{load_private, load_public};

/// Credentials from `merchant.json`, `merchant-private.pem` and `et-public.pem` in `dir`.
pub(crate) fn credentials(dir: &Path) -> CliResult<Credentials> {
    let sandbox = SandboxDir::new(dir);
    let merchant = sandbox.merchant().map_err(Failure::usage)?;
    Ok(Credentials::new(
        merchant.merchant_number.as_str(),
        merchant.sub_merchant_number.as_str(),
        load_private(&sandbox.file(MERCHANT_PRIVATE_PEM))?,
        load_public(&sandbox.file(ET_PUBLIC_PEM))?,
        merchant.salt.as_str(),
    ))
}
