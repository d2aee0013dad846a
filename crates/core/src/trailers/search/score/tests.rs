use super::*;
use crate::trailers::place::tests::item;

fn search(id: &str, title: &str) -> Candidate {
    Candidate {
        video_id: id.into(),
        source: CandidateSource::Search,
        title: title.into(),
        url: format!("https://www.youtube.com/watch?v={id}"),
        duration_s: Some(150.0),
        uploader: Some("Some Fan".into()),
        height: Some(1080),
        is_live: false,
        is_upcoming: false,
        official: false,
        language: None,
        kind: None,
    }
}

fn tmdb(id: &str, title: &str, official: bool, kind: &str) -> Candidate {
    Candidate {
        source: CandidateSource::Tmdb,
        official,
        kind: Some(kind.into()),
        language: Some("en".into()),
        duration_s: None,
        uploader: None,
        ..search(id, title)
    }
}

fn ids(ranked: &[Scored]) -> Vec<&str> {
    ranked
        .iter()
        .map(|s| s.candidate.video_id.as_str())
        .collect()
}

fn get<'a>(ranked: &'a [Scored], id: &str) -> &'a Scored {
    ranked
        .iter()
        .find(|s| s.candidate.video_id == id)
        .expect("candidate")
}

fn rules() -> SearchRules {
    SearchRules::default()
}

#[test]
fn the_official_tmdb_trailer_beats_a_fan_upload() {
    let movie = item("Alien", Some(1979));
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            search("fan", "Alien 1979 trailer fan made HD"),
            tmdb("off", "Official Trailer", true, "Trailer"),
        ],
    );
    assert_eq!(ids(&ranked), ["off", "fan"]);
    let best = &ranked[0];
    assert!(best.accepted);
    for line in ["+30 from TMDB", "+20 official", "+10 language en"] {
        assert!(best.reasons.iter().any(|r| r == line), "{:?}", best.reasons);
    }
    assert_eq!(
        best.score,
        best.reasons
            .iter()
            .map(|r| r
                .split(' ')
                .next()
                .and_then(|n| n.parse::<i32>().ok())
                .unwrap_or(0))
            .sum::<i32>(),
        "the reasons add up to the score: {:?}",
        best.reasons
    );
}

#[test]
fn a_review_is_rejected_with_its_reason() {
    let movie = item("Movie", Some(2019));
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            search("rev", "Movie (2019) Review"),
            search("ok", "Movie (2019) - Official Trailer"),
        ],
    );
    assert_eq!(ids(&ranked), ["ok", "rev"]);
    let rev = get(&ranked, "rev");
    assert!(!rev.accepted);
    assert_eq!(rev.reasons[0], "rejected: \"review\" in the title");
    for (title, word) in [
        ("Movie Reaction!!", "reaction"),
        ("Movie trailer REACTS", "reacts"),
        ("Movie ending explained", "explained"),
        ("Movie trailer breakdown", "breakdown"),
    ] {
        let r = rank(&movie, &rules(), 1080, vec![search("x", title)]);
        assert_eq!(
            r[0].reasons[0],
            format!("rejected: \"{word}\" in the title")
        );
    }
    // A word inside another word is not that word.
    let r = rank(
        &movie,
        &rules(),
        1080,
        vec![search("x", "Movie Previewed trailer")],
    );
    assert!(r[0].accepted, "{:?}", r[0].reasons);
}

#[test]
fn a_remakes_trailer_scores_below_the_right_year() {
    let movie = item("Dune", Some(2021));
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            search("1984", "Dune (1984) Trailer"),
            search("2021", "Dune (2021) Trailer"),
            search("2020", "Dune Official Trailer 2020"),
        ],
    );
    assert_eq!(ids(&ranked), ["2021", "2020", "1984"]);
    let old = get(&ranked, "1984");
    assert!(old.accepted, "another year is scored, not rejected");
    assert!(
        old.reasons
            .iter()
            .any(|r| r == "-30 year 1984, not 2021 (another film?)"),
        "{:?}",
        old.reasons
    );
    // A year inside the media title is not another year.
    let br = item("Blade Runner 2049", Some(2017));
    let r = rank(
        &br,
        &rules(),
        1080,
        vec![search("x", "Blade Runner 2049 Trailer")],
    );
    assert!(
        !r[0].reasons.iter().any(|l| l.contains("not 2017")),
        "{:?}",
        r[0].reasons
    );
}

