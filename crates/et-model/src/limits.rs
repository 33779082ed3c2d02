//! The maximum lengths ET documents for request fields, each written once.
//!
//! Lengths count characters (Unicode scalar values), not bytes: `name_ch`
//! ≤ [`CHINESE_NAME_MAX`] means 20 Chinese characters. Each field's doc
//! links the constant it declares in its `wire_struct!`, and
//! [`Payload::validate`](crate::Payload::validate) enforces it.

/// Longest URL ET accepts (`notify_url`, `back_jump_url`, …).
pub const URL_MAX: usize = 500;
/// Longest ET order id.
pub const ORDER_ID_MAX: usize = 30;
/// Longest merchant user key.
pub const USER_KEY_MAX: usize = 200;
/// Longest `merchant_order_id` (the order page and the jump page agree).
pub const MERCHANT_ORDER_ID_MAX: usize = 50;
/// Longest country code (`country_code`, `source_country_code`).
pub const COUNTRY_CODE_MAX: usize = 5;
/// Longest English given or family name.
pub const ENGLISH_NAME_MAX: usize = 50;
/// Longest Chinese name.
pub const CHINESE_NAME_MAX: usize = 20;
/// Longest student e-mail address.
pub const EMAIL_MAX: usize = 50;
/// Longest student (payer) address.
pub const ADDRESS_MAX: usize = 300;
/// Longest school, apartment or city name.
pub const PLACE_NAME_MAX: usize = 200;
/// Longest WeChat id or WeChat mini-program appid.
pub const WECHAT_ID_MAX: usize = 100;
