#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tapearr_fuzz::fuzz_eventsub(data);
});