#[test]
fn include_groups_need_one_of_their_words() {
    let movie = item("Movie", Some(2019));
    let rules = SearchRules {
        include_words: vec!["trailer|teaser".into()],
        ..rules()
    };
    let ranked = rank(
        &movie,
        &rules,
        1080,
        vec![
            search("clip", "Movie (2019) clip: the chase"),
            search("teaser", "Movie (2019) Teaser"),
            search("trailer", "Movie (2019) Trailer"),
            // The Arr's id has no title: word rules cannot apply to it.
            Candidate {
                source: CandidateSource::Arr,
                title: String::new(),
                ..search("arr", "")
            },
        ],
    );
    assert_eq!(ids(&ranked), ["trailer", "arr", "teaser", "clip"]);
    let clip = get(&ranked, "clip");
    assert!(!clip.accepted);
    assert_eq!(
        clip.reasons[0],
        "rejected: the title has none of trailer, teaser"
    );
    assert!(get(&ranked, "arr").accepted);
    assert!(get(&ranked, "teaser").accepted);
}

#[test]
fn exclude_words_and_phrases() {
    let movie = item("Movie", Some(2019));
    let rules = SearchRules {
        exclude_words: vec!["behind the scenes".into(), "fan&&made".into()],
        ..rules()
    };
    let ranked = rank(
        &movie,
        &rules,
        1080,
        vec![
            search("bts", "Movie - Behind the Scenes"),
            search("fan", "Movie trailer (made by a fan)"),
            search("scenes", "Movie trailer: scenes behind"),
        ],
    );
    assert!(!get(&ranked, "bts").accepted);
    assert!(!get(&ranked, "fan").accepted);
    assert!(get(&ranked, "scenes").accepted);
    assert_eq!(
        get(&ranked, "fan").reasons[0],
        "rejected: excluded word \"fan&&made\""
    );
}

#[test]
fn the_uploader_allow_list() {
    let movie = item("Movie", Some(2019));
    let rules = SearchRules {
        uploaders: vec!["Studio Channel".into()],
        ..rules()
    };
    let official = Candidate {
        uploader: Some("studio channel".into()),
        ..search("ok", "Movie Trailer")
    };
    let unknown = Candidate {
        uploader: None,
        ..search("unknown", "Movie Trailer")
    };
    let ranked = rank(
        &movie,
        &rules,
        1080,
        vec![
            search("fan", "Movie Trailer"),
            official,
            unknown,
            tmdb("tmdb", "Trailer", false, "Trailer"),
        ],
    );
    let mut accepted: Vec<&str> = ranked
        .iter()
        .filter(|s| s.accepted)
        .map(|s| s.candidate.video_id.as_str())
        .collect();
    accepted.sort_unstable();
    assert_eq!(
        accepted,
        ["ok", "tmdb"],
        "TMDB ids come without an uploader"
    );
    assert_eq!(
        get(&ranked, "fan").reasons[0],
        "rejected: uploader Some Fan is not in the allow-list"
    );
}

