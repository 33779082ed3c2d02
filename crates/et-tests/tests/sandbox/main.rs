//! et-sandbox's integration tests that need the test kit, one binary. (Its
//! module-layering check needs none and stays in et-sandbox.)

mod access;
mod amounts;
mod bounds;
mod browser;
mod common;
mod dashboard;
mod decryption;
mod duplicated_requests;
mod faults;
mod institutions_jump;
mod lifecycle;
mod profiles;
mod requests;
mod rotation;
mod tls;
