//! A recording's playback URL expires with its token (24 h and often much less): the recorder
//! asks here for a new one (a new token, signed with the account's token if one is stored) and
//! goes on with the same variant, in the same part.

use super::Streams;
use super::model::Channel;
use futures_util::future::BoxFuture;
use tapearr_hls::{Source, SourceRenewal};
use tapearr_integrations::twitch::playback::MasterPlaylist;

/// Renews the master playlist of one channel's live stream.
pub(crate) struct PlaybackRenewal {
    streams: Streams,
    login: String,
    codecs: Vec<String>,
}

impl std::fmt::Debug for PlaybackRenewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaybackRenewal")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

impl PlaybackRenewal {
    pub(crate) fn new(streams: Streams, channel: &Channel) -> Self {
        Self {
            streams,
            login: channel.login.clone(),
            codecs: codec_list(&channel.settings.codecs),
        }
    }
}

/// `h264, h265` → `["h264", "h265"]`, what usher's `supported_codecs` takes.
pub(crate) fn codec_list(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn source_of(playlist: MasterPlaylist) -> Source {
    Source {
        url: playlist.url,
        expires_at: playlist.expires_at,
    }
}

impl SourceRenewal for PlaybackRenewal {
    fn renew(&self) -> BoxFuture<'static, Result<Source, String>> {
        let (streams, login, codecs) = (
            self.streams.clone(),
            self.login.clone(),
            self.codecs.clone(),
        );
        Box::pin(async move {
            match streams.master_playlist(&login, &codecs).await {
                Ok(Some(playlist)) => Ok(source_of(playlist)),
                Ok(None) => Err("Twitch issues no playback token: the stream is offline".into()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
