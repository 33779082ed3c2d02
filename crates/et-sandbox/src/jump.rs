//! The institution directory's operation (`get_institutions`) and
//! third-party jump ordering (`merchant_jump_place_order`).
//!
//! A jump request is saved under a random token and answered with the
//! address `/jump/{token}`, where the student completes it
//! ([the jump page](crate::public_pages)). The token is the only
//! credential of the page, so it is long and random; a retried request
//! (same `merchant_order_id`) gets the same address, and a jump places at
//! most one order.

use et_model::{GetInstitutions, Institution, JumpAddress, JumpPlaceOrder};
use et_proto::OpenedRequest;

use crate::access::random_token;
use crate::app::App;
use crate::codes::{Refusal, SandboxCode};
use crate::store::{self, JumpRecord};

/// `get_institutions`: the directory searched by key and type.
pub(crate) fn get_institutions(
    app: &App,
    _: &OpenedRequest,
    op: GetInstitutions,
) -> Result<Vec<Institution>, Refusal> {
    Ok(app
        .institutions
        .search(&op.search_key, op.institution_type, op.count))
}

/// The directory entry for an order's `institution_code` (none when the
/// code is absent or empty); `200007` for a code the directory lacks.
pub(crate) fn institution<'a>(
    app: &'a App,
    code: Option<&str>,
) -> Result<Option<&'a Institution>, Refusal> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Ok(None);
    };
    app.institutions.get(code).map(Some).ok_or_else(|| {
        Refusal::new(
            SandboxCode::UnknownInstitution,
            format!(
                "invalid `institution_code`: {code:?} is not in the sandbox's institution directory (search it with get_institutions)"
            ),
        )
    })
}

/// `merchant_jump_place_order`: saves the request, answers with the page's address.
pub(crate) fn place_jump(
    app: &App,
    req: &OpenedRequest,
    op: JumpPlaceOrder,
) -> Result<Vec<JumpAddress>, Refusal> {
    let request = serde_json::to_string(&op).map_err(|e| {
        Refusal::new(
            SandboxCode::Internal,
            format!("saving the jump failed: {e}"),
        )
    })?;
    let record = JumpRecord {
        token: random_token(),
        merchant_number: req.merchant_number.clone(),
        sub_merchant_number: req.sub_merchant_number.clone(),
        request,
        order_id: None,
    };
    let now = app.clock.now();
    let token = app.store.tx(|c| {
        let placed = store::order_by_merchant_order_id(c, &req.merchant_number, &op.merchant_order_id)?;
        if let Some(o) = placed {
            return Err(Refusal::new(
                SandboxCode::DuplicateMerchantOrderId,
                format!(
                    "merchant_order_id {:?} was already used by merchant {} for order {} (status {}); query that order instead",
                    op.merchant_order_id, req.merchant_number, o.order_id, o.status
                ),
            ));
        }
        Ok(store::upsert_jump(c, &record, &op.merchant_order_id, now)?)
    })?;
    Ok(vec![JumpAddress {
        jump_url: Some(app.jump_url(&token)),
        order_id: None,
        extra: Default::default(),
    }])
}
