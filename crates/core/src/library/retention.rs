//! Retention (S7): which recordings to delete, by count, total size and age per channel, and
//! by free space on each library file system; a dry run that shows exactly what a run deletes.
//!
//! **Policies.** One global [`RetentionPolicy`] (stored in `app_state` under
//! `library.retention`) and an optional [`ChannelRetention`] override per channel. A field the
//! override sets replaces the global one for that channel's recordings; a field it leaves out
//! is inherited; `null` on a limit means "no limit" for that channel. `min_free_gb` is global
//! only: free space belongs to a file system, not to a channel.
//!
//! **Limits are per channel.** `max_count`, `max_total_gb` and `max_age_days` each apply to one
//! channel's recordings (the global policy is every channel's default). They count only what
//! retention could delete: a protected recording, or one not yet eligible, is neither counted
//! nor deleted.
//!
//! **Eligible** is a `ready` or `failed` recording that finished (the later of the stream's end
//! and finalize) more than `library.retention_grace_secs` (default 300) ago. Running, ended and
//! finalizing recordings are never candidates.
//!
//! **Protected** (kept, and listed with the reason): the user's keep flag; a favourite
//! channel's recordings when `keep_favourites`; any category the stream had matching
//! `keep_categories` (case-insensitive); a start inside one of `keep_windows` (UTC).
//!
//! **Order.** Per channel: age, then count (oldest beyond the newest `max_count`), then size
//! (oldest first until the rest fits). Then, per file system below `min_free_gb`: the oldest
//! eligible recordings of any channel until the projected free space reaches it. The dry run and
//! the real run call the same [`plan`] on the same inputs.

use super::{DeleteReport, Library, LibraryError, LibraryResult};
use crate::jobs::{JobContext, JobError, JobHandler, TaskDef};
use crate::notify::model::QuietHours;
use crate::streams::model::{Recording, RecordingStatus};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const RETENTION_JOB: &str = "library.retention";
const GLOBAL_KEY: &str = "library.retention";
const GIB: f64 = 1_073_741_824.0;
const DAY_MS: f64 = 86_400_000.0;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub fn task_defs() -> Vec<TaskDef> {
    vec![TaskDef {
        name: "retention",
        kind: RETENTION_JOB,
        description: "Delete the recordings the retention policies no longer keep, oldest first \
                      when free space is below the policy's min_free_gb",
        interval: Duration::from_secs(600),
        initial_delay: Duration::from_secs(90),
    }]
}

// ---- policies ----

/// The global retention policy. Everything off (the default) deletes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Per channel: keep the newest this many (eligible, unprotected) recordings.
    #[serde(default)]
    pub max_count: Option<u32>,
    /// Per channel: keep the newest recordings that fit in this many GiB.
    #[serde(default)]
    pub max_total_gb: Option<f64>,
    /// Delete recordings that started more than this many days ago (fractions allowed).
    #[serde(default)]
    pub max_age_days: Option<f64>,
    /// Keep every recording of a favourite channel. (A recording the user marked keep is kept
    /// whatever the policy says.)
    #[serde(default = "yes")]
    pub keep_favourites: bool,
    /// Keep recordings that had any of these categories (case-insensitive).
    #[serde(default)]
    pub keep_categories: Vec<String>,
    /// Keep recordings that started inside one of these weekly windows (UTC).
    #[serde(default)]
    pub keep_windows: Vec<KeepWindow>,
    /// Global only: when a library file system has less free space (GiB), delete the oldest
    /// eligible recordings on it until it has this much again.
    #[serde(default)]
    pub min_free_gb: Option<f64>,
    /// Required (`true`) to save a limit of 0 (`max_count`, `max_total_gb` or `max_age_days`),
    /// which deletes every eligible recording. Only read, never stored.
    #[serde(default, skip_serializing)]
    pub confirm: bool,
}

fn yes() -> bool {
    true
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            max_count: None,
            max_total_gb: None,
            max_age_days: None,
            keep_favourites: true,
            keep_categories: Vec::new(),
            keep_windows: Vec::new(),
            min_free_gb: None,
            confirm: false,
        }
    }
}

