//! Where a live stream's HLS master playlist is: a playback access token from Twitch's GQL
//! endpoint, then the usher URL signed with it. The caller fetches the playlist (404 there
//! also means offline).

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::error::{self, TwitchError, network};
use super::helix::dir;

/// The web player's public client id; GQL refuses others for this query.
pub const WEB_CLIENT_ID: &str = "kimne78kx3ncx6brgo4mv6wki5h1ko";
pub const PLAYBACK_QUERY_HASH: &str =
    "ed230aa1e33e07eebb8928504583da78a5173989fadfb1ac94be06a04f3cdbe9";

#[derive(Clone)]
pub struct PlaybackClient {
    http: reqwest::Client,
    gql_url: Url,
    usher_url: Url,
}

impl std::fmt::Debug for PlaybackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaybackClient")
            .field("gql_url", &self.gql_url.as_str())
            .field("usher_url", &self.usher_url.as_str())
            .finish()
    }
}

#[derive(Deserialize)]
struct GqlAnswer {
    #[serde(default)]
    data: Option<GqlData>,
    #[serde(default)]
    errors: Option<Vec<GqlError>>,
}

#[derive(Deserialize)]
struct GqlData {
    #[serde(rename = "streamPlaybackAccessToken", default)]
    token: Option<AccessToken>,
    #[serde(rename = "videoPlaybackAccessToken", default)]
    video_token: Option<AccessToken>,
    #[serde(default)]
    clip: Option<ClipData>,
}

#[derive(Deserialize)]
struct ClipData {
    #[serde(rename = "playbackAccessToken", default)]
    token: Option<AccessToken>,
    #[serde(rename = "videoQualities", default)]
    qualities: Vec<ClipQuality>,
}

#[derive(Deserialize)]
struct ClipQuality {
    #[serde(default)]
    quality: String,
    #[serde(rename = "sourceURL", default)]
    source_url: String,
}

/// The persisted query of a clip's signed video URLs.
pub const CLIP_QUERY_HASH: &str =
    "36b89d2507fce29e5ca551df756d27c1cfe079e2609642b4390aa4c35796eb11";

#[derive(Deserialize)]
struct GqlError {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct AccessToken {
    value: String,
    signature: String,
}

/// A signed master playlist URL. It stops working when its token expires (usher and the
/// media playlists then answer 403); ask for a new one before.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterPlaylist {
    pub url: String,
    pub expires_at: Option<SystemTime>,
    /// Renditions the token does not open (`chansub.restricted_bitrates`: subscriber-only
    /// content for a viewer who is not a subscriber).
    pub restricted: Vec<String>,
}

impl std::fmt::Debug for MasterPlaylist {
    /// Without the URL: it carries the playback token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterPlaylist")
            .field("expires_at", &self.expires_at)
            .field("restricted", &self.restricted)
            .finish_non_exhaustive()
    }
}

