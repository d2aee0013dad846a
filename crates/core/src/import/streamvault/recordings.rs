//! StreamVault's finished recordings as library recordings, pointing at the files where they
//! are (nothing is moved or copied).
//!
//! StreamVault wrote under its `output_directory` (`/recordings` in its container); the user
//! names that folder as this machine sees it (`--recordings`), and it must lie in a library
//! root, so playback, deletion and retention work on it like on a native recording.
//!
//! MP4s are used as they are. A TS is remuxed (stream copy) into an MP4 beside it: Tapearr's
//! library is MP4 throughout (the player and share links serve `video/mp4`, browsers cannot
//! play MPEG-TS, and media servers direct-play MP4). The TS itself is left where it is, since
//! Tapearr did not place it. An NFO beside the file is kept; a missing one is written, with the
//! chapter files, from StreamVault's stream events.

use super::channels::ChannelMap;
use super::{APP, Files, Snapshot, SourceRecording, SourceStreamEvent, clean};
use crate::files::{LibraryRoots, SafePath, TEMP_PREFIX, move_into_place, write_atomic};
use crate::ids::new_id;
use crate::import::{ImportError, ImportReport, source_key};
use crate::library::chapters;
use crate::library::media::remux_file;
use crate::library::naming::season_of;
use crate::library::sidecars::{self, EpisodeFacts};
use crate::storage::Storage;
use crate::streams::model::{
    FinalizeStep, Recording, RecordingStatus, Stream, StreamEvent, StreamEventKind,
};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use tokio_util::sync::CancellationToken;

const KIND: &str = "recording";

pub async fn import(
    store: &dyn Storage,
    snap: &Snapshot,
    channels: &ChannelMap,
    files: &Files<'_>,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let mut seen: HashMap<PathBuf, i64> = HashMap::new();
    for rec in &snap.recordings {
        let name = label(rec);
        let Some(file) = place(snap, rec, channels, files, &mut seen, &name, report) else {
            continue;
        };
        let key = source_key(APP, "recording", rec.id);
        if let Some(id) = store.app_value(&key).await?
            && store.recording(&id).await?.is_some()
        {
            report.unchanged(KIND, &name);
            continue;
        }
        let Some(channel_id) = channels.get(&rec.streamer_id) else {
            continue;
        };
        let Some(video) = video_of(&file, files, dry_run, &name, report).await? else {
            continue;
        };
        if dry_run {
            continue;
        }
        let id = insert(store, snap, rec, channel_id, &video).await?;
        sidecars_for(store, &id, &video).await?;
        store.set_app_value(&key, Some(&id)).await?;
    }
    Ok(())
}

/// `streamer — title (date)`, for the report.
fn label(rec: &SourceRecording) -> String {
    let c = Timestamp(rec.start_ms).civil();
    let title = clean(&rec.title).unwrap_or_else(|| "Stream".into());
    format!(
        "#{} {title} ({:04}-{:02}-{:02})",
        rec.id, c.year, c.month, c.day
    )
}

/// The file on this machine, checked; `None` (with the reason in the report) when it is not
/// imported.
fn place(
    snap: &Snapshot,
    rec: &SourceRecording,
    channels: &ChannelMap,
    files: &Files<'_>,
    seen: &mut HashMap<PathBuf, i64>,
    name: &str,
    report: &mut ImportReport,
) -> Option<SafePath> {
    if rec.status != "completed" {
        report.skipped(KIND, name, format!("it is `{}` in StreamVault", rec.status));
        return None;
    }
    if !channels.contains_key(&rec.streamer_id) {
        report.skipped(KIND, name, "its streamer is not imported");
        return None;
    }
    let Some(source) = clean(&rec.path) else {
        report.skipped(KIND, name, "StreamVault has no file for it");
        return None;
    };
    let Some(folder) = files.folder else {
        report.skipped(
            KIND,
            name,
            "no recordings folder given (--recordings, StreamVault's recordings folder as this server sees it)",
        );
        return None;
    };
    let output = clean(&snap.output_directory).unwrap_or_else(|| "/recordings".into());
    let Some(relative) = relative_to(&source, &output) else {
        report.skipped(
            KIND,
            name,
            format!("{source} is not in StreamVault's recordings folder {output}"),
        );
        return None;
    };
    let local = folder.join(&relative);
    if let Some(first) = seen.get(&local) {
        report.skipped(KIND, name, format!("the same file as recording #{first}"));
        return None;
    }
    seen.insert(local.clone(), rec.id);
    if !local.is_file() {
        report.skipped(
            KIND,
            name,
            format!("the file is missing: {}", local.display()),
        );
        return None;
    }
    let resolved = files
        .roots
        .as_ref()
        .ok_or(())
        .and_then(|r| resolve(r, &local).ok_or(()));
    match resolved {
        Ok(file) => Some(file),
        Err(()) => {
            report.skipped(
                KIND,
                name,
                format!(
                    "{} is in no library root: add the recordings folder as one",
                    local.display()
                ),
            );
            None
        }
    }
}

