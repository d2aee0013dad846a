//! Turning events into the short lines people read in a notification.

use crate::events::model::EventRecord;
use crate::time::Timestamp;

/// The event types a channel can subscribe to, with what they mean.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    (
        "job.failed",
        "a job failed (and whether it will be retried)",
    ),
    (
        "auth.locked_out",
        "a login was locked after repeated wrong passwords",
    ),
    (
        "tools.updated",
        "yt-dlp, streamlink or apprise were updated",
    ),
    ("system.started", "Tapearr started"),
    (
        "tools.update_available",
        "a newer yt-dlp, streamlink or apprise is out",
    ),
    (
        "system.disk_low",
        "free space fell below disk.low_free_gb on the data dir or a library root",
    ),
    ("channel.live", "a watched Twitch channel went live"),
    ("channel.offline", "a watched Twitch channel went offline"),
    ("recording.started", "a recording started (or resumed)"),
    (
        "recording.stopped",
        "a recording ended and waits for finalize",
    ),
    ("recording.failed", "a recording failed"),
    (
        "recording.refused",
        "a recording could not start (low free space, no library root)",
    ),
    (
        "recording.gap",
        "media is missing from a recording (restart or resume)",
    ),
    ("recording.finalized", "a recording's MP4 is in the library"),
    (
        "recording.finalize_failed",
        "a recording could not be turned into an MP4 (its parts are kept)",
    ),
    (
        "recording.deleted",
        "a recording was deleted (by you or by retention)",
    ),
    (
        "trailer.downloaded",
        "a trailer was placed beside a movie or series",
    ),
    (
        "trailer.failed",
        "a trailer download failed (tried again after a backoff)",
    ),
    (
        "trailer.host_paused",
        "a video site refused us (bot check, rate limit, rejected cookies): its downloads pause",
    ),
    (
        "twitch.sign_in_needed",
        "Twitch refused to renew the signed-in account: sign in with Twitch again",
    ),
];

pub fn is_known(event_type: &str) -> bool {
    EVENT_TYPES.iter().any(|(t, _)| *t == event_type)
}

fn text<'a>(e: &'a EventRecord, key: &str) -> &'a str {
    e.data.get(key).and_then(|v| v.as_str()).unwrap_or("?")
}

fn strings<'a>(e: &'a EventRecord, key: &str) -> Vec<&'a str> {
    e.data[key]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default()
}

