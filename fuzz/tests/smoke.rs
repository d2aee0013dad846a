//! Stable stand-in for `cargo fuzz`: the seeds plus many cheap mutations of them.

use std::path::Path;

#[test]
fn seeds_and_mutations_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("seeds dir")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    assert!(!seeds.is_empty());
    // xorshift: deterministic, no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"#:,=\"\n-.0123456789xEXT-X-STREAM-INFAmazon@ ";
    for seed in &seeds {
        tapearr_fuzz::fuzz_playlist(seed);
        for _ in 0..3000 {
            let mut data = seed.clone();
            for _ in 0..(next() % 8 + 1) {
                let pos = (next() as usize) % (data.len() + 1);
                match next() % 4 {
                    0 if pos < data.len() => {
                        data.remove(pos);
                    }
                    1 => data.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                    2 if pos < data.len() => data[pos] = next() as u8,
                    _ => data.truncate(pos),
                }
            }
            tapearr_fuzz::fuzz_playlist(&data);
        }
    }
}
