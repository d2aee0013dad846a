//! Library sync (T2): the whole Arr (or Plex) library, parsed as a stream, applied as inserts and
//! updates of changed items only; removals happen only after a complete, successful pull
//! that returned items, so an Arr answering `[]` or failing midway deletes nothing.

pub mod connections;
pub mod mapping;
mod source;

use source::SourceItem;

use crate::ids::new_id;
use crate::time::Timestamp;
use crate::trailers::error::TrailerResult;
use crate::trailers::model::{
    Connection, ConnectionKind, MediaItem, MediaKind, MediaSeason, SyncOutcome,
};
use crate::trailers::service::Trailers;
use crate::trailers::sync::mapping::to_local;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tapearr_integrations::arr::{ArrItem, SkippedItem, fnv1a64};

/// At most this many skipped items are reported back (all are logged).
const SKIPPED_REPORTED: usize = 50;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    pub connection_id: String,
    pub items: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub skipped: usize,
    /// Why items were skipped (the first 50).
    pub skipped_reasons: Vec<String>,
}

impl Trailers {
    /// Syncs every enabled connection; one failing connection does not stop the others.
    pub async fn sync_all(&self) -> Vec<(String, Result<SyncReport, String>)> {
        let Ok(conns) = self.store().arr_connections().await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for conn in conns.into_iter().filter(|c| c.enabled) {
            let result = self
                .sync_connection(&conn.id)
                .await
                .map_err(|e| e.to_string());
            out.push((conn.name, result));
        }
        out
    }

    pub async fn sync_connection(&self, id: &str) -> TrailerResult<SyncReport> {
        let conn = self.connection(id).await?;
        let started = Timestamp::now();
        let result = self.pull_and_apply(&conn).await;
        let outcome = SyncOutcome {
            at: started,
            items: result.as_ref().ok().map(|r| r.items as i64),
            error: result.as_ref().err().map(ToString::to_string),
        };
        self.store().record_arr_sync(&conn.id, &outcome).await?;
        match &result {
            Ok(r) => tracing::info!(
                connection = %conn.name, items = r.items, added = r.added, updated = r.updated,
                removed = r.removed, skipped = r.skipped, "trailer library synced"
            ),
            Err(e) => {
                tracing::warn!(connection = %conn.name, error = %e, "trailer library sync failed; nothing removed")
            }
        }
        result
    }

