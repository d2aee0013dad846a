//! GQL's view of a past broadcast beside its playback: the chat replay
//! (`VideoCommentsByOffsetOrCursor`: pages from `contentOffsetSeconds` or after an edge's
//! `cursor`, `pageInfo.hasNextPage`) and the moments (`VideoPlayer_ChapterSelectButtonVideo`:
//! `GAME_CHANGE` moments with their game; none for a video of one game), as twitch.tv's player
//! gets them.
//!
//! Faults per video ([`GqlFault`]): Twitch's integrity refusal (HTTP 200 with
//! `failed integrity check`), for every request or (as Twitch does to non-browser clients) for
//! cursor pages only, and an answer cut halfway.

use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::vod::Video;
use super::wire::{cursor, parse_cursor, rfc3339_secs, uuid};

pub const COMMENTS_QUERY_HASH: &str =
    "b70a3591ff0f4e0313d126c6a1502d79a1c02baebb288227c582044aa76adf6a";
pub const MOMENTS_QUERY_HASH: &str =
    "8d2793384aac3773beab5e59bd5d6f585aedb923d292800119e03d40cd0f9b41";
/// The emote the fake knows: `Kappa` in a comment's text is an emote fragment.
pub const KAPPA_ID: &str = "25";

/// One chat message of a video's replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoChatComment {
    pub id: String,
    pub offset_secs: u64,
    pub login: String,
    pub text: String,
}

impl VideoChatComment {
    pub fn new(offset_secs: u64, login: &str, text: &str) -> Self {
        Self {
            id: uuid(),
            offset_secs,
            login: login.to_owned(),
            text: text.to_owned(),
        }
    }
}

/// A game change in a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoGameMoment {
    pub position_ms: u64,
    pub duration_ms: u64,
    pub game: String,
}

impl VideoGameMoment {
    pub fn new(position_ms: u64, duration_ms: u64, game: &str) -> Self {
        Self {
            position_ms,
            duration_ms,
            game: game.to_owned(),
        }
    }
}

/// What goes wrong with a video's chat or moments queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GqlFault {
    /// Every request: `failed integrity check`.
    Refuse,
    /// Cursor pages only (offset pages answer).
    RefuseCursor,
    /// The answer announces its length, sends half and drops the connection.
    CutBody,
}

/// What the chat queries saw, per video.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommentRequests {
    pub by_offset: u64,
    pub by_cursor: u64,
    pub refused: u64,
}

/// One answer, and whether to cut the response it goes into.
pub(crate) struct Answer {
    pub body: Value,
    pub cut: bool,
}

fn extensions(operation: &str) -> Value {
    json!({"durationMilliseconds": 12, "operationName": operation, "requestID": uuid()})
}

fn refusal(operation: &str, video_id: &str, field: &str) -> Value {
    let mut ext = extensions(operation);
    ext["challenge"] = json!({"type": "integrity"});
    json!({
        "errors": [{"message": "failed integrity check", "path": ["video", field]}],
        "data": {"video": {"id": video_id, field: null, "__typename": "Video"}},
        "extensions": ext,
    })
}

