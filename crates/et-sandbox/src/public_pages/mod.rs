//! ET's public pages: what the payer and the student see, answering anyone
//! (no dashboard access check). Each is a maud template sent through the
//! one responder ([`crate::reply`]), with the pages' shared `<head>` and
//! style sheet ([`crate::html`]), and runs no script.
//!
//! - [`checkout`]: `/pay/{order_id}`, the payer pays or declines.
//! - [`jump_page`]: `/jump/{token}`, the student completes a merchant's
//!   jump request, choosing the institution from the directory.
//! - [`voucher`]: `/vouchers/{order_id}.pdf`, the remittance voucher (a
//!   PDF, not a page).

mod checkout;
mod jump_page;
mod voucher;

pub use checkout::PAY_METHODS;
pub(crate) use checkout::{show as checkout, submit as checkout_submit};
pub(crate) use jump_page::{show as jump, submit as jump_submit, MAX_FORM};
pub(crate) use voucher::serve as voucher;
