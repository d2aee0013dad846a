//! Fake Plex and Jellyfin/Emby servers that speak the real wire format (see
//! `shared/research/wire-formats.md` §4–5) and record the rescans they were asked for.
//! The Plex one also has a library ([`crate::plex_library`]): movie and show sections,
//! items with `Guid`s and files, paging, metadata and extras. Besides
//! [`FakeMediaServer::plex_add_section`] and [`FakeMediaServer::plex_add_item`], a test adds
//! them over HTTP with `POST /_control/sections` and `POST /_control/items` (as the
//! `tapearr-fakes trailers` e2e tests do). The Jellyfin one has a library too
//! ([`crate::jellyfin_library`]): libraries with folders and movies and series with provider
//! ids, paged; [`FakeMediaServer::jellyfin_add_folder`], [`FakeMediaServer::jellyfin_add_item`]
//! or `POST /_control/folders` and `POST /_control/items`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

use crate::jellyfin_library::{JellyfinItem, Library as JellyfinLibrary};
use crate::plex_library::{Library, PlexItem, PlexKind};

/// What a fake server was asked to scan: (Plex section key or "", folder).
pub type Scans = Vec<(String, String)>;

#[derive(Default)]
struct Shared {
    scans: Mutex<Scans>,
    fail_next: Mutex<u32>,
    arrived: Notify,
    /// Plex `/library/metadata/…` requests (item details and extras) so far.
    metadata_requests: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn record(&self, section: &str, folder: &str) {
        if let Ok(mut s) = self.scans.lock() {
            s.push((section.to_string(), folder.to_string()));
        }
        self.arrived.notify_waiters();
    }

