//! Plans the snapshot against Tapearr's storage and, unless it is a dry run, writes it.

use super::profile::map_profile;
use super::{Snapshot, SourceConnection, SourceMedia};
use crate::crypto::SecretBox;
use crate::ids::new_id;
use crate::import::{ImportError, ImportReport, source_key};
use crate::secret::Secret;
use crate::storage::Storage;
use crate::time::Timestamp;
use crate::trailers::model::{
    ArrPathMapping, Connection, ConnectionKind, MediaItem, MediaKind, Profile,
};
use crate::trailers::plan::profiles::validate;
use std::collections::{HashMap, HashSet};
use std::path::Path;

const APP: &str = "trailarr";

/// Imports `snap`: connections, profiles, media (monitor flags, trailer ids) and history.
pub async fn import(
    store: &dyn Storage,
    secrets: &SecretBox,
    snap: &Snapshot,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    let connections = connections(store, secrets, snap, dry_run, &mut report).await?;
    let profiles = profiles(store, snap, dry_run, &mut report).await?;
    media(store, snap, &connections, &profiles, dry_run, &mut report).await?;
    Ok(report)
}

/// Where a source connection's media go: its Tapearr id, and whether it exists already.
struct Target {
    id: String,
    name: String,
    kind: ConnectionKind,
    existed: bool,
}