/// The answer to `op` when it is one of these queries; `None` for other operations.
pub(crate) fn answer(s: &Shared, op: &Value) -> Option<Answer> {
    let name = op.get("operationName").and_then(Value::as_str)?;
    let hash = op
        .pointer("/extensions/persistedQuery/sha256Hash")
        .and_then(Value::as_str);
    let (expected, field) = match name {
        "VideoCommentsByOffsetOrCursor" => (COMMENTS_QUERY_HASH, "comments"),
        "VideoPlayer_ChapterSelectButtonVideo" => (MOMENTS_QUERY_HASH, "moments"),
        _ => return None,
    };
    if hash != Some(expected) {
        return Some(Answer {
            body: json!({"errors": [{"message": "PersistedQueryNotFound"}]}),
            cut: false,
        });
    }
    let video_id = op
        .pointer("/variables/videoID")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut st = s.vods();
    let Some(video) = st.videos.iter().find(|v| v.id == video_id).cloned() else {
        return Some(Answer {
            body: json!({"data": {"video": null}, "extensions": extensions(name)}),
            cut: false,
        });
    };
    let by_cursor = op.pointer("/variables/cursor").and_then(Value::as_str);
    let fault = if field == "comments" {
        let seen = st.comment_requests.entry(video_id.to_owned()).or_default();
        match by_cursor {
            Some(_) => seen.by_cursor += 1,
            None => seen.by_offset += 1,
        }
        st.chat_faults.get(video_id).copied()
    } else {
        st.moments_requests += 1;
        st.moments_faults.get(video_id).copied()
    };
    let refused = match fault {
        Some(GqlFault::Refuse) => true,
        Some(GqlFault::RefuseCursor) => by_cursor.is_some(),
        _ => false,
    };
    if refused {
        if field == "comments" {
            st.comment_requests
                .entry(video_id.to_owned())
                .or_default()
                .refused += 1;
        }
        return Some(Answer {
            body: refusal(name, video_id, field),
            cut: false,
        });
    }
    // Twitch's pages hold a few dozen comments.
    let page_size = match st.comment_page_size {
        0 => 20,
        n => n,
    };
    drop(st);
    let body = if field == "comments" {
        let offset = op
            .pointer("/variables/contentOffsetSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        comments(&video, by_cursor, offset, page_size)
    } else {
        moments(&video)
    };
    Some(Answer {
        body,
        cut: fault == Some(GqlFault::CutBody),
    })
}

/// `text` as fragments: each `Kappa` word an emote fragment.
fn fragments(text: &str, id: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut plain = String::new();
    let mut at = 0usize;
    for (i, word) in text.split(' ').enumerate() {
        let sep = if i == 0 { "" } else { " " };
        if word == "Kappa" {
            plain.push_str(sep);
            if !plain.is_empty() {
                out.push(json!({"emote": null, "text": plain, "__typename": "VideoCommentMessageFragment"}));
            }
            at += plain.chars().count();
            out.push(json!({"emote": {"emoteID": KAPPA_ID, "from": at, "id": format!("{id}-{at}"),
                "__typename": "EmbeddedEmote"}, "text": word, "__typename": "VideoCommentMessageFragment"}));
            at += word.chars().count();
            plain = String::new();
        } else {
            plain.push_str(sep);
            plain.push_str(word);
        }
    }
    if !plain.is_empty() || out.is_empty() {
        out.push(
            json!({"emote": null, "text": plain, "__typename": "VideoCommentMessageFragment"}),
        );
    }
    out
}

fn comments(video: &Video, by_cursor: Option<&str>, offset: u64, page_size: usize) -> Value {
    let all = &video.spec.comments;
    let start = match by_cursor {
        Some(c) => match parse_cursor(c) {
            Some(i) => i + 1,
            None => {
                return json!({"errors": [{"message": "invalid cursor", "path": ["video", "comments"]}],
                    "data": {"video": {"id": video.id, "comments": null}}});
            }
        },
        None => all
            .iter()
            .position(|c| c.offset_secs >= offset)
            .unwrap_or(all.len()),
    };
    let end = (start + page_size).min(all.len());
    let edges: Vec<Value> = (start.min(end)..end)
        .map(|i| {
            let c = &all[i];
            let sent: SystemTime = video.spec.created_at + Duration::from_secs(c.offset_secs);
            json!({
                "cursor": cursor(i),
                "node": {
                    "id": c.id,
                    "commenter": {"id": format!("9{}", c.login.len()), "login": c.login,
                        "displayName": c.login.to_uppercase(), "__typename": "User"},
                    "contentOffsetSeconds": c.offset_secs,
                    "createdAt": rfc3339_secs(sent),
                    "message": {
                        "fragments": fragments(&c.text, &c.id),
                        "userBadges": [{"id": "c3Vic2NyaWJlcjsxMjs=", "setID": "subscriber", "version": "12",
                            "__typename": "Badge"}],
                        "userColor": if i % 2 == 0 { Value::from("#1E90FF") } else { Value::Null },
                        "__typename": "VideoCommentMessage",
                    },
                    "__typename": "VideoComment",
                },
                "__typename": "VideoCommentEdge",
            })
        })
        .collect();
    json!({
        "data": {"video": {
            "id": video.id,
            "creator": {"id": video.user_id, "channel": {"id": video.user_id, "__typename": "Channel"}, "__typename": "User"},
            "comments": {
                "edges": edges,
                "pageInfo": {"hasNextPage": end < all.len(), "hasPreviousPage": start > 0,
                    "__typename": "PageInfo"},
                "__typename": "VideoCommentConnection",
            },
            "__typename": "Video",
        }},
        "extensions": extensions("VideoCommentsByOffsetOrCursor"),
    })
}

fn moments(video: &Video) -> Value {
    let edges: Vec<Value> = video
        .spec
        .moments
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "node": {
                    "moments": {"edges": [], "__typename": "VideoMomentConnection"},
                    "id": format!("{:032x}", i + 1),
                    "durationMilliseconds": m.duration_ms,
                    "positionMilliseconds": m.position_ms,
                    "type": "GAME_CHANGE",
                    "description": m.game,
                    "subDescription": "",
                    "thumbnailURL": "",
                    "details": {"game": {"id": format!("{}", 500 + i), "displayName": m.game,
                        "boxArtURL": "", "__typename": "Game"}, "__typename": "GameChangeMomentDetails"},
                    "video": {"id": video.id, "lengthSeconds": video.spec.segments, "__typename": "Video"},
                    "__typename": "VideoMoment",
                },
                "__typename": "VideoMomentEdge",
            })
        })
        .collect();
    json!({
        "data": {"video": {
            "id": video.id,
            "moments": {"edges": edges, "__typename": "VideoMomentConnection"},
            "__typename": "Video",
        }},
        "extensions": extensions("VideoPlayer_ChapterSelectButtonVideo"),
    })
}