    /// True when this request should fail with 500 (fault injection).
    fn should_fail(&self) -> bool {
        match self.fail_next.lock() {
            Ok(mut n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

/// A running fake media server; stops when dropped.
pub struct FakeMediaServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The Plex library (`None` for Jellyfin/Emby).
    plex: Option<Arc<Mutex<Library>>>,
    /// The Jellyfin library (`None` for Plex and Emby).
    jellyfin: Option<Arc<Mutex<JellyfinLibrary>>>,
    _shutdown: crate::serve::StopOnDrop,
}

impl FakeMediaServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn scans(&self) -> Scans {
        self.shared
            .scans
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Plex: requests for item details or extras (`/library/metadata/…`) so far.
    pub fn plex_metadata_requests(&self) -> u64 {
        self.shared
            .metadata_requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The next `n` scan requests answer 500.
    pub fn fail_next(&self, n: u32) {
        if let Ok(mut f) = self.shared.fail_next.lock() {
            *f = n;
        }
    }

    /// Plex: adds (or replaces) a section of `kind` with these root folders.
    pub fn plex_add_section(&self, key: &str, kind: PlexKind, title: &str, folders: &[&str]) {
        if let Some(lib) = &self.plex {
            lib.lock()
                .unwrap_or_else(|p| p.into_inner())
                .add_section(key, kind, title, folders);
        }
    }

    /// Plex: adds an item to section `section`; its `ratingKey`, or `None` when there is no
    /// such section (or this is not a Plex).
    pub fn plex_add_item(&self, section: &str, item: PlexItem) -> Option<String> {
        self.plex
            .as_ref()?
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add_item(section, item)
    }

    /// Jellyfin: adds (or replaces) a library of `collection_type` (`movies`, `tvshows`,
    /// `music`, …) with these folders.
    pub fn jellyfin_add_folder(&self, name: &str, collection_type: &str, locations: &[&str]) {
        if let Some(lib) = &self.jellyfin {
            lib.lock().unwrap_or_else(|p| p.into_inner()).add_folder(
                name,
                collection_type,
                locations,
            );
        }
    }

    /// Jellyfin: adds (or replaces, by id) an item; its id (`None` when this is not a Jellyfin).
    pub fn jellyfin_add_item(&self, item: JellyfinItem) -> Option<String> {
        Some(
            self.jellyfin
                .as_ref()?
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add_item(item),
        )
    }

    /// Jellyfin: `TotalRecordCount` says `drift` more items than the library holds (as when
    /// items were added while the pages were read).
    pub fn jellyfin_count_drift(&self, drift: i64) {
        if let Some(lib) = &self.jellyfin {
            lib.lock().unwrap_or_else(|p| p.into_inner()).total_drift = drift;
        }
    }

    /// Waits until `n` scans were recorded, or the timeout passes.
    pub async fn wait_for_scans(
        &self,
        n: usize,
        timeout: std::time::Duration,
    ) -> Result<Scans, Scans> {
        crate::serve::wait_until(
            &self.shared.arrived,
            timeout,
            || Some(self.scans()).filter(|s| s.len() >= n),
            || self.scans(),
        )
        .await
    }

    async fn serve(
        bind: &str,
        app: Router,
    ) -> std::io::Result<(SocketAddr, crate::serve::StopOnDrop)> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        Ok((
            addr,
            crate::serve::spawn(listener, app, "fake media server"),
        ))
    }

    /// A Plex server with `token` and movie sections `(key, title, folder)`, empty until
    /// [`Self::plex_add_item`].
    pub async fn plex(
        token: &str,
        sections: &[(&str, &str, &str)],
    ) -> std::io::Result<FakeMediaServer> {
        Self::plex_on("127.0.0.1:0", token, sections).await
    }

    /// [`Self::plex`] listening on `bind` (`127.0.0.1:0`, `0.0.0.0:0` …).
    pub async fn plex_on(
        bind: &str,
        token: &str,
        sections: &[(&str, &str, &str)],
    ) -> std::io::Result<FakeMediaServer> {
        let shared = Arc::new(Shared::default());
        let sections: Vec<(String, String, String)> = sections
            .iter()
            .map(|(k, t, f)| (k.to_string(), t.to_string(), f.to_string()))
            .collect();
        let library = Arc::new(Mutex::new(Library::new(&sections)));
        let state = PlexState {
            token: token.to_string(),
            library: library.clone(),
            shared: shared.clone(),
        };
        let app = Router::new()
            .route("/", get(plex_identity))
            .route("/library/sections", get(plex_sections))
            .route(
                "/library/sections/{key}/refresh",
                get(plex_refresh).post(plex_refresh),
            )
            .route("/library/sections/{key}/all", get(plex_all))
            .route("/library/metadata/{rk}", get(plex_metadata))
            .route("/library/metadata/{rk}/extras", get(plex_extras))
            .route("/_control/sections", post(plex_control_section))
            .route("/_control/items", post(plex_control_item))
            .with_state(Arc::new(state));
        let (addr, tx) = Self::serve(bind, app).await?;
        Ok(FakeMediaServer {
            addr,
            shared,
            plex: Some(library),
            jellyfin: None,
            _shutdown: tx,
        })
    }

    /// A Jellyfin server (or Emby with `emby`) that accepts `api_key`.
    pub async fn jellyfin(api_key: &str, emby: bool) -> std::io::Result<FakeMediaServer> {
        Self::jellyfin_on("127.0.0.1:0", api_key, emby).await
    }

    /// [`Self::jellyfin`] listening on `bind`. Jellyfin (not Emby) has an empty library until
    /// [`Self::jellyfin_add_folder`] and [`Self::jellyfin_add_item`].
    pub async fn jellyfin_on(
        bind: &str,
        api_key: &str,
        emby: bool,
    ) -> std::io::Result<FakeMediaServer> {
        let shared = Arc::new(Shared::default());
        let library = Arc::new(Mutex::new(JellyfinLibrary::default()));
        let state = JellyfinState {
            key: api_key.to_string(),
            emby,
            shared: shared.clone(),
            library: library.clone(),
        };
        let mut app = Router::new()
            .route("/System/Info/Public", get(jf_info))
            .route("/Library/Media/Updated", post(jf_updated));
        if !emby {
            app = app
                .route("/System/Info", get(jf_info_private))
                .route("/Library/VirtualFolders", get(jf_virtual_folders))
                .route("/Items", get(jf_items))
                .route("/_control/folders", post(jf_control_folder))
                .route("/_control/items", post(jf_control_item));
        }
        let (addr, tx) = Self::serve(bind, app.with_state(Arc::new(state))).await?;
        Ok(FakeMediaServer {
            addr,
            shared,
            plex: None,
            jellyfin: (!emby).then_some(library),
            _shutdown: tx,
        })
    }
}

struct PlexState {
    token: String,
    library: Arc<Mutex<Library>>,
    shared: Arc<Shared>,
}

impl PlexState {
    fn library(&self) -> std::sync::MutexGuard<'_, Library> {
        self.library.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Plex's 404 is an HTML page.
fn plex_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/html")],
        "<html>404</html>",
    )
        .into_response()
}

/// Plex answers a bad token with an HTML 401 page, never JSON.
fn plex_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "text/html")],
        "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>",
    )
        .into_response()
}

