//! Chapters from stream events (S5), on the recording's own media timeline, and the chapter
//! formats players and media servers read.
//!
//! Offsets count from the recording's start, not Twitch's `started_at` (the recording may begin
//! late), and media lost in gaps is subtracted so a chapter lands where its content is.

use crate::streams::model::{RecordingGap, StreamEvent, StreamEventKind};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chapter {
    pub start_ms: u64,
    pub end_ms: u64,
    pub title: String,
    pub category: String,
}

impl Chapter {
    /// What players show: the category first, as viewers skim by game.
    pub fn name(&self) -> String {
        match (self.category.trim(), self.title.trim()) {
            ("", "") => "Stream".to_string(),
            ("", title) => title.to_string(),
            (category, "") => category.to_string(),
            (category, title) => format!("{category} - {title}"),
        }
    }
}

/// The chapters of a recording `duration_ms` long that started at `started_at`.
///
/// Events before the recording started collapse into the first chapter; an event that repeats
/// the title and category of the one before adds nothing.
pub fn from_events(
    events: &[StreamEvent],
    gaps: &[RecordingGap],
    started_at: Timestamp,
    duration_ms: u64,
) -> Vec<Chapter> {
    let mut sorted: Vec<&StreamEvent> = events
        .iter()
        .filter(|e| e.kind != StreamEventKind::End)
        .collect();
    sorted.sort_by_key(|e| e.at);
    let mut chapters: Vec<Chapter> = Vec::new();
    for event in sorted {
        let start_ms = media_offset(event.at, gaps, started_at);
        if duration_ms > 0 && start_ms >= duration_ms {
            break;
        }
        if let Some(last) = chapters.last_mut() {
            if last.title == event.title && last.category == event.category {
                continue;
            }
            if last.start_ms == start_ms {
                // Several changes before (or at) the same instant: the latest one describes it.
                last.title = event.title.clone();
                last.category = event.category.clone();
                continue;
            }
        }
        chapters.push(Chapter {
            start_ms,
            end_ms: 0,
            title: event.title.clone(),
            category: event.category.clone(),
        });
    }
    // After the collapse above two neighbours may now match; merge them.
    chapters.dedup_by(|next, prev| next.title == prev.title && next.category == prev.category);
    let ends: Vec<u64> = chapters
        .iter()
        .skip(1)
        .map(|c| c.start_ms)
        .chain(std::iter::once(duration_ms))
        .collect();
    for (chapter, end) in chapters.iter_mut().zip(ends) {
        chapter.end_ms = end.max(chapter.start_ms);
    }
    chapters
}

/// Where wall-clock time `at` falls in the recorded media.
/// The reason of a gap in the audio only: Twitch muted a VOD's copyrighted music. The media is
/// there, so it moves no chapter.
pub const MUTED_REASON: &str = "muted";

pub(crate) fn media_offset(at: Timestamp, gaps: &[RecordingGap], started_at: Timestamp) -> u64 {
    let wall = at.millis().saturating_sub(started_at.millis()).max(0);
    let missing: i64 = gaps
        .iter()
        .filter(|g| g.at <= at && g.reason != MUTED_REASON)
        .map(|g| i64::try_from(g.ms).unwrap_or(i64::MAX))
        .fold(0, i64::saturating_add);
    u64::try_from(wall.saturating_sub(missing).max(0)).unwrap_or(0)
}

/// ffmpeg's metadata file, for `-map_chapters`.
pub fn ffmetadata(chapters: &[Chapter], title: &str) -> String {
    let mut out = String::from(";FFMETADATA1\n");
    let _ = writeln!(out, "title={}", escape_ffmetadata(title));
    for c in chapters {
        let _ = write!(
            out,
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={}\n",
            c.start_ms,
            c.end_ms,
            escape_ffmetadata(&c.name())
        );
    }
    out
}

fn escape_ffmetadata(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '=' | ';' | '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// WebVTT chapters (browsers' `<track kind="chapters">`).
pub fn vtt(chapters: &[Chapter]) -> String {
    let mut out = String::from("WEBVTT\n");
    for (i, c) in chapters.iter().enumerate() {
        let _ = write!(
            out,
            "\n{}\n{} --> {}\n{}\n",
            i + 1,
            clock(c.start_ms, '.'),
            clock(c.end_ms, '.'),
            one_line(&c.name())
        );
    }
    out
}

