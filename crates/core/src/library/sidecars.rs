//! The files next to a recording's MP4 and in its show and season folders (S5, S6): NFO that
//! Plex (with an agent), Jellyfin, Emby and Kodi read, chapter files and `info.json`.

use super::chapters::{Chapter, xml_escape};
use crate::streams::model::{Channel, Recording};
use serde_json::json;
use std::fmt::Write as _;

/// The episode's own sidecars, by suffix after the MP4's stem. Deleting a recording removes
/// exactly these.
pub const EPISODE_SIDECARS: &[&str] = &[
    ".nfo",
    "-thumb.jpg",
    ".chapters.vtt",
    ".chapters.srt",
    ".chapters.xml",
    ".info.json",
    crate::chat::JSONL_SUFFIX,
    crate::chat::ASS_SUFFIX,
];

pub const THUMB_SUFFIX: &str = "-thumb.jpg";
pub const TVSHOW_NFO: &str = "tvshow.nfo";
pub const SEASON_NFO: &str = "season.nfo";

const XML_HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// Facts finalize learned that go into the sidecars.
pub struct EpisodeFacts<'a> {
    pub recording: &'a Recording,
    pub channel: &'a Channel,
    pub chapters: &'a [Chapter],
    pub duration_ms: u64,
    pub season: &'a str,
    pub episode: u32,
    /// The MP4's file stem (the thumbnail is `{stem}-thumb.jpg`).
    pub stem: &'a str,
}

impl EpisodeFacts<'_> {
    fn title(&self) -> &str {
        let title = self.recording.labels.title.trim();
        if title.is_empty() { "Stream" } else { title }
    }

    /// Distinct categories in chapter order.
    fn categories(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for c in self.chapters {
            let category = c.category.trim();
            if !category.is_empty() && !seen.contains(&category) {
                seen.push(category);
            }
        }
        seen
    }
}

pub fn episode_nfo(f: &EpisodeFacts<'_>) -> String {
    let c = f.recording.started_at.civil();
    let date = format!("{:04}-{:02}-{:02}", c.year, c.month, c.day);
    let mut plot = f.title().to_string();
    let categories = f.categories();
    if !categories.is_empty() {
        let _ = write!(plot, "\n\nCategories: {}", categories.join(", "));
    }
    let mut out = String::from(XML_HEADER);
    out.push_str("<episodedetails>\n");
    element(&mut out, "title", f.title());
    element(&mut out, "showtitle", &f.channel.display_name);
    element(&mut out, "season", f.season);
    element(&mut out, "episode", &f.episode.to_string());
    element(&mut out, "aired", &date);
    element(&mut out, "premiered", &date);
    element(&mut out, "plot", &plot);
    element(
        &mut out,
        "runtime",
        &(f.duration_ms.div_ceil(60_000)).to_string(),
    );
    for category in categories {
        element(&mut out, "genre", category);
    }
    element(&mut out, "studio", "Twitch");
    let _ = writeln!(
        out,
        "  <uniqueid type=\"tapearr\" default=\"true\">{}</uniqueid>",
        xml_escape(&f.recording.id)
    );
    element(&mut out, "thumb", &format!("{}{THUMB_SUFFIX}", f.stem));
    out.push_str("</episodedetails>\n");
    out
}

pub fn tvshow_nfo(channel: &Channel) -> String {
    let mut out = String::from(XML_HEADER);
    out.push_str("<tvshow>\n");
    element(&mut out, "title", &channel.display_name);
    element(&mut out, "sorttitle", &channel.login);
    element(&mut out, "plot", &channel.description);
    element(&mut out, "studio", "Twitch");
    element(&mut out, "genre", "Live stream");
    let _ = writeln!(
        out,
        "  <uniqueid type=\"twitch\" default=\"true\">{}</uniqueid>",
        xml_escape(&channel.twitch_id)
    );
    element(&mut out, "thumb", "poster.jpg");
    out.push_str("  <fanart>\n");
    element(&mut out, "thumb", "fanart.jpg");
    out.push_str("  </fanart>\n</tvshow>\n");
    out
}

pub fn season_nfo(season: &str) -> String {
    let title = match (season.get(..4), season.get(4..)) {
        (Some(year), Some(month)) if season.len() == 6 => format!("{year}-{month}"),
        _ => season.to_string(),
    };
    let mut out = String::from(XML_HEADER);
    out.push_str("<season>\n");
    element(&mut out, "title", &title);
    element(&mut out, "seasonnumber", season);
    out.push_str("</season>\n");
    out
}

pub fn info_json(f: &EpisodeFacts<'_>) -> String {
    let r = f.recording;
    let value = json!({
        "id": r.id,
        "channel": {
            "login": f.channel.login,
            "display_name": f.channel.display_name,
            "twitch_id": f.channel.twitch_id,
        },
        "title": f.title(),
        "categories": f.categories(),
        "started_at": r.started_at.to_rfc3339(),
        "ended_at": r.ended_at.map(|t| t.to_rfc3339()),
        "duration_ms": f.duration_ms,
        "season": f.season,
        "episode": f.episode,
        "quality": r.quality,
        "sessions": r.sessions,
        "missed_segments": r.missed_segments,
        "end_reason": r.end_reason,
        "chapters": f.chapters,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

fn element(out: &mut String, name: &str, text: &str) {
    let _ = writeln!(out, "  <{name}>{}</{name}>", xml_escape(text));
}
