//! Adding, configuring, removing and importing channels (S1).

use super::model::{Channel, ChannelSettings};
use super::{Streams, StreamsError, StreamsResult};
use crate::events::DomainEvent;
use crate::ids::new_id;
use crate::storage::{ChannelProfile, StorageError};
use crate::time::Timestamp;
use serde::Deserialize;
use tapearr_integrations::twitch::HelixUser;

/// What the user sends to add a channel: a login or a channel URL, plus optional settings.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AddChannel {
    /// `somechannel`, `twitch.tv/somechannel` or `https://www.twitch.tv/somechannel`.
    pub channel: String,
    pub auto_record: Option<bool>,
    pub quality: Option<String>,
    pub codecs: Option<String>,
    pub naming_template: Option<String>,
    pub favourite: Option<bool>,
    /// Fetch playlists through `twitch.playlist_proxies` (default off).
    pub use_playlist_proxy: Option<bool>,
    /// Capture chat beside its recordings (default on).
    pub record_chat: Option<bool>,
}

/// A partial settings change; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ChannelPatch {
    pub auto_record: Option<bool>,
    pub quality: Option<String>,
    pub codecs: Option<String>,
    /// `""` clears the override.
    pub naming_template: Option<String>,
    pub favourite: Option<bool>,
    /// Fetch this channel's playlists through `twitch.playlist_proxies`; applies from the next
    /// recording.
    pub use_playlist_proxy: Option<bool>,
    /// Capture chat beside recordings; applies from the next recording.
    pub record_chat: Option<bool>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub added: Vec<String>,
    pub already_watched: Vec<String>,
}

const CODECS: [&str; 3] = ["h264", "h265", "av1"];

/// The login in `input`, or why there is none.
pub(crate) fn parse_login(input: &str) -> StreamsResult<String> {
    let trimmed = input.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let path = ["www.twitch.tv/", "m.twitch.tv/", "twitch.tv/"]
        .iter()
        .find_map(|host| without_scheme.strip_prefix(host))
        .unwrap_or(without_scheme);
    let login = path
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let valid = !login.is_empty()
        && login.len() <= 25
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(login)
    } else {
        Err(StreamsError::Invalid(format!(
            "{:?} is not a Twitch login or channel URL (letters, digits and _, at most 25)",
            input.chars().take(60).collect::<String>()
        )))
    }
}

/// `best`, `worst`, `audio_only`, `source`, or `<height>p[<fps>]`.
fn is_quality(q: &str) -> bool {
    if matches!(q, "best" | "worst" | "audio_only" | "source") {
        return true;
    }
    let Some((height, fps)) = q.split_once('p') else {
        return false;
    };
    let digits = |d: &str, max: usize| d.len() <= max && d.bytes().all(|b| b.is_ascii_digit());
    !height.is_empty() && digits(height, 4) && digits(fps, 3)
}

pub(crate) fn validate_settings(s: &ChannelSettings) -> StreamsResult<()> {
    if !s.quality.split(',').all(|q| is_quality(q.trim())) {
        return Err(StreamsError::Invalid(format!(
            "quality {:?}: use best, worst, audio_only or a height like 1080p60, 720p — several, comma separated, best first",
            s.quality.chars().take(60).collect::<String>()
        )));
    }
    let codecs: Vec<&str> = s.codecs.split(',').map(str::trim).collect();
    if codecs.iter().any(|c| !CODECS.contains(c)) || codecs.is_empty() {
        return Err(StreamsError::Invalid(format!(
            "codecs {:?}: use a comma-separated list of h264, h265, av1",
            s.codecs
        )));
    }
    if let Some(t) = &s.naming_template {
        crate::library::naming::validate(t).map_err(|e| StreamsError::Invalid(e.to_string()))?;
    }
    Ok(())
}

fn profile_of(user: &HelixUser) -> ChannelProfile {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    ChannelProfile {
        login: user.login.to_ascii_lowercase(),
        display_name: user.display_name.clone(),
        description: user.description.clone(),
        avatar_url: non_empty(&user.profile_image_url),
        offline_image_url: non_empty(&user.offline_image_url),
    }
}

impl Streams {
    pub async fn list_channels(&self) -> StreamsResult<Vec<Channel>> {
        Ok(self.inner.store.list_twitch_channels().await?)
    }

    /// A channel that has not been removed.
    pub async fn channel(&self, id: &str) -> StreamsResult<Channel> {
        match self.inner.store.twitch_channel(id).await? {
            Some(c) if c.removed_at.is_none() => Ok(c),
            _ => Err(StreamsError::NotFound("channel")),
        }
    }

