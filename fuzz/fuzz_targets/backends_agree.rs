#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| et_fuzz::backends_agree(data));