#[test]
fn live_upcoming_shorts_and_durations_are_rejected() {
    let movie = item("Movie", Some(2019));
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            Candidate {
                is_live: true,
                ..search("live", "Movie trailer")
            },
            Candidate {
                is_upcoming: true,
                ..search("soon", "Movie trailer")
            },
            Candidate {
                url: "https://www.youtube.com/shorts/abc".into(),
                ..search("short", "Movie trailer")
            },
            Candidate {
                duration_s: Some(840.0),
                ..search("long", "Movie trailer")
            },
            Candidate {
                duration_s: Some(630.0),
                ..search("long2", "Movie trailer")
            },
            Candidate {
                duration_s: Some(12.0),
                ..search("tiny", "Movie trailer")
            },
            Candidate {
                duration_s: None,
                ..search("unknown", "Movie trailer")
            },
        ],
    );
    let first = |id| get(&ranked, id).reasons[0].clone();
    assert_eq!(first("live"), "rejected: a live stream");
    assert_eq!(first("soon"), "rejected: not out yet (upcoming)");
    assert_eq!(first("short"), "rejected: a short");
    assert_eq!(first("long"), "rejected: 14 min is longer than 10 min");
    assert_eq!(
        first("long2"),
        "rejected: 10 min 30 s is longer than 10 min"
    );
    assert_eq!(first("tiny"), "rejected: 12 s is shorter than 30 s");
    let unknown = get(&ranked, "unknown");
    assert!(unknown.accepted);
    assert!(unknown.reasons.iter().any(|r| r == "-5 duration unknown"));
    assert_eq!(ranked[0].candidate.video_id, "unknown");
}

#[test]
fn equal_scores_keep_the_input_order() {
    let movie = item("Movie", Some(2019));
    let list: Vec<Candidate> = (0..6)
        .map(|i| search(&format!("v{i}"), "Movie (2019) Trailer"))
        .collect();
    let ranked = rank(&movie, &rules(), 1080, list);
    assert_eq!(ids(&ranked), ["v0", "v1", "v2", "v3", "v4", "v5"]);
}

#[test]
fn a_teaser_only_when_no_trailer() {
    let movie = item("Movie", Some(2019));
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            tmdb("teaser", "Official Teaser", true, "Teaser"),
            Candidate {
                height: Some(480),
                ..tmdb("trailer", "Trailer", false, "Trailer")
            },
        ],
    );
    assert_eq!(ids(&ranked), ["trailer", "teaser"]);
    assert!(
        get(&ranked, "teaser")
            .reasons
            .iter()
            .any(|r| r == "-40 teaser")
    );
}

#[test]
fn the_users_pick_always_wins_unfiltered() {
    let movie = item("Movie", Some(2019));
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            tmdb("tmdb", "Official Trailer", true, "Trailer"),
            Candidate {
                source: CandidateSource::User,
                is_live: true,
                ..search("mine", "Movie review")
            },
        ],
    );
    assert_eq!(ranked[0].candidate.video_id, "mine");
    assert!(ranked[0].accepted);
    assert_eq!(ranked[0].score, 1000);
}

#[test]
fn resolution_language_studio_and_original_title() {
    let mut movie = item("Spirited Away", Some(2001));
    movie.original_title = Some("千と千尋の神隠し".into());
    movie.studio = Some("Studio Ghibli".into());
    let rules = SearchRules {
        language: Some("ja".into()),
        ..rules()
    };
    let ranked = rank(
        &movie,
        &rules,
        1080,
        vec![
            Candidate {
                height: Some(720),
                ..search("en720", "Spirited Away (2001) Trailer")
            },
            Candidate {
                height: Some(2160),
                language: Some("ja-JP".into()),
                uploader: Some("GHIBLI Official".into()),
                ..search("ja", "千と千尋の神隠し予告編 2001")
            },
        ],
    );
    let ja = get(&ranked, "ja");
    for line in [
        "+15 2160p",
        "+10 language ja",
        "+20 uploaded by the studio (GHIBLI Official)",
        "+10 year 2001",
    ] {
        assert!(
            ja.reasons.iter().any(|r| r == line),
            "{line}: {:?}",
            ja.reasons
        );
    }
    assert!(
        ja.reasons
            .iter()
            .any(|r| r.starts_with("+") && r.contains("title matches")),
        "{:?}",
        ja.reasons
    );
    let en = get(&ranked, "en720");
    assert!(
        en.reasons.iter().any(|r| r == "+10 720p"),
        "{:?}",
        en.reasons
    );
    assert_eq!(ids(&ranked), ["ja", "en720"]);
}