    /// Validates the login against Helix, then stores the channel (a removed one comes back
    /// with its recordings).
    pub async fn add_channel(&self, req: AddChannel) -> StreamsResult<Channel> {
        let login = parse_login(&req.channel)?;
        let defaults = ChannelSettings::default();
        let settings = ChannelSettings {
            auto_record: req.auto_record.unwrap_or(defaults.auto_record),
            quality: req.quality.unwrap_or(defaults.quality),
            codecs: req.codecs.unwrap_or(defaults.codecs),
            naming_template: req.naming_template.filter(|t| !t.is_empty()),
            favourite: req.favourite.unwrap_or(defaults.favourite),
            use_playlist_proxy: req
                .use_playlist_proxy
                .unwrap_or(defaults.use_playlist_proxy),
            record_chat: req.record_chat.unwrap_or(defaults.record_chat),
        };
        validate_settings(&settings)?;
        let users = self
            .twitch()?
            .helix
            .users_by_login(std::slice::from_ref(&login))
            .await?;
        let user = users
            .into_iter()
            .find(|u| u.login.eq_ignore_ascii_case(&login))
            .ok_or_else(|| StreamsError::UnknownOnTwitch(login.clone()))?;
        let channel = self.store_channel(&user, settings).await?;
        self.after_channels_changed();
        // Check at once rather than at the next poll, so a live channel starts recording now.
        self.check_channels(std::slice::from_ref(&channel)).await;
        self.channel(&channel.id).await
    }

