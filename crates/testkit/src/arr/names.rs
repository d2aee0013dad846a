//! Made-up titles in many scripts for generated libraries: accents, CJK, Hangul, Cyrillic,
//! Greek, right-to-left Hebrew and Arabic, Devanagari, decomposed (NFD) accents, emoji, and
//! characters a file system refuses (`: / ? * "`). Invented words, not real films.

use super::rng::Rng;

/// An original language as the Arrs write it: `{"id": …, "name": …}` (ids of the Arrs'
/// language list), with its ISO 639-1 code for TMDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    pub id: i32,
    pub name: &'static str,
    pub iso: &'static str,
}

pub const ENGLISH: Language = Language {
    id: 1,
    name: "English",
    iso: "en",
};

/// (language, first words, second words): a title is one of each.
const FOREIGN: &[(Language, &[&str], &[&str])] = &[
    (
        Language {
            id: 2,
            name: "French",
            iso: "fr",
        },
        &[
            "L'Été",
            "La Cité",
            "Le Fabuleux Voyage",
            "Les Étoiles",
            "Noël",
            "Ça",
        ],
        &[
            "des Enfants perdus",
            "à Paris",
            "de l'Œil",
            "sans Fin",
            "d'Hélène",
        ],
    ),
    (
        Language {
            id: 3,
            name: "Spanish",
            iso: "es",
        },
        &["El Laberinto", "La Niña", "Año", "Mañana", "El Señor"],
        &["del Fauno", "de los Sueños", "en Llamas", "sin Nombre"],
    ),
    (
        Language {
            id: 4,
            name: "German",
            iso: "de",
        },
        &["Über", "Die Straße", "Das Boot", "Der Himmel", "Grüße"],
        &["über Berlin", "der Träume", "ohne Grenzen", "aus Köln"],
    ),
    (
        Language {
            id: 8,
            name: "Japanese",
            iso: "ja",
        },
        &[
            "千と千尋の",
            "東京",
            "となりの",
            "風の谷の",
            "君の",
            "夜明けの",
        ],
        &["神隠し", "物語", "トトロ", "名は。", "ナウシカ", "サムライ"],
    ),
    (
        Language {
            id: 21,
            name: "Korean",
            iso: "ko",
        },
        &["서울의", "바다의", "마지막", "봄 여름"],
        &["추억", "기억", "여름", "밤"],
    ),
    (
        Language {
            id: 10,
            name: "Chinese",
            iso: "zh",
        },
        &["卧虎", "英雄", "花样", "霸王", "重庆"],
        &["藏龙", "年华", "别姬", "森林"],
    ),
    (
        Language {
            id: 11,
            name: "Russian",
            iso: "ru",
        },
        &["Москва", "Сталкер", "Брат", "Зимний", "Ёжик"],
        &["слезам не верит", "в тумане", "путь", "ветер"],
    ),
    (
        Language {
            id: 20,
            name: "Greek",
            iso: "el",
        },
        &["Ο Κυνόδοντας", "Η Αιωνιότητα", "Το Βλέμμα"],
        &["και μια μέρα", "του Οδυσσέα", "του βυθού"],
    ),
    (
        Language {
            id: 23,
            name: "Hebrew",
            iso: "he",
        },
        &["ואלס", "הסוד", "בית"],
        &["עם באשיר", "של הים", "הקיץ"],
    ),
    (
        Language {
            id: 26,
            name: "Arabic",
            iso: "ar",
        },
        &["وجدة", "الباب", "القمر"],
        &["المفتوح", "الأخير", "في القاهرة"],
    ),
    (
        Language {
            id: 27,
            name: "Hindi",
            iso: "hi",
        },
        &["दिलवाले", "लगान", "मेरा"],
        &["दुल्हनिया", "की कहानी", "सपना"],
    ),
];

const ADJ: &[&str] = &[
    "Silent", "Last", "Broken", "Crimson", "Hidden", "Electric", "Golden", "Lonely", "Midnight",
    "Wild", "Frozen", "Distant", "Burning", "Quiet", "Iron", "Velvet",
];
const NOUN: &[&str] = &[
    "River", "Empire", "Signal", "Garden", "Horizon", "Machine", "Witness", "Harbor", "Storm",
    "Kingdom", "Orchard", "Lantern", "Compass", "Winter", "Archive", "Valley",
];

