//! A VOD's chat replay, fetched from Twitch after its download and written to the parts
//! folder's `chat.jsonl` exactly as the live capture writes it, so finalize makes the
//! `.chat.jsonl` and `.chat.ass` sidecars and the player replays it.
//!
//! Pages go to a hidden temp file renamed to `chat.jsonl` once the last page is in: a file
//! there is complete, and a process killed halfway fetches again from the start. Cursor pages
//! Twitch refuses (its integrity check) fall back to offset pages; anything else that fails
//! leaves the VOD without chat, never fails it.

use crate::chat::record::{ChatEntry, ChatLine};
use crate::time::Timestamp;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use tapearr_integrations::twitch::{CommentsFrom, PlaybackClient, TwitchError, VideoComment};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

/// Beyond this a chat is absurd (Twitch pages hold a few dozen comments): what came so far is
/// kept.
pub(crate) const MAX_PAGES: u32 = 100_000;
/// As the live capture: longer texts are cut.
const MAX_TEXT_CHARS: usize = 2_000;
/// Between pages, so a long chat does not hammer GQL.
const PAGE_PAUSE: Duration = Duration::from_millis(50);

const TEMP_FILE: &str = ".chat.jsonl.download";

/// How fetching a VOD's chat ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChatFetch {
    /// `chat.jsonl` holds this many messages.
    Written(u64),
    /// A complete file was there already (an earlier attempt).
    AlreadyThere,
    /// The VOD goes on without chat, for this reason.
    Unavailable(String),
    Cancelled,
}

/// Fetches video `video_id`'s chat into `parts_dir/chat.jsonl`, offsets on the VOD's timeline
/// (`started_at` is the recording's start, so `ts` is start + offset as finalize expects).
pub(crate) async fn fetch(
    playback: &PlaybackClient,
    video_id: &str,
    started_at: Timestamp,
    parts_dir: &Path,
    cancel: &CancellationToken,
) -> ChatFetch {
    let done = parts_dir.join(crate::chat::PARTS_FILE);
    if done.is_file() {
        return ChatFetch::AlreadyThere;
    }
    let temp = parts_dir.join(TEMP_FILE);
    let result = tokio::select! {
        r = fetch_into(playback, video_id, started_at, &temp) => r,
        _ = cancel.cancelled() => return ChatFetch::Cancelled,
    };
    match result {
        // No file for a silent chat: no empty sidecars (a restart asks again, one page).
        Ok(0) => {
            let _ = tokio::fs::remove_file(&temp).await;
            ChatFetch::Written(0)
        }
        Ok(count) => match tokio::fs::rename(&temp, &done).await {
            Ok(()) => ChatFetch::Written(count),
            Err(e) => unavailable(&temp, format!("could not keep the chat: {e}")).await,
        },
        Err(why) => unavailable(&temp, why).await,
    }
}

async fn unavailable(temp: &Path, why: String) -> ChatFetch {
    let _ = tokio::fs::remove_file(temp).await;
    ChatFetch::Unavailable(why)
}

/// Paging state: by cursor while Twitch allows it, else by offset.
struct Pager {
    cursor: Option<String>,
    /// The second to ask from when paging by offset.
    offset_secs: u64,
    by_offset: bool,
    /// Ids already written at or after `offset_secs` (offset pages overlap).
    recent: HashSet<String>,
}

impl Pager {
    fn from(&self) -> CommentsFrom<'_> {
        match (&self.cursor, self.by_offset) {
            (Some(c), false) => CommentsFrom::Cursor(c),
            _ => CommentsFrom::Offset(self.offset_secs),
        }
    }

    /// The comments not written yet; moves the offset past this page.
    fn fresh(&mut self, comments: Vec<VideoComment>) -> Vec<VideoComment> {
        let last_secs = comments.iter().map(|c| c.offset_ms / 1000).max();
        let fresh: Vec<VideoComment> = comments
            .into_iter()
            .filter(|c| !self.recent.contains(&c.id))
            .collect();
        if let Some(last) = last_secs {
            // A page ending in a later second: ask from that second next (its comments may
            // continue); one that never left its second: ask from the next.
            let next = if last > self.offset_secs {
                last
            } else {
                self.offset_secs + 1
            };
            if next != self.offset_secs {
                self.recent.clear();
            }
            self.offset_secs = next;
        }
        for c in &fresh {
            if c.offset_ms / 1000 >= self.offset_secs {
                self.recent.insert(c.id.clone());
            }
        }
        fresh
    }
}

