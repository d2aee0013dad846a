//! Season trailers (#18): a candidate from TMDB's season videos should say which season it
//! is. The title is read for `Season 2`, `S2`, `S02` (also `Staffel`, `Saison`, `Temporada`,
//! the words TMDB's other-language entries use): this season scores, another season is
//! rejected (TMDB lists a season's videos under the wrong season now and then), and no
//! season at all costs a little. Each is a reason line, like the rest of the score.

use crate::trailers::search::score::{Scored, words};

/// Words that stand before a season's number.
const SEASON_WORDS: &[&str] = &["season", "staffel", "saison", "temporada", "stagione"];

/// Points for a title that names the wanted season.
const NAMES_THIS_SEASON: i32 = 25;
/// Points for a title that names no season.
const NAMES_NO_SEASON: i32 = -10;

/// The season numbers a video title names (`Season 2 | Official Trailer` → `[2]`,
/// `The Show S03 Trailer` → `[3]`).
pub fn seasons_named(title: &str) -> Vec<u32> {
    let w = words(title);
    let mut out = Vec::new();
    for (i, word) in w.iter().enumerate() {
        let number = if SEASON_WORDS.contains(&word.as_str()) {
            w.get(i + 1).and_then(|n| n.parse::<u32>().ok())
        } else {
            word.strip_prefix('s')
                .filter(|d| (1..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<u32>().ok())
        };
        if let Some(n) = number.filter(|n| !out.contains(n)) {
            out.push(n);
        }
    }
    out
}

/// Adds the season rule to ranked candidates for season `season` and ranks them again (best
/// accepted first; the user's pick is left as it is).
pub fn apply(mut ranked: Vec<Scored>, season: u32) -> Vec<Scored> {
    for s in ranked.iter_mut().filter(|s| s.score < 1000) {
        let named = seasons_named(&s.candidate.title);
        if named.contains(&season) {
            s.score += NAMES_THIS_SEASON;
            s.reasons
                .push(format!("{NAMES_THIS_SEASON:+} title names Season {season}"));
        } else if let Some(other) = named.first() {
            s.accepted = false;
            s.reasons.insert(
                0,
                format!("rejected: the title names Season {other}, not Season {season}"),
            );
        } else if !s.candidate.title.is_empty() {
            s.score += NAMES_NO_SEASON;
            s.reasons
                .push(format!("{NAMES_NO_SEASON:+} title names no season"));
        }
    }
    ranked.sort_by(|a, b| b.accepted.cmp(&a.accepted).then(b.score.cmp(&a.score)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trailers::model::CandidateSource;
    use crate::trailers::search::score::Candidate;

    #[test]
    fn titles_name_their_seasons() {
        assert_eq!(seasons_named("Season 2 | Official Trailer"), [2]);
        assert_eq!(seasons_named("The Show S03 Trailer (HD)"), [3]);
        assert_eq!(seasons_named("Staffel 4 – Trailer"), [4]);
        assert_eq!(seasons_named("Official Trailer"), Vec::<u32>::new());
        assert_eq!(seasons_named("Seasons Greetings 2"), Vec::<u32>::new());
    }

    fn scored(id: &str, title: &str, score: i32) -> Scored {
        let mut c = Candidate::from_id(id, CandidateSource::Tmdb, format!("https://v/{id}"));
        c.title = title.into();
        Scored {
            candidate: c,
            score,
            accepted: true,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn the_wanted_season_wins_and_another_is_rejected() {
        let ranked = apply(
            vec![
                scored("other", "Season 1 | Official Trailer", 60),
                scored("none", "Official Trailer", 60),
                scored("this", "Season 2 | Trailer", 50),
            ],
            2,
        );
        let order: Vec<(&str, bool)> = ranked
            .iter()
            .map(|s| (s.candidate.video_id.as_str(), s.accepted))
            .collect();
        assert_eq!(order, [("this", true), ("none", true), ("other", false)]);
        assert!(
            ranked[0]
                .reasons
                .contains(&"+25 title names Season 2".to_string())
        );
        assert_eq!(
            ranked[2].reasons[0],
            "rejected: the title names Season 1, not Season 2"
        );
        assert_eq!(ranked[1].score, 50, "no season named: -10");
    }
}
