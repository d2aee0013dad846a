//! The plan (T9): for every monitored item and every profile that applies to it, what the
//! next run will do and why. The run and the preview use this one computation, so the
//! preview is exactly what the next run does.

pub mod listing;
pub mod profiles;

use crate::time::Timestamp;
use crate::trailers::model::{DownloadRecord, DownloadStatus, MediaItem, ScanRecord};
use crate::trailers::model::{Profile, Slot};
use crate::trailers::plan::profiles::applicable;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlanAction {
    /// Search and download now.
    Download,
    /// Waiting for the backoff after a failure or an empty search.
    Wait,
    /// Has its trailer.
    Have,
    /// Has a trailer below the profile's height: look for a taller video (quality upgrades).
    Upgrade,
    /// Left alone (not monitored, skipped by the user, storage unavailable…).
    Skip,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanEntry {
    pub media_id: String,
    pub title: String,
    pub year: Option<i32>,
    pub profile_id: String,
    pub profile_name: String,
    /// Which of the profile's videos (`trailer-1`, `trailer-2`, `featurette-1`…).
    #[schema(value_type = String, example = "trailer-1")]
    pub slot: Slot,
    pub action: PlanAction,
    pub reason: String,
}

/// Days to wait after the n-th failure in a row: 1, 2, 4, then 7 days.
pub fn backoff(attempts: i64) -> Duration {
    let days = match attempts {
        ..=1 => 1,
        2 => 2,
        3 => 4,
        _ => 7,
    };
    Duration::from_secs(days * 86_400)
}

/// Most times one slot's file is replaced by a better video.
pub const MAX_UPGRADES: i64 = 2;

/// Why the record's file should be looked at for a taller video now (`720p → 1080p`), or
/// `None`: only a file Tapearr placed with a known height below the profile's, with
/// upgrades on, not upgraded too often, not searched in the last `interval` and
/// not waiting for a paused site or a backoff. A fresh download counts as a search.
pub fn upgrade_reason(
    profile: &Profile,
    r: &DownloadRecord,
    now: Timestamp,
    interval: Duration,
) -> Option<String> {
    let max = i64::from(profile.output.max_height);
    let height = r.height?;
    let due = r.upgrade_checked_at.is_none_or(|t| t.plus(interval) <= now);
    (profile.output.upgrade
        && r.status == DownloadStatus::Downloaded
        && height < max
        && r.upgrades < MAX_UPGRADES
        && due
        && r.next_attempt_at.is_none_or(|t| t <= now))
    .then(|| format!("{height}p → {max}p"))
}

pub struct PlanInput<'a> {
    pub media: &'a [MediaItem],
    pub profiles: &'a [Profile],
    pub downloads: &'a [DownloadRecord],
    pub scans: &'a [ScanRecord],
    pub now: Timestamp,
    /// How often a slot is searched for a taller video (`trailers.upgrade_interval_secs`).
    pub upgrade_interval: Duration,
}

pub fn plan(input: &PlanInput<'_>) -> Vec<PlanEntry> {
    let records: HashMap<(&str, &str, Slot), &DownloadRecord> = input
        .downloads
        .iter()
        .map(|d| ((d.media_id.as_str(), d.profile_id.as_str(), d.slot), d))
        .collect();
    let scans: HashMap<&str, &ScanRecord> = input
        .scans
        .iter()
        .map(|s| (s.media_id.as_str(), s))
        .collect();
    let mut out = Vec::new();
    // One download per (folder, profile, slot): the same movie from Radarr and from Plex
    // shares a folder, and two downloads would leave two trailers there.
    let mut downloading: HashMap<(&str, &str, Slot), &str> = HashMap::new();
    for item in input.media {
        let item_skip = item_skip_reason(item, scans.get(item.id.as_str()).copied());
        for (profile, slot) in applicable(input.profiles, item)
            .into_iter()
            .flat_map(|p| p.slots_for(item).into_iter().map(move |s| (p, s)))
        {
            let record = records
                .get(&(item.id.as_str(), profile.id.as_str(), slot))
                .copied();
            let upgrade = record
                .filter(|_| item_skip.is_none())
                .and_then(|r| upgrade_reason(profile, r, input.now, input.upgrade_interval));
            let (action, reason) = if let Some(why) = upgrade {
                (PlanAction::Upgrade, why)
            } else {
                match (&item_skip, record) {
                    (_, Some(r)) if r.status.has_trailer() => (
                        PlanAction::Have,
                        r.reason.clone().unwrap_or_else(|| "has a trailer".into()),
                    ),
                    (Some(why), _) => (PlanAction::Skip, why.clone()),
                    // The server's trailer is the series' own, not a season's.
                    (None, _)
                        if profile.search.skip_if_server_has_trailer
                            && item.server_trailer.is_some()
                            && slot.season_number().is_none() =>
                    {
                        (
                            PlanAction::Skip,
                            format!(
                                "{} already has a trailer",
                                item.server_trailer.as_deref().unwrap_or("the media server")
                            ),
                        )
                    }
                    (None, Some(r)) if r.status == DownloadStatus::Skipped => (
                        PlanAction::Skip,
                        r.reason.clone().unwrap_or_else(|| "skipped".into()),
                    ),
                    (None, Some(r)) if r.next_attempt_at.is_some_and(|t| t > input.now) => (
                        PlanAction::Wait,
                        format!(
                            "{}; next try after {}",
                            r.reason.as_deref().unwrap_or("failed"),
                            r.next_attempt_at
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_default()
                        ),
                    ),
                    (None, _) => {
                        match downloading.entry((item.folder.as_str(), profile.id.as_str(), slot)) {
                            std::collections::hash_map::Entry::Occupied(first) => (
                                PlanAction::Skip,
                                format!(
                                    "`{}` in the same folder gets this profile's trailer",
                                    first.get()
                                ),
                            ),
                            std::collections::hash_map::Entry::Vacant(free) => {
                                free.insert(item.title.as_str());
                                (
                                    PlanAction::Download,
                                    format!("no {} yet", slot.label().to_lowercase()),
                                )
                            }
                        }
                    }
                }
            };
            out.push(PlanEntry {
                media_id: item.id.clone(),
                title: item.title.clone(),
                year: item.year,
                profile_id: profile.id.clone(),
                profile_name: profile.name.clone(),
                slot,
                action,
                reason,
            });
        }
    }
    out
}