#[test]
fn accents_and_case_do_not_matter_for_the_title() {
    let movie = item("Amélie", Some(2001));
    let r = rank(
        &movie,
        &rules(),
        1080,
        vec![search("x", "AMELIE - trailer (2001)")],
    );
    assert!(
        r[0].reasons
            .iter()
            .any(|l| l == "+40 title matches \"Amélie\" (100%)"),
        "{:?}",
        r[0].reasons
    );
}

#[test]
fn the_search_query_fills_the_template() {
    let movie = item("Alien", Some(1979));
    assert_eq!(search_query(&movie, &rules()), "Alien 1979 movie trailer");
    let mut show = item("  The   Office ", None);
    show.kind = MediaKind::Series;
    let rules = SearchRules {
        query: "{title} ({year}) {kind}  official trailer".into(),
        ..rules()
    };
    assert_eq!(
        search_query(&show, &rules),
        "The Office tv show official trailer"
    );
}

#[test]
fn the_same_video_from_two_sources_is_listed_once_with_merged_details() {
    let movie = item("Alien", Some(1979));
    let arr = Candidate {
        source: CandidateSource::Arr,
        title: String::new(),
        duration_s: None,
        height: None,
        uploader: None,
        ..search("same", "")
    };
    let ranked = rank(
        &movie,
        &rules(),
        1080,
        vec![
            arr,
            tmdb("other", "Teaser", true, "Teaser"),
            tmdb("same", "Official Trailer", true, "Trailer"),
        ],
    );
    assert_eq!(ids(&ranked), ["same", "other"]);
    let same = &ranked[0];
    assert_eq!(same.candidate.source, CandidateSource::Arr);
    assert!(same.candidate.official);
    assert_eq!(same.candidate.title, "Official Trailer");
    for line in ["+40 the Arr's trailer", "+20 official", "+0 also from TMDB"] {
        assert!(same.reasons.iter().any(|r| r == line), "{:?}", same.reasons);
    }
}

#[test]
fn languages_rank_in_the_profiles_order_with_the_original_first() {
    let mut movie = item("Amélie", Some(2001));
    movie.language = Some("French".into());
    let rules = SearchRules {
        language: Some("en".into()),
        fallback_languages: vec!["de".into()],
        prefer_original_language: true,
        ..rules()
    };
    let in_language = |id: &str, language: &str| Candidate {
        language: Some(language.into()),
        ..tmdb(id, "Amélie (2001) Trailer", true, "Trailer")
    };
    let ranked = rank(
        &movie,
        &rules,
        1080,
        vec![
            in_language("ja", "ja"),
            in_language("de", "de-DE"),
            in_language("en", "en"),
            in_language("fr", "fr"),
        ],
    );
    assert_eq!(ids(&ranked), ["fr", "en", "de", "ja"]);
    let line = |id: &str| {
        get(&ranked, id)
            .reasons
            .iter()
            .find(|r| r.contains("language"))
            .cloned()
    };
    assert_eq!(
        line("fr").as_deref(),
        Some("+10 language fr (the original)")
    );
    assert_eq!(
        line("en").as_deref(),
        Some("+7 language en (choice 2 of 3)")
    );
    assert_eq!(
        line("de").as_deref(),
        Some("+4 language de (choice 3 of 3)")
    );
    assert_eq!(
        line("ja").as_deref(),
        Some("-10 language ja (wanted fr, en, de)")
    );

    // Without the original preference the profile's language leads.
    let rules = SearchRules {
        prefer_original_language: false,
        ..rules
    };
    let ranked = rank(
        &movie,
        &rules,
        1080,
        vec![in_language("fr", "fr"), in_language("en", "en")],
    );
    assert_eq!(ids(&ranked), ["en", "fr"]);
}
