#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wechaty_client::fuzz::file_box_json(data));