/// Waits while `body` asks for the chat of a video held by [`FakeTwitch::hold_video_chat`]
/// past its free pages (the request is counted first, like every chat request).
///
/// [`FakeTwitch::hold_video_chat`]: super::FakeTwitch::hold_video_chat
pub(crate) async fn hold(s: &Shared, body: &Value) {
    let ops = match body {
        Value::Array(ops) => ops.iter().collect(),
        op => vec![op],
    };
    let held = |s: &Shared| {
        let st = s.vods();
        ops.iter().any(|op| {
            let video = op
                .pointer("/variables/videoID")
                .and_then(Value::as_str)
                .unwrap_or("");
            let asks_chat = op.get("operationName").and_then(Value::as_str)
                == Some("VideoCommentsByOffsetOrCursor");
            let served = st
                .comment_requests
                .get(video)
                .map_or(0, |r| r.by_offset + r.by_cursor);
            asks_chat && st.chat_hold.get(video).is_some_and(|free| served >= *free)
        })
    };
    if !held(s) {
        return;
    }
    s.vods().chat_held += 1;
    while held(s) {
        tokio::select! {
            _ = s.vod_released.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

/// `body` announced whole, half of it sent, then the connection dropped.
pub(crate) fn cut_response(body: Vec<u8>) -> Response {
    let len = body.len();
    let half = Bytes::from(body).slice(..len / 2);
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut",
        )),
    ];
    (
        [
            ("content-type", "application/json".to_owned()),
            ("content-length", len.to_string()),
        ],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_is_an_emote_fragment_at_its_character_position() {
        let f = fragments("héllo Kappa there Kappa", "x");
        let texts: Vec<&str> = f.iter().filter_map(|v| v["text"].as_str()).collect();
        assert_eq!(texts, ["héllo ", "Kappa", " there ", "Kappa"]);
        assert_eq!(f[1]["emote"]["from"], 6);
        assert_eq!(f[3]["emote"]["from"], 18);
        assert_eq!(fragments("plain", "x").len(), 1);
    }
}
