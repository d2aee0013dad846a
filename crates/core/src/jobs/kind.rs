//! Every job kind, as one string enum for the API document (the web app's types come from it).
//! The handlers still register and enqueue by the `&str` constants; the test below keeps the
//! two lists the same.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum JobKind {
    #[serde(rename = "events.prune")]
    PruneEvents,
    #[serde(rename = "sessions.prune")]
    PruneSessions,
    #[serde(rename = "jobs.prune")]
    PruneJobs,
    #[serde(rename = "system.probe")]
    SystemProbe,
    #[serde(rename = "system.check_disk")]
    CheckDisk,
    #[serde(rename = "tools.check_updates")]
    CheckToolUpdates,
    #[serde(rename = "tools.update")]
    ToolsUpdate,
    #[serde(rename = "tools.update_ytdlp")]
    UpdateYtDlp,
    #[serde(rename = "mediaserver.refresh")]
    MediaServerRefresh,
    #[serde(rename = "recording.finalize")]
    RecordingFinalize,
    #[serde(rename = "library.retention")]
    LibraryRetention,
    #[serde(rename = "trailers.run")]
    TrailersRun,
    #[serde(rename = "trailers.sync")]
    TrailersSync,
    #[serde(rename = "trailers.download")]
    TrailersDownload,
    #[serde(rename = "trailers.scan")]
    TrailersScan,
    #[serde(rename = "trailers.item")]
    TrailersItem,
    #[serde(rename = "archive.run")]
    ArchiveRun,
    #[serde(rename = "archive.vod")]
    ArchiveVod,
}

impl JobKind {
    /// Every kind, for checks that a registry and this enum name the same set.
    pub const ALL: [JobKind; 18] = [
        JobKind::PruneEvents,
        JobKind::PruneSessions,
        JobKind::PruneJobs,
        JobKind::SystemProbe,
        JobKind::CheckDisk,
        JobKind::CheckToolUpdates,
        JobKind::ToolsUpdate,
        JobKind::UpdateYtDlp,
        JobKind::MediaServerRefresh,
        JobKind::RecordingFinalize,
        JobKind::LibraryRetention,
        JobKind::TrailersRun,
        JobKind::TrailersSync,
        JobKind::TrailersDownload,
        JobKind::TrailersScan,
        JobKind::TrailersItem,
        JobKind::ArchiveRun,
        JobKind::ArchiveVod,
    ];

    /// The wire name (`trailers.run`).
    pub fn as_str(self) -> &'static str {
        // Exhaustive on purpose: a new variant must get its name here, and so a place in `ALL`.
        match self {
            JobKind::PruneEvents => "events.prune",
            JobKind::PruneSessions => "sessions.prune",
            JobKind::PruneJobs => "jobs.prune",
            JobKind::SystemProbe => "system.probe",
            JobKind::CheckDisk => "system.check_disk",
            JobKind::CheckToolUpdates => "tools.check_updates",
            JobKind::ToolsUpdate => "tools.update",
            JobKind::UpdateYtDlp => "tools.update_ytdlp",
            JobKind::MediaServerRefresh => "mediaserver.refresh",
            JobKind::RecordingFinalize => "recording.finalize",
            JobKind::LibraryRetention => "library.retention",
            JobKind::TrailersRun => "trailers.run",
            JobKind::TrailersSync => "trailers.sync",
            JobKind::TrailersDownload => "trailers.download",
            JobKind::TrailersScan => "trailers.scan",
            JobKind::TrailersItem => "trailers.item",
            JobKind::ArchiveRun => "archive.run",
            JobKind::ArchiveVod => "archive.vod",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::JobKind::{self, *};
    use crate::jobs::builtin::{PROBE, PRUNE_EVENTS, PRUNE_JOBS, PRUNE_SESSIONS};
    use crate::library::FINALIZE_JOB;
    use crate::library::retention::RETENTION_JOB;
    use crate::mediaserver::REFRESH_JOB;
    use crate::system::TOOLS_UPDATE_JOB;
    use crate::system_checks::{CHECK_DISK_JOB, CHECK_TOOLS_JOB, UPDATE_YTDLP_JOB};
    use crate::trailers::jobs::{DOWNLOAD_JOB, ITEM_JOB, RUN_JOB, SCAN_JOB, SYNC_JOB};

    #[test]
    fn the_enum_names_every_registered_kind() {
        let pairs: [(JobKind, &str); 18] = [
            (PruneEvents, PRUNE_EVENTS),
            (PruneSessions, PRUNE_SESSIONS),
            (PruneJobs, PRUNE_JOBS),
            (SystemProbe, PROBE),
            (CheckDisk, CHECK_DISK_JOB),
            (CheckToolUpdates, CHECK_TOOLS_JOB),
            (ToolsUpdate, TOOLS_UPDATE_JOB),
            (UpdateYtDlp, UPDATE_YTDLP_JOB),
            (MediaServerRefresh, REFRESH_JOB),
            (RecordingFinalize, FINALIZE_JOB),
            (LibraryRetention, RETENTION_JOB),
            (TrailersRun, RUN_JOB),
            (TrailersSync, SYNC_JOB),
            (TrailersDownload, DOWNLOAD_JOB),
            (TrailersScan, SCAN_JOB),
            (TrailersItem, ITEM_JOB),
            (ArchiveRun, crate::archive::RUN_JOB),
            (ArchiveVod, crate::archive::VOD_JOB),
        ];
        for (kind, name) in pairs {
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(name.into()),
                "{kind:?}"
            );
            assert_eq!(kind.as_str(), name, "{kind:?}");
        }
        let mut all: Vec<_> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), JobKind::ALL.len(), "ALL names each kind once");
    }
}
