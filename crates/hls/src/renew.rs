//! Sources whose URL expires (Twitch's playback access token, 24 h and often much less): the
//! live loop asks a [`SourceRenewal`] for a fresh URL shortly before expiry, or at once when
//! the playlist answers 403, and keeps recording the same variant from the new playlist.

use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;

use crate::playlist::Variant;

/// A source URL and when it stops working (`None`: it does not expire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub url: String,
    pub expires_at: Option<SystemTime>,
}

impl Source {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            expires_at: None,
        }
    }
}

/// Gets a fresh source URL (for Twitch: a new playback token and usher URL). The error is a
/// message for the log; it must not carry secrets.
pub trait SourceRenewal: Send + Sync + std::fmt::Debug {
    fn renew(&self) -> BoxFuture<'static, Result<Source, String>>;
}

/// When to renew a source that expires at `expires_at`, obtained at `obtained`: `ahead` before
/// expiry, but never earlier than halfway through its life (a short-lived token would otherwise
/// be renewed on every reload).
pub(crate) fn renew_at(
    obtained: SystemTime,
    expires_at: SystemTime,
    ahead: Duration,
) -> SystemTime {
    let life = expires_at.duration_since(obtained).unwrap_or_default();
    expires_at - ahead.min(life / 2)
}

/// The variant of a renewed master playlist that continues `current`: same quality name and
/// codecs, else the same quality name. `None` when the ladder no longer has it.
pub(crate) fn same_variant<'a>(variants: &'a [Variant], current: &Variant) -> Option<&'a Variant> {
    let name = current.quality_name();
    variants
        .iter()
        .find(|v| v.quality_name() == name && v.codecs == current.codecs)
        .or_else(|| variants.iter().find(|v| v.quality_name() == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(name: &str, codecs: &[&str]) -> Variant {
        Variant {
            uri: format!("https://weaver.example/{name}/{}.m3u8", codecs[0]),
            bandwidth: 1,
            resolution: Some((1920, 1080)),
            frame_rate: Some(60.0),
            codecs: codecs.iter().map(|c| c.to_string()).collect(),
            video_group: Some(name.to_owned()),
            name: Some(name.to_owned()),
        }
    }

    #[test]
    fn a_renewed_ladder_continues_the_same_rendition() {
        let hevc = variant("1080p60", &["hvc1.1.6.L123.B0", "mp4a.40.2"]);
        let avc = variant("1080p60", &["avc1.64002A", "mp4a.40.2"]);
        let ladder = vec![
            avc.clone(),
            hevc.clone(),
            variant("720p60", &["avc1.4D401F"]),
        ];
        assert_eq!(same_variant(&ladder, &hevc), Some(&ladder[1]));
        assert_eq!(same_variant(&ladder, &avc), Some(&ladder[0]));
        // Codecs changed (HEVC dropped by the broadcaster): the same quality in what is left.
        assert_eq!(same_variant(&ladder[..1], &hevc), Some(&ladder[0]));
        assert_eq!(same_variant(&ladder[2..], &hevc), None);
    }

    #[test]
    fn renews_ahead_of_expiry_but_not_before_half_its_life() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let day = Duration::from_secs(86_400);
        let ahead = Duration::from_secs(120);
        assert_eq!(renew_at(t0, t0 + day, ahead), t0 + day - ahead);
        let short = Duration::from_secs(4);
        assert_eq!(renew_at(t0, t0 + short, ahead), t0 + Duration::from_secs(2));
        // Already expired when obtained (clock skew): renew at once.
        assert_eq!(renew_at(t0, t0 - short, ahead), t0 - short);
    }
}
