//! Helix wire types. Every optional field has a default so a missing or null value decodes.

use serde::{Deserialize, Deserializer, Serialize};

/// `null` decodes as the type's default (serde's `default` only covers a missing field).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelixUser {
    pub id: String,
    pub login: String,
    #[serde(default, deserialize_with = "null_default")]
    pub display_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_default")]
    pub profile_image_url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub offline_image_url: String,
    /// "partner", "affiliate" or "".
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_type: String,
    /// RFC 3339.
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelixStream {
    /// The stream id (one per broadcast): the key that makes "online" idempotent.
    pub id: String,
    pub user_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_login: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub game_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub game_name: String,
    /// "live" (or "" on errors, per Twitch's docs).
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_default")]
    pub viewer_count: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub started_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub language: String,
    #[serde(default, deserialize_with = "null_default")]
    pub thumbnail_url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelixChannel {
    pub broadcaster_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_login: String,
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub game_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub game_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_language: String,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelixGame {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Has `{width}x{height}` placeholders.
    #[serde(default, deserialize_with = "null_default")]
    pub box_art_url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowedChannel {
    pub broadcaster_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_login: String,
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub followed_at: String,
}

/// What `GET oauth2/validate` says about a user token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    #[serde(default, deserialize_with = "null_default")]
    pub user_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub login: String,
    #[serde(default, deserialize_with = "null_default")]
    pub client_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub scopes: Vec<String>,
    /// Seconds left.
    #[serde(default, deserialize_with = "null_default")]
    pub expires_in: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transport {
    pub method: String,
    #[serde(default, deserialize_with = "null_default")]
    pub callback: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventSubSubscription {
    pub id: String,
    /// "enabled", "webhook_callback_verification_pending", "authorization_revoked", …
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
    #[serde(default)]
    pub condition: serde_json::Value,
    #[serde(default, deserialize_with = "null_default")]
    pub transport: Transport,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub cost: u64,
}

impl EventSubSubscription {
    /// `condition.broadcaster_user_id`, the key the stream and channel events use.
    pub fn broadcaster_user_id(&self) -> Option<&str> {
        self.condition.get("broadcaster_user_id")?.as_str()
    }
}

/// A webhook subscription to create. Debug masks the secret.
#[derive(Clone)]
pub struct NewSubscription {
    pub kind: String,
    pub version: String,
    pub condition: serde_json::Value,
    pub callback: String,
    /// 10–100 ASCII characters; keep it stable across restarts so old subscriptions verify.
    pub secret: String,
}

impl std::fmt::Debug for NewSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSubscription")
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("condition", &self.condition)
            .field("callback", &self.callback)
            .field("secret", &"***")
            .finish()
    }
}

/// One page of a Helix list answer.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub data: Vec<T>,
    #[serde(default, deserialize_with = "null_default")]
    pub pagination: Pagination,
}

#[derive(Deserialize, Default)]
pub(crate) struct Pagination {
    #[serde(default)]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_missing_fields_decode() {
        let s: HelixStream = serde_json::from_str(
            r#"{"id":"1","user_id":"2","game_id":null,"tags":null,"viewer_count":null}"#,
        )
        .expect("decodes");
        assert_eq!(s.game_id, "");
        assert!(s.tags.is_empty());
        let page: Page<HelixUser> = serde_json::from_str(
            r#"{"data":[{"id":"1","login":"a","offline_image_url":null}],"pagination":{}}"#,
        )
        .expect("decodes");
        assert_eq!(page.data.len(), 1);
        assert!(page.pagination.cursor.is_none());
    }

    #[test]
    fn new_subscription_debug_hides_the_secret() {
        let s = NewSubscription {
            kind: "stream.online".into(),
            version: "1".into(),
            condition: serde_json::json!({"broadcaster_user_id": "1"}),
            callback: "https://x/cb".into(),
            secret: "hunter2hunter2".into(),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}

/// A muted stretch of a video (copyrighted audio), in seconds from its start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MutedSegment {
    #[serde(default, deserialize_with = "null_default")]
    pub duration: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub offset: u64,
}

/// A video from `GET /videos`: a past broadcast (`archive`), a highlight or an upload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelixVideo {
    pub id: String,
    /// The live broadcast an archive was recorded from (`null` for highlights and uploads).
    #[serde(default, deserialize_with = "null_default")]
    pub stream_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_login: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    /// RFC 3339.
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub published_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub url: String,
    /// Has `%{width}x%{height}` placeholders.
    #[serde(default, deserialize_with = "null_default")]
    pub thumbnail_url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub viewable: String,
    #[serde(default, deserialize_with = "null_default")]
    pub view_count: u64,
    /// `archive`, `highlight` or `upload`.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub kind: String,
    /// Like `1h2m3s`.
    #[serde(default, deserialize_with = "null_default")]
    pub duration: String,
    #[serde(default, deserialize_with = "null_default")]
    pub muted_segments: Vec<MutedSegment>,
}

/// `1h2m3s` (Helix's video duration) in seconds; `None` when unreadable.
pub fn parse_video_duration(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 's' => {
                let n: u64 = number.parse().ok()?;
                number.clear();
                total += n * match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

/// A clip from `GET /clips`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelixClip {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub embed_url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub broadcaster_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_default")]
    pub view_count: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub thumbnail_url: String,
    /// Seconds (a float).
    #[serde(default, deserialize_with = "null_default")]
    pub duration: f64,
    #[serde(default, deserialize_with = "null_default")]
    pub vod_offset: Option<u64>,
    #[serde(default, deserialize_with = "null_default")]
    pub video_id: String,
}

#[cfg(test)]
mod video_tests {
    use super::parse_video_duration;

    #[test]
    fn helix_durations() {
        assert_eq!(parse_video_duration("1h2m3s"), Some(3723));
        assert_eq!(parse_video_duration("45s"), Some(45));
        assert_eq!(parse_video_duration("10m0s"), Some(600));
        assert_eq!(parse_video_duration("12"), None);
        assert_eq!(parse_video_duration("1d"), None);
    }
}
