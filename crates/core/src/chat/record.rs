//! The chat file: one compact JSON object per line, appended while recording.
//!
//! In the parts folder (`chat.jsonl`) `ms` counts wall-clock time from the recording's start and
//! moderation (`CLEARMSG`, `CLEARCHAT`) is kept as `clear` lines; beside the MP4
//! (`<name>.chat.jsonl`) only the messages that stayed remain, `ms` on the MP4's timeline.

use crate::streams::model::RecordingGap;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatLine {
    /// Where it appears in the recording, in milliseconds.
    pub ms: u64,
    /// When Twitch relayed it (`tmi-sent-ts`, ms since the epoch).
    pub ts: i64,
    /// Twitch's message id.
    pub id: String,
    /// The sender's login.
    pub user: String,
    /// The sender's display name.
    pub name: String,
    /// `#RRGGBB`, or empty when the user never chose one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub color: String,
    pub text: String,
    /// Twitch's `emotes` tag (`25:0-4,12-16/1902:6-10`, character positions in `text`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub emotes: String,
}

/// What a moderator removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatClear {
    pub ms: u64,
    pub ts: i64,
    /// `msg:<id>` (one message), `user:<login>` (a timeout or ban) or `all`.
    pub clear: String,
}

/// One line of the parts folder's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatEntry {
    Clear(ChatClear),
    Message(ChatLine),
}

impl ChatEntry {
    /// One JSON line with its newline.
    pub fn to_line(&self) -> String {
        json_line(self)
    }
}

/// `value` as one JSON line with its newline.
fn json_line(value: &impl Serialize) -> String {
    let mut line = serde_json::to_string(value).unwrap_or_default();
    line.push('\n');
    line
}

/// Every entry of a chat file, skipping lines that do not parse (a line torn by a kill).
pub fn read_entries(path: &Path) -> std::io::Result<Vec<ChatEntry>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// The messages that stayed after moderation, in the order they were sent.
pub fn kept_messages(entries: Vec<ChatEntry>) -> Vec<ChatLine> {
    let mut kept: Vec<ChatLine> = Vec::new();
    for entry in entries {
        match entry {
            ChatEntry::Message(line) => kept.push(line),
            ChatEntry::Clear(clear) => match clear.clear.split_once(':') {
                Some(("msg", id)) => kept.retain(|m| m.id != id),
                Some(("user", login)) => kept.retain(|m| m.user != login || m.ts > clear.ts),
                _ => kept.retain(|m| m.ts > clear.ts),
            },
        }
    }
    kept
}

/// The messages placed on the MP4's timeline: wall-clock time since `started_at` less the
/// media lost in gaps before (as chapters are placed); those past the end are left out.
pub fn on_media_timeline(
    mut lines: Vec<ChatLine>,
    gaps: &[RecordingGap],
    started_at: Timestamp,
    duration_ms: u64,
) -> Vec<ChatLine> {
    for line in &mut lines {
        line.ms = crate::library::chapters::media_offset(Timestamp(line.ts), gaps, started_at);
    }
    lines.retain(|l| duration_ms == 0 || l.ms < duration_ms);
    lines.sort_by_key(|l| l.ms);
    lines
}

/// The final file's text.
pub fn to_jsonl(lines: &[ChatLine]) -> String {
    lines.iter().map(json_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, user: &str, ts: i64) -> ChatEntry {
        ChatEntry::Message(ChatLine {
            ms: 0,
            ts,
            id: id.into(),
            user: user.into(),
            name: user.into(),
            color: String::new(),
            text: format!("{id} from {user}"),
            emotes: String::new(),
        })
    }

    fn clear(what: &str, ts: i64) -> ChatEntry {
        ChatEntry::Clear(ChatClear {
            ms: 0,
            ts,
            clear: what.into(),
        })
    }

    #[test]
    fn moderation_removes_what_it_names_and_nothing_said_later() {
        let entries = vec![
            msg("a", "troll", 1),
            msg("b", "nice", 2),
            msg("c", "troll", 3),
            clear("user:troll", 4),
            msg("d", "troll", 5),
            msg("e", "nice", 6),
            clear("msg:e", 7),
            msg("f", "nice", 8),
        ];
        let ids: Vec<String> = kept_messages(entries).into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["b", "d", "f"]);
        let all = kept_messages(vec![msg("a", "x", 1), clear("all", 2), msg("b", "y", 3)]);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, "b");
    }

    #[test]
    fn lines_round_trip_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chat.jsonl");
        let mut text = msg("a", "x", 1).to_line() + &clear("all", 2).to_line();
        text.push_str("{\"ms\":12,\"ts\":3,\"id\":\"torn");
        std::fs::write(&path, text).expect("write");
        let entries = read_entries(&path).expect("read");
        assert_eq!(entries, vec![msg("a", "x", 1), clear("all", 2)]);
        assert!(
            read_entries(&dir.path().join("none"))
                .expect("missing")
                .is_empty()
        );
    }

    #[test]
    fn media_time_subtracts_gaps_and_drops_what_is_past_the_end() {
        let start = Timestamp(1_000_000);
        let gap = RecordingGap {
            id: "g".into(),
            recording_id: "r".into(),
            at: Timestamp(1_010_000),
            ms: 4_000,
            reason: "lost".into(),
        };
        let lines = kept_messages(vec![
            msg("late", "x", 1_030_000),
            msg("a", "x", 1_005_000),
            msg("b", "x", 1_020_000),
            msg("past", "x", 1_100_000),
        ]);
        let placed = on_media_timeline(lines, &[gap], start, 60_000);
        let got: Vec<(&str, u64)> = placed.iter().map(|l| (l.id.as_str(), l.ms)).collect();
        assert_eq!(got, [("a", 5_000), ("b", 16_000), ("late", 26_000)]);
    }
}