    async fn pull_and_apply(&self, conn: &Connection) -> TrailerResult<SyncReport> {
        let client = self.client(conn)?;
        // Asking Plex costs one request per item: only when a profile would use the answer.
        let ask_server = self
            .store()
            .trailer_profiles()
            .await?
            .iter()
            .any(|p| p.enabled && p.search.skip_if_server_has_trailer);
        let tags: HashMap<i64, String> = client.tags().await?.into_iter().collect();
        let mut items: Vec<SourceItem> = Vec::new();
        let mut skipped: Vec<SkippedItem> = Vec::new();
        let summary = client
            .library(conn.kind, ask_server, |r| match r {
                Ok(item) => items.push(item),
                Err(s) => skipped.push(s),
            })
            .await?;
        for s in &skipped {
            tracing::warn!(
                connection = %conn.name, index = s.index, arr_id = ?s.arr_id,
                title = ?s.title, reason = %s.reason, "skipped a malformed library item"
            );
        }

        let known = self.store().media_fingerprints(&conn.id).await?;
        let now = Timestamp::now();
        let mut report = SyncReport {
            connection_id: conn.id.clone(),
            items: summary.items,
            skipped: skipped.len(),
            skipped_reasons: skipped
                .iter()
                .take(SKIPPED_REPORTED)
                .map(describe_skip)
                .collect(),
            ..SyncReport::default()
        };
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        let mut seen = HashSet::with_capacity(items.len());
        for SourceItem {
            kind,
            item,
            server_trailer,
        } in items
        {
            if !seen.insert(item.ext_id) {
                continue; // The same movie twice in one Arr: the first wins.
            }
            let folder = to_local(&item.path, &conn.path_mappings);
            // Plex's extras are not part of the item's JSON: the answer joins the fingerprint.
            let server_trailer = server_trailer
                .unwrap_or(false)
                .then(|| server_name(conn.kind).to_string());
            let fingerprint = fingerprint(
                item.fingerprint ^ u64::from(server_trailer.is_some()),
                &folder,
            );
            let mut media = to_media(conn, kind, item, &tags, folder, now);
            media.server_trailer = server_trailer;
            match known.get(&media.ext_id) {
                None => inserts.push((media, fingerprint)),
                Some((_, _, stored)) if *stored == fingerprint => report.unchanged += 1,
                Some((id, _, _)) => updates.push((
                    MediaItem {
                        id: id.clone(),
                        ..media
                    },
                    fingerprint,
                )),
            }
        }
        report.added = inserts.len();
        report.updated = updates.len();
        self.store().upsert_media(&inserts, &updates).await?;

        // Deletion safety: an empty pull removes nothing, and an item that was only skipped
        // (malformed this time) is kept.
        if !seen.is_empty() {
            let skipped_arr_ids: HashSet<i64> = skipped.iter().filter_map(|s| s.arr_id).collect();
            let gone: Vec<String> = known
                .iter()
                .filter(|(ext, (_, arr_id, _))| {
                    !seen.contains(ext) && !skipped_arr_ids.contains(arr_id)
                })
                .map(|(_, (id, _, _))| id.clone())
                .collect();
            report.removed = gone.len();
            self.store().delete_media(&gone).await?;
        }
        Ok(report)
    }
}

/// How the plan names the server that already has a trailer.
fn server_name(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Plex => "Plex",
        ConnectionKind::Jellyfin => "Jellyfin",
        ConnectionKind::Radarr => "Radarr",
        ConnectionKind::Sonarr => "Sonarr",
    }
}

fn describe_skip(s: &SkippedItem) -> String {
    let who = match (&s.title, s.arr_id) {
        (Some(t), _) => format!("`{t}`"),
        (None, Some(id)) => format!("id {id}"),
        (None, None) => format!("item #{}", s.index),
    };
    format!("{who}: {}", s.reason)
}

/// The Arr's item hash plus the mapped folder, so a changed path mapping updates items too.
fn fingerprint(item_hash: u64, folder: &str) -> String {
    format!("{item_hash:016x}{:016x}", fnv1a64(folder.as_bytes()))
}

fn to_media(
    conn: &Connection,
    kind: MediaKind,
    item: ArrItem,
    tags: &HashMap<i64, String>,
    folder: String,
    now: Timestamp,
) -> MediaItem {
    MediaItem {
        id: new_id(),
        connection_id: conn.id.clone(),
        kind,
        arr_id: item.arr_id,
        ext_id: item.ext_id,
        tmdb_id: item.tmdb_id,
        imdb_id: item.imdb_id,
        title: item.title,
        original_title: item.original_title,
        year: item.year,
        language: item.language,
        studio: item.studio,
        overview: item.overview,
        runtime_min: item.runtime_min,
        tags: item
            .tag_ids
            .iter()
            .filter_map(|id| tags.get(id).cloned())
            .collect(),
        media_files: item
            .media_files
            .iter()
            .map(|f| to_local(f, &conn.path_mappings))
            .collect(),
        folder,
        has_file: item.has_file,
        arr_monitored: item.monitored,
        monitor: conn.monitor_new,
        arr_trailer_id: item.trailer_id,
        trailer_id_override: None,
        poster_url: item.poster_url,
        fanart_url: item.fanart_url,
        server_trailer: None,
        seasons: item
            .seasons
            .iter()
            .map(|s| MediaSeason {
                number: s.number,
                monitored: s.monitored,
            })
            .collect(),
        added_at: now,

        updated_at: now,
    }
}
