//! `et institutions search KEY`: ET's institution directory, where the
//! `institution_code` of an order comes from.

use et_http::{Client, Endpoint};
use et_model::{GetInstitutions, InstitutionType};

use crate::cli::InstitutionsSearchArgs;
use crate::error::{CliResult, Failure};
use crate::merchant_dir;

/// Search and print one institution per line: code, English name, Chinese
/// name, country and type, tab-separated (empty where ET sent nothing).
/// Exits as the table says ([`Failure::call`]): 3 for ET's verified refusal.
pub(crate) async fn search(args: &InstitutionsSearchArgs) -> CliResult {
    let endpoint =
        Endpoint::parse(&args.endpoint).map_err(|e| Failure::usage(e).context("--endpoint"))?;
    let profile = merchant_dir::profile(&args.dir, &args.profile)?;
    let client = Client::new(
        endpoint,
        merchant_dir::credentials(&args.dir, None)?,
        profile,
    )
    .map_err(Failure::usage)?;
    let mut op = GetInstitutions::new(args.key.as_str());
    op.count = args.count;
    if let Some(code) = args.institution_type {
        op.institution_type = Some(InstitutionType(code));
    }
    if args.any_type {
        op.institution_type = None;
    }
    let reply = client.get_institutions(&op).await.map_err(Failure::call)?;
    for i in &reply.items {
        let text = |v: Option<&str>| v.unwrap_or_default().replace(['\t', '\n', '\r'], " ");
        crate::output::line(format_args!(
            "{}\t{}\t{}\t{}\t{}",
            text(Some(i.institution_code.as_str())),
            text(i.institution_name_en.as_deref()),
            text(i.institution_name_ch.as_deref()),
            text(i.country_code.as_ref().map(|c| c.as_str())),
            i.institution_type
                .map(|t| t.code().to_string())
                .unwrap_or_default(),
        ))?;
    }
    Ok(())
}
