//! Money arithmetic on stored amounts, in exact decimals (never a float).

use et_model::{Amount, AmountError};

use crate::store::OrderRecord;

/// `tuition_rmb + counter_fee`, the RMB amount the payer pays, 2 decimals;
/// an error (never a guess) when a stored amount is no usable decimal or
/// the sum overflows.
pub(crate) fn amount_due(o: &OrderRecord) -> Result<Amount, AmountError> {
    let (rmb, fee) = (o.tuition_rmb.to_decimal()?, o.counter_fee.to_decimal()?);
    let mut sum = rmb
        .checked_add(fee)
        .ok_or_else(|| AmountError::OutOfRange(format!("{rmb} + {fee}")))?;
    sum.rescale(2);
    Ok(Amount::from_decimal(sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(tuition_rmb: &str, counter_fee: &str) -> OrderRecord {
        let mut o = OrderRecord::sample(et_model::OrderStatus::AwaitingPayment);
        o.tuition_rmb = Amount::new(tuition_rmb).expect("amount");
        o.counter_fee = Amount::new(counter_fee).expect("amount");
        o
    }

    #[test]
    fn the_amount_due_is_tuition_plus_fee_to_the_cent() {
        assert_eq!(
            amount_due(&order("920.5", "50.00")).map(|a| a.to_string()),
            Ok("970.50".into())
        );
    }

    #[test]
    fn a_sum_beyond_a_decimal_is_an_error_not_the_tuition() {
        let max = "79228162514264337593543950335";
        assert!(matches!(
            amount_due(&order(max, max)),
            Err(AmountError::OutOfRange(_))
        ));
    }
}
