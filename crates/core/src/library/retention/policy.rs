//! Retention policies: the global one and a channel's override, what they may say (checked
//! before anything is stored), how an override merges into the global policy, and the
//! weekly keep windows.

use crate::notify::model::QuietHours;
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashSet;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Why a policy is refused; each message names the field the user must change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("{name} must be a number of {unit}, 0 or more (got {value})")]
    NotAnAmount {
        name: &'static str,
        unit: &'static str,
        value: f64,
    },
    #[error("{name} 0 deletes every recording it applies to; send \"confirm\": true to save it")]
    ZeroNotConfirmed { name: &'static str },
    #[error("keep_categories: a category name is empty")]
    EmptyCategory,
    #[error("{at}.days: unknown day {day:?}; use mon, tue, wed, thu, fri, sat or sun")]
    UnknownDay { at: String, day: String },
    #[error("{at}.{name}: {value:?} is not a time of day; use HH:MM (UTC), e.g. 18:00")]
    NotATime {
        at: String,
        name: &'static str,
        value: String,
    },
}

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

    fn validate(&self, at: &str) -> Result<(), PolicyError> {
        for day in &self.days {
            if Self::day_index(day).is_none() {
                return Err(PolicyError::UnknownDay {
                    at: at.to_string(),
                    day: day.clone(),
                });
            }
        }
        for (name, value) in [("from", &self.from), ("to", &self.to)] {
            if QuietHours::parse_minute(value).is_none() {
                return Err(PolicyError::NotATime {
                    at: at.to_string(),
                    name,
                    value: value.clone(),
                });
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

    pub(super) fn describe(&self) -> String {
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

fn check_number(
    name: &'static str,
    value: Option<f64>,
    unit: &'static str,
) -> Result<(), PolicyError> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(PolicyError::NotAnAmount {
            name,
            unit,
            value: v,
        }),
        _ => Ok(()),
    }
}

/// A limit of 0 deletes every eligible recording: refused unless the request confirms it.
fn check_zero_limits(
    max_count: Option<u32>,
    max_total_gb: Option<f64>,
    max_age_days: Option<f64>,
    confirm: bool,
) -> Result<(), PolicyError> {
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
        Some(name) => Err(PolicyError::ZeroNotConfirmed { name }),
        None => Ok(()),
    }
}

fn check_categories(categories: &[String]) -> Result<(), PolicyError> {
    if categories.iter().any(|c| c.trim().is_empty()) {
        return Err(PolicyError::EmptyCategory);
    }
    Ok(())
}

fn check_windows(windows: &[KeepWindow]) -> Result<(), PolicyError> {
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
    pub fn validated(mut self) -> Result<Self, PolicyError> {
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
    pub fn validated(mut self) -> Result<Self, PolicyError> {
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
