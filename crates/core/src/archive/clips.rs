//! Top clips of a channel into its show folder's `Other/` folder, which Plex and Jellyfin read
//! as the show's extras.

use super::Archive;
use super::model::{ArchiveSettings, ArchivedClip, ClipStatus};
use crate::files::{LibraryRoots, SafePath, remove_empty_dir, remove_file, write_atomic};
use crate::ids::new_id;
use crate::library::naming::{self, NamingValues};
use crate::storage::Storage;
use crate::streams::model::Channel;
use crate::streams::{StreamsError, StreamsResult};
use crate::time::Timestamp;
use std::time::Duration;
use tapearr_integrations::twitch::HelixClip;

/// The extras folder below the show folder.
pub const EXTRAS_DIR: &str = "Other";
/// Largest clip accepted (Twitch clips are at most a minute).
const MAX_CLIP_BYTES: u64 = 512 * 1024 * 1024;

pub(super) async fn place_top_clips(
    archive: &Archive,
    channel: &Channel,
    settings: &ArchiveSettings,
) -> StreamsResult<()> {
    let twitch = archive.inner.streams.twitch()?;
    let now = Timestamp::now();
    let from = now.minus(Duration::from_secs(
        u64::from(settings.clip_period_days) * 86_400,
    ));
    let clips = twitch
        .helix
        .clips(
            &channel.twitch_id,
            &from.to_rfc3339(),
            &now.to_rfc3339(),
            settings.top_clips as usize,
        )
        .await?;
    if clips.is_empty() {
        return Ok(());
    }
    let Some(folder) = extras_folder(archive, channel).await? else {
        return Ok(());
    };
    for clip in clips {
        let store = &archive.inner.store;
        let known = store.archived_clip(&channel.id, &clip.id).await?;
        if let Some(k) = &known
            && k.status == ClipStatus::Placed
            && k.path
                .as_deref()
                .is_some_and(|p| std::path::Path::new(p).is_file())
        {
            continue;
        }
        let placed = place(archive, &folder, &clip).await;
        let (status, path, bytes, error) = match placed {
            Ok((path, bytes)) => (ClipStatus::Placed, Some(path), Some(bytes), None),
            Err(e) => {
                tracing::warn!(channel = %channel.login, clip = %clip.id, error = %e, "clip not placed");
                (ClipStatus::Failed, None, None, Some(e))
            }
        };
        store
            .upsert_archived_clip(&ArchivedClip {
                id: known.map_or_else(new_id, |k| k.id),
                channel_id: channel.id.clone(),
                clip_id: clip.id.clone(),
                title: clip.title.clone(),
                view_count: clip.view_count,
                created_at: Timestamp::parse_rfc3339(&clip.created_at).unwrap_or(now),
                status,
                path,
                bytes,
                error,
                updated_at: Timestamp::now(),
            })
            .await?;
    }
    Ok(())
}

/// `<root>/<show folder>/Other`, the show folder being where the naming template puts the
/// channel's episodes; `None` without a library root.
async fn extras_folder(archive: &Archive, channel: &Channel) -> StreamsResult<Option<SafePath>> {
    let Some(roots) = archive.inner.streams.roots() else {
        return Ok(None);
    };
    let Some(root) = roots
        .roots()
        .next()
        .map(|r| r.to_string_lossy().into_owned())
    else {
        return Ok(None);
    };
    let template = match &channel.settings.naming_template {
        Some(t) => t.clone(),
        None => archive
            .inner
            .library
            .naming_template()
            .await
            .map_err(|e| StreamsError::Invalid(e.to_string()))?,
    };
    let rendered = naming::render(
        &template,
        &NamingValues {
            channel: channel.login.clone(),
            channel_name: channel.display_name.clone(),
            title: String::new(),
            category: String::new(),
            started_at: Timestamp::now(),
            episode: 1,
            recording_id: String::new(),
        },
    );
    let show = rendered.show_dir.unwrap_or_else(|| channel.login.clone());
    let files = |e: crate::files::FilesError| StreamsError::Invalid(e.to_string());
    let root = roots.resolve(&root).map_err(files)?;
    Ok(Some(
        root.join(&show)
            .and_then(|s| s.join(EXTRAS_DIR))
            .map_err(files)?,
    ))
}