fn plex_authorized(
    state: &PlexState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> bool {
    let header = headers.get("x-plex-token").and_then(|v| v.to_str().ok());
    header.or(query.get("X-Plex-Token").map(String::as_str)) == Some(state.token.as_str())
}

async fn plex_identity(
    State(state): State<Arc<PlexState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !plex_authorized(&state, &headers, &q) {
        return plex_unauthorized();
    }
    axum::Json(json!({"MediaContainer": {
        "size": 1, "friendlyName": "fake-plex", "machineIdentifier": "0123456789abcdef",
        "version": "1.41.3.9314-a0bfb8370", "platform": "Linux", "myPlex": true,
        "Directory": [{"count": 1, "key": "library", "title": "library"}]
    }}))
    .into_response()
}

async fn plex_sections(
    State(state): State<Arc<PlexState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !plex_authorized(&state, &headers, &q) {
        return plex_unauthorized();
    }
    axum::Json(state.library().sections_json()).into_response()
}

async fn plex_all(
    State(state): State<Arc<PlexState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !plex_authorized(&state, &headers, &q) {
        return plex_unauthorized();
    }
    let page = state.library().all(&key, &headers, &q);
    page.unwrap_or_else(plex_not_found)
}

async fn plex_metadata(
    State(state): State<Arc<PlexState>>,
    Path(rk): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !plex_authorized(&state, &headers, &q) {
        return plex_unauthorized();
    }
    state
        .shared
        .metadata_requests
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let found = state.library().metadata(&rk, &q);
    found.map_or_else(plex_not_found, |v| axum::Json(v).into_response())
}

async fn plex_extras(
    State(state): State<Arc<PlexState>>,
    Path(rk): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !plex_authorized(&state, &headers, &q) {
        return plex_unauthorized();
    }
    state
        .shared
        .metadata_requests
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let found = state.library().extras(&rk);
    found.map_or_else(plex_not_found, |v| axum::Json(v).into_response())
}

async fn plex_refresh(
    State(state): State<Arc<PlexState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !plex_authorized(&state, &headers, &q) {
        return plex_unauthorized();
    }
    if state.library().section(&key).is_none() {
        return plex_not_found();
    }
    if state.shared.should_fail() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", "text/html")],
            "<html>500</html>",
        )
            .into_response();
    }
    state
        .shared
        .record(&key, q.get("path").map(String::as_str).unwrap_or(""));
    StatusCode::OK.into_response()
}

/// `POST /_control/sections`: `{"key", "type": "movie"|"show", "title", "folders": [..]}` adds
/// (or replaces) a section → 204.
#[derive(Deserialize)]
struct NewSection {
    key: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    folders: Vec<String>,
}

