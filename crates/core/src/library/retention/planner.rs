//! The planner: which recordings retention deletes and which it keeps on purpose, in order,
//! with the reason for each. Pure, so the dry run and the real run plan alike.

use super::policy::{ChannelRetention, RetentionPolicy};
use crate::streams::model::RecordingStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

pub(super) const GIB: f64 = 1_073_741_824.0;
const DAY_MS: f64 = 86_400_000.0;

/// A recording as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub channel_id: String,
    pub channel_login: String,
    pub title: String,
    pub status: RecordingStatus,
    /// The user's keep flag.
    pub keep: bool,
    /// The channel is a favourite.
    pub favourite: bool,
    /// Every category the stream had.
    pub categories: Vec<String>,
    /// Bytes on disk (the MP4, or the parts of a failed recording).
    pub bytes: u64,
    pub started_at: Timestamp,
    /// When it became `ready` or `failed`; `None` is never eligible.
    pub finished_at: Option<Timestamp>,
    /// Index into [`PlanInput::volumes`] of the file system holding it.
    pub volume: Option<usize>,
}

/// One file system holding library roots.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Volume {
    /// The library root(s) on it, comma separated.
    pub path: String,
    pub free_bytes: u64,
}

pub struct PlanInput<'a> {
    pub candidates: &'a [Candidate],
    pub global: &'a RetentionPolicy,
    pub channels: &'a HashMap<String, ChannelRetention>,
    pub volumes: &'a [Volume],
    pub now: Timestamp,
    /// A recording must have finished this long ago.
    pub grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionRule {
    Age,
    Count,
    Size,
    LowSpace,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlannedDeletion {
    pub recording_id: String,
    pub channel_id: String,
    pub channel_login: String,
    pub title: String,
    pub started_at: Timestamp,
    pub bytes: u64,
    pub rule: RetentionRule,
    /// e.g. `count 7 > 5`, `older than 30 days`, `total size 120.3 GiB > 100 GiB`,
    /// `free space 3.2 GiB < 10 GiB`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeptRecording {
    pub recording_id: String,
    pub channel_id: String,
    pub channel_login: String,
    pub title: String,
    pub started_at: Timestamp,
    pub bytes: u64,
    /// e.g. `kept by the user`, `favourite channel`, `category Art`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VolumePlan {
    pub path: String,
    pub free_bytes: u64,
    /// Free space once the planned deletions are done.
    pub projected_free_bytes: u64,
    /// The global `min_free_gb` in bytes, when set.
    pub min_free_bytes: Option<u64>,
}

/// What retention deletes, in order, and what it keeps on purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetentionPlan {
    pub planned_at: Timestamp,
    /// Oldest first.
    pub delete: Vec<PlannedDeletion>,
    pub delete_bytes: u64,
    /// Eligible recordings a keep rule protects.
    pub kept: Vec<KeptRecording>,
    /// `ready`/`failed` recordings that finished less than the grace period ago.
    pub too_recent: usize,
    pub grace_secs: u64,
    pub volumes: Vec<VolumePlan>,
}