fn resolve(roots: &LibraryRoots, path: &Path) -> Option<SafePath> {
    roots.resolve(path.to_str()?).ok()
}

/// `path` below `output`, as plain names only (a `..` could leave the folder).
fn relative_to(path: &str, output: &str) -> Option<PathBuf> {
    let rel = Path::new(path)
        .strip_prefix(Path::new(output.trim_end_matches('/')))
        .ok()?;
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && rel.components().next().is_some()).then(|| rel.to_path_buf())
}

/// The MP4 the library entry points at: the file itself, StreamVault's MP4 beside a TS, or
/// (not in a dry run) one remuxed from the TS.
async fn video_of(
    file: &SafePath,
    files: &Files<'_>,
    dry_run: bool,
    name: &str,
    report: &mut ImportReport,
) -> Result<Option<SafePath>, ImportError> {
    let shown = file.relative().display().to_string();
    let ext = file
        .as_path()
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "mp4" => {
            report.created(KIND, name, Some(shown));
            return Ok(Some(file.clone()));
        }
        "ts" => {}
        _ => {
            report.skipped(KIND, name, format!("{shown} is not an MP4 or a TS"));
            return Ok(None);
        }
    }
    let stem = file
        .as_path()
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = file.parent();
    let mp4 = parent
        .as_ref()
        .and_then(|p| p.join(&format!("{stem}.mp4")).ok());
    let (Some(parent), Some(mp4)) = (parent, mp4) else {
        report.skipped(KIND, name, format!("{shown}: no folder to put its MP4 in"));
        return Ok(None);
    };
    if mp4.as_path().is_file() {
        report.created(
            KIND,
            name,
            Some(format!(
                "{} (StreamVault's MP4 beside the TS)",
                mp4.relative().display()
            )),
        );
        return Ok(Some(mp4));
    }
    report.created(
        KIND,
        name,
        Some(format!(
            "{shown} remuxed to {} (the TS is left as it is)",
            mp4.relative().display()
        )),
    );
    if dry_run {
        return Ok(Some(mp4));
    }
    let temp = parent
        .as_path()
        .join(format!("{TEMP_PREFIX}import-{}.mp4", new_id()));
    let cancel = CancellationToken::new();
    if let Err(e) = remux_file(&files.ffmpeg, file.as_path(), &temp, &cancel).await {
        let _ = std::fs::remove_file(&temp);
        report.created.pop();
        report.skipped(KIND, name, format!("{shown} could not be remuxed: {e}"));
        return Ok(None);
    }
    if let Err(e) = move_into_place(&temp, &mp4).await {
        let _ = std::fs::remove_file(&temp);
        report.created.pop();
        report.skipped(KIND, name, format!("{shown}: {e}"));
        return Ok(None);
    }
    Ok(Some(mp4))
}

