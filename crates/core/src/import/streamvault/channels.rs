//! StreamVault's streamers as Tapearr channels, with their recording settings and, through
//! [`super::retention`], their cleanup policy.

use super::{APP, Snapshot, clean, retention};
use crate::ids::new_id;
use crate::import::{ImportError, ImportReport, source_key};
use crate::storage::Storage;
use crate::streams::channels::{parse_login, validate_settings};
use crate::streams::model::{Channel, ChannelSettings};
use crate::time::Timestamp;
use std::collections::{HashMap, HashSet};

/// The Tapearr channel a streamer is (or, in a dry run, would be), by StreamVault id.
pub type ChannelMap = HashMap<i64, String>;

pub async fn import(
    store: &dyn Storage,
    snap: &Snapshot,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<ChannelMap, ImportError> {
    let mut map = ChannelMap::new();
    let mut seen = HashSet::new();
    for s in &snap.streamers {
        let name = s.username.trim().to_string();
        if s.is_test_data {
            report.skipped("channel", &name, "StreamVault's test data");
            continue;
        }
        let twitch_id = s.twitch_id.trim();
        if twitch_id.is_empty() || !twitch_id.chars().all(|c| c.is_ascii_digit()) {
            report.skipped("channel", &name, "no Twitch user id");
            continue;
        }
        if !seen.insert(twitch_id.to_string()) {
            report.skipped("channel", &name, "duplicate Twitch user id");
            continue;
        }
        if let Some(existing) = store.twitch_channel_by_twitch_id(twitch_id).await? {
            let ours = store.app_value(&source_key(APP, "streamer", s.id)).await?;
            if ours.as_deref() == Some(existing.id.as_str()) {
                report.unchanged("channel", &name);
            } else {
                report.skipped(
                    "channel",
                    &name,
                    "Tapearr already watches this channel (its recordings are imported into it)",
                );
            }
            map.insert(s.id, existing.id);
            continue;
        }
        let Ok(login) = parse_login(&name) else {
            // A display name in another script (StreamVault keeps Twitch's display name): the
            // login cannot be derived from it, so the channel is added by hand.
            report.skipped(
                "channel",
                &name,
                "its Twitch login is not known (the name is not one): add the channel by hand",
            );
            continue;
        };
        let defaults = ChannelSettings::default();
        let settings = ChannelSettings {
            auto_record: s.auto_record && s.recording_enabled.unwrap_or(true),
            quality: clean(&s.quality).unwrap_or(defaults.quality),
            codecs: clean(&s.codecs)
                .or_else(|| clean(&snap.global_codecs))
                .unwrap_or(defaults.codecs),
            naming_template: None,
            favourite: s.is_favorite,
            use_playlist_proxy: false,
            record_chat: defaults.record_chat,
        };
        let settings = match validate_settings(&settings) {
            Ok(()) => settings,
            Err(e) => {
                report.not_mapped("channel", &name, format!("{e}: Tapearr's defaults used"));
                ChannelSettings {
                    quality: ChannelSettings::default().quality,
                    codecs: ChannelSettings::default().codecs,
                    ..settings
                }
            }
        };
        report.created(
            "channel",
            &name,
            Some(format!(
                "quality {}, codecs {}, auto-record {}, favourite {}",
                settings.quality,
                settings.codecs,
                yes_no(settings.auto_record),
                yes_no(settings.favourite)
            )),
        );
        let now = Timestamp::now();
        let channel = Channel {
            id: new_id(),
            twitch_id: twitch_id.to_string(),
            login,
            display_name: name.clone(),
            description: s.description.clone().unwrap_or_default(),
            avatar_url: clean(&s.profile_image_url),
            offline_image_url: clean(&s.offline_image_url),
            settings,
            live: false,
            title: String::new(),
            category: s.category_name.clone().unwrap_or_default(),
            live_checked_at: None,
            removed_at: None,
            created_at: now,
            updated_at: now,
        };
        if !dry_run {
            store.insert_twitch_channel(&channel).await?;
            store
                .set_app_value(&source_key(APP, "streamer", s.id), Some(&channel.id))
                .await?;
        }
        retention::import(store, snap, s, &channel.id, &name, dry_run, report).await?;
        map.insert(s.id, channel.id);
    }
    Ok(map)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