fn item_skip_reason(item: &MediaItem, scan: Option<&ScanRecord>) -> Option<String> {
    if !item.monitor {
        return Some("not monitored".into());
    }
    match scan.and_then(|s| s.status.as_deref()) {
        Some("unavailable") => Some(format!(
            "the media folder {} cannot be read (storage offline?)",
            item.folder
        )),
        Some("missing") => Some(format!("the media folder {} does not exist", item.folder)),
        None => Some("not scanned yet".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::trailers::model::{OutputSettings, SearchRules};
    use crate::trailers::place::tests::item;

    const INTERVAL: Duration = Duration::from_secs(14 * 86_400);

    /// Video `video` placed as `file` for slot `slot` of item `m1` under profile `p`.
    fn placed(slot: &str, video: &str, file: &str) -> DownloadRecord {
        DownloadRecord {
            media_id: "m1".into(),
            profile_id: "p".into(),
            slot: Slot::parse(slot).expect("slot"),
            status: DownloadStatus::Downloaded,
            video_id: Some(video.into()),
            source: None,
            file_path: Some(file.into()),
            file_bytes: None,
            duration_ms: None,
            reason: None,
            error_kind: None,
            attempts: 0,
            next_attempt_at: None,
            updated_at: Timestamp(1),
            height: None,
            upgrade_checked_at: None,
            upgrades: 0,
        }
    }

    #[test]
    fn backoff_doubles_up_to_a_week() {
        let days: Vec<u64> = (1..=6).map(|n| backoff(n).as_secs() / 86_400).collect();
        assert_eq!(days, [1, 2, 4, 7, 7, 7]);
    }

    fn scanned(id: &str) -> ScanRecord {
        ScanRecord {
            media_id: id.into(),
            folder: "/movies/x".into(),
            status: Some("ok".into()),
            state: None,
            scanned_at: Some(Timestamp(1)),
        }
    }

    #[test]
    fn one_folder_gets_one_download_per_profile_whoever_lists_it() {
        let from_radarr = item("Alien", Some(1979));
        let from_plex = MediaItem {
            id: "m2".into(),
            connection_id: "plex".into(),
            ..item("Alien", Some(1979))
        };
        let elsewhere = MediaItem {
            id: "m3".into(),
            folder: "/movies/y".into(),
            ..item("Aliens", Some(1986))
        };
        let profile = Profile {
            id: "p".into(),
            name: "Beside".into(),
            enabled: true,
            priority: 10,
            filters: Vec::new(),
            search: SearchRules::default(),
            output: OutputSettings::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let entries = plan(&PlanInput {
            media: &[from_radarr, from_plex, elsewhere],
            profiles: &[profile],
            downloads: &[],
            scans: &[scanned("m1"), scanned("m2"), scanned("m3")],
            now: Timestamp(2),
            upgrade_interval: INTERVAL,
        });
        let actions: Vec<(&str, PlanAction)> = entries
            .iter()
            .map(|e| (e.media_id.as_str(), e.action))
            .collect();
        assert_eq!(
            actions,
            [
                ("m1", PlanAction::Download),
                ("m2", PlanAction::Skip),
                ("m3", PlanAction::Download)
            ]
        );
        assert!(
            entries[1].reason.contains("same folder"),
            "{}",
            entries[1].reason
        );
    }

    #[test]
    fn each_slot_is_planned_alone() {
        let profile = Profile {
            id: "p".into(),
            name: "Beside".into(),
            enabled: true,
            priority: 10,
            filters: Vec::new(),
            search: SearchRules::default(),
            output: OutputSettings {
                trailers: 2,
                extras: vec![crate::trailers::model::ExtraKind::Featurette],
                ..OutputSettings::default()
            },
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let have = |slot: &str| placed(slot, slot, &format!("/movies/x/{slot}.mp4"));
        let entries = plan(&PlanInput {
            media: &[item("Alien", Some(1979))],
            profiles: &[profile],
            downloads: &[have("trailer-1"), have("featurette-1")],
            scans: &[scanned("m1")],
            now: Timestamp(2),
            upgrade_interval: INTERVAL,
        });
        let actions: Vec<(String, PlanAction)> = entries
            .iter()
            .map(|e| (e.slot.to_string(), e.action))
            .collect();
        assert_eq!(
            actions,
            [
                ("trailer-1".to_string(), PlanAction::Have),
                ("trailer-2".to_string(), PlanAction::Download),
                ("featurette-1".to_string(), PlanAction::Have),
            ]
        );
        assert_eq!(entries[1].reason, "no trailer 2 yet");
    }

    #[test]
    fn what_the_media_server_already_shows_is_skipped_only_when_the_profile_says_so() {
        let shown = MediaItem {
            server_trailer: Some("Jellyfin".into()),
            ..item("Quiet Coast", Some(2019))
        };
        let profile = |skip: bool| Profile {
            id: "p".into(),
            name: "Beside".into(),
            enabled: true,
            priority: 10,
            filters: Vec::new(),
            search: SearchRules {
                skip_if_server_has_trailer: skip,
                ..SearchRules::default()
            },
            output: OutputSettings::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let run = |skip: bool, downloads: &[DownloadRecord]| {
            let e = plan(&PlanInput {
                media: std::slice::from_ref(&shown),
                profiles: &[profile(skip)],
                downloads,
                scans: &[scanned("m1")],
                now: Timestamp(2),
                upgrade_interval: INTERVAL,
            });
            (e[0].action, e[0].reason.clone())
        };
        assert_eq!(
            run(true, &[]),
            (PlanAction::Skip, "Jellyfin already has a trailer".into())
        );
        assert_eq!(run(false, &[]).0, PlanAction::Download);
        // A trailer Tapearr placed (which the server then shows too) stays "have".
        let placed = placed("trailer-1", "v", "/movies/x/x-trailer.mp4");
        assert_eq!(run(true, &[placed]).0, PlanAction::Have);
    }

    #[test]
    fn a_short_trailer_is_upgraded_only_when_due_and_bounded() {
        let profile = |upgrade: bool| Profile {
            id: "p".into(),
            name: "Beside".into(),
            enabled: true,
            priority: 10,
            filters: Vec::new(),
            search: SearchRules::default(),
            output: OutputSettings {
                upgrade,
                ..OutputSettings::default()
            },
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let now = Timestamp(100 * 86_400_000);
        let placed = DownloadRecord {
            height: Some(720),
            ..placed("trailer-1", "v", "/movies/x/x-trailer.mp4")
        };
        let on = profile(true);
        assert_eq!(
            upgrade_reason(&on, &placed, now, INTERVAL).as_deref(),
            Some("720p → 1080p")
        );
        let plan_of = |r: &DownloadRecord| {
            plan(&PlanInput {
                media: &[item("Alien", Some(1979))],
                profiles: std::slice::from_ref(&on),
                downloads: std::slice::from_ref(r),
                scans: &[scanned("m1")],
                now,
                upgrade_interval: INTERVAL,
            })[0]
                .action
        };
        assert_eq!(plan_of(&placed), PlanAction::Upgrade);
        let not = |r: DownloadRecord, why: &str| {
            assert_eq!(upgrade_reason(&on, &r, now, INTERVAL), None, "{why}");
            assert_eq!(plan_of(&r), PlanAction::Have, "{why}");
        };
        not(
            DownloadRecord {
                height: Some(1080),
                ..placed.clone()
            },
            "already at the profile's height",
        );
        not(
            DownloadRecord {
                height: None,
                ..placed.clone()
            },
            "height unknown",
        );
        not(
            DownloadRecord {
                status: DownloadStatus::Existing,
                ..placed.clone()
            },
            "not placed by Tapearr",
        );
        not(
            DownloadRecord {
                upgrades: MAX_UPGRADES,
                ..placed.clone()
            },
            "upgraded enough",
        );
        not(
            DownloadRecord {
                upgrade_checked_at: Some(now.minus(INTERVAL).plus(Duration::from_secs(1))),
                ..placed.clone()
            },
            "searched within the interval",
        );
        not(
            DownloadRecord {
                next_attempt_at: Some(now.plus(Duration::from_secs(60))),
                ..placed.clone()
            },
            "waiting for a paused site",
        );
        assert_eq!(
            upgrade_reason(
                &on,
                &DownloadRecord {
                    upgrade_checked_at: Some(now.minus(INTERVAL)),
                    ..placed.clone()
                },
                now,
                INTERVAL
            )
            .as_deref(),
            Some("720p → 1080p"),
            "due again after the interval"
        );
        assert_eq!(
            upgrade_reason(&profile(false), &placed, now, INTERVAL),
            None,
            "off by default"
        );
    }
}