/// SubRip chapters, for players that show chapters as a subtitle track.
pub fn srt(chapters: &[Chapter]) -> String {
    let mut out = String::new();
    for (i, c) in chapters.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            clock(c.start_ms, ','),
            clock(c.end_ms, ','),
            one_line(&c.name())
        );
    }
    out
}

/// Emby's chapter XML (positions in 100 ns ticks).
pub fn emby_xml(chapters: &[Chapter]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Chapters>\n");
    for c in chapters {
        let _ = write!(
            out,
            "  <Chapter>\n    <StartPositionTicks>{}</StartPositionTicks>\n    <Name>{}</Name>\n  </Chapter>\n",
            u128::from(c.start_ms) * 10_000,
            xml_escape(&c.name())
        );
    }
    out.push_str("</Chapters>\n");
    out
}

/// Escapes text for XML element content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    // A blank line would end the cue early.
    text.replace(['\n', '\r'], " ")
}

fn clock(ms: u64, separator: char) -> String {
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: StreamEventKind, at: i64, category: &str) -> StreamEvent {
        StreamEvent {
            id: format!("e{at}"),
            stream_id: "s".into(),
            kind,
            title: "Title".into(),
            category: category.into(),
            at: Timestamp(at),
        }
    }

    #[test]
    fn offsets_count_from_the_recording_start_and_skip_gaps() {
        let started = Timestamp(100_000);
        let events = [
            event(StreamEventKind::Start, 40_000, "Just Chatting"),
            event(StreamEventKind::Update, 160_000, "Minecraft"),
            event(StreamEventKind::Update, 400_000, "Elden Ring"),
            event(StreamEventKind::End, 500_000, "Elden Ring"),
        ];
        let gaps = [RecordingGap {
            id: "g".into(),
            recording_id: "r".into(),
            at: Timestamp(300_000),
            ms: 20_000,
            reason: "restart".into(),
        }];
        let chapters = from_events(&events, &gaps, started, 380_000);
        let starts: Vec<(u64, u64, &str)> = chapters
            .iter()
            .map(|c| (c.start_ms, c.end_ms, c.category.as_str()))
            .collect();
        assert_eq!(
            starts,
            [
                (0, 60_000, "Just Chatting"),
                (60_000, 280_000, "Minecraft"),
                (280_000, 380_000, "Elden Ring"),
            ]
        );
    }

    #[test]
    fn changes_before_the_recording_collapse_and_repeats_add_nothing() {
        let events = [
            event(StreamEventKind::Start, 0, "A"),
            event(StreamEventKind::Update, 5_000, "B"),
            event(StreamEventKind::Update, 20_000, "B"),
            event(StreamEventKind::Update, 30_000, "C"),
            event(StreamEventKind::Update, 99_000, "D"),
        ];
        let chapters = from_events(&events, &[], Timestamp(10_000), 60_000);
        let cats: Vec<&str> = chapters.iter().map(|c| c.category.as_str()).collect();
        assert_eq!(cats, ["B", "C"], "D starts after the media ends");
        assert_eq!(chapters[1].start_ms, 20_000);
    }

    #[test]
    fn formats_escape_what_would_break_them() {
        let chapters = [Chapter {
            start_ms: 3_723_004,
            end_ms: 3_800_000,
            title: "a=b; <c> & \"d\"\nnext".into(),
            category: "Art".into(),
        }];
        assert!(ffmetadata(&chapters, "t").contains("title=Art - a\\=b\\; <c> & \"d\" next"));
        assert!(
            vtt(&chapters).contains("01:02:03.004 --> 01:03:20.000\nArt - a=b; <c> & \"d\" next\n")
        );
        assert!(srt(&chapters).starts_with("1\n01:02:03,004 --> 01:03:20,000\n"));
        let xml = emby_xml(&chapters);
        assert!(xml.contains("<StartPositionTicks>37230040000</StartPositionTicks>"));
        assert!(xml.contains("&lt;c&gt; &amp; &quot;d&quot;"));
    }
}