/// The stream (once per StreamVault stream), its events, and the finished recording.
async fn insert(
    store: &dyn Storage,
    snap: &Snapshot,
    rec: &SourceRecording,
    channel_id: &str,
    video: &SafePath,
) -> Result<String, ImportError> {
    let started_at = Timestamp(rec.start_ms);
    let duration_ms = rec
        .duration_secs
        .filter(|d| *d > 0)
        .map(|d| d.saturating_mul(1000))
        .or_else(|| rec.end_ms.map(|e| e - rec.start_ms))
        .and_then(|d| u64::try_from(d).ok())
        .unwrap_or(0);
    let ended_at = rec
        .end_ms
        .map(Timestamp)
        .unwrap_or(Timestamp(rec.start_ms.saturating_add(duration_ms as i64)));
    let twitch_stream_id =
        clean(&rec.twitch_stream_id).unwrap_or_else(|| format!("streamvault-{}", rec.stream_id));
    let title = clean(&rec.title).unwrap_or_default();
    let category = clean(&rec.category).unwrap_or_default();
    let (stream, created) = store
        .upsert_stream(&Stream {
            id: new_id(),
            channel_id: channel_id.to_string(),
            twitch_stream_id,
            title: title.clone(),
            category: category.clone(),
            started_at,
            ended_at: Some(ended_at),
            record_stopped: false,
        })
        .await?;
    if created {
        for event in events_of(snap, rec, &stream.id, &title, &category, started_at) {
            store.insert_stream_event(&event).await?;
        }
    }
    let bytes = std::fs::metadata(video.as_path()).map_or(0, |m| m.len());
    let stem = video
        .as_path()
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = video
        .parent()
        .map(|p| p.as_path().to_path_buf())
        .unwrap_or_default();
    let now = Timestamp::now();
    let recording = Recording {
        id: new_id(),
        channel_id: channel_id.to_string(),
        stream_id: Some(stream.id),
        status: RecordingStatus::Ended,
        // A parts folder that never exists: deleting the recording removes its MP4 and
        // sidecars, never the folder StreamVault's other recordings share.
        dir: dir
            .join(format!(".{stem}.streamvault-parts"))
            .to_string_lossy()
            .into_owned(),
        stem: stem.clone(),
        quality: String::new(),
        started_at,
        ended_at: Some(ended_at),
        bytes,
        media_ms: duration_ms,
        segments: 0,
        missed_segments: 0,
        sessions: 1,
        owner: String::new(),
        heartbeat_at: now,
        end_reason: Some("imported from StreamVault".into()),
        error: None,
        updated_at: now,
        library: Default::default(),
        origin: Default::default(),
        labels: Default::default(),
    };
    store.insert_recording(&recording).await?;
    let path = video.as_path().to_string_lossy();
    store.set_video_path(&recording.id, &path).await?;
    store
        .set_video_facts(&recording.id, bytes, duration_ms)
        .await?;
    store
        .assign_episode(&recording.id, &season_of(started_at))
        .await?;
    store
        .set_finalize_state(
            &recording.id,
            RecordingStatus::Ready,
            Some(FinalizeStep::Done),
            None,
            now,
        )
        .await?;
    Ok(recording.id)
}

/// StreamVault's events of the stream (its chapters), or one start event from the stream row.
fn events_of(
    snap: &Snapshot,
    rec: &SourceRecording,
    stream_id: &str,
    title: &str,
    category: &str,
    started_at: Timestamp,
) -> Vec<StreamEvent> {
    let of_stream: Vec<&SourceStreamEvent> = snap
        .stream_events
        .iter()
        .filter(|e| e.stream_id == rec.stream_id)
        .collect();
    let start = StreamEvent {
        id: new_id(),
        stream_id: stream_id.to_string(),
        kind: StreamEventKind::Start,
        title: title.to_string(),
        category: category.to_string(),
        at: started_at,
    };
    let mut events = vec![start];
    for e in of_stream {
        let kind = if e.event_type.contains("offline") {
            StreamEventKind::End
        } else {
            StreamEventKind::Update
        };
        events.push(StreamEvent {
            id: new_id(),
            stream_id: stream_id.to_string(),
            kind,
            title: clean(&e.title).unwrap_or_else(|| title.to_string()),
            category: clean(&e.category).unwrap_or_else(|| category.to_string()),
            at: Timestamp(e.at_ms),
        });
    }
    events
}

/// Writes the NFO and chapter files StreamVault did not leave beside the MP4.
async fn sidecars_for(store: &dyn Storage, id: &str, video: &SafePath) -> Result<(), ImportError> {
    let (Some(rec), Some(dir)) = (store.recording(id).await?, video.parent()) else {
        return Ok(());
    };
    let Some(channel) = store.twitch_channel(&rec.channel_id).await? else {
        return Ok(());
    };
    let events = match &rec.stream_id {
        Some(stream) => store.list_stream_events(stream).await?,
        None => Vec::new(),
    };
    let duration_ms = rec.library.duration_ms.unwrap_or(0);
    let chapters = chapters::from_events(&events, &[], rec.started_at, duration_ms);
    let season = rec.library.season.clone().unwrap_or_default();
    let facts = EpisodeFacts {
        recording: &rec,
        channel: &channel,
        chapters: &chapters,
        duration_ms,
        season: &season,
        episode: rec.library.episode.unwrap_or(1),
        stem: &rec.stem,
    };
    let files = [
        (".nfo", sidecars::episode_nfo(&facts)),
        (".chapters.vtt", chapters::vtt(&chapters)),
        (".chapters.srt", chapters::srt(&chapters)),
        (".chapters.xml", chapters::emby_xml(&chapters)),
    ];
    for (suffix, text) in files {
        let Ok(file) = dir.join(&format!("{}{suffix}", rec.stem)) else {
            continue;
        };
        if file.as_path().exists() {
            continue;
        }
        if let Err(e) = write_atomic(&file, text.as_bytes()).await {
            tracing::warn!(error = %e, "an imported recording's sidecar could not be written");
        }
    }
    Ok(())
}