/// Decides what retention deletes. Pure: the same inputs give the same plan.
pub fn plan(input: &PlanInput<'_>) -> RetentionPlan {
    let now = input.now;
    let mut too_recent = 0;
    let mut kept = Vec::new();
    // Unprotected eligible recordings, by channel, oldest first.
    let mut by_channel: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for c in input.candidates {
        if !matches!(c.status, RecordingStatus::Ready | RecordingStatus::Failed) {
            continue;
        }
        // Strictly more than the grace ago, as S7 says ("finished > 5 min ago").
        let eligible = c.finished_at.is_some_and(|f| f.plus(input.grace) < now);
        if !eligible {
            too_recent += 1;
            continue;
        }
        let policy = input.global.merged(input.channels.get(&c.channel_id));
        match protection(c, &policy) {
            Some(reason) => kept.push(KeptRecording {
                recording_id: c.id.clone(),
                channel_id: c.channel_id.clone(),
                channel_login: c.channel_login.clone(),
                title: c.title.clone(),
                started_at: c.started_at,
                bytes: c.bytes,
                reason,
            }),
            None => by_channel.entry(&c.channel_id).or_default().push(c),
        }
    }
    let oldest_first =
        |a: &&Candidate, b: &&Candidate| (a.started_at, &a.id).cmp(&(b.started_at, &b.id));
    let mut marked: HashMap<&str, (RetentionRule, String)> = HashMap::new();
    for (channel, recs) in &mut by_channel {
        recs.sort_by(oldest_first);
        let policy = input.global.merged(input.channels.get(*channel));
        channel_rules(recs, &policy, now, &mut marked);
    }

    // Low space: per file system, the oldest eligible of any channel until enough is free.
    let min_free = input
        .global
        .min_free_gb
        .filter(|gb| gb.is_finite() && *gb > 0.0)
        .map(|gb| (gb * GIB) as u64);
    let mut rest: Vec<&Candidate> = by_channel.values().flatten().copied().collect();
    rest.sort_by(oldest_first);
    let mut volumes = Vec::new();
    for (i, v) in input.volumes.iter().enumerate() {
        let freed: u64 = rest
            .iter()
            .filter(|c| c.volume == Some(i) && marked.contains_key(c.id.as_str()))
            .map(|c| c.bytes)
            .sum();
        let mut projected = v.free_bytes.saturating_add(freed);
        if let Some(min) = min_free
            && projected < min
        {
            let reason = format!("free space {} GiB < {} GiB", gib(v.free_bytes), gb(min));
            for c in rest.iter().filter(|c| c.volume == Some(i)) {
                if projected >= min {
                    break;
                }
                if marked.contains_key(c.id.as_str()) {
                    continue;
                }
                marked.insert(&c.id, (RetentionRule::LowSpace, reason.clone()));
                projected = projected.saturating_add(c.bytes);
            }
        }
        volumes.push(VolumePlan {
            path: v.path.clone(),
            free_bytes: v.free_bytes,
            projected_free_bytes: projected,
            min_free_bytes: min_free,
        });
    }

    let delete: Vec<PlannedDeletion> = rest
        .iter()
        .filter_map(|c| {
            let (rule, reason) = marked.get(c.id.as_str())?;
            Some(PlannedDeletion {
                recording_id: c.id.clone(),
                channel_id: c.channel_id.clone(),
                channel_login: c.channel_login.clone(),
                title: c.title.clone(),
                started_at: c.started_at,
                bytes: c.bytes,
                rule: *rule,
                reason: reason.clone(),
            })
        })
        .collect();
    kept.sort_by(|a, b| (a.started_at, &a.recording_id).cmp(&(b.started_at, &b.recording_id)));
    RetentionPlan {
        planned_at: now,
        delete_bytes: delete.iter().map(|d| d.bytes).sum(),
        delete,
        kept,
        too_recent,
        grace_secs: input.grace.as_secs(),
        volumes,
    }
}

/// Why a recording is kept whatever the limits say, if it is.
fn protection(c: &Candidate, policy: &RetentionPolicy) -> Option<String> {
    if c.keep {
        return Some("kept by the user".into());
    }
    if policy.keep_favourites && c.favourite {
        return Some("favourite channel".into());
    }
    let had: HashSet<String> = c
        .categories
        .iter()
        .map(|c| c.trim().to_lowercase())
        .collect();
    if let Some(category) = policy
        .keep_categories
        .iter()
        .find(|k| had.contains(&k.trim().to_lowercase()))
    {
        return Some(format!("category {category}"));
    }
    policy
        .keep_windows
        .iter()
        .find(|w| w.contains(c.started_at))
        .map(|w| format!("started in a kept window ({})", w.describe()))
}

/// Age, count and size for one channel's unprotected eligible recordings (oldest first).
fn channel_rules<'a>(
    recs: &[&'a Candidate],
    policy: &RetentionPolicy,
    now: Timestamp,
    marked: &mut HashMap<&'a str, (RetentionRule, String)>,
) {
    if let Some(days) = policy.max_age_days {
        let cutoff = Timestamp(now.millis().saturating_sub((days * DAY_MS) as i64));
        for c in recs.iter().filter(|c| c.started_at < cutoff) {
            marked.insert(
                &c.id,
                (RetentionRule::Age, format!("older than {days} days")),
            );
        }
    }
    if let Some(max) = policy.max_count {
        let left: Vec<&&Candidate> = recs
            .iter()
            .filter(|c| !marked.contains_key(c.id.as_str()))
            .collect();
        let excess = left.len().saturating_sub(max as usize);
        let reason = format!("count {} > {max}", left.len());
        for c in left.into_iter().take(excess) {
            marked.insert(&c.id, (RetentionRule::Count, reason.clone()));
        }
    }
    if let Some(limit_gb) = policy.max_total_gb {
        let limit = (limit_gb * GIB) as u64;
        let left: Vec<&&Candidate> = recs
            .iter()
            .filter(|c| !marked.contains_key(c.id.as_str()))
            .collect();
        let mut total: u64 = left.iter().map(|c| c.bytes).sum();
        let reason = format!("total size {} GiB > {limit_gb} GiB", gib(total));
        for c in left {
            if total <= limit {
                break;
            }
            marked.insert(&c.id, (RetentionRule::Size, reason.clone()));
            total = total.saturating_sub(c.bytes);
        }
    }
}

/// Bytes as GiB for reasons: enough digits that small test values still read sensibly.
pub(super) fn gib(bytes: u64) -> String {
    let v = bytes as f64 / GIB;
    if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// A configured limit, back in the GiB the user wrote (no float noise).
pub(super) fn gb(bytes: u64) -> String {
    let v = bytes as f64 / GIB;
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
