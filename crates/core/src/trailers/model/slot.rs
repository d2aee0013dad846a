//! Slots (#18): a profile may want several videos per title — N trailers and some extras —
//! and each is its own download record, keyed (media, profile, slot). A slot is a kind and a
//! number, written `trailer-1`, `trailer-2`, `featurette-1`; records from before slots are
//! `trailer-1` (migration 0015).
//!
//! Where each kind goes follows what the media servers read (checked against their
//! documentation, see docs/configuration.md):
//!
//! | kind            | folder (Plex, Jellyfin, Emby)   | suffix beside the media |
//! |-----------------|---------------------------------|-------------------------|
//! | trailer, teaser | the profile's (`Trailers`)      | `-trailer`              |
//! | featurette      | `Featurettes`                   | `-featurette`           |
//! | behind the scenes | `Behind The Scenes`           | `-behindthescenes`      |
//! | clip            | `Scenes`                        | `-scene`                |
//!
//! Plex and Jellyfin have no "teaser" type, so teasers are placed as trailers; TMDB's
//! "Clip" is a scene from the title, which both servers file as `Scenes`.
//!
//! A series may also have one trailer per season (`season-01`, the number is the season's):
//! it goes in that season's folder, in the profile's trailer folder or with `-trailer`
//! (`Show/Season 01/Trailers/…`, `Show/Season 01/Show - Season 01-trailer.mp4`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Most trailers a profile may ask for per title.
pub const MAX_TRAILERS: u8 = 3;

/// The extras a profile may ask for besides its trailers (one video of each).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ExtraKind {
    Teaser,
    Featurette,
    BehindTheScenes,
    Clip,
}

impl ExtraKind {
    pub const ALL: [Self; 4] = [
        Self::Teaser,
        Self::Featurette,
        Self::BehindTheScenes,
        Self::Clip,
    ];
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SlotKind {
    Trailer,
    Extra(ExtraKind),
    /// The trailer of one season of a series (the slot's number is the season's).
    Season,
}

impl SlotKind {
    /// The word in the slot's key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trailer => "trailer",
            Self::Extra(ExtraKind::Teaser) => "teaser",
            Self::Extra(ExtraKind::Featurette) => "featurette",
            Self::Extra(ExtraKind::BehindTheScenes) => "behindthescenes",
            Self::Extra(ExtraKind::Clip) => "clip",
            Self::Season => "season",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "trailer" => Self::Trailer,
            "teaser" => Self::Extra(ExtraKind::Teaser),
            "featurette" => Self::Extra(ExtraKind::Featurette),
            "behindthescenes" => Self::Extra(ExtraKind::BehindTheScenes),
            "clip" => Self::Extra(ExtraKind::Clip),
            "season" => Self::Season,
            _ => return None,
        })
    }

    /// TMDB's video `type` for this kind.
    pub fn tmdb_type(self) -> &'static str {
        match self {
            Self::Trailer | Self::Season => "Trailer",
            Self::Extra(ExtraKind::Teaser) => "Teaser",
            Self::Extra(ExtraKind::Featurette) => "Featurette",
            Self::Extra(ExtraKind::BehindTheScenes) => "Behind the Scenes",
            Self::Extra(ExtraKind::Clip) => "Clip",
        }
    }

    /// A label for people and file names (`Behind the Scenes`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Trailer => "Trailer",
            Self::Extra(ExtraKind::Teaser) => "Teaser",
            Self::Extra(ExtraKind::Featurette) => "Featurette",
            Self::Extra(ExtraKind::BehindTheScenes) => "Behind the Scenes",
            Self::Extra(ExtraKind::Clip) => "Clip",
            Self::Season => "Season trailer",
        }
    }

    /// The extras folder the media servers read; `None` for trailers and teasers, which go
    /// in the profile's own trailer folder.
    pub fn folder(self) -> Option<&'static str> {
        match self {
            Self::Trailer | Self::Extra(ExtraKind::Teaser) | Self::Season => None,
            Self::Extra(ExtraKind::Featurette) => Some("Featurettes"),
            Self::Extra(ExtraKind::BehindTheScenes) => Some("Behind The Scenes"),
            Self::Extra(ExtraKind::Clip) => Some("Scenes"),
        }
    }

    /// The suffix the media servers read beside the media.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Trailer | Self::Extra(ExtraKind::Teaser) | Self::Season => "-trailer",
            Self::Extra(ExtraKind::Featurette) => "-featurette",
            Self::Extra(ExtraKind::BehindTheScenes) => "-behindthescenes",
            Self::Extra(ExtraKind::Clip) => "-scene",
        }
    }
}

/// The extras folders (for the scan, which lists Tapearr's files in them).
pub fn extras_folders() -> impl Iterator<Item = &'static str> {
    ExtraKind::ALL
        .into_iter()
        .filter_map(|k| SlotKind::Extra(k).folder())
}