async fn connections(
    store: &dyn Storage,
    secrets: &SecretBox,
    snap: &Snapshot,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<HashMap<i64, Target>, ImportError> {
    let existing = store.arr_connections().await?;
    let mut out = HashMap::new();
    let mut names_seen: HashMap<String, i64> = HashMap::new();
    for c in &snap.connections {
        let name = c.name.trim().to_string();
        let key = source_key(APP, "connection", c.id);
        if let Some(id) = store.app_value(&key).await? {
            match existing.iter().find(|e| e.id == id) {
                Some(e) => {
                    report.unchanged("connection", &name);
                    out.insert(c.id, target(e, true));
                }
                None => report.skipped(
                    "connection",
                    &name,
                    "imported before and deleted in Tapearr since",
                ),
            }
            continue;
        }
        let Some(kind) = arr_kind(&c.arr_type) else {
            report.skipped(
                "connection",
                &name,
                format!("unknown type {:?}", c.arr_type),
            );
            continue;
        };
        if let Some(first) = names_seen.get(&name.to_lowercase()) {
            report.skipped(
                "connection",
                &name,
                format!("duplicate of connection #{first}"),
            );
            continue;
        }
        names_seen.insert(name.to_lowercase(), c.id);
        if existing.iter().any(|e| e.name.eq_ignore_ascii_case(&name)) {
            report.skipped("connection", &name, "Tapearr has a connection of that name");
            continue;
        }
        if c.api_key.expose().trim().is_empty() || url::Url::parse(c.url.trim()).is_err() {
            report.skipped("connection", &name, "no API key or no valid URL");
            continue;
        }
        let conn = new_connection(secrets, c, &name, kind, snap);
        let monitor = monitor_note(&c.monitor);
        report.created(
            "connection",
            &name,
            Some(format!(
                "{} at {}, {} path mapping(s){monitor}",
                kind.as_str(),
                conn.url,
                conn.path_mappings.len()
            )),
        );
        if !dry_run {
            store.insert_arr_connection(&conn).await?;
            store.set_app_value(&key, Some(&conn.id)).await?;
        }
        out.insert(c.id, target(&conn, false));
    }
    Ok(out)
}

fn target(c: &Connection, existed: bool) -> Target {
    Target {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind,
        existed,
    }
}

fn arr_kind(t: &str) -> Option<ConnectionKind> {
    match t.trim().to_ascii_lowercase().as_str() {
        "radarr" => Some(ConnectionKind::Radarr),
        "sonarr" => Some(ConnectionKind::Sonarr),
        _ => None,
    }
}

/// Trailarr's monitor mode → Tapearr's `monitor_new`: only `none` starts new items unmonitored.
fn monitors_new(mode: &str) -> bool {
    !mode.to_ascii_lowercase().ends_with("none")
}

fn monitor_note(mode: &str) -> String {
    let m = mode.to_ascii_lowercase();
    if m.ends_with("sync") {
        "; monitor mode \"sync\" becomes \"new items monitored\"".into()
    } else if m.ends_with("missing") {
        "; monitor mode \"missing\" becomes \"new items monitored\"".into()
    } else {
        String::new()
    }
}

fn new_connection(
    secrets: &SecretBox,
    c: &SourceConnection,
    name: &str,
    kind: ConnectionKind,
    snap: &Snapshot,
) -> Connection {
    let now = Timestamp::now();
    let path_mappings = snap
        .path_mappings
        .iter()
        .filter(|m| m.connection_id == Some(c.id))
        .filter(|m| !m.path_from.trim().is_empty() && !m.path_to.trim().is_empty())
        .map(|m| ArrPathMapping {
            remote: m.path_from.trim().to_string(),
            local: m.path_to.trim().to_string(),
        })
        .collect();
    Connection {
        id: new_id(),
        name: name.to_string(),
        kind,
        url: c.url.trim().trim_end_matches('/').to_string(),
        // Re-sealed with this instance's key: never stored as Trailarr kept it (plain text).
        api_key: Secret::new(secrets.seal(c.api_key.expose().trim())),
        path_mappings,
        monitor_new: monitors_new(&c.monitor),
        enabled: true,
        last_sync_at: None,
        last_sync_error: None,
        last_sync_items: None,
        created_at: now,
        updated_at: now,
    }
}

async fn profiles(
    store: &dyn Storage,
    snap: &Snapshot,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<HashMap<i64, String>, ImportError> {
    let existing = store.trailer_profiles().await?;
    let mut taken: HashSet<String> = existing.iter().map(|p| p.name.to_lowercase()).collect();
    let mut out = HashMap::new();
    for p in &snap.profiles {
        let source_name = p
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or_else(|| format!("Trailarr profile {}", p.id), str::to_string);
        let key = source_key(APP, "profile", p.id);
        if let Some(id) = store.app_value(&key).await? {
            if existing.iter().any(|e| e.id == id) {
                report.unchanged("profile", &source_name);
                out.insert(p.id, id);
            } else {
                report.skipped(
                    "profile",
                    &source_name,
                    "imported before and deleted in Tapearr since",
                );
            }
            continue;
        }
        let mut name = source_name.clone();
        if taken.contains(&name.to_lowercase()) {
            name = format!("{source_name} (Trailarr)");
        }
        let (input, lost) = map_profile(p, name.clone());
        if let Err(e) = validate(&input) {
            report.skipped("profile", &source_name, e.to_string());
            continue;
        }
        taken.insert(name.to_lowercase());
        for what in lost {
            report.not_mapped("profile", &name, what);
        }
        report.created("profile", &name, None);
        let now = Timestamp::now();
        let profile = Profile {
            id: new_id(),
            name: input.name,
            enabled: input.enabled,
            priority: input.priority,
            filters: input.filters,
            search: input.search,
            output: input.output,
            created_at: now,
            updated_at: now,
        };
        if !dry_run {
            store.insert_trailer_profile(&profile).await?;
            store.set_app_value(&key, Some(&profile.id)).await?;
        }
        out.insert(p.id, profile.id);
    }
    Ok(out)
}

async fn media(
    store: &dyn Storage,
    snap: &Snapshot,
    targets: &HashMap<i64, Target>,
    profiles: &HashMap<i64, String>,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    for (source_conn, target) in sorted(targets) {
        let in_tapearr = if target.existed {
            store.media_fingerprints(&target.id).await?
        } else {
            HashMap::new()
        };
        let mut seen: HashMap<i64, i64> = HashMap::new();
        let mut inserts = Vec::new();
        let mut history = Vec::new();
        let (mut unchanged, mut monitored, mut overrides) = (0usize, 0usize, 0usize);
        for m in snap.media.iter().filter(|m| m.connection_id == source_conn) {
            let Some(ext_id) = m.txdb_id.trim().parse::<i64>().ok().filter(|v| *v > 0) else {
                report.skipped("media", &m.title, "no TMDB/TVDB id");
                continue;
            };
            if let Some(first) = seen.get(&ext_id) {
                report.skipped(
                    "media",
                    &m.title,
                    format!("duplicate of media #{first} (same id {ext_id})"),
                );
                continue;
            }
            seen.insert(ext_id, m.id);
            if in_tapearr.contains_key(&ext_id) {
                unchanged += 1;
                continue;
            }
            let Some(folder) = m
                .folder_path
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty())
            else {
                report.skipped("media", &m.title, "Trailarr has no folder for it");
                continue;
            };
            let item = media_item(m, target, ext_id, folder);
            monitored += usize::from(item.monitor);
            overrides += usize::from(item.trailer_id_override.is_some());
            history.extend(downloads_of(snap, m, &item, profiles, report));
            // An empty fingerprint: the next sync refreshes every field from the Arr.
            inserts.push((item, String::new()));
        }
        if unchanged > 0 {
            report.unchanged("media", &format!("{unchanged} item(s) of {}", target.name));
        }
        if !inserts.is_empty() {
            report.created(
                "media",
                &format!("{} item(s) of {}", inserts.len(), target.name),
                Some(format!(
                    "{monitored} monitored, {overrides} with a trailer id"
                )),
            );
        }
        if !dry_run && !inserts.is_empty() {
            store.upsert_media(&inserts, &[]).await?;
            for (media_id, profile_id, message, at) in history {
                store
                    .add_media_event(&media_id, profile_id.as_deref(), "imported", &message, at)
                    .await?;
            }
        }
    }
    Ok(())
}

fn sorted(targets: &HashMap<i64, Target>) -> Vec<(i64, &Target)> {
    let mut v: Vec<(i64, &Target)> = targets.iter().map(|(k, t)| (*k, t)).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

fn media_item(m: &SourceMedia, target: &Target, ext_id: i64, folder: &str) -> MediaItem {
    let now = Timestamp::now();
    let kind = match target.kind {
        ConnectionKind::Sonarr => MediaKind::Series,
        _ if !m.is_movie => MediaKind::Series,
        _ => MediaKind::Movie,
    };
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    MediaItem {
        id: new_id(),
        connection_id: target.id.clone(),
        kind,
        arr_id: m.arr_id,
        ext_id,
        tmdb_id: (kind == MediaKind::Movie).then_some(ext_id),
        imdb_id: clean(&m.imdb_id),
        title: m.title.trim().to_string(),
        original_title: None,
        year: m
            .year
            .and_then(|y| i32::try_from(y).ok())
            .filter(|y| *y > 0),
        language: clean(&m.language),
        studio: None,
        overview: clean(&m.overview),
        runtime_min: m
            .runtime
            .and_then(|r| i32::try_from(r).ok())
            .filter(|r| *r > 0),
        tags: Vec::new(),
        folder: folder.to_string(),
        media_files: Vec::new(),
        has_file: true,
        arr_monitored: m.arr_monitored,
        monitor: m.monitor,
        arr_trailer_id: None,
        // Trailarr downloads the id it stores, whoever set it: kept as the user's choice.
        trailer_id_override: clean(&m.youtube_trailer_id),
        poster_url: clean(&m.poster_url),
        fanart_url: clean(&m.fanart_url),
        server_trailer: None,
        seasons: Vec::new(),
        added_at: now,
        updated_at: now,
    }
}

type History = (String, Option<String>, String, Timestamp);

/// The item's Trailarr downloads as history lines; a trailer still on disk is claimed by the
/// next scan (not downloaded again), one that is gone is listed.
fn downloads_of(
    snap: &Snapshot,
    m: &SourceMedia,
    item: &MediaItem,
    profiles: &HashMap<i64, String>,
    report: &mut ImportReport,
) -> Vec<History> {
    let mut out = Vec::new();
    for d in snap.downloads.iter().filter(|d| d.media_id == m.id) {
        let file = Path::new(d.path.trim()).join(d.file_name.trim());
        let file = if d.file_name.trim().is_empty() {
            Path::new(d.path.trim()).to_path_buf()
        } else {
            file
        };
        let on_disk = d.file_exists && file.is_file();
        let message = format!(
            "Trailarr downloaded {} as {}{}",
            d.youtube_id,
            file.display(),
            if on_disk { "" } else { " (no longer on disk)" }
        );
        if !on_disk {
            report.skipped(
                "trailer",
                &item.title,
                format!(
                    "{} is not on disk: history kept, the next run looks for one",
                    file.display()
                ),
            );
        }
        out.push((
            item.id.clone(),
            profiles.get(&d.profile_id).cloned(),
            message,
            d.added_at.unwrap_or_else(Timestamp::now),
        ));
    }
    out
}
