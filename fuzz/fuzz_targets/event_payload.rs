#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wechaty_client::fuzz::event_payload(data));