/// A channel's override. A field left out inherits the global value; `null` on a limit
/// removes that limit for this channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRetention {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>)]
    pub max_count: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub max_total_gb: Option<Option<f64>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub max_age_days: Option<Option<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_favourites: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_categories: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_windows: Option<Vec<KeepWindow>>,
    /// Required (`true`) to save a limit of 0, which deletes every eligible recording of the
    /// channel. Only read, never stored.
    #[serde(default, skip_serializing)]
    pub confirm: bool,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`, via `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A weekly window in UTC, e.g. `{"days": ["sat", "sun"], "from": "18:00", "to": "23:00"}`.
/// No days means every day; `to` before `from` runs past midnight into the next day; `from`
/// equal to `to` is the whole day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepWindow {
    /// `mon` … `sun` (full names are accepted too).
    #[serde(default)]
    pub days: Vec<String>,
    /// `HH:MM`, UTC.
    pub from: String,
    /// `HH:MM`, UTC.
    pub to: String,
}

impl KeepWindow {
    fn day_index(day: &str) -> Option<u32> {
        let day = day.trim().to_ascii_lowercase();
        DAYS.iter()
            .position(|d| day == *d || (day.len() > 3 && day.starts_with(d) && full_day(&day)))
            .map(|i| i as u32)
    }

    fn validate(&self, at: &str) -> Result<(), String> {
        for day in &self.days {
            if Self::day_index(day).is_none() {
                return Err(format!(
                    "{at}.days: unknown day {day:?}; use mon, tue, wed, thu, fri, sat or sun"
                ));
            }
        }
        for (name, value) in [("from", &self.from), ("to", &self.to)] {
            if QuietHours::parse_minute(value).is_none() {
                return Err(format!(
                    "{at}.{name}: {value:?} is not a time of day; use HH:MM (UTC), e.g. 18:00"
                ));
            }
        }
        Ok(())
    }

    /// Whether `t` falls inside the window (the day is the day the window starts).
    pub fn contains(&self, t: Timestamp) -> bool {
        let (Some(from), Some(to)) = (
            QuietHours::parse_minute(&self.from),
            QuietHours::parse_minute(&self.to),
        ) else {
            return false;
        };
        let weekday = t.civil().weekday;
        let minute = t.minute_of_day();
        let on = |day: u32| {
            self.days.is_empty() || self.days.iter().any(|d| Self::day_index(d) == Some(day))
        };
        let yesterday = (weekday + 6) % 7;
        if from == to {
            on(weekday)
        } else if from < to {
            on(weekday) && minute >= from && minute < to
        } else {
            (on(weekday) && minute >= from) || (on(yesterday) && minute < to)
        }
    }

    fn describe(&self) -> String {
        let days = if self.days.is_empty() {
            "every day".to_string()
        } else {
            self.days.join(",")
        };
        format!("{days} {}–{} UTC", self.from, self.to)
    }
}

fn full_day(day: &str) -> bool {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .contains(&day)
}

fn check_number(name: &str, value: Option<f64>, unit: &str) -> Result<(), String> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(format!(
            "{name} must be a number of {unit}, 0 or more (got {v})"
        )),
        _ => Ok(()),
    }
}

/// A limit of 0 deletes every eligible recording: refused unless the request confirms it.
fn check_zero_limits(
    max_count: Option<u32>,
    max_total_gb: Option<f64>,
    max_age_days: Option<f64>,
    confirm: bool,
) -> Result<(), String> {
    if confirm {
        return Ok(());
    }
    let zero = [
        ("max_count", max_count == Some(0)),
        ("max_total_gb", max_total_gb == Some(0.0)),
        ("max_age_days", max_age_days == Some(0.0)),
    ]
    .into_iter()
    .find_map(|(name, zero)| zero.then_some(name));
    match zero {
        Some(name) => Err(format!(
            "{name} 0 deletes every recording it applies to; send \"confirm\": true to save it"
        )),
        None => Ok(()),
    }
}

fn check_categories(categories: &[String]) -> Result<(), String> {
    if categories.iter().any(|c| c.trim().is_empty()) {
        return Err("keep_categories: a category name is empty".into());
    }
    Ok(())
}

