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

/// The seeds, then many cheap mutations of each, through `body` (the stable stand-in).
fn mutate_through(seeds: &[&[u8]], rounds: usize, body: fn(&[u8])) {
    let mut state: u64 = 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] = b"{}/\\.:\0 -_abcnyYmdhi0123456789=\xc3\xa9\xe2\x80\xae";
    for seed in seeds {
        body(seed);
        for _ in 0..rounds {
            let mut data = seed.to_vec();
            for _ in 0..(next() % 6 + 1) {
                let pos = (next() as usize) % (data.len() + 1);
                match next() % 5 {
                    0 if pos < data.len() => {
                        data.remove(pos);
                    }
                    1 | 4 => data.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                    2 if pos < data.len() => data[pos] = next() as u8,
                    _ => data.truncate(pos.max(data.len() / 2)),
                }
            }
            body(&data);
        }
    }
}

#[test]
fn naming_templates_never_escape_the_root() {
    mutate_through(
        &[
            b"{channel}/Season {yyyy-mm}/{channel} - S{yyyymm}E{nn} - {title}.mp4\0chan\0Chan\0Title\0Cat\0id1",
            b"{title}/{category}/{nn}.mp4\0..\0..\0..\0..\0..",
            b"a/{title}/{id}.mp4\0x\0y\0../../etc\0/\0\\..\\",
            b"{yyyy}/{mm}/{dd}/{hh}{min} {channel_name} {id}.mp4\0\0\0\0\0zz",
        ],
        4000,
        tapearr_fuzz::fuzz_naming,
    );
}

#[test]
fn path_mappings_stay_under_their_target() {
    mutate_through(
        &[
            b"/data/tv/Show/S01/e.mkv\0/data/tv\0/srv/tv\0/data\0D:\\Media",
            b"/data/tvshows/x\0/data/tv/\0\\\\nas\\media\0/\0/",
            b"C:\\Movies\\A (2020)\\a.mkv\0C:\\Movies\0/movies\0C:\\\0/c",
            b"/m/../x\0/m\0/srv\0\0",
        ],
        4000,
        tapearr_fuzz::fuzz_path_mapping,
    );
}

#[test]
fn eventsub_verify_and_parse_never_panic() {
    mutate_through(
        &[
            b"id-1\0notification\0sha256=00\x002027-01-15T08:00:00Z\0secret-123\0{\"subscription\":{\"id\":\"s\",\"type\":\"stream.online\",\"status\":\"enabled\"},\"event\":{\"broadcaster_user_id\":\"1\",\"broadcaster_user_login\":\"a\"}}",
            b"id-2\0webhook_callback_verification\0sha256=zz\0bad\0s\0{\"challenge\":\"c\",\"subscription\":{}}",
            b"id-3\0revocation\0\x002027-01-15T08:00:00.123456789+00:00\0\0{}",
        ],
        4000,
        tapearr_fuzz::fuzz_eventsub,
    );
}
