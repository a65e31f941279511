//! A bulk bidder list as CSV (encoding detected), screened whole against
//! a small snapshot, exactly as `credgate bulk` and `POST
//! /v1/screen/bulk` do. Properties: nothing panics, the run ends, and
//! every row comes back once, in order.
#![no_main]

use credgate_bulk::InputFormat;
use credgate_entries::Encoding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let screener = credgate_fuzz::screener();
    let path = credgate_fuzz::input_file("bulk.csv", data);
    credgate_fuzz::bulk::check(
        &path,
        InputFormat::Csv(Encoding::Auto),
        screener,
    );
});
