//! A bulk bidder list as XLSX (the first sheet), screened whole against a
//! small snapshot, exactly as `credgate bulk` and `POST /v1/screen/bulk`
//! do. Properties: nothing panics, the run ends within the fuzzer's
//! memory limit, and every row comes back once, in order.
#![no_main]

use credgate_bulk::InputFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let screener = credgate_fuzz::screener();
    let path = credgate_fuzz::input_file("bulk.xlsx", data);
    credgate_fuzz::bulk::check(&path, InputFormat::Xlsx, screener);
});
