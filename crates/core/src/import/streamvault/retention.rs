//! StreamVault's cleanup policy (per streamer, or the global one it falls back to) as the
//! channel's retention override. StreamVault applies its policy to each streamer on its own,
//! so even the global policy becomes a per-channel override, not Tapearr's library-wide one.

use super::{Snapshot, SourceStreamer};
use crate::import::{ImportError, ImportReport};
use crate::library::retention::ChannelRetention;
use crate::storage::Storage;
use serde::Deserialize;

/// `cleanup_policy` as StreamVault's `CleanupService` reads it.
#[derive(Debug, Deserialize)]
struct Policy {
    #[serde(rename = "type", default = "count")]
    kind: String,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    preserve_favorites: bool,
    #[serde(default)]
    preserve_categories: Vec<String>,
    #[serde(default)]
    preserve_timeframe: Option<serde_json::Value>,
}

fn count() -> String {
    "count".into()
}

pub async fn import(
    store: &dyn Storage,
    snap: &Snapshot,
    s: &SourceStreamer,
    channel_id: &str,
    name: &str,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Some(retention) = retention_of(snap, s, name, report) else {
        return Ok(());
    };
    let retention = match retention.validated() {
        Ok(r) => r,
        Err(e) => {
            report.skipped("retention", name, format!("{e}: set it by hand"));
            return Ok(());
        }
    };
    let json = serde_json::to_string(&retention)
        .map_err(|e| ImportError::Unreadable(format!("retention: {e}")))?;
    report.created("retention", name, Some(describe(&retention)));
    if !dry_run {
        store.set_channel_retention(channel_id, Some(&json)).await?;
    }
    Ok(())
}

/// The override for this streamer, `None` when StreamVault would keep everything.
fn retention_of(
    snap: &Snapshot,
    s: &SourceStreamer,
    name: &str,
    report: &mut ImportReport,
) -> Option<ChannelRetention> {
    let own = if s.use_global_cleanup_policy {
        None
    } else {
        super::clean(&s.cleanup_policy)
    };
    let raw = own.or_else(|| super::clean(&snap.global_cleanup_policy));
    let Some(raw) = raw else {
        // No policy: StreamVault keeps the newest `max_streams` (0: unlimited).
        let max = s.max_streams.or(snap.global_max_streams).unwrap_or(0);
        return (max > 0).then(|| ChannelRetention {
            max_count: Some(u32::try_from(max).ok()),
            ..ChannelRetention::default()
        });
    };
    let policy: Policy = match serde_json::from_str(&raw) {
        Ok(p) => p,
        Err(_) => {
            report.skipped(
                "retention",
                name,
                "StreamVault's cleanup policy is not JSON",
            );
            return None;
        }
    };
    let threshold = policy.threshold.unwrap_or(10.0);
    if !threshold.is_finite() || threshold <= 0.0 {
        report.skipped(
            "retention",
            name,
            "a limit of 0 would delete every recording: set it by hand",
        );
        return None;
    }
    let mut retention = ChannelRetention::default();
    match policy.kind.to_ascii_lowercase().as_str() {
        // Counts are whole; a fraction is rounded down as StreamVault's `int` would.
        "count" => retention.max_count = Some(Some(threshold.min(f64::from(u32::MAX)) as u32)),
        "size" => retention.max_total_gb = Some(Some(threshold)),
        "age" => retention.max_age_days = Some(Some(threshold)),
        other => {
            report.skipped(
                "retention",
                name,
                format!("cleanup policy type `{other}` has no Tapearr equivalent"),
            );
            return None;
        }
    }
    let mut keep = policy.preserve_categories.clone();
    if policy.preserve_favorites {
        keep.extend(snap.favourite_categories.iter().cloned());
    }
    keep.retain(|c| !c.trim().is_empty());
    if !keep.is_empty() {
        retention.keep_categories = Some(keep);
    }
    if policy
        .preserve_timeframe
        .as_ref()
        .is_some_and(|t| t.as_object().is_some_and(|o| !o.is_empty()))
    {
        report.not_mapped(
            "retention",
            name,
            "preserve_timeframe (dates and times of day): add keep windows by hand",
        );
    }
    Some(retention)
}

fn describe(r: &ChannelRetention) -> String {
    let mut parts = Vec::new();
    if let Some(Some(n)) = r.max_count {
        parts.push(format!("keep the newest {n}"));
    }
    if let Some(Some(gb)) = r.max_total_gb {
        parts.push(format!("at most {gb} GiB"));
    }
    if let Some(Some(days)) = r.max_age_days {
        parts.push(format!("at most {days} days old"));
    }
    if let Some(c) = &r.keep_categories {
        parts.push(format!("always keep {}", c.join(", ")));
    }
    parts.join("; ")
}