async fn fetch_into(
    playback: &PlaybackClient,
    video_id: &str,
    started_at: Timestamp,
    temp: &Path,
) -> Result<u64, String> {
    let mut file = tokio::fs::File::create(temp)
        .await
        .map_err(|e| format!("could not write the chat: {e}"))?;
    let mut pager = Pager {
        cursor: None,
        offset_secs: 0,
        by_offset: false,
        recent: HashSet::new(),
    };
    let mut written = 0u64;
    for page in 1..=MAX_PAGES {
        let answer = match playback.video_comments(video_id, pager.from()).await {
            Err(TwitchError::Refused(why)) if !pager.by_offset && pager.cursor.is_some() => {
                tracing::info!(video = %video_id, reason = %why, "chat cursor refused; paging by offset");
                pager.by_offset = true;
                continue;
            }
            Err(e) => return Err(format!("Twitch did not give the chat: {e}")),
            Ok(None) => return Err("Twitch has no chat for this video".into()),
            Ok(Some(page)) => page,
        };
        // `hasNextPage` false ends it, whichever way it was asked.
        let last_page =
            answer.comments.is_empty() || answer.next_cursor.is_none() || page == MAX_PAGES;
        pager.cursor = answer.next_cursor;
        let fresh = pager.fresh(answer.comments);
        let mut text = String::new();
        for c in fresh {
            text.push_str(&entry(c, started_at).to_line());
            written += 1;
        }
        file.write_all(text.as_bytes())
            .await
            .map_err(|e| format!("could not write the chat: {e}"))?;
        if last_page {
            if page == MAX_PAGES {
                tracing::warn!(video = %video_id, pages = page, "chat cut at the page limit");
            }
            break;
        }
        tokio::time::sleep(PAGE_PAUSE).await;
    }
    file.flush()
        .await
        .map_err(|e| format!("could not write the chat: {e}"))?;
    file.sync_all()
        .await
        .map_err(|e| format!("could not write the chat: {e}"))?;
    Ok(written)
}

/// A comment as the live capture writes a message.
fn entry(c: VideoComment, started_at: Timestamp) -> ChatEntry {
    let mut text = c.text;
    if let Some((cut, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
        text.truncate(cut);
    }
    ChatEntry::Message(ChatLine {
        ms: c.offset_ms,
        ts: started_at
            .millis()
            .saturating_add(i64::try_from(c.offset_ms).unwrap_or(i64::MAX)),
        id: c.id,
        user: c.login,
        name: c.display_name,
        color: c.color,
        text,
        emotes: c.emotes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, ms: u64) -> VideoComment {
        VideoComment {
            id: id.into(),
            offset_ms: ms,
            login: "v".into(),
            display_name: "V".into(),
            color: String::new(),
            text: id.into(),
            emotes: String::new(),
        }
    }

    fn ids(v: &[VideoComment]) -> Vec<&str> {
        v.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn overlapping_offset_pages_write_each_comment_once_and_always_advance() {
        let mut p = Pager {
            cursor: None,
            offset_secs: 0,
            by_offset: true,
            recent: HashSet::new(),
        };
        let first = p.fresh(vec![c("a", 500), c("b", 3_100), c("c", 3_900)]);
        assert_eq!(ids(&first), ["a", "b", "c"]);
        assert_eq!(p.offset_secs, 3);
        // Asked from second 3: b and c again, then d.
        let second = p.fresh(vec![c("b", 3_100), c("c", 3_900), c("d", 3_950)]);
        assert_eq!(ids(&second), ["d"]);
        // A page that never left second 3 moves on to second 4.
        assert_eq!(p.offset_secs, 4);
        let third = p.fresh(vec![c("e", 9_000)]);
        assert_eq!(ids(&third), ["e"]);
        assert_eq!(p.offset_secs, 9);
    }

    #[test]
    fn a_comment_is_a_chat_line_on_the_vods_timeline() {
        let mut long = c("x", 61_000);
        long.text = "é".repeat(MAX_TEXT_CHARS + 10);
        let ChatEntry::Message(line) = entry(long, Timestamp(1_000_000)) else {
            panic!("a message");
        };
        assert_eq!((line.ms, line.ts), (61_000, 1_061_000));
        assert_eq!(line.text.chars().count(), MAX_TEXT_CHARS);
    }
}
