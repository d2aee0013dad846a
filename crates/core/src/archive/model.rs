//! Archive settings per channel, and the clips placed.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What to do with a VOD of a broadcast that was also recorded live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LivePolicy {
    /// Keep the live recording and archive the VOD beside it.
    #[default]
    KeepBoth,
    /// Archive the VOD (no ads, no gaps) and delete the live recording once the VOD is ready.
    PreferVod,
    /// Do not archive the VOD: the live recording is enough.
    Skip,
}

/// Per-channel archive settings (off by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSettings {
    /// Archive past broadcasts.
    pub enabled: bool,
    /// Also archive highlights and uploads.
    #[serde(default)]
    pub highlights: bool,
    #[serde(default)]
    pub uploads: bool,
    /// Only videos created in the last N days (1–365).
    pub max_age_days: u32,
    /// At most this many videos per kind (1–100), newest first.
    pub max_videos: u32,
    #[serde(default)]
    pub live_policy: LivePolicy,
    /// Top clips of the last `clip_period_days` days into the channel's extras folder
    /// (0: no clips).
    #[serde(default)]
    pub top_clips: u32,
    #[serde(default = "default_clip_period")]
    pub clip_period_days: u32,
    /// Placed clips created (on Twitch) more than this many days ago are deleted, file and
    /// row, by the channel's next run; absent: clips are kept. At least `clip_period_days`,
    /// so a run never places again what it just deleted.
    #[serde(default)]
    pub keep_clips_days: Option<u32>,
}

fn default_clip_period() -> u32 {
    7
}

impl Default for ArchiveSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            highlights: false,
            uploads: false,
            max_age_days: 14,
            max_videos: 10,
            live_policy: LivePolicy::KeepBoth,
            top_clips: 0,
            clip_period_days: default_clip_period(),
            keep_clips_days: None,
        }
    }
}

impl ArchiveSettings {
    /// Why these settings are refused, if they are.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=365).contains(&self.max_age_days) {
            return Err("max_age_days must be between 1 and 365".into());
        }
        if !(1..=100).contains(&self.max_videos) {
            return Err("max_videos must be between 1 and 100".into());
        }
        if self.top_clips > 100 {
            return Err("top_clips must be at most 100".into());
        }
        if !(1..=365).contains(&self.clip_period_days) {
            return Err("clip_period_days must be between 1 and 365".into());
        }
        if let Some(keep) = self.keep_clips_days {
            if !(1..=3650).contains(&keep) {
                return Err("keep_clips_days must be between 1 and 3650".into());
            }
            if keep < self.clip_period_days {
                return Err(
                    "keep_clips_days must be at least clip_period_days (or a run would place \
                     again the clips it deletes)"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// The Helix video kinds to archive.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.enabled {
            kinds.push("archive");
        }
        if self.highlights {
            kinds.push("highlight");
        }
        if self.uploads {
            kinds.push("upload");
        }
        kinds
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClipStatus {
    Placed,
    Failed,
}

impl ClipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "placed" => Self::Placed,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A clip in a channel's extras folder (or one that could not be placed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArchivedClip {
    pub id: String,
    pub channel_id: String,
    /// Twitch's clip slug.
    pub clip_id: String,
    pub title: String,
    pub view_count: u64,
    pub created_at: Timestamp,
    pub status: ClipStatus,
    /// Absolute path of the MP4.
    pub path: Option<String>,
    pub bytes: Option<u64>,
    pub error: Option<String>,
    pub updated_at: Timestamp,
}
