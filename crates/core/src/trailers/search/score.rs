//! Candidate filtering and scoring (T5): every candidate is checked against the profile's
//! rules, then scored (source, official, title and year match, trailer or teaser, resolution,
//! language), and the best accepted one wins. Each point and each rejection is a reason line,
//! so the user sees why one video was chosen over another.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::trailers::model::SearchRules;
use crate::trailers::model::{CandidateSource, MediaItem, MediaKind};
use crate::trailers::place::render_template;
use crate::trailers::search::language::{primary_language, wanted_languages};

/// Title words that mark a video about the media rather than its trailer (always rejected).
const BLOCKED_WORDS: &[&str] = &[
    "review",
    "reviews",
    "reaction",
    "reactions",
    "reacts",
    "reacting",
    "explained",
    "breakdown",
];

/// Words that say nothing about which media a video is (left out of the title precision).
const NOISE_WORDS: &[&str] = &[
    "official", "trailer", "trailers", "teaser", "hd", "uhd", "4k", "8k", "1080p", "720p", "2160p",
    "movie", "film", "tv", "series", "show", "season", "new", "final", "full", "clip",
];

/// Studio words too generic to identify an uploader (`Warner Bros. Pictures` → `warner bros`).
const GENERIC_STUDIO_WORDS: &[&str] = &[
    "pictures",
    "picture",
    "studios",
    "studio",
    "entertainment",
    "films",
    "film",
    "productions",
    "inc",
    "ltd",
    "llc",
    "the",
    "company",
    "media",
    "group",
    "international",
];

/// One video that could be the trailer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Candidate {
    pub video_id: String,
    pub source: CandidateSource,
    /// Empty when unknown (an id from the Arr or the user): title filters are not applied.
    pub title: String,
    pub url: String,
    pub duration_s: Option<f64>,
    pub uploader: Option<String>,
    pub height: Option<u32>,
    pub is_live: bool,
    pub is_upcoming: bool,
    /// TMDB's official flag.
    pub official: bool,
    /// ISO 639-1 (`en`, `en-US`).
    pub language: Option<String>,
    /// TMDB's type: `Trailer`, `Teaser`.
    pub kind: Option<String>,
}

impl Candidate {
    /// A video known only by its id (from the Arr, an override or the user): nothing else is
    /// known until it is downloaded.
    pub fn from_id(video_id: &str, source: CandidateSource, url: String) -> Self {
        Self {
            video_id: video_id.to_string(),
            source,
            title: String::new(),
            url,
            duration_s: None,
            uploader: None,
            height: None,
            is_live: false,
            is_upcoming: false,
            official: false,
            language: None,
            kind: None,
        }
    }
}

/// A candidate with its score and the reasons for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scored {
    pub candidate: Candidate,
    pub score: i32,
    pub accepted: bool,
    /// `rejected: …` lines first, then one line per scoring rule that applied (`+30 from
    /// TMDB`, `+20 official`, `+32 title matches "Alien" (80%)`, `-40 teaser`, `+15 1080p`).
    pub reasons: Vec<String>,
}

/// Filters, then scores; returns every candidate (a rejected one with `accepted = false` and
/// its reasons), best accepted first, then the rejected ones, each by score (input order on a
/// tie). `max_height` is the profile's output height: resolution points stop there.
///
/// Hard rejections: live or upcoming, a known duration outside `[min, max]` (0 = no limit),
/// a `/shorts/` URL, a blocked word in the title (`review`, `reaction`, `reacts`, `explained`,
/// `breakdown`), a profile exclude word, an include group none of whose words is in the title,
/// and an uploader outside the allow-list when one is set (an unknown uploader is rejected for
/// search results only: the Arr's and TMDB's ids come without one). Word rules match whole
/// words and phrases, case- and accent-insensitively; an unknown (empty) title skips them.
/// The user's own pick is never filtered and always wins. The same video from several
/// sources is listed once, at its first source, with the others' details merged in.
pub fn rank(
    item: &MediaItem,
    rules: &SearchRules,
    max_height: u32,
    candidates: Vec<Candidate>,
) -> Vec<Scored> {
    let media = MediaWords::new(item);
    let mut scored: Vec<Scored> = merge_duplicates(candidates)
        .into_iter()
        .map(|(c, also)| {
            let mut s = score_one(item, &media, rules, max_height, c);
            for source in also {
                s.reasons
                    .push(format!("+0 also from {}", source_name(source)));
            }
            s
        })
        .collect();
    // Stable: equal scores keep the input (source) order.
    scored.sort_by(|a, b| b.accepted.cmp(&a.accepted).then(b.score.cmp(&a.score)));
    scored
}