fn check_windows(windows: &[KeepWindow]) -> Result<(), String> {
    windows
        .iter()
        .enumerate()
        .try_for_each(|(i, w)| w.validate(&format!("keep_windows[{i}]")))
}

fn tidy_categories(categories: &mut Vec<String>) {
    for c in categories.iter_mut() {
        *c = c.trim().to_string();
    }
    let mut seen = HashSet::new();
    categories.retain(|c| seen.insert(c.to_lowercase()));
}

fn tidy_windows(windows: &mut [KeepWindow]) {
    for w in windows {
        for d in &mut w.days {
            if let Some(i) = KeepWindow::day_index(d) {
                *d = DAYS[i as usize].to_string();
            }
        }
    }
}

impl RetentionPolicy {
    /// Checks every field; returns the policy with names tidied (days `mon`…, trimmed
    /// categories without duplicates).
    pub fn validated(mut self) -> Result<Self, String> {
        check_number("max_total_gb", self.max_total_gb, "GiB")?;
        check_number("max_age_days", self.max_age_days, "days")?;
        check_number("min_free_gb", self.min_free_gb, "GiB")?;
        check_zero_limits(
            self.max_count,
            self.max_total_gb,
            self.max_age_days,
            self.confirm,
        )?;
        self.confirm = false;
        check_categories(&self.keep_categories)?;
        check_windows(&self.keep_windows)?;
        tidy_categories(&mut self.keep_categories);
        tidy_windows(&mut self.keep_windows);
        Ok(self)
    }

    /// The policy for one channel's recordings: the override's fields win.
    pub fn merged(&self, channel: Option<&ChannelRetention>) -> RetentionPolicy {
        let Some(o) = channel else {
            return self.clone();
        };
        RetentionPolicy {
            max_count: o.max_count.unwrap_or(self.max_count),
            max_total_gb: o.max_total_gb.unwrap_or(self.max_total_gb),
            max_age_days: o.max_age_days.unwrap_or(self.max_age_days),
            keep_favourites: o.keep_favourites.unwrap_or(self.keep_favourites),
            keep_categories: o
                .keep_categories
                .clone()
                .unwrap_or_else(|| self.keep_categories.clone()),
            keep_windows: o
                .keep_windows
                .clone()
                .unwrap_or_else(|| self.keep_windows.clone()),
            min_free_gb: self.min_free_gb,
            confirm: false,
        }
    }
}

impl ChannelRetention {
    pub fn validated(mut self) -> Result<Self, String> {
        check_number("max_total_gb", self.max_total_gb.flatten(), "GiB")?;
        check_number("max_age_days", self.max_age_days.flatten(), "days")?;
        check_zero_limits(
            self.max_count.flatten(),
            self.max_total_gb.flatten(),
            self.max_age_days.flatten(),
            self.confirm,
        )?;
        self.confirm = false;
        if let Some(c) = &mut self.keep_categories {
            check_categories(c)?;
            tidy_categories(c);
        }
        if let Some(w) = &mut self.keep_windows {
            check_windows(w)?;
            tidy_windows(w);
        }
        Ok(self)
    }
}

// ---- the planner ----

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

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VolumePlan {
    pub path: String,
    pub free_bytes: u64,
    /// Free space once the planned deletions are done.
    pub projected_free_bytes: u64,
    /// The global `min_free_gb` in bytes, when set.
    pub min_free_bytes: Option<u64>,
}