/// Titles that break naive code: file-system-illegal characters, dots, quotes, NFD accents,
/// emoji, joiners, a very long one.
const HARD: &[&str] = &[
    "Mission: Impossible – Dead Reckoning",
    "AC/DC: Let There Be Rock",
    "Who Framed Roger Rabbit?",
    "Star*Dust",
    "Mr. & Mrs. Smith",
    "Lost in Translation.",
    "\"Weird Al\" Yankovic: The Movie",
    "C:\\Backslash\\Story",
    "Ame\u{301}lie (NFD)",
    "WALL·E",
    "Nöel 🎄 Special",
    "👨\u{200d}👩\u{200d}👧 Family Matters",
    "  Leading and trailing spaces  ",
    "...And Justice for All",
    "Se7en",
    "[REC]",
    "Birdman or (The Unexpected Virtue of Ignorance)",
    "Night of the Day of the Dawn of the Son of the Bride of the Return of the Revenge of the Terror of the Attack of the Evil, Mutant, Alien, Flesh Eating, Hellbound, Zombified Living Dead Part 2",
];

/// A generated title, its original-language title and that language.
pub(crate) struct Titled {
    pub title: String,
    pub original_title: String,
    pub language: Language,
}

pub(crate) fn english(rng: &mut Rng) -> String {
    let adj = *rng.pick(ADJ);
    let noun = *rng.pick(NOUN);
    let other = *rng.pick(NOUN);
    match rng.below(7) {
        0 => format!("The {adj} {noun}"),
        1 => format!("{noun} of the {other}"),
        2 => format!("{adj} {noun}: Part {}", rng.range(2, 4)),
        3 => format!("{adj} {noun} {}", rng.range(2, 3)),
        4 => format!("The {noun}"),
        5 => format!("{adj} {noun} & the {other}"),
        _ => format!("{adj} {noun}"),
    }
}

pub(crate) fn title(rng: &mut Rng) -> Titled {
    let roll = rng.below(100);
    if roll < 5 {
        let t = (*rng.pick(HARD)).to_owned();
        return Titled {
            original_title: t.clone(),
            title: t,
            language: ENGLISH,
        };
    }
    if roll < 60 {
        let t = english(rng);
        return Titled {
            original_title: t.clone(),
            title: t,
            language: ENGLISH,
        };
    }
    let (language, first, second) = rng.pick(FOREIGN);
    let sep = if matches!(language.iso, "ja" | "zh") {
        ""
    } else {
        " "
    };
    let original = format!("{}{sep}{}", rng.pick(first), rng.pick(second));
    // Untranslated titles are common: the Arr shows the original when TMDB has no English one.
    let title = if rng.chance(400) {
        original.clone()
    } else {
        english(rng)
    };
    Titled {
        title,
        original_title: original,
        language: *language,
    }
}

/// Radarr's folder name for a title: characters a file system refuses are dropped or
/// replaced (`:` becomes ` -`), the rest (unicode included) kept.
pub(crate) fn folder(title: &str, year: i32) -> String {
    let mut s = String::with_capacity(title.len() + 8);
    for c in title.trim().chars() {
        match c {
            ':' => s.push_str(" -"),
            '/' | '\\' => s.push('+'),
            '?' | '*' | '"' | '<' | '>' | '|' => {}
            c => s.push(c),
        }
    }
    let s = s.trim_end_matches('.').trim().to_owned();
    if year > 0 { format!("{s} ({year})") } else { s }
}

/// The Arrs' `cleanTitle`: lowercase letters and digits only.
pub(crate) fn clean(title: &str) -> String {
    title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The Arrs' `sortTitle`: lowercase, without a leading article.
pub(crate) fn sort(title: &str) -> String {
    let lower = title.trim().to_lowercase();
    for article in ["the ", "a ", "an "] {
        if let Some(rest) = lower.strip_prefix(article) {
            return rest.to_owned();
        }
    }
    lower
}

/// A Sonarr-style `titleSlug`: lowercase ASCII words joined with `-` (non-ASCII titles fall
/// back to `fallback`).
pub(crate) fn slug(title: &str, fallback: i32) -> String {
    let mut out = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_drop_what_file_systems_refuse() {
        assert_eq!(
            folder("Mission: Impossible", 1996),
            "Mission - Impossible (1996)"
        );
        assert_eq!(folder("Who?", 1988), "Who (1988)");
        assert_eq!(
            folder("Lost in Translation.", 2003),
            "Lost in Translation (2003)"
        );
        assert_eq!(folder("東京物語", 1953), "東京物語 (1953)");
        assert_eq!(clean("The Matrix"), "thematrix");
        assert_eq!(sort("The Matrix"), "matrix");
        assert_eq!(slug("Breaking Bad", 1), "breaking-bad");
        assert_eq!(slug("東京", 7), "7");
    }
}