/// One candidate per video id, at its first (highest priority) place, with what the later
/// sources knew filled in (TMDB's official flag and type on the Arr's id, a search result's
/// duration and uploader); the later sources are returned beside it.
fn merge_duplicates(candidates: Vec<Candidate>) -> Vec<(Candidate, Vec<CandidateSource>)> {
    let mut out: Vec<(Candidate, Vec<CandidateSource>)> = Vec::with_capacity(candidates.len());
    for c in candidates {
        let Some((first, also)) = out
            .iter_mut()
            .find(|(f, _)| !c.video_id.is_empty() && f.video_id == c.video_id)
        else {
            out.push((c, Vec::new()));
            continue;
        };
        if first.title.is_empty() {
            first.title = c.title;
        }
        first.duration_s = first.duration_s.or(c.duration_s);
        first.uploader = first.uploader.take().or(c.uploader);
        first.height = first.height.max(c.height);
        first.is_live |= c.is_live;
        first.is_upcoming |= c.is_upcoming;
        first.official |= c.official;
        first.language = first.language.take().or(c.language);
        first.kind = first.kind.take().or(c.kind);
        if c.source != first.source && !also.contains(&c.source) {
            also.push(c.source);
        }
    }
    out
}

fn source_name(source: CandidateSource) -> &'static str {
    match source {
        CandidateSource::User => "the user",
        CandidateSource::Arr => "the Arr",
        CandidateSource::Tmdb => "TMDB",
        CandidateSource::Search => "the search",
    }
}

/// The search query from `rules.query`: `{title}`, `{year}` (an empty `()` around a missing
/// one disappears), `{kind}` (`movie` or `tv show`); whitespace collapsed.
pub fn search_query(item: &MediaItem, rules: &SearchRules) -> String {
    render_template(&rules.query, |name| {
        Some(match name {
            "title" => item.title.trim().to_string(),
            "year" => item.year.map(|y| y.to_string()).unwrap_or_default(),
            "kind" => match item.kind {
                MediaKind::Movie => "movie".into(),
                MediaKind::Series => "tv show".into(),
            },
            _ => return None,
        })
    })
}

/// The media's title words, computed once per ranking.
struct MediaWords {
    titles: Vec<Vec<String>>,
    /// Every word of every title (a year inside a title is not "another year").
    all: Vec<String>,
    studio: Vec<String>,
}

impl MediaWords {
    fn new(item: &MediaItem) -> Self {
        let mut titles = vec![words(&item.title)];
        if let Some(original) = item.original_title.as_deref() {
            let w = words(original);
            if !w.is_empty() && w != titles[0] {
                titles.push(w);
            }
        }
        titles.retain(|t| !t.is_empty());
        let all = titles.iter().flatten().cloned().collect();
        let studio = item
            .studio
            .as_deref()
            .map(words)
            .unwrap_or_default()
            .into_iter()
            .filter(|w| !GENERIC_STUDIO_WORDS.contains(&w.as_str()))
            .collect();
        Self {
            titles,
            all,
            studio,
        }
    }
}