/// `2026-12-01 - Title [slug].mp4`, with characters file systems dislike replaced.
fn file_name(clip: &HelixClip) -> String {
    let date = clip.created_at.get(..10).unwrap_or("clip");
    let title: String = clip
        .title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " -_.,'()!&".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let title = title.trim().trim_start_matches('.');
    format!("{date} - {title} [{}].mp4", clip.id)
}

/// Downloads the clip's MP4 into the extras folder; the path and its bytes.
async fn place(
    archive: &Archive,
    folder: &SafePath,
    clip: &HelixClip,
) -> Result<(String, u64), String> {
    let twitch = archive.inner.streams.twitch().map_err(|e| e.to_string())?;
    let url = twitch
        .playback
        .clip_video_url(&clip.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("Twitch serves no video for this clip")?;
    let response = archive
        .inner
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!(
            "the clip's video answered HTTP {}",
            response.status()
        ));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_CLIP_BYTES)
    {
        return Err("the clip's video is too large".into());
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if bytes.is_empty() {
        return Err("the clip's video is empty".into());
    }
    crate::files::create_dir_all(folder)
        .await
        .map_err(|e| e.to_string())?;
    let dest = folder.join(&file_name(clip)).map_err(|e| e.to_string())?;
    write_atomic(&dest, &bytes)
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        dest.as_path().to_string_lossy().into_owned(),
        bytes.len() as u64,
    ))
}

/// Retention of placed clips: those created on Twitch more than `keep_days` ago lose their
/// file and row (failed ones their row).
pub(super) async fn expire_clips(
    archive: &Archive,
    channel: &Channel,
    keep_days: u32,
) -> StreamsResult<()> {
    let cutoff = Timestamp::now().minus(Duration::from_secs(u64::from(keep_days) * 86_400));
    let store = archive.inner.store.as_ref();
    let roots = archive.inner.streams.roots();
    for clip in store.list_archived_clips(&channel.id).await? {
        if clip.created_at < cutoff {
            tracing::info!(channel = %channel.login, clip = %clip.clip_id, "clip past keep_clips_days deleted");
            forget_clip(store, roots.as_ref(), &clip).await?;
        }
    }
    Ok(())
}

/// The channel is deleted with its files: its placed clips go too (rows follow the channel).
pub(crate) async fn remove_channel_clips(
    store: &dyn Storage,
    roots: Option<&LibraryRoots>,
    channel_id: &str,
) -> StreamsResult<()> {
    for clip in store.list_archived_clips(channel_id).await? {
        remove_clip_file(roots, &clip).await;
    }
    Ok(())
}

async fn forget_clip(
    store: &dyn Storage,
    roots: Option<&LibraryRoots>,
    clip: &ArchivedClip,
) -> StreamsResult<()> {
    if remove_clip_file(roots, clip).await {
        store.delete_archived_clip(&clip.id).await?;
    }
    Ok(())
}

/// Removes the file the row says Tapearr placed (only inside a library root), then the
/// extras folder if that left it empty; false when the file is still there.
async fn remove_clip_file(roots: Option<&LibraryRoots>, clip: &ArchivedClip) -> bool {
    let Some(path) = clip.path.as_deref() else {
        return true;
    };
    let Some(roots) = roots else {
        tracing::warn!(clip = %clip.clip_id, "no library root: clip file kept");
        return false;
    };
    let file = match roots.resolve(path) {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(clip = %clip.clip_id, %path, error = %e, "clip file outside the library kept");
            return false;
        }
    };
    match remove_file(&file).await {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => {
            tracing::warn!(clip = %clip.clip_id, %path, error = %e, "clip file not deleted");
            return false;
        }
    }
    if let Some(dir) = file.parent() {
        let _ = remove_empty_dir(&dir).await;
    }
    true
}
