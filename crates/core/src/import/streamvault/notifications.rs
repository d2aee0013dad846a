//! StreamVault's notification settings: each Apprise URL becomes an Apprise notification
//! channel (sealed at rest, like one entered in the app) subscribed to the events StreamVault
//! had switched on.
//!
//! Push subscriptions cannot move: a browser subscribed with StreamVault's VAPID public key,
//! and the push service refuses messages signed with any other key (RFC 8292), so each
//! browser subscribes again in Tapearr.

use super::{APP, Snapshot};
use crate::crypto::SecretBox;
use crate::ids::new_id;
use crate::import::{ImportError, ImportReport, source_key};
use crate::notify::model::{Channel, ChannelConfig};
use crate::storage::Storage;
use crate::time::Timestamp;

const KIND: &str = "notification";

pub async fn import(
    store: &dyn Storage,
    secrets: &SecretBox,
    snap: &Snapshot,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if snap.push_subscriptions > 0 {
        report.skipped(
            "push subscription",
            &format!("{} browser(s)", snap.push_subscriptions),
            "a browser's subscription is bound to StreamVault's VAPID key: subscribe again in Tapearr",
        );
    }
    if snap.notification_settings > 0 {
        report.not_mapped(
            KIND,
            "per-streamer switches",
            "Tapearr's channels notify for every channel",
        );
    }
    let Some(n) = &snap.notifications else {
        return Ok(());
    };
    let mut events = Vec::new();
    for (on, event) in [
        (n.online, "channel.live"),
        (n.offline, "channel.offline"),
        (n.recording_started, "recording.started"),
        (n.recording_failed, "recording.failed"),
        (n.recording_completed, "recording.finalized"),
    ] {
        if on {
            events.push(event.to_string());
        }
    }
    if n.update || n.favourite_category {
        report.not_mapped(
            KIND,
            "Apprise",
            "title/category updates and favourite-category alerts have no Tapearr event",
        );
    }
    if events.is_empty() {
        events.push("recording.failed".into());
    }
    let urls: Vec<&str> = n
        .url
        .expose()
        .split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    for (i, url) in urls.iter().enumerate() {
        // The scheme names the service; the rest may hold a token, so it is never shown.
        let scheme = url.split_once("://").map(|(s, _)| s).filter(|s| {
            (1..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
        });
        let Some(scheme) = scheme else {
            report.skipped(
                KIND,
                &format!("StreamVault URL {}", i + 1),
                "not an Apprise URL",
            );
            continue;
        };
        let name = format!("StreamVault {scheme}");
        let key = source_key(APP, "apprise", i as i64);
        if let Some(id) = store.app_value(&key).await?
            && store.channel(&id).await?.is_some()
        {
            report.unchanged(KIND, &name);
            continue;
        }
        report.created(
            KIND,
            &name,
            Some(format!(
                "Apprise ({}), for {}",
                if n.enabled {
                    "on"
                } else {
                    "off, as in StreamVault"
                },
                events.join(", ")
            )),
        );
        if dry_run {
            continue;
        }
        let now = Timestamp::now();
        let channel = Channel {
            id: new_id(),
            name,
            config: ChannelConfig::Apprise {
                url: (*url).to_string(),
            }
            .sealed(secrets),
            event_types: events.clone(),
            enabled: n.enabled,
            batch_secs: 10,
            max_per_minute: 5,
            quiet_hours: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_channel(&channel).await?;
        store.set_app_value(&key, Some(&channel.id)).await?;
    }
    Ok(())
}
