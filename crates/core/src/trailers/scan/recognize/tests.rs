use super::*;

/// A small xorshift generator: fixed seed, the same names on every run and machine.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn chance(&mut self, in_n: usize) -> bool {
        self.below(in_n) == 0
    }
}

/// Words a title is made of: plenty of them look like the parts of a trailer's name.
const WORDS: &[&str] = &[
    "The", "Trailer", "trailer", "TRAILER", "Trailers", "trailer2", "Official", "Teaser", "Final",
    "Park", "Boys", "Movie", "Night", "Ça", "Ölçü", "東京", "2", "3", "1080p", "4K", "HD", "-",
    "–", "Part", "II", "S01E02", "of", "and", "Main", "New",
];
const SEPARATORS: &[&str] = &[" ", " ", " ", "-", ".", "_", " - ", ": "];
const QUALITIES: &[&str] = &[
    "",
    " Bluray-1080p",
    " WEBDL-2160p",
    " Remux-2160p",
    " DVD",
    " {imdb-tt0133093}",
    " [Bluray-1080p][DTS 5.1][x264]-GROUP",
];
const FOLDERS: &[&str] = &[
    "",
    "",
    "",
    "Trailers/",
    "trailers/",
    "TRAILERS/",
    "Extras/",
    "Season 01/",
    "Featurettes/",
    "Trailer/",
];
const EXTENSIONS: &[&str] = &["mkv", "mp4", "MKV", "m4v", "webm", "avi", "mov"];

/// A title of one to five words, which may well contain `Trailer`.
fn title(g: &mut Gen) -> String {
    let n = 1 + g.below(5);
    let mut t = String::new();
    for i in 0..n {
        if i > 0 {
            t.push_str(g.pick(SEPARATORS));
        }
        t.push_str(g.pick(WORDS));
    }
    t
}

/// A media file as Radarr, Sonarr or a person names one.
fn media_file(g: &mut Gen) -> String {
    let title = title(g);
    let year = 1900 + g.below(130);
    let stem = match g.below(4) {
        0 => format!("{title} ({year}){}", g.pick(QUALITIES)),
        1 => format!("{title} {year}{}", g.pick(QUALITIES)),
        2 => format!("{title}.{year}.1080p.BluRay.x264"),
        _ => title,
    };
    format!("{}{stem}.{}", g.pick(FOLDERS), g.pick(EXTENSIONS))
}

#[test]
fn the_item_s_own_media_file_is_never_a_trailer_whatever_its_name_place_size_or_record() {
    let mut g = Gen(0x7a9e_a77e_5eed_0001);
    for _ in 0..20_000 {
        let file = media_file(&mut g);
        // Listed by the source as it is, or spelled with other case, or only by name.
        let listed = match g.below(3) {
            0 => file.clone(),
            1 => file.to_uppercase(),
            _ => file.rsplit('/').next().unwrap_or(&file).to_string(),
        };
        let mut media = vec![listed];
        if g.chance(3) {
            media.push(media_file(&mut g));
        }
        for placed in [false, true] {
            for size in [None, Some(1_000), Some(200 << 20), Some(FEATURE_BYTES * 3)] {
                let facts = FileFacts {
                    rel_path: &file,
                    size,
                    placed,
                };
                assert_eq!(
                    recognize(facts, &media),
                    Err(NotATrailer::MediaFile),
                    "{file:?} listed as {media:?} (placed {placed}, size {size:?})"
                );
            }
        }
    }
}

#[test]
fn a_file_named_like_a_movie_with_its_year_is_never_a_trailer_by_name() {
    // Even when the source says nothing (no `movieFile` yet, a Sonarr series): Radarr's and
    // Sonarr's naming puts the year after the title, which no trailer name has.
    let mut g = Gen(0x0ddc_0ffe_e000_0002);
    for _ in 0..20_000 {
        let title = title(&mut g);
        let year = 1900 + g.below(130);
        let file = format!(
            "{title} ({year}){}.{}",
            g.pick(QUALITIES),
            g.pick(EXTENSIONS)
        );
        let facts = FileFacts {
            rel_path: &file,
            size: Some(1_000),
            placed: false,
        };
        assert!(recognize(facts, &[]).is_err(), "{file:?}");
    }
}

#[test]
fn a_movie_named_trailer_is_not_its_own_trailer() {
    for movie in [
        "The Trailer (2020).mkv",
        "The Trailer (2020) Bluray-1080p.mkv",
        "Trailer (2019).mp4",
        "The.Trailer.2020.1080p.BluRay.x264.mkv",
        "The Trailer.mkv",
        "Movie trailer.mkv",
        "Trailer Park Boys (2006).mkv",
        "Show - S01E02 - Trailer.mkv",
        "Extras/Movie (2019)-trailer.mp4",
        "Season 01/Trailer.mkv",
    ] {
        let facts = FileFacts {
            rel_path: movie,
            size: Some(1_000),
            placed: false,
        };
        assert!(recognize(facts, &[]).is_err(), "{movie}");
    }
    let movie = FileFacts {
        rel_path: "The Trailer (2020).mkv",
        size: Some(1_000),
        placed: true,
    };
    assert_eq!(
        recognize(movie, &["The Trailer (2020).mkv".to_string()]),
        Err(NotATrailer::MediaFile),
        "not even when a record says Tapearr placed it"
    );
}

#[test]
fn what_clearly_is_a_trailer_is_one() {
    let media = vec!["The Trailer (2020).mkv".to_string()];
    for (file, by) in [
        ("The Trailer (2020)-trailer.mp4", TrailerBy::Name),
        ("The Trailer (2020) (2)-trailer.mkv", TrailerBy::Name),
        ("Movie - Official Trailer 2.mp4", TrailerBy::Name),
        ("Movie.trailer.1080p.mkv", TrailerBy::Name),
        ("trailer.mp4", TrailerBy::Name),
        ("Trailers/The Trailer (2020).mp4", TrailerBy::Folder),
        ("trailers/Anything.webm", TrailerBy::Folder),
    ] {
        let facts = FileFacts {
            rel_path: file,
            size: Some(50 << 20),
            placed: false,
        };
        assert_eq!(recognize(facts, &media), Ok(by), "{file}");
    }
    // In a profile's own folder, only what Tapearr placed counts.
    let placed = FileFacts {
        rel_path: "Extras/The Trailer (2020).mp4",
        size: Some(50 << 20),
        placed: true,
    };
    assert_eq!(recognize(placed, &media), Ok(TrailerBy::Placed));
    // A feature-sized file is not a trailer, however it is named.
    let big = FileFacts {
        rel_path: "Movie-trailer.mkv",
        size: Some(FEATURE_BYTES),
        placed: false,
    };
    assert_eq!(recognize(big, &media), Err(NotATrailer::FeatureSize));
}

#[test]
fn media_files_are_made_relative_to_the_folder() {
    let mut item = crate::trailers::place::tests::item("The Trailer", Some(2020));
    item.folder = "/movies/The Trailer (2020)/".into();
    item.media_files = vec![
        "/movies/The Trailer (2020)/The Trailer (2020).mkv".into(),
        "/movies/The Trailer (2020)/Sub/part2.mkv".into(),
        "/elsewhere/Other.mkv".into(),
        "D:\\Movies\\X\\X.mkv".into(),
    ];
    assert_eq!(
        media_rel_paths(&item),
        [
            "The Trailer (2020).mkv",
            "Sub/part2.mkv",
            "Other.mkv",
            "X.mkv"
        ]
    );
}
