//! Which trailer languages a profile wants for an item, best first (T10): the media's
//! original language when the profile prefers it, then the profile's language, then its
//! fallbacks. TMDB is asked for all of them and the score ranks them in this order.

use crate::trailers::model::{MediaItem, SearchRules};

/// At most this many fallback languages (TMDB's `include_video_language` stays short).
pub const MAX_FALLBACKS: usize = 5;

/// One wanted language and why it is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// ISO 639-1, lower case (`fr`).
    pub code: String,
    pub original: bool,
}

/// The profile's languages for `item`, best first, without repeats.
pub fn wanted_languages(item: &MediaItem, rules: &SearchRules) -> Vec<Wanted> {
    let mut out: Vec<Wanted> = Vec::new();
    let mut push = |code: String, original: bool| {
        if !code.is_empty() && !out.iter().any(|w| w.code == code) {
            out.push(Wanted { code, original });
        }
    };
    if rules.prefer_original_language
        && let Some(code) = item.language.as_deref().and_then(iso_639_1)
    {
        push(code.to_string(), true);
    }
    for tag in rules.language.iter().chain(&rules.fallback_languages) {
        push(primary_language(tag), false);
    }
    out
}

/// `en-US` → `en`.
pub fn primary_language(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A language as Radarr, Sonarr or Plex name it (`French`, `Japanese`) or an ISO 639-1 code,
/// as its code; `None` for names TMDB has no code for (`Unknown`, `Any`).
pub fn iso_639_1(name: &str) -> Option<&'static str> {
    let name = name.trim();
    LANGUAGES
        .iter()
        .find(|(code, english)| {
            name.eq_ignore_ascii_case(english) || name.eq_ignore_ascii_case(code)
        })
        .map(|(code, _)| *code)
}

/// The languages Radarr and Sonarr name (their `Language` list) with their ISO 639-1 codes.
const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("de", "German"),
    ("it", "Italian"),
    ("da", "Danish"),
    ("nl", "Dutch"),
    ("ja", "Japanese"),
    ("is", "Icelandic"),
    ("zh", "Chinese"),
    ("ru", "Russian"),
    ("pl", "Polish"),
    ("vi", "Vietnamese"),
    ("sv", "Swedish"),
    ("no", "Norwegian"),
    ("fi", "Finnish"),
    ("tr", "Turkish"),
    ("pt", "Portuguese"),
    ("el", "Greek"),
    ("ko", "Korean"),
    ("hu", "Hungarian"),
    ("he", "Hebrew"),
    ("lt", "Lithuanian"),
    ("cs", "Czech"),
    ("hi", "Hindi"),
    ("ro", "Romanian"),
    ("th", "Thai"),
    ("bg", "Bulgarian"),
    ("ar", "Arabic"),
    ("uk", "Ukrainian"),
    ("fa", "Persian"),
    ("bn", "Bengali"),
    ("sk", "Slovak"),
    ("lv", "Latvian"),
    ("id", "Indonesian"),
    ("ca", "Catalan"),
    ("hr", "Croatian"),
    ("sr", "Serbian"),
    ("et", "Estonian"),
    ("ta", "Tamil"),
    ("te", "Telugu"),
    ("ml", "Malayalam"),
    ("ms", "Malay"),
    ("tl", "Tagalog"),
    ("ur", "Urdu"),
];

/// Why a profile's search languages are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    #[error("search.fallback_languages holds at most {MAX_FALLBACKS} languages")]
    TooManyFallbacks,
    /// The tag, cut to 20 characters.
    #[error("search languages are ISO 639-1 codes like en or pt-BR, not `{0}`")]
    NotATag(String),
}

impl LanguageError {
    /// A stable name for the refusal, whatever the message says.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooManyFallbacks => "too_many_fallbacks",
            Self::NotATag(_) => "not_a_language_tag",
        }
    }
}

/// Profile input: `language` and each fallback are `xx` or `xx-YY`, at most
/// [`MAX_FALLBACKS`] fallbacks.
pub fn validate(rules: &SearchRules) -> Result<(), LanguageError> {
    if rules.fallback_languages.len() > MAX_FALLBACKS {
        return Err(LanguageError::TooManyFallbacks);
    }
    let tags = rules.language.iter().chain(&rules.fallback_languages);
    match tags.into_iter().find(|t| !is_language_tag(t)) {
        Some(bad) => Err(LanguageError::NotATag(bad.chars().take(20).collect())),
        None => Ok(()),
    }
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let code_ok = parts
        .next()
        .is_some_and(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()));
    let region_ok = match parts.next() {
        None => true,
        Some(r) => r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()),
    };
    code_ok && region_ok && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(language: Option<&str>, fallbacks: &[&str], original: bool) -> SearchRules {
        SearchRules {
            language: language.map(str::to_string),
            fallback_languages: fallbacks.iter().map(|s| s.to_string()).collect(),
            prefer_original_language: original,
            ..SearchRules::default()
        }
    }

    fn codes(w: &[Wanted]) -> Vec<&str> {
        w.iter().map(|w| w.code.as_str()).collect()
    }

    fn item(language: Option<&str>) -> MediaItem {
        let mut item = crate::trailers::place::tests::item("Amélie", Some(2001));
        item.language = language.map(str::to_string);
        item
    }

    #[test]
    fn original_language_first_then_the_profile_order_without_repeats() {
        let r = rules(Some("en-US"), &["de", "EN", "fr"], true);
        let w = wanted_languages(&item(Some("French")), &r);
        assert_eq!(codes(&w), ["fr", "en", "de"]);
        assert!(w[0].original && !w[1].original);
        // Not preferred, or unknown to TMDB: the profile's order alone.
        let w = wanted_languages(&item(Some("Unknown")), &r);
        assert_eq!(codes(&w), ["en", "de", "fr"]);
        let r = rules(Some("en"), &["de"], false);
        assert_eq!(
            codes(&wanted_languages(&item(Some("French")), &r)),
            ["en", "de"]
        );
        assert!(wanted_languages(&item(None), &rules(None, &[], true)).is_empty());
    }

    #[test]
    fn language_tags_are_checked() {
        assert!(validate(&rules(Some("pt-BR"), &["ja", "fr"], true)).is_ok());
        assert!(validate(&rules(None, &[], false)).is_ok());
        for bad in ["", "english", "e1", "en-", "en-US-x", "../x"] {
            assert!(validate(&rules(Some(bad), &[], false)).is_err(), "{bad}");
            assert!(validate(&rules(None, &[bad], false)).is_err(), "{bad}");
        }
        let many = ["a", "b", "c", "d", "e", "f"].map(|c| format!("{c}{c}"));
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            validate(&rules(None, &many, false)),
            Err(LanguageError::TooManyFallbacks)
        );
    }
}