fn score_one(
    item: &MediaItem,
    media: &MediaWords,
    rules: &SearchRules,
    max_height: u32,
    candidate: Candidate,
) -> Scored {
    if candidate.source == CandidateSource::User {
        return Scored {
            candidate,
            score: 1000,
            accepted: true,
            reasons: vec!["+1000 picked by the user (filters not applied)".into()],
        };
    }
    let title = words(&candidate.title);
    let rejections = rejections(&candidate, &title, rules);
    let mut s = Score::default();

    match candidate.source {
        CandidateSource::Arr => s.add(40, "the Arr's trailer"),
        CandidateSource::Tmdb => s.add(30, "from TMDB"),
        CandidateSource::User | CandidateSource::Search => {}
    }
    if candidate.official {
        s.add(20, "official");
    } else if let Some(uploader) = candidate.uploader.as_deref()
        && !media.studio.is_empty()
        && contains_phrase(&words(uploader), &media.studio)
    {
        s.add(20, &format!("uploaded by the studio ({uploader})"));
    }

    if title.is_empty() {
        s.note("title unknown");
    } else {
        title_points(item, media, &candidate, &title, &mut s);
    }

    if let Some(h) = candidate.height.filter(|h| *h > 0) {
        let top = if max_height == 0 { 1080 } else { max_height };
        let points = (15 * u64::from(h.min(top)) + u64::from(top) / 2) / u64::from(top);
        s.add(i32::try_from(points).unwrap_or(15), &format!("{h}p"));
    }

    language_points(item, rules, &candidate, &mut s);

    if candidate.duration_s.is_none() {
        s.add(-5, "duration unknown");
    }

    let accepted = rejections.is_empty();
    let mut reasons = rejections;
    reasons.extend(s.reasons);
    Scored {
        candidate,
        score: s.total,
        accepted,
        reasons,
    }
}

/// The wanted languages in order (see [`wanted_languages`]): the first +10, each later one
/// 3 less (at least +2), another language -10; nothing when either side is unknown.
fn language_points(item: &MediaItem, rules: &SearchRules, candidate: &Candidate, s: &mut Score) {
    let Some(got) = candidate.language.as_deref().map(primary_language) else {
        return;
    };
    let wanted = wanted_languages(item, rules);
    if got.is_empty() || wanted.is_empty() {
        return;
    }
    match wanted.iter().position(|w| w.code == got) {
        Some(0) if wanted[0].original => s.add(10, &format!("language {got} (the original)")),
        Some(0) => s.add(10, &format!("language {got}")),
        Some(i) => {
            let points = (10 - 3 * i as i32).max(2);
            s.add(
                points,
                &format!("language {got} (choice {} of {})", i + 1, wanted.len()),
            );
        }
        None => {
            let codes: Vec<&str> = wanted.iter().map(|w| w.code.as_str()).collect();
            s.add(
                -10,
                &format!("language {got} (wanted {})", codes.join(", ")),
            );
        }
    }
}

/// Title similarity, year, and trailer or teaser.
fn title_points(
    item: &MediaItem,
    media: &MediaWords,
    candidate: &Candidate,
    title: &[String],
    s: &mut Score,
) {
    let best = media
        .titles
        .iter()
        .map(|t| similarity(t, title))
        .fold(0.0_f64, f64::max);
    let points = (40.0 * best).round() as i32;
    if points > 0 {
        s.add(
            points,
            &format!("title matches \"{}\" ({:.0}%)", item.title, best * 100.0),
        );
    } else {
        s.note("title does not match");
    }

    if let Some(year) = item.year {
        let years: Vec<i32> = title
            .iter()
            .filter(|w| !media.all.contains(w))
            .filter_map(|w| as_year(w))
            .collect();
        if years.contains(&year) {
            s.add(10, &format!("year {year}"));
        } else if years.iter().any(|y| (y - year).abs() == 1) {
            s.add(5, &format!("year close to {year}"));
        } else if let Some(other) = years.first() {
            // A later year on a series is likely a later season; on a movie, another film.
            let later_season = item.kind == MediaKind::Series && *other > year;
            let (points, why) = if later_season {
                (-10, "a later season?")
            } else {
                (-30, "another film?")
            };
            s.add(points, &format!("year {other}, not {year} ({why})"));
        }
    }

    let has = |w: &str| title.iter().any(|t| t == w);
    let kind = candidate.kind.as_deref().unwrap_or("");
    if has("teaser") || kind.eq_ignore_ascii_case("teaser") {
        // Outweighs the small differences between candidates: a teaser only when no trailer.
        s.add(-40, "teaser");
    } else if has("trailer") || has("trailers") || kind.eq_ignore_ascii_case("trailer") {
        s.add(10, "\"trailer\" in the title");
    }
}