/// What retention deletes, in order, and what it keeps on purpose.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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
fn gib(bytes: u64) -> String {
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
fn gb(bytes: u64) -> String {
    let v = bytes as f64 / GIB;
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

// ---- the service ----

/// What a real run did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RetentionRun {
    /// The plan's items that were deleted, in order.
    pub deleted: Vec<PlannedDeletion>,
    pub bytes_freed: u64,
    /// Items not deleted (gone meanwhile, or now recording) and files that could not be removed.
    pub errors: Vec<String>,
}

/// Runs are one at a time in this process: a periodic run and a user's run would otherwise
/// plan from the same rows and race on the deletes.
static RUN_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Library {
    /// The global policy (defaults when none was saved).
    pub async fn retention_policy(&self) -> LibraryResult<RetentionPolicy> {
        match self.inner.store.app_value(GLOBAL_KEY).await? {
            None => Ok(RetentionPolicy::default()),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                LibraryError::Invalid(format!("the stored retention policy is unreadable: {e}"))
            }),
        }
    }

    /// Validates and stores the global policy; invalid ones are refused and nothing is stored.
    pub async fn set_retention_policy(
        &self,
        policy: RetentionPolicy,
    ) -> LibraryResult<RetentionPolicy> {
        let policy = policy.validated().map_err(LibraryError::Invalid)?;
        let json =
            serde_json::to_string(&policy).map_err(|e| LibraryError::Invalid(e.to_string()))?;
        self.inner
            .store
            .set_app_value(GLOBAL_KEY, Some(&json))
            .await?;
        Ok(policy)
    }

    /// A channel's override (`None`: it follows the global policy).
    pub async fn channel_retention(
        &self,
        channel_id: &str,
    ) -> LibraryResult<Option<ChannelRetention>> {
        self.inner
            .store
            .twitch_channel(channel_id)
            .await?
            .ok_or(LibraryError::NotFound)?;
        Ok(self.channel_overrides().await?.remove(channel_id))
    }

    /// Sets (or with `None` clears) a channel's override.
    pub async fn set_channel_retention(
        &self,
        channel_id: &str,
        policy: Option<ChannelRetention>,
    ) -> LibraryResult<Option<ChannelRetention>> {
        let policy = policy
            .map(ChannelRetention::validated)
            .transpose()
            .map_err(LibraryError::Invalid)?;
        let json = policy
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| LibraryError::Invalid(e.to_string()))?;
        self.inner
            .store
            .set_channel_retention(channel_id, json.as_deref())
            .await?;
        Ok(policy)
    }

    async fn channel_overrides(&self) -> LibraryResult<HashMap<String, ChannelRetention>> {
        let mut out = HashMap::new();
        for (channel, json) in self.inner.store.channel_retention().await? {
            let policy = serde_json::from_str(&json).map_err(|e| {
                LibraryError::Invalid(format!(
                    "the stored retention override of channel {channel} is unreadable: {e}"
                ))
            })?;
            out.insert(channel, policy);
        }
        Ok(out)
    }

    /// The dry run: what [`Library::apply_retention`] would delete now. Changes nothing.
    pub async fn retention_preview(&self) -> LibraryResult<RetentionPlan> {
        self.retention_plan().await
    }

    /// The real run: plans exactly like the preview, then deletes the plan's items one by one
    /// (each with its reason in `recording.deleted`).
    pub async fn apply_retention(&self) -> LibraryResult<RetentionRun> {
        let _one_at_a_time = RUN_LOCK.lock().await;
        let plan = self.retention_plan().await?;
        let mut run = RetentionRun {
            deleted: Vec::new(),
            bytes_freed: 0,
            errors: Vec::new(),
        };
        for item in plan.delete {
            let reason = format!("retention: {}", item.reason);
            match self
                .delete_recordings(std::slice::from_ref(&item.recording_id), &reason)
                .await
            {
                Ok(DeleteReport {
                    bytes_freed,
                    errors,
                    ..
                }) => {
                    run.bytes_freed += bytes_freed;
                    run.errors.extend(errors);
                    run.deleted.push(item);
                }
                // Deleted by the user meanwhile, or recording again: skip it, go on.
                Err(e @ (LibraryError::NotFound | LibraryError::Conflict(_))) => {
                    run.errors.push(format!("{}: {e}", item.recording_id));
                }
                Err(e) => return Err(e),
            }
        }
        if !run.deleted.is_empty() {
            tracing::info!(
                deleted = run.deleted.len(),
                bytes = run.bytes_freed,
                "retention deleted recordings"
            );
        }
        Ok(run)
    }

    async fn retention_plan(&self) -> LibraryResult<RetentionPlan> {
        let global = self.retention_policy().await?;
        let channels = self.channel_overrides().await?;
        let volumes = self.volumes();
        let rows = self.inner.store.retention_candidates().await?;
        let categories = self.categories_of(rows.iter().map(|(r, _)| r)).await?;
        let candidates: Vec<Candidate> = rows
            .into_iter()
            .map(|(rec, favourite)| {
                let mut cats = categories
                    .get(rec.stream_id.as_deref().unwrap_or_default())
                    .cloned()
                    .unwrap_or_default();
                cats.push(rec.labels.category.clone());
                let volume = volume_of(&rec, &volumes);
                candidate(rec, favourite, cats, volume)
            })
            .collect();
        let volumes: Vec<Volume> = volumes.into_iter().map(|(_, v)| v).collect();
        Ok(plan(&PlanInput {
            candidates: &candidates,
            global: &global,
            channels: &channels,
            volumes: &volumes,
            now: Timestamp::now(),
            grace: Duration::from_secs(self.inner.config.library.retention_grace_secs),
        }))
    }

    /// Every category each stream had, from its events.
    async fn categories_of(
        &self,
        recs: impl Iterator<Item = &Recording>,
    ) -> LibraryResult<HashMap<String, Vec<String>>> {
        let mut streams: Vec<String> = recs.filter_map(|r| r.stream_id.clone()).collect();
        streams.sort();
        streams.dedup();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        // Chunks keep the IN list well under both backends' bind limits.
        for chunk in streams.chunks(500) {
            for e in self.inner.store.list_events_of_streams(chunk).await? {
                if !e.category.is_empty() {
                    out.entry(e.stream_id).or_default().push(e.category);
                }
            }
        }
        Ok(out)
    }

    /// The library roots grouped by file system, with each one's free space. Roots whose free
    /// space cannot be read are left out (the low-space rule skips them).
    fn volumes(&self) -> Vec<(Vec<PathBuf>, Volume)> {
        use std::os::unix::fs::MetadataExt;
        let Ok(roots) = self.roots() else {
            return Vec::new();
        };
        let mut by_device: BTreeMap<u64, Vec<PathBuf>> = BTreeMap::new();
        for root in roots.roots() {
            if let Ok(meta) = std::fs::metadata(root) {
                by_device
                    .entry(meta.dev())
                    .or_default()
                    .push(root.to_path_buf());
            }
        }
        by_device
            .into_values()
            .filter_map(|paths| {
                let free = crate::files::free_space(paths.first()?).ok()?;
                let path = paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                Some((
                    paths,
                    Volume {
                        path,
                        free_bytes: free,
                    },
                ))
            })
            .collect()
    }
}

