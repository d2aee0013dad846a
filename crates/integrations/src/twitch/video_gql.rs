//! A past broadcast's chat replay and moments, from Twitch's web GQL (persisted queries of the
//! twitch.tv player, anonymous).
//!
//! - `VideoCommentsByOffsetOrCursor`: one page of comments from `{videoID, contentOffsetSeconds}`
//!   or `{videoID, cursor}` (the last edge's cursor while `pageInfo.hasNextPage`). Twitch may
//!   refuse cursor pages with `failed integrity check` (answered 200 with `errors`): that is
//!   [`TwitchError::Refused`], and offset pages usually still work.
//! - `VideoPlayer_ChapterSelectButtonVideo`: the video's moments (game changes). A video with
//!   one game has none.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::{TwitchError, decode};
use super::playback::PlaybackClient;

pub const COMMENTS_QUERY_HASH: &str =
    "b70a3591ff0f4e0313d126c6a1502d79a1c02baebb288227c582044aa76adf6a";
pub const MOMENTS_QUERY_HASH: &str =
    "8d2793384aac3773beab5e59bd5d6f585aedb923d292800119e03d40cd0f9b41";

/// A page is tens of kilobytes; a larger answer is broken or hostile.
const MAX_ANSWER_BYTES: usize = 8 << 20;
/// Twitch answers a few dozen comments a page.
pub const MAX_COMMENTS_PER_PAGE: usize = 1_000;
const MAX_MOMENTS: usize = 1_000;

/// Where a page of comments starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentsFrom<'a> {
    /// The first comments at or after this second of the video.
    Offset(u64),
    /// After the comment this cursor (an edge's) belongs to.
    Cursor(&'a str),
}

/// One chat message of a past broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoComment {
    pub id: String,
    /// Where it was said, on the video's timeline.
    pub offset_ms: u64,
    pub login: String,
    pub display_name: String,
    /// `#RRGGBB`, or empty.
    pub color: String,
    pub text: String,
    /// As IRC's `emotes` tag: `25:0-4,12-16/1902:6-10` (character positions in `text`).
    pub emotes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentPage {
    pub comments: Vec<VideoComment>,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// One moment of a video: where its game changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoMoment {
    pub position_ms: u64,
    pub duration_ms: u64,
    /// `GAME_CHANGE` for games.
    pub kind: String,
    /// The game's display name (the moment's description when no game is attached).
    pub game: String,
}

#[derive(Deserialize)]
struct Answer<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct VideoData<V> {
    video: Option<V>,
}

#[derive(Deserialize)]
struct CommentsVideo {
    comments: Option<Connection<CommentNode>>,
}

#[derive(Deserialize)]
struct MomentsVideo {
    moments: Option<Connection<MomentNode>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "N: Deserialize<'de>"))]
struct Connection<N> {
    #[serde(default)]
    edges: Vec<Edge<N>>,
    #[serde(default)]
    page_info: PageInfo,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    #[serde(default)]
    has_next_page: bool,
}

