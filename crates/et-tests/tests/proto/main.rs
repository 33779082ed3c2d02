//! et-proto's integration tests, one binary: the merchant and ET sides
//! over the test kit's committed keys.

mod common;
mod et_side_decryption;
mod no_secrets;
mod notifications;
mod payload_errors;
mod properties;
mod resplit;
mod rollover;
mod round_trip;
mod tamper;