async fn plex_control_section(
    State(state): State<Arc<PlexState>>,
    axum::Json(n): axum::Json<NewSection>,
) -> Response {
    let kind = match n.kind.as_str() {
        "movie" => PlexKind::Movie,
        "show" => PlexKind::Show,
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unknown section type {other}"),
            )
                .into_response();
        }
    };
    let folders: Vec<&str> = n.folders.iter().map(String::as_str).collect();
    state
        .library()
        .add_section(&n.key, kind, &n.title, &folders);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_control/items`: `{"section", "title", "year", "path", "guids"?: ["tmdb://603", ..]}`
/// adds a movie (`path`: its file) or show (`path`: its folder), as the section holds →
/// `{"ratingKey"}`; 404 without that section.
#[derive(Deserialize)]
struct NewItem {
    section: String,
    title: String,
    year: i32,
    path: String,
    #[serde(default)]
    guids: Vec<String>,
}

async fn plex_control_item(
    State(state): State<Arc<PlexState>>,
    axum::Json(n): axum::Json<NewItem>,
) -> Response {
    let mut library = state.library();
    let Some(kind) = library.section(&n.section).map(|s| s.kind) else {
        return (StatusCode::NOT_FOUND, format!("no section {}", n.section)).into_response();
    };
    let mut item = match kind {
        PlexKind::Movie => PlexItem::movie(&n.title, n.year, &n.path),
        PlexKind::Show => PlexItem::show(&n.title, n.year, &n.path),
    };
    for g in &n.guids {
        item = item.guid(g);
    }
    let rating_key = library.add_item(&n.section, item);
    axum::Json(json!({ "ratingKey": rating_key })).into_response()
}

struct JellyfinState {
    key: String,
    emby: bool,
    shared: Arc<Shared>,
    library: Arc<Mutex<JellyfinLibrary>>,
}

impl JellyfinState {
    fn library(&self) -> std::sync::MutexGuard<'_, JellyfinLibrary> {
        self.library.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn authorized(&self, headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
        jf_token(headers, query).as_deref() == Some(self.key.as_str())
    }
}

/// Accepts every token form Jellyfin does: `Authorization: MediaBrowser Token="…"`,
/// `X-Emby-Authorization`, `X-Emby-Token`, `X-MediaBrowser-Token` and `ApiKey`/`api_key`.
fn jf_token(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    for name in ["authorization", "x-emby-authorization"] {
        if let Some(v) = header(name)
            && let Some(rest) = v
                .strip_prefix("MediaBrowser ")
                .or_else(|| v.strip_prefix("Emby "))
        {
            for part in rest.split(',') {
                if let Some(t) = part.trim().strip_prefix("Token=") {
                    return Some(t.trim_matches('"').to_string());
                }
            }
        }
    }
    header("x-emby-token")
        .or_else(|| header("x-mediabrowser-token"))
        .or_else(|| query.get("ApiKey").cloned())
        .or_else(|| query.get("api_key").cloned())
}

async fn jf_info(State(state): State<Arc<JellyfinState>>) -> Response {
    let mut info = json!({"LocalAddress": "http://127.0.0.1:8096", "ServerName": "fake-media",
        "Version": if state.emby { "4.8.10.0" } else { "10.11.11" },
        "Id": "f4a3c2b1d0e94f8a9b7c6d5e4f3a2b1c"});
    if !state.emby {
        info["ProductName"] = json!("Jellyfin Server");
        info["StartupWizardCompleted"] = json!(true);
    }
    axum::Json(info).into_response()
}

async fn jf_updated(
    State(state): State<Arc<JellyfinState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    if jf_token(&headers, &q).as_deref() != Some(state.key.as_str()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/problem+json")],
            r#"{"title":"One or more validation errors occurred.","status":400}"#,
        )
            .into_response();
    };
    let updates = parsed["Updates"].as_array().cloned().unwrap_or_default();
    if updates.iter().any(|u| u["Path"].is_null()) {
        return (StatusCode::BAD_REQUEST, "Error processing request.").into_response();
    }
    if !updates.is_empty() && state.shared.should_fail() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error processing request.",
        )
            .into_response();
    }
    for u in updates {
        state.shared.record("", u["Path"].as_str().unwrap_or(""));
    }
    if state.emby {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response()
}

/// `GET /System/Info` (`SystemInfo`): needs a token (401 with an empty body without one).
async fn jf_info_private(
    State(state): State<Arc<JellyfinState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !state.authorized(&headers, &q) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(
        json!({"LocalAddress": "http://127.0.0.1:8096", "ServerName": "fake-media",
        "Version": "10.11.11", "ProductName": "Jellyfin Server", "OperatingSystem": "",
        "Id": "f4a3c2b1d0e94f8a9b7c6d5e4f3a2b1c", "StartupWizardCompleted": true,
        "HasPendingRestart": false, "IsShuttingDown": false, "SupportsLibraryMonitor": true,
        "WebSocketPortNumber": 8096, "CanSelfRestart": true, "CanLaunchWebBrowser": false,
        "ProgramDataPath": "/config", "WebPath": "/jellyfin/jellyfin-web",
        "ItemsByNamePath": "/config/metadata", "CachePath": "/cache", "LogPath": "/config/log",
        "InternalMetadataPath": "/config/metadata", "TranscodingTempPath": "/cache/transcodes",
        "HasUpdateAvailable": false, "EncoderLocation": "System",
        "SystemArchitecture": "X64"}),
    )
    .into_response()
}

async fn jf_virtual_folders(
    State(state): State<Arc<JellyfinState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !state.authorized(&headers, &q) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(state.library().virtual_folders_json()).into_response()
}

async fn jf_items(
    State(state): State<Arc<JellyfinState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !state.authorized(&headers, &q) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(state.library().items_json(&q)).into_response()
}

/// `POST /_control/folders`: `{"name", "collection_type": "movies"|"tvshows"|…, "locations"}`
/// adds (or replaces) a library → 204.
#[derive(Deserialize)]
struct NewFolder {
    name: String,
    collection_type: String,
    locations: Vec<String>,
}

async fn jf_control_folder(
    State(state): State<Arc<JellyfinState>>,
    axum::Json(n): axum::Json<NewFolder>,
) -> Response {
    let locations: Vec<&str> = n.locations.iter().map(String::as_str).collect();
    state
        .library()
        .add_folder(&n.name, &n.collection_type, &locations);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_control/items`: `{"type": "Movie"|"Series", "name", "year", "path",
/// "provider_ids"?: {"Tmdb": "603"}, "local_trailers"?: 1, "remote_trailers"?: [url]}` → `{"Id"}`.
#[derive(Deserialize)]
struct NewJellyfinItem {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    year: i32,
    path: String,
    #[serde(default)]
    provider_ids: HashMap<String, String>,
    #[serde(default)]
    local_trailers: u32,
    #[serde(default)]
    remote_trailers: Vec<String>,
}

async fn jf_control_item(
    State(state): State<Arc<JellyfinState>>,
    axum::Json(n): axum::Json<NewJellyfinItem>,
) -> Response {
    let mut item = match n.kind.as_str() {
        "Movie" => JellyfinItem::movie(&n.name, n.year, &n.path),
        "Series" => JellyfinItem::series(&n.name, n.year, &n.path),
        other => {
            return (StatusCode::BAD_REQUEST, format!("unknown type {other}")).into_response();
        }
    };
    for (k, v) in n.provider_ids {
        item = item.provider(&k, &v);
    }
    for u in &n.remote_trailers {
        item = item.remote_trailer(u);
    }
    item = item.local_trailers(n.local_trailers);
    let id = state.library().add_item(item);
    axum::Json(json!({ "Id": id })).into_response()
}