    async fn store_channel(
        &self,
        user: &HelixUser,
        settings: ChannelSettings,
    ) -> StreamsResult<Channel> {
        let store = &self.inner.store;
        let now = Timestamp::now();
        let profile = profile_of(user);
        if let Some(existing) = store.twitch_channel_by_twitch_id(&user.id).await? {
            if existing.removed_at.is_none() {
                return Err(StreamsError::Conflict(format!(
                    "{} is already watched",
                    existing.login
                )));
            }
            store
                .update_channel_profile(&existing.id, &profile, now)
                .await?;
            store
                .update_channel_settings(&existing.id, &settings, now)
                .await?;
            self.emit_added(&existing.id, &profile.login).await;
            return self.channel(&existing.id).await;
        }
        let channel = Channel {
            id: new_id(),
            twitch_id: user.id.clone(),
            login: profile.login,
            display_name: profile.display_name,
            description: profile.description,
            avatar_url: profile.avatar_url,
            offline_image_url: profile.offline_image_url,
            settings,
            live: false,
            title: String::new(),
            category: String::new(),
            live_checked_at: None,
            removed_at: None,
            created_at: now,
            updated_at: now,
        };
        match store.insert_twitch_channel(&channel).await {
            Ok(()) => {}
            Err(StorageError::Conflict(_)) => {
                return Err(StreamsError::Conflict(format!(
                    "{} is already watched",
                    channel.login
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.emit_added(&channel.id, &channel.login).await;
        Ok(channel)
    }

    async fn emit_added(&self, channel_id: &str, login: &str) {
        self.inner
            .events
            .emit(DomainEvent::ChannelAdded {
                channel_id: channel_id.to_string(),
                login: login.to_string(),
            })
            .await;
    }

    pub async fn update_channel(&self, id: &str, patch: ChannelPatch) -> StreamsResult<Channel> {
        let channel = self.channel(id).await?;
        let mut s = channel.settings.clone();
        if let Some(v) = patch.auto_record {
            s.auto_record = v;
        }
        if let Some(v) = patch.quality {
            s.quality = v;
        }
        if let Some(v) = patch.codecs {
            s.codecs = v;
        }
        if let Some(v) = patch.naming_template {
            s.naming_template = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = patch.favourite {
            s.favourite = v;
        }
        if let Some(v) = patch.use_playlist_proxy {
            s.use_playlist_proxy = v;
        }
        if let Some(v) = patch.record_chat {
            s.record_chat = v;
        }
        validate_settings(&s)?;
        self.inner
            .store
            .update_channel_settings(id, &s, Timestamp::now())
            .await?;
        self.inner
            .events
            .emit(DomainEvent::ChannelUpdated {
                channel_id: id.to_string(),
                login: channel.login.clone(),
                title: channel.title.clone(),
                category: channel.category.clone(),
            })
            .await;
        // Auto-record just switched on for a live channel: start now, not at the next poll.
        if s.auto_record && !channel.settings.auto_record && channel.live {
            let updated = Channel {
                settings: s,
                ..channel
            };
            self.check_channels(std::slice::from_ref(&updated)).await;
        }
        self.channel(id).await
    }

    /// Stops a running recording, then hides the channel (recordings kept) or deletes it with
    /// its recordings' rows and files, and the clips the archive placed.
    pub async fn remove_channel(&self, id: &str, delete_recordings: bool) -> StreamsResult<()> {
        let channel = self.channel(id).await?;
        self.stop_channel_recorder(id, "channel removed").await;
        if delete_recordings {
            self.delete_recording_files(id).await?;
            // Clips Tapearr placed in the show's extras folder; their rows go with the channel.
            crate::archive::clips::remove_channel_clips(
                self.inner.store.as_ref(),
                self.roots().as_ref(),
                id,
            )
            .await?;
        }
        self.inner
            .store
            .remove_twitch_channel(id, !delete_recordings, Timestamp::now())
            .await?;
        self.inner
            .events
            .emit(DomainEvent::ChannelRemoved {
                channel_id: id.to_string(),
                login: channel.login,
                recordings_deleted: delete_recordings,
            })
            .await;
        self.after_channels_changed();
        Ok(())
    }

    /// Removes the files of each recording of the channel: MP4, sidecars and parts (only inside
    /// a library root).
    async fn delete_recording_files(&self, channel_id: &str) -> StreamsResult<()> {
        let Some(roots) = self.roots() else {
            return Ok(());
        };
        let mut page =
            crate::storage::PageRequest::new(Some(crate::storage::PageRequest::MAX_LIMIT), None);
        loop {
            let query = crate::storage::RecordingQuery {
                channel_id: Some(channel_id.to_string()),
                page,
                ..Default::default()
            };
            let found = self.inner.store.list_recordings(&query).await?;
            for rec in &found.items {
                let mut errors = Vec::new();
                crate::library::remove_recording_files(&roots, rec, &mut errors).await;
                for error in errors {
                    tracing::warn!(recording = %rec.id, %error, "recording file not deleted");
                }
            }
            page.offset += page.limit;
            if u64::from(page.offset) >= found.total {
                return Ok(());
            }
        }
    }

    /// Adds every channel the connected account follows (new ones only).
    pub async fn import_followed(&self, auto_record: bool) -> StreamsResult<ImportResult> {
        let account = self
            .account()
            .await?
            .ok_or_else(|| StreamsError::Invalid("connect a Twitch account first".into()))?;
        let token = self
            .user_token()
            .await?
            .ok_or_else(|| StreamsError::Invalid("connect a Twitch account first".into()))?;
        let twitch = self.twitch()?;
        let followed = match twitch
            .helix
            .followed_channels(&account.user_id, &token)
            .await
        {
            // Revoked or expired early: a signed-in account renews its token once and retries.
            Err(tapearr_integrations::twitch::TwitchError::Unauthorized)
                if self.refresh_account(true).await? =>
            {
                let token = self
                    .user_token()
                    .await?
                    .ok_or_else(|| StreamsError::Invalid("sign in with Twitch again".into()))?;
                twitch
                    .helix
                    .followed_channels(&account.user_id, &token)
                    .await?
            }
            other => other?,
        };
        let ids: Vec<String> = followed.iter().map(|f| f.broadcaster_id.clone()).collect();
        let users = twitch.helix.users_by_id(&ids).await?;
        let mut result = ImportResult {
            added: Vec::new(),
            already_watched: Vec::new(),
        };
        let settings = ChannelSettings {
            auto_record,
            ..ChannelSettings::default()
        };
        let mut added = Vec::new();
        for user in &users {
            match self.store_channel(user, settings.clone()).await {
                Ok(c) => {
                    result.added.push(c.login.clone());
                    added.push(c);
                }
                Err(StreamsError::Conflict(_)) => result.already_watched.push(user.login.clone()),
                Err(e) => return Err(e),
            }
        }
        if !added.is_empty() {
            self.after_channels_changed();
            self.check_channels(&added).await;
        }
        Ok(result)
    }

    fn after_channels_changed(&self) {
        self.inner.channels_changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_and_urls_are_understood() {
        for (input, login) in [
            ("SomeChannel", "somechannel"),
            ("  some_channel ", "some_channel"),
            ("twitch.tv/abc123", "abc123"),
            ("https://www.twitch.tv/abc123", "abc123"),
            (
                "https://m.twitch.tv/abc123/videos?filter=archives",
                "abc123",
            ),
            ("http://twitch.tv/abc#x", "abc"),
        ] {
            assert_eq!(parse_login(input).expect(input), login);
        }
        for bad in [
            "",
            "https://www.twitch.tv/",
            "bad name",
            "../etc",
            "ä",
            &"x".repeat(26),
        ] {
            assert!(parse_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_are_validated() {
        let ok = ChannelSettings::default();
        assert!(validate_settings(&ok).is_ok());
        for q in ["best", "1080p60,720p,best", "audio_only", "480p30"] {
            let s = ChannelSettings {
                quality: q.into(),
                ..ok.clone()
            };
            assert!(validate_settings(&s).is_ok(), "{q}");
        }
        for q in ["potato", "p60", "1080x", "", "best,,720p"] {
            let s = ChannelSettings {
                quality: q.into(),
                ..ok.clone()
            };
            assert!(validate_settings(&s).is_err(), "{q}");
        }
        let bad_codec = ChannelSettings {
            codecs: "h264,vp9".into(),
            ..ok.clone()
        };
        assert!(validate_settings(&bad_codec).is_err());
        let escaping = ChannelSettings {
            naming_template: Some("../{channel}".into()),
            ..ok
        };
        assert!(validate_settings(&escaping).is_err());
    }
}
