//! Chapters of a VOD whose broadcast Tapearr did not see live: the video's moments (its game
//! changes, from Twitch's player) become the stream's category-change events, so finalize
//! makes chapters named after the games, as it does from events stored while recording.
//!
//! Idempotent: each moment's event has an id made of the stream and the position, and events
//! already there are not added again (a process killed halfway adds the rest next time).

use crate::storage::Storage;
use crate::streams::model::{Recording, RecordingSource, StreamEvent, StreamEventKind};
use std::time::Duration;
use tapearr_integrations::twitch::PlaybackClient;

/// Event ids of moments. They sort after UUIDs (which start with a hex digit), so a moment at
/// the very start wins over the synthetic start event at the same instant.
const ID_PREFIX: &str = "moment-";

fn event_id(stream_id: &str, position_ms: u64) -> String {
    format!("{ID_PREFIX}{stream_id}-{position_ms}")
}

/// Adds the moments of `rec`'s video as events of its stream; the number added. Nothing when
/// Tapearr recorded the broadcast live or stored other events for it (those are the truth).
pub(crate) async fn apply(
    store: &dyn Storage,
    playback: &PlaybackClient,
    rec: &Recording,
    video_id: &str,
) -> Result<usize, String> {
    let Some(stream_id) = rec.stream_id.as_deref() else {
        return Ok(0);
    };
    let storage = |e: crate::storage::StorageError| e.to_string();
    let recorded_live = store
        .recordings_of_stream(stream_id)
        .await
        .map_err(storage)?
        .iter()
        .any(|r| r.origin.source == RecordingSource::Live);
    let events = store.list_stream_events(stream_id).await.map_err(storage)?;
    let ours = |e: &StreamEvent| e.kind == StreamEventKind::Start || e.id.starts_with(ID_PREFIX);
    if recorded_live || !events.iter().all(ours) {
        return Ok(0);
    }
    let Some(moments) = playback
        .video_moments(video_id)
        .await
        .map_err(|e| format!("Twitch did not give the video's moments: {e}"))?
    else {
        return Ok(0);
    };
    let title = events
        .iter()
        .find(|e| e.kind == StreamEventKind::Start)
        .map(|e| e.title.clone())
        .unwrap_or_else(|| rec.labels.title.clone());
    let mut added = 0;
    for m in moments
        .iter()
        .filter(|m| m.kind == "GAME_CHANGE" && !m.game.trim().is_empty())
    {
        let id = event_id(stream_id, m.position_ms);
        if events.iter().any(|e| e.id == id) {
            continue;
        }
        store
            .insert_stream_event(&StreamEvent {
                id,
                stream_id: stream_id.to_string(),
                kind: StreamEventKind::Update,
                title: title.clone(),
                category: m.game.trim().to_string(),
                at: rec.started_at.plus(Duration::from_millis(m.position_ms)),
            })
            .await
            .map_err(storage)?;
        added += 1;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moment_ids_sort_after_uuids() {
        let uuid = crate::ids::new_id();
        assert!(event_id(&uuid, 0) > uuid, "{uuid}");
        assert!(event_id("s", 5_000) != event_id("s", 6_000));
    }
}