/// The token's `expires` (Unix seconds) from its JSON value; `None` when absent or unreadable.
fn token_expiry(value: &str) -> Option<SystemTime> {
    #[derive(Deserialize)]
    struct Claims {
        expires: Option<u64>,
    }
    let secs = serde_json::from_str::<Claims>(value).ok()?.expires?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// The token's `chansub.restricted_bitrates`: renditions it does not open.
fn token_restrictions(value: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Claims {
        chansub: Option<Chansub>,
    }
    #[derive(Deserialize)]
    struct Chansub {
        #[serde(default)]
        restricted_bitrates: Vec<String>,
    }
    serde_json::from_str::<Claims>(value)
        .ok()
        .and_then(|c| c.chansub)
        .map(|c| c.restricted_bitrates)
        .unwrap_or_default()
}

/// Twitch logins: 1–25 of `[a-z0-9_]`. Checked because the login goes into a URL path.
fn valid_login(login: &str) -> bool {
    (1..=25).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl PlaybackClient {
    pub fn new(http: reqwest::Client, gql_url: Url, usher_url: Url) -> Self {
        Self {
            http,
            gql_url,
            usher_url: dir(usher_url),
        }
    }

    /// The master playlist URL of `login`'s live stream (see [`Self::master_playlist`]).
    pub async fn master_playlist_url(
        &self,
        login: &str,
        user_oauth: Option<&str>,
        codecs: &[&str],
    ) -> Result<Option<String>, TwitchError> {
        Ok(self
            .master_playlist(login, user_oauth, codecs)
            .await?
            .map(|p| p.url))
    }

    /// The master playlist of `login`'s live stream and when its token expires, or `None`
    /// when Twitch issues no token (offline or no such channel). `user_oauth` (a twitch.tv
    /// `auth-token` cookie) goes to GQL only and unlocks what the account may watch
    /// (subscriber-only streams, no ads with Turbo or a subscription); `codecs` like
    /// `["av1", "h265", "h264"]` (empty means h264).
    pub async fn master_playlist(
        &self,
        login: &str,
        user_oauth: Option<&str>,
        codecs: &[&str],
    ) -> Result<Option<MasterPlaylist>, TwitchError> {
        let login = login.to_ascii_lowercase();
        if !valid_login(&login) {
            return Err(TwitchError::BadRequest(format!(
                "not a Twitch login: {login}"
            )));
        }
        let Some(token) = self.access_token(&login, user_oauth).await? else {
            return Ok(None);
        };
        let mut url = self
            .usher_url
            .join(&format!("api/v2/channel/hls/{login}.m3u8"))
            .map_err(|e| TwitchError::BadRequest(e.to_string()))?;
        let codecs = if codecs.is_empty() {
            "h264".to_owned()
        } else {
            codecs.join(",")
        };
        url.query_pairs_mut()
            .append_pair("platform", "web")
            .append_pair(
                "p",
                &rand::random::<u32>().rem_euclid(9_999_999).to_string(),
            )
            .append_pair("allow_source", "true")
            .append_pair("allow_audio_only", "true")
            .append_pair("playlist_include_framerate", "true")
            .append_pair("supported_codecs", &codecs)
            .append_pair("sig", &token.signature)
            .append_pair("token", &token.value)
            .append_pair("fast_bread", "true");
        Ok(Some(MasterPlaylist {
            url: url.into(),
            expires_at: token_expiry(&token.value),
            restricted: token_restrictions(&token.value),
        }))
    }

    /// The master playlist of past broadcast `vod_id` and when its token expires, or `None`
    /// when Twitch issues no token (deleted, or not visible to this account). `user_oauth`
    /// unlocks subscriber-only VODs the account may watch.
    pub async fn vod_master_playlist(
        &self,
        vod_id: &str,
        user_oauth: Option<&str>,
    ) -> Result<Option<MasterPlaylist>, TwitchError> {
        if vod_id.is_empty() || !vod_id.bytes().all(|b| b.is_ascii_digit()) || vod_id.len() > 20 {
            return Err(TwitchError::BadRequest(format!(
                "not a Twitch video id: {vod_id}"
            )));
        }
        let body = serde_json::json!({
            "operationName": "PlaybackAccessToken",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": PLAYBACK_QUERY_HASH}},
            "variables": {
                "isLive": false, "login": "", "isVod": true, "vodID": vod_id,
                "playerType": "site", "platform": "web",
            },
        });
        let Some(token) = self
            .gql(&body, user_oauth)
            .await?
            .and_then(|d| d.video_token)
        else {
            return Ok(None);
        };
        let mut url = self
            .usher_url
            .join(&format!("vod/{vod_id}.m3u8"))
            .map_err(|e| TwitchError::BadRequest(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("platform", "web")
            .append_pair(
                "p",
                &rand::random::<u32>().rem_euclid(9_999_999).to_string(),
            )
            .append_pair("allow_source", "true")
            .append_pair("allow_audio_only", "true")
            .append_pair("playlist_include_framerate", "true")
            .append_pair("sig", &token.signature)
            .append_pair("token", &token.value);
        Ok(Some(MasterPlaylist {
            url: url.into(),
            expires_at: token_expiry(&token.value),
            restricted: token_restrictions(&token.value),
        }))
    }

    /// The signed URL of a clip's best MP4, or `None` for an unknown clip.
    pub async fn clip_video_url(&self, slug: &str) -> Result<Option<String>, TwitchError> {
        if slug.is_empty()
            || slug.len() > 100
            || !slug
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(TwitchError::BadRequest(format!("not a clip slug: {slug}")));
        }
        let body = serde_json::json!({
            "operationName": "VideoAccessToken_Clip",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": CLIP_QUERY_HASH}},
            "variables": {"slug": slug},
        });
        let Some(clip) = self.gql(&body, None).await?.and_then(|d| d.clip) else {
            return Ok(None);
        };
        let (Some(token), Some(best)) = (
            clip.token,
            clip.qualities
                .iter()
                .max_by_key(|q| q.quality.parse::<u32>().unwrap_or(0)),
        ) else {
            return Ok(None);
        };
        let mut url = Url::parse(&best.source_url)
            .map_err(|e| TwitchError::Decode(format!("clip URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("sig", &token.signature)
            .append_pair("token", &token.value);
        Ok(Some(url.into()))
    }

    async fn access_token(
        &self,
        login: &str,
        user_oauth: Option<&str>,
    ) -> Result<Option<AccessToken>, TwitchError> {
        let body = serde_json::json!({
            "operationName": "PlaybackAccessToken",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": PLAYBACK_QUERY_HASH}},
            "variables": {
                "isLive": true, "login": login, "isVod": false, "vodID": "",
                "playerType": "site", "platform": "web",
            },
        });
        Ok(self.gql(&body, user_oauth).await?.and_then(|d| d.token))
    }

    /// One GQL query's raw answer (status checked, at most `max` bytes), anonymous: the
    /// persisted queries of a video's chat and moments need no account.
    pub(super) async fn post_gql(
        &self,
        body: &serde_json::Value,
        max: usize,
    ) -> Result<Vec<u8>, TwitchError> {
        let response = self
            .http
            .post(self.gql_url.clone())
            .header("Client-ID", WEB_CLIENT_ID)
            .json(body)
            .send()
            .await
            .map_err(network)?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED => return Err(TwitchError::Unauthorized),
            _ => return Err(error::http(response).await),
        }
        crate::http::read_capped(response, max)
            .await
            .map_err(TwitchError::Network)
    }

    /// One GQL query; its `data`, or an error with GQL's messages.
    async fn gql(
        &self,
        body: &serde_json::Value,
        user_oauth: Option<&str>,
    ) -> Result<Option<GqlData>, TwitchError> {
        let mut req = self
            .http
            .post(self.gql_url.clone())
            .header("Client-ID", WEB_CLIENT_ID)
            .json(body);
        if let Some(t) = user_oauth.filter(|t| !t.is_empty()) {
            req = req.header("Authorization", format!("OAuth {t}"));
        }
        let response = req.send().await.map_err(network)?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED => return Err(TwitchError::Unauthorized),
            _ => return Err(error::http(response).await),
        }
        let answer: GqlAnswer = error::json(response).await?;
        match (answer.data, answer.errors) {
            (Some(d), _) => Ok(Some(d)),
            (None, Some(errors)) => Err(TwitchError::Decode(format!(
                "gql: {}",
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
            (None, None) => Err(TwitchError::Decode("gql: no data".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{token_expiry, valid_login};
    use std::time::{Duration, SystemTime};

    #[test]
    fn the_token_says_when_it_expires() {
        let at = |s| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(
            token_expiry(r#"{"channel":"x","expires":1767225600,"version":2}"#),
            at(1767225600)
        );
        assert_eq!(token_expiry(r#"{"channel":"x"}"#), None);
        assert_eq!(token_expiry(r#"{"expires":"soon"}"#), None);
        assert_eq!(token_expiry("not json"), None);
    }

    #[test]
    fn logins_are_checked_before_they_reach_a_path() {
        assert!(valid_login("cool_user_42"));
        assert!(!valid_login("../etc"));
        assert!(!valid_login(""));
        assert!(!valid_login("a_login_that_is_far_too_long"));
    }
}