/// One line for one event.
pub fn line(e: &EventRecord) -> String {
    match e.event_type.as_str() {
        "job.failed" => {
            let retry = if e.data["will_retry"].as_bool() == Some(true) {
                " (will retry)"
            } else {
                ""
            };
            format!(
                "Job {} failed: {}{retry}",
                text(e, "kind"),
                text(e, "error")
            )
        }
        "auth.locked_out" => format!(
            "Login locked for {} after repeated wrong passwords",
            text(e, "username")
        ),
        "tools.updated" => {
            let changes = strings(e, "changes");
            if changes.is_empty() {
                "Tools checked: already up to date".to_string()
            } else {
                format!("Tools updated: {}", changes.join(", "))
            }
        }
        "system.started" => format!("Tapearr {} started", text(e, "version")),
        "tools.update_available" => {
            format!(
                "Tool updates available: {}",
                strings(e, "updates").join(", ")
            )
        }
        "system.disk_low" => format!(
            "Low disk space on {}: {:.1} GiB free",
            text(e, "path"),
            e.data["free_bytes"].as_f64().unwrap_or(0.0) / 1_073_741_824.0
        ),
        "channel.live" => format!(
            "{} is live: {} ({})",
            text(e, "login"),
            text(e, "title"),
            text(e, "category")
        ),
        "channel.offline" => format!("{} went offline", text(e, "login")),
        "recording.started" if e.data["resumed"].as_bool() == Some(true) => {
            format!("Recording of {} resumed", text(e, "login"))
        }
        "recording.started" => format!("Recording {}", text(e, "login")),
        "recording.stopped" => format!(
            "Recording of {} ended ({}): {:.0} min, {:.1} GiB",
            text(e, "login"),
            text(e, "reason"),
            e.data["media_ms"].as_f64().unwrap_or(0.0) / 60_000.0,
            e.data["bytes"].as_f64().unwrap_or(0.0) / 1_073_741_824.0
        ),
        "recording.failed" => format!(
            "Recording of {} failed: {}",
            text(e, "login"),
            text(e, "error")
        ),
        "recording.refused" => format!(
            "Recording of {} did not start: {}",
            text(e, "login"),
            text(e, "reason")
        ),
        "recording.gap" => format!(
            "{:.0} s missing from a recording: {}",
            e.data["ms"].as_f64().unwrap_or(0.0) / 1000.0,
            text(e, "reason")
        ),
        "recording.finalized" => format!(
            "Recording of {} is in the library: {} ({:.0} min)",
            text(e, "login"),
            text(e, "path"),
            e.data["duration_ms"].as_f64().unwrap_or(0.0) / 60_000.0
        ),
        "recording.finalize_failed" => format!(
            "Recording of {} could not be finalized: {}",
            text(e, "login"),
            text(e, "error")
        ),
        "recording.deleted" => format!(
            "Recording of {} deleted ({}), {:.1} GiB freed",
            text(e, "login"),
            text(e, "reason"),
            e.data["bytes"].as_f64().unwrap_or(0.0) / 1_073_741_824.0
        ),
        "trailer.downloaded" => format!(
            "Trailer for {} placed ({}): {}",
            text(e, "title"),
            text(e, "profile"),
            text(e, "path")
        ),
        "trailer.failed" => format!(
            "Trailer for {} failed ({}): {}",
            text(e, "title"),
            text(e, "kind"),
            text(e, "reason")
        ),
        "trailer.host_paused" => format!(
            "Trailer downloads from {} paused until {}: {}. What to do: {}",
            text(e, "host"),
            e.data["until"]
                .as_i64()
                .map_or_else(|| "?".to_string(), |t| Timestamp(t).to_rfc3339()),
            text(e, "reason"),
            text(e, "advice")
        ),
        "twitch.sign_in_needed" => format!(
            "Twitch account {} needs a new sign-in: {}",
            text(e, "login"),
            text(e, "reason")
        ),
        other => other.to_string(),
    }
}

/// The title of a message holding `types`.
pub fn title(types: &[&str]) -> String {
    match types {
        [one] => match *one {
            "job.failed" => "Job failed".to_string(),
            "auth.locked_out" => "Login locked".to_string(),
            "tools.updated" => "Tools updated".to_string(),
            "system.started" => "Tapearr started".to_string(),
            "tools.update_available" => "Tool updates available".to_string(),
            "system.disk_low" => "Low disk space".to_string(),
            "channel.live" => "Channel live".to_string(),
            "channel.offline" => "Channel offline".to_string(),
            "recording.started" => "Recording started".to_string(),
            "recording.stopped" => "Recording ended".to_string(),
            "recording.failed" => "Recording failed".to_string(),
            "recording.refused" => "Recording not started".to_string(),
            "recording.gap" => "Recording gap".to_string(),
            "recording.finalized" => "Recording ready".to_string(),
            "recording.finalize_failed" => "Finalize failed".to_string(),
            "recording.deleted" => "Recording deleted".to_string(),
            "trailer.downloaded" => "Trailer downloaded".to_string(),
            "trailer.failed" => "Trailer failed".to_string(),
            "trailer.host_paused" => "Trailer downloads paused".to_string(),
            "twitch.sign_in_needed" => "Twitch sign-in needed".to_string(),
            other => other.to_string(),
        },
        many => format!("{} Tapearr events", many.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str, data: serde_json::Value) -> EventRecord {
        EventRecord {
            id: Some(1),
            event_type: t.into(),
            subject: None,
            data,
            timestamp: Timestamp(0),
        }
    }

    #[test]
    fn lines_read_like_sentences() {
        let e = ev(
            "job.failed",
            serde_json::json!({"kind": "tools.update", "error": "pip timed out", "will_retry": true}),
        );
        assert_eq!(
            line(&e),
            "Job tools.update failed: pip timed out (will retry)"
        );
        let e = ev(
            "tools.updated",
            serde_json::json!({"changes": ["yt-dlp 1 → 2"]}),
        );
        assert_eq!(line(&e), "Tools updated: yt-dlp 1 → 2");
        assert_eq!(title(&["job.failed"]), "Job failed");
        assert_eq!(
            title(&["job.failed", "job.failed", "tools.updated"]),
            "3 Tapearr events"
        );
    }
}