/// The extras suffixes other than `-trailer` (for the scan, as above).
pub const EXTRA_SUFFIXES: [&str; 3] = ["-featurette", "-behindthescenes", "-scene"];

/// One video a profile wants for a title: a kind and a number from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub kind: SlotKind,
    pub n: u8,
}

impl Slot {
    /// `trailer-1`: the slot every record had before there were slots.
    pub const FIRST_TRAILER: Self = Self {
        kind: SlotKind::Trailer,
        n: 1,
    };

    pub fn parse(s: &str) -> Option<Self> {
        let (kind, n) = s.rsplit_once('-')?;
        let kind = SlotKind::parse(kind)?;
        let n: u8 = match kind {
            // `season-01`: two digits at least, as written.
            SlotKind::Season if n.len() >= 2 => n.parse().ok().filter(|n| *n >= 1)?,
            SlotKind::Season => return None,
            _ => n.parse().ok().filter(|n| (1..=MAX_TRAILERS).contains(n))?,
        };
        Some(Self { kind, n })
    }

    /// The trailer of season `n` (from 1; specials, season 0, have none).
    pub fn season(n: u8) -> Option<Self> {
        (n >= 1).then_some(Self {
            kind: SlotKind::Season,
            n,
        })
    }

    /// The season number of a season slot.
    pub fn season_number(self) -> Option<u8> {
        (self.kind == SlotKind::Season).then_some(self.n)
    }

    /// How people read it: `Trailer`, `Trailer 2`, `Featurette`, `Season 1 trailer`.
    pub fn label(self) -> String {
        match (self.kind, self.n) {
            (SlotKind::Season, n) => format!("Season {n} trailer"),
            (_, 1) => self.kind.label().to_string(),
            (_, n) => format!("{} {n}", self.kind.label()),
        }
    }
}

impl Default for Slot {
    fn default() -> Self {
        Self::FIRST_TRAILER
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SlotKind::Season => write!(f, "season-{:02}", self.n),
            _ => write!(f, "{}-{}", self.kind.as_str(), self.n),
        }
    }
}

impl Serialize for Slot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a slot (trailer-1…trailer-{MAX_TRAILERS}, teaser-1, \
                 featurette-1, behindthescenes-1, clip-1, season-01…)"
            ))
        })
    }
}

/// The slots a profile wants per title, in the order they are planned and fetched: its
/// trailers first (so the best video goes to `trailer-1`), then one of each extra kind.
pub fn slots(trailers: u8, extras: &[ExtraKind]) -> Vec<Slot> {
    let mut out: Vec<Slot> = (1..=trailers.clamp(1, MAX_TRAILERS))
        .map(|n| Slot {
            kind: SlotKind::Trailer,
            n,
        })
        .collect();
    let mut kinds = extras.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    out.extend(kinds.into_iter().map(|k| Slot {
        kind: SlotKind::Extra(k),
        n: 1,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_read_back_what_they_write() {
        for slot in slots(3, &ExtraKind::ALL) {
            assert_eq!(Slot::parse(&slot.to_string()), Some(slot));
        }
        assert_eq!(Slot::FIRST_TRAILER.to_string(), "trailer-1");
        for bad in [
            "",
            "trailer",
            "trailer-0",
            "trailer-4",
            "poster-1",
            "trailer-x",
        ] {
            assert_eq!(Slot::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn trailers_come_first_then_each_extra_once() {
        let keys: Vec<String> = slots(
            2,
            &[ExtraKind::Clip, ExtraKind::Featurette, ExtraKind::Clip],
        )
        .iter()
        .map(Slot::to_string)
        .collect();
        assert_eq!(keys, ["trailer-1", "trailer-2", "featurette-1", "clip-1"]);
        assert_eq!(slots(0, &[]), [Slot::FIRST_TRAILER], "at least one trailer");
        assert_eq!(slots(9, &[]).len(), usize::from(MAX_TRAILERS));
    }

    #[test]
    fn season_slots_carry_the_season_number() {
        let s3 = Slot::season(3).expect("season 3");
        assert_eq!(s3.to_string(), "season-03");
        assert_eq!(Slot::parse("season-03"), Some(s3));
        assert_eq!(
            Slot::parse("season-12").and_then(Slot::season_number),
            Some(12)
        );
        assert_eq!(s3.label(), "Season 3 trailer");
        assert_eq!(Slot::season(0), None, "specials have no season trailer");
        for bad in ["season-00", "season-3", "season-256", "season-x"] {
            assert_eq!(Slot::parse(bad), None, "{bad}");
        }
        assert_eq!(Slot::FIRST_TRAILER.season_number(), None);
    }
}