/// Why a candidate is not acceptable (empty when it is).
fn rejections(c: &Candidate, title: &[String], rules: &SearchRules) -> Vec<String> {
    let mut out = Vec::new();
    if c.is_live {
        out.push("rejected: a live stream".into());
    }
    if c.is_upcoming {
        out.push("rejected: not out yet (upcoming)".into());
    }
    if let Some(d) = c.duration_s {
        if rules.min_duration_s > 0 && d < f64::from(rules.min_duration_s) {
            out.push(format!(
                "rejected: {} is shorter than {}",
                duration(d),
                duration(f64::from(rules.min_duration_s))
            ));
        }
        if rules.max_duration_s > 0 && d > f64::from(rules.max_duration_s) {
            out.push(format!(
                "rejected: {} is longer than {}",
                duration(d),
                duration(f64::from(rules.max_duration_s))
            ));
        }
    }
    if c.url.contains("/shorts/") {
        out.push("rejected: a short".into());
    }
    if !title.is_empty() {
        if let Some(w) = title.iter().find(|w| BLOCKED_WORDS.contains(&w.as_str())) {
            out.push(format!("rejected: \"{w}\" in the title"));
        }
        for entry in &rules.exclude_words {
            let all: Vec<Vec<String>> = entry.split("&&").map(words).collect();
            if all.iter().any(|p| !p.is_empty()) && all.iter().all(|p| contains_phrase(title, p)) {
                out.push(format!("rejected: excluded word \"{}\"", entry.trim()));
            }
        }
        for group in &rules.include_words {
            let any: Vec<Vec<String>> = group
                .split('|')
                .map(words)
                .filter(|p| !p.is_empty())
                .collect();
            if !any.is_empty() && !any.iter().any(|p| contains_phrase(title, p)) {
                let names: Vec<&str> = group.split('|').map(str::trim).collect();
                out.push(format!(
                    "rejected: the title has none of {}",
                    names.join(", ")
                ));
            }
        }
    }
    if !rules.uploaders.is_empty() {
        match c.uploader.as_deref() {
            Some(u)
                if rules
                    .uploaders
                    .iter()
                    .any(|a| a.trim().eq_ignore_ascii_case(u.trim())) => {}
            Some(u) => out.push(format!("rejected: uploader {u} is not in the allow-list")),
            None if c.source == CandidateSource::Search => {
                out.push("rejected: uploader unknown and an allow-list is set".into());
            }
            None => {}
        }
    }
    out
}

#[derive(Default)]
struct Score {
    total: i32,
    reasons: Vec<String>,
}

impl Score {
    fn add(&mut self, points: i32, why: &str) {
        self.total += points;
        self.reasons.push(format!("{points:+} {why}"));
    }

    fn note(&mut self, why: &str) {
        self.reasons.push(format!("+0 {why}"));
    }
}

/// How much of a media title a video title has: 3/4 for the share of the media title's
/// words present (the part that matters), 1/4 for the share of the video title's meaningful
/// words that belong to the media title (fewer unrelated words is better). 0 when no word
/// matches.
fn similarity(media: &[String], title: &[String]) -> f64 {
    if media.is_empty() {
        return 0.0;
    }
    let joined = title.concat();
    let present = |m: &String| {
        title.contains(m)
            // Scripts without spaces (千と千尋の神隠し予告編): a long enough word inside.
            || (m.chars().count() >= 2 && !m.is_ascii() && joined.contains(m.as_str()))
    };
    let found = media.iter().filter(|m| present(m)).count();
    if found == 0 {
        return 0.0;
    }
    let coverage = found as f64 / media.len() as f64;
    let meaningful: Vec<&String> = title
        .iter()
        .filter(|w| !NOISE_WORDS.contains(&w.as_str()) && as_year(w).is_none())
        .collect();
    let precision = if meaningful.is_empty() {
        1.0
    } else {
        meaningful.iter().filter(|w| media.contains(w)).count() as f64 / meaningful.len() as f64
    };
    0.75 * coverage + 0.25 * precision
}

/// Lower-case words without accents: `Amélie: The Movie!` → `amelie`, `the`, `movie`.
pub(super) fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `phrase` appears in `title` as consecutive words.
fn contains_phrase(title: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && title.windows(phrase.len()).any(|w| w == phrase)
}

fn as_year(word: &str) -> Option<i32> {
    if word.len() != 4 {
        return None;
    }
    word.parse().ok().filter(|y| (1880..=2100).contains(y))
}

/// `14 min`, `10 min 30 s`, `45 s`.
fn duration(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests;