#[derive(Deserialize)]
struct Edge<N> {
    #[serde(default)]
    cursor: Option<String>,
    node: Option<N>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentNode {
    id: String,
    content_offset_seconds: f64,
    commenter: Option<Commenter>,
    message: Option<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commenter {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    #[serde(default)]
    fragments: Vec<Fragment>,
    #[serde(default)]
    user_color: Option<String>,
}

#[derive(Deserialize)]
struct Fragment {
    #[serde(default)]
    text: String,
    #[serde(default)]
    emote: Option<Emote>,
}

#[derive(Deserialize)]
struct Emote {
    #[serde(rename = "emoteID", default)]
    emote_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MomentNode {
    #[serde(default)]
    position_milliseconds: i64,
    #[serde(default)]
    duration_milliseconds: i64,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    details: Option<MomentDetails>,
}

#[derive(Deserialize)]
struct MomentDetails {
    #[serde(default)]
    game: Option<Game>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Game {
    #[serde(default)]
    display_name: String,
}

fn valid_video_id(id: &str) -> Result<(), TwitchError> {
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TwitchError::BadRequest(format!(
            "not a Twitch video id: {id}"
        )));
    }
    Ok(())
}

/// The answer's `data`; GQL's errors as an error (an integrity refusal as [`TwitchError::Refused`])
/// when they left nothing usable. `None`: no such video.
fn parse<V: DeserializeOwned, T>(
    body: &[u8],
    usable: impl FnOnce(V) -> Option<T>,
) -> Result<Option<T>, TwitchError> {
    let answer: Answer<VideoData<V>> = serde_json::from_slice(body).map_err(decode)?;
    let messages = || {
        answer
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if answer
        .errors
        .iter()
        .any(|e| e.message.contains("integrity"))
    {
        return Err(TwitchError::Refused(messages()));
    }
    let errors = messages();
    match answer.data {
        Some(VideoData { video: None }) if answer.errors.is_empty() => Ok(None),
        Some(VideoData { video: Some(v) }) => match usable(v) {
            Some(t) => Ok(Some(t)),
            None => Err(TwitchError::Decode(format!("gql: {errors}"))),
        },
        _ => Err(TwitchError::Decode(format!("gql: {errors}"))),
    }
}

/// IRC's `emotes` tag for text made of `fragments`.
fn emotes_tag(fragments: &[Fragment]) -> String {
    let mut by_id: Vec<(&str, Vec<String>)> = Vec::new();
    let mut at = 0usize;
    for f in fragments {
        let len = f.text.chars().count();
        if let Some(e) = f
            .emote
            .as_ref()
            .filter(|e| !e.emote_id.is_empty() && len > 0)
        {
            let span = format!("{at}-{}", at + len - 1);
            match by_id.iter_mut().find(|(id, _)| *id == e.emote_id) {
                Some((_, spans)) => spans.push(span),
                None => by_id.push((&e.emote_id, vec![span])),
            }
        }
        at += len;
    }
    by_id
        .iter()
        .map(|(id, spans)| format!("{id}:{}", spans.join(",")))
        .collect::<Vec<_>>()
        .join("/")
}

fn comment(node: CommentNode) -> VideoComment {
    let (login, display_name) = node
        .commenter
        .map(|c| (c.login, c.display_name))
        .unwrap_or_default();
    let (text, emotes, color) = match node.message {
        Some(m) => (
            m.fragments.iter().map(|f| f.text.as_str()).collect(),
            emotes_tag(&m.fragments),
            m.user_color.unwrap_or_default(),
        ),
        None => Default::default(),
    };
    let secs = if node.content_offset_seconds.is_finite() {
        node.content_offset_seconds.max(0.0)
    } else {
        0.0
    };
    VideoComment {
        id: node.id,
        offset_ms: (secs * 1000.0).round() as u64,
        display_name: if display_name.is_empty() {
            login.clone()
        } else {
            display_name
        },
        login,
        color,
        text,
        emotes,
    }
}

impl PlaybackClient {
    async fn persisted(
        &self,
        operation: &str,
        hash: &str,
        variables: serde_json::Value,
    ) -> Result<Vec<u8>, TwitchError> {
        let body = serde_json::json!({
            "operationName": operation,
            "variables": variables,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}},
        });
        self.post_gql(&body, MAX_ANSWER_BYTES).await
    }

    /// One page of a video's chat replay; `None` when Twitch has no such video.
    pub async fn video_comments(
        &self,
        video_id: &str,
        from: CommentsFrom<'_>,
    ) -> Result<Option<CommentPage>, TwitchError> {
        valid_video_id(video_id)?;
        let variables = match from {
            CommentsFrom::Offset(secs) => {
                serde_json::json!({"videoID": video_id, "contentOffsetSeconds": secs})
            }
            CommentsFrom::Cursor(cursor) => {
                serde_json::json!({"videoID": video_id, "cursor": cursor})
            }
        };
        let body = self
            .persisted(
                "VideoCommentsByOffsetOrCursor",
                COMMENTS_QUERY_HASH,
                variables,
            )
            .await?;
        let Some(connection) = parse(&body, |v: CommentsVideo| v.comments)? else {
            return Ok(None);
        };
        if connection.edges.len() > MAX_COMMENTS_PER_PAGE {
            return Err(TwitchError::Decode(format!(
                "a page of {} comments",
                connection.edges.len()
            )));
        }
        let next_cursor = connection
            .page_info
            .has_next_page
            .then(|| connection.edges.last().and_then(|e| e.cursor.clone()))
            .flatten()
            .filter(|c| !c.is_empty());
        let comments = connection
            .edges
            .into_iter()
            .filter_map(|e| e.node)
            .map(comment)
            .collect();
        Ok(Some(CommentPage {
            comments,
            next_cursor,
        }))
    }

    /// A video's moments in order of position; `None` when Twitch has no such video.
    pub async fn video_moments(
        &self,
        video_id: &str,
    ) -> Result<Option<Vec<VideoMoment>>, TwitchError> {
        valid_video_id(video_id)?;
        let body = self
            .persisted(
                "VideoPlayer_ChapterSelectButtonVideo",
                MOMENTS_QUERY_HASH,
                serde_json::json!({"videoID": video_id, "includePrivate": false}),
            )
            .await?;
        // A video with one game answers `moments: null` or no edges: no moments.
        let Some(connection) = parse(&body, |v: MomentsVideo| Some(v.moments))? else {
            return Ok(None);
        };
        let edges = connection.map(|c| c.edges).unwrap_or_default();
        if edges.len() > MAX_MOMENTS {
            return Err(TwitchError::Decode(format!("{} moments", edges.len())));
        }
        let mut moments: Vec<VideoMoment> = edges
            .into_iter()
            .filter_map(|e| e.node)
            .map(|n| {
                let game = n
                    .details
                    .and_then(|d| d.game)
                    .map(|g| g.display_name)
                    .filter(|g| !g.is_empty())
                    .unwrap_or(n.description);
                VideoMoment {
                    position_ms: u64::try_from(n.position_milliseconds).unwrap_or(0),
                    // Twitch sometimes answers negative durations.
                    duration_ms: u64::try_from(n.duration_milliseconds).unwrap_or(0),
                    kind: n.kind,
                    game,
                }
            })
            .collect();
        moments.sort_by_key(|m| m.position_ms);
        Ok(Some(moments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_as_twitch_sends_it() {
        let body = br##"{"data":{"video":{"id":"42","creator":{"id":"1"},"comments":{"edges":[
            {"cursor":"c1","node":{"id":"a","commenter":{"id":"7","login":"viewer","displayName":"Viewer"},
             "contentOffsetSeconds":12,"createdAt":"2026-01-01T00:00:12Z","message":{"fragments":[
               {"emote":null,"text":"hi "},{"emote":{"id":"x","emoteID":"25","from":3},"text":"Kappa"},
               {"emote":null,"text":" and "},{"emote":{"id":"y","emoteID":"25","from":13},"text":"Kappa"}],
             "userBadges":[{"id":"b","setID":"subscriber","version":"12"}],"userColor":"#FF0000"}}},
            {"cursor":"c2","node":{"id":"b","commenter":null,"contentOffsetSeconds":13.5,"message":{"fragments":[{"text":"x"}],"userColor":null}}}],
            "pageInfo":{"hasNextPage":true,"hasPreviousPage":false}}}},
            "extensions":{"durationMilliseconds":50,"operationName":"VideoCommentsByOffsetOrCursor"}}"##;
        let connection = parse(body, |v: CommentsVideo| v.comments)
            .expect("parses")
            .expect("a video");
        assert!(connection.page_info.has_next_page);
        let comments: Vec<VideoComment> = connection
            .edges
            .into_iter()
            .filter_map(|e| e.node)
            .map(comment)
            .collect();
        assert_eq!(comments[0].text, "hi Kappa and Kappa");
        assert_eq!(comments[0].emotes, "25:3-7,13-17");
        assert_eq!(comments[0].offset_ms, 12_000);
        assert_eq!(comments[0].color, "#FF0000");
        assert_eq!(comments[1].offset_ms, 13_500);
        assert_eq!(comments[1].login, "");
    }

    #[test]
    fn refusals_unknown_videos_and_service_errors_are_told_apart() {
        let refused = br#"{"errors":[{"message":"failed integrity check","path":["video","comments"]}],
            "data":{"video":{"id":"42","comments":null}},"extensions":{"challenge":{"type":"integrity"}}}"#;
        let Err(err) = parse(refused, |v: CommentsVideo| v.comments) else {
            panic!("refused");
        };
        assert!(matches!(err, TwitchError::Refused(_)), "{err:?}");
        let unknown = br#"{"data":{"video":null}}"#;
        assert!(
            parse(unknown, |v: CommentsVideo| v.comments)
                .expect("ok")
                .is_none()
        );
        let service =
            br#"{"errors":[{"message":"service error"}],"data":{"video":{"comments":null}}}"#;
        let Err(err) = parse(service, |v: CommentsVideo| v.comments) else {
            panic!("an error");
        };
        assert!(matches!(err, TwitchError::Decode(_)), "{err:?}");
        assert!(parse(b"{\"data\":{\"vid", |v: CommentsVideo| v.comments).is_err());
    }
}
