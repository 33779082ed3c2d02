//! Money arithmetic on the store's decimal text, in exact decimals (never a
//! float).

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::store::OrderRecord;

/// `tuition_rmb + counter_fee`, the RMB amount the payer pays, 2 decimals.
pub(crate) fn amount_due(o: &OrderRecord) -> String {
    let sum = Decimal::from_str(&o.tuition_rmb)
        .ok()
        .zip(Decimal::from_str(&o.counter_fee).ok())
        .and_then(|(a, b)| a.checked_add(b));
    match sum {
        Some(mut d) => {
            d.rescale(2);
            d.to_string()
        }
        None => o.tuition_rmb.clone(),
    }
}