fn volume_of(rec: &Recording, volumes: &[(Vec<PathBuf>, Volume)]) -> Option<usize> {
    let path = Path::new(rec.library.video_path.as_deref().unwrap_or(&rec.dir));
    volumes
        .iter()
        .position(|(roots, _)| roots.iter().any(|root| path.starts_with(root)))
}

fn candidate(
    rec: Recording,
    favourite: bool,
    categories: Vec<String>,
    volume: Option<usize>,
) -> Candidate {
    // The later of the stream's end and finalize: either may still have a viewer or a scan.
    let finished_at = match (rec.ended_at, rec.library.finalized_at) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let bytes = match rec.status {
        RecordingStatus::Ready => rec.library.video_bytes.unwrap_or(rec.bytes),
        _ => rec.bytes,
    };
    Candidate {
        id: rec.id,
        channel_id: rec.channel_id,
        channel_login: rec.labels.channel_login,
        title: rec.labels.title,
        status: rec.status,
        keep: rec.library.keep,
        favourite,
        categories,
        bytes,
        started_at: rec.started_at,
        finished_at,
        volume,
    }
}

// ---- the job ----

/// `library.retention`: one real run.
pub struct RetentionHandler(pub Library);

#[async_trait]
impl JobHandler for RetentionHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let run = self.0.apply_retention().await.map_err(|e| match e {
            LibraryError::Invalid(m) => JobError::Permanent(m),
            other => JobError::Retryable(other.to_string()),
        })?;
        let mut message = format!(
            "{} deleted, {} GiB freed",
            run.deleted.len(),
            gib(run.bytes_freed)
        );
        if !run.errors.is_empty() {
            message.push_str(&format!(
                "; {} problems: {}",
                run.errors.len(),
                run.errors.join("; ")
            ));
        }
        ctx.set_progress(1.0, Some(message)).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
