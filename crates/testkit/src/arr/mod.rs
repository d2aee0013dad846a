//! What the fake Radarr and Sonarr share: API-key auth as the Arrs check it, their error
//! bodies, `system/status`, `rootfolder` and `tag`, the whole-library list streamed as one
//! JSON array straight from the stored items (no second copy of the library), and the faults
//! a sync must survive. See `shared/research/wire-formats.md` §1–2.
//!
//! [`crate::radarr::FakeRadarr`] and [`crate::sonarr::FakeSonarr`] are the public faces.

pub mod names;
pub(crate) mod rng;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// A JSON field that may be absent, `null`, or a value. The Arrs omit null properties
/// (`WhenWritingNull`), so [`Opt::Missing`] is what they really send; [`Opt::Null`] is for
/// parsers that must also take an explicit `null` (older builds, proxies, hand-made data).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Opt<T> {
    #[default]
    Missing,
    Null,
    Some(T),
}

impl<T> Opt<T> {
    pub fn is_missing(&self) -> bool {
        matches!(self, Opt::Missing)
    }

    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Opt::Some(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Opt<T> {
    fn from(v: T) -> Self {
        Opt::Some(v)
    }
}

impl From<&str> for Opt<String> {
    fn from(v: &str) -> Self {
        Opt::Some(v.to_owned())
    }
}

impl<T: Serialize> Serialize for Opt<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Opt::Some(v) => v.serialize(s),
            _ => s.serialize_none(),
        }
    }
}

/// What goes wrong with the next (or every) whole-library request. The status line is sent
/// before the body, so a failure mid-stream cannot turn into a 500: it is either a dropped
/// connection ([`ArrFault::AbortAfter`]) or a body that ends early ([`ArrFault::TruncateAfter`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ArrFault {
    /// 500 with the Arrs' `{"message","description"}` body, nothing streamed.
    ServerError,
    /// 200 `[]` (an Arr whose database came back empty).
    Empty,
    /// 200, `n` whole items and half of the next, then the connection is dropped without
    /// ending the chunked body: the client sees a transport error mid-body.
    AbortAfter(usize),
    /// 200, `n` whole items and half of the next, then the body ends cleanly: the client sees
    /// a complete HTTP response whose JSON is cut off.
    TruncateAfter(usize),
    /// The item at `index` (0-based position in the list) is written broken.
    Malformed { index: usize, kind: Malformed },
    /// Waits this long before answering (timeouts).
    Delay(Duration),
}

/// How [`ArrFault::Malformed`] breaks one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Malformed {
    /// The external id (`tmdbId` for movies, `tvdbId` for series) as a string: `"603"`.
    IdAsString,
    /// The object has no `title` key.
    MissingTitle,
    /// `year` is a string and `monitored` a number.
    WrongTypes,
    /// A bare string where the object should be.
    NotAnObject,
    /// This JSON instead of the item.
    Raw(Value),
}

impl Malformed {
    fn apply(&self, mut item: Value, id_key: &str) -> Value {
        match self {
            Malformed::IdAsString => {
                if let Some(v) = item.get_mut(id_key) {
                    *v = Value::String(v.to_string());
                }
                item
            }
            Malformed::MissingTitle => {
                if let Some(o) = item.as_object_mut() {
                    o.remove("title");
                }
                item
            }
            Malformed::WrongTypes => {
                if let Some(v) = item.get_mut("year") {
                    *v = Value::String(v.to_string());
                }
                if let Some(v) = item.get_mut("monitored") {
                    *v = json!(1);
                }
                item
            }
            Malformed::NotAnObject => Value::String("malformed item".into()),
            Malformed::Raw(v) => v.clone(),
        }
    }
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct ArrConfig {
    pub bind: String,
    pub api_key: String,
    /// `system/status` version, e.g. `5.28.0.10274`; its major number picks the wire shape.
    pub version: String,
    /// Like Radarr's `urlBase` setting (`""` or `/radarr`): every route lives under it.
    pub url_base: String,
    /// `rootfolder` paths; generated items are spread over them.
    pub root_folders: Vec<String>,
    /// Base of `images[].remoteUrl` (TMDB's `https://image.tmdb.org/t/p`; a [`crate::tmdb`]
    /// fake's `image_base()` keeps posters local).
    pub image_base: String,
    /// Indented JSON like the real Arrs (about 40% more bytes); `false` writes compact JSON.
    pub indented: bool,
}

/// Counters of one fake Arr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArrStats {
    /// Every request that reached the fake.
    pub requests: u64,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Whole-library list requests that were answered (any outcome).
    pub list_requests: u64,
    /// List bodies streamed to their end (faults included).
    pub lists_completed: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    unauthorized: AtomicU64,
    list_requests: AtomicU64,
    lists_completed: AtomicU64,
}

#[derive(Default)]
struct Faults {
    once: VecDeque<ArrFault>,
    sticky: Option<ArrFault>,
}

/// What an item needs to know to write itself as the Arr would.
#[derive(Debug, Clone)]
pub(crate) struct WireCtx {
    /// Major version from `system/status` (3, 4, 5 …).
    pub major: u32,
    pub url_base: String,
    pub image_base: String,
    pub indented: bool,
}

/// An item of an Arr's library (a movie or a series).
pub(crate) trait ArrItem: Clone + Send + Sync + 'static {
    /// Name of the external id key the malformed fault breaks (`tmdbId`, `tvdbId`).
    const ID_KEY: &'static str;
    /// Noun for 404 messages (`Movie`, `Series`).
    const NOUN: &'static str;
    fn id(&self) -> i32;
    fn set_id(&mut self, id: i32);
    /// The external id the list endpoint filters on (`?tmdbId=`, `?tvdbId=`).
    fn external_id(&self) -> i32;
    fn write(&self, ctx: &WireCtx, out: &mut Vec<u8>) -> serde_json::Result<()>;
    fn to_value(&self, ctx: &WireCtx) -> Value;
}

/// The state behind one fake Arr.
pub(crate) struct Core<T> {
    pub cfg: ArrConfig,
    pub ctx: WireCtx,
    /// Cloned (an `Arc` bump) by each list request, so a request streams a snapshot while
    /// edits copy-on-write; the library itself is never held twice unless edited mid-stream.
    items: RwLock<Arc<Vec<T>>>,
    next_id: Mutex<i32>,
    faults: Mutex<Faults>,
    counters: Counters,
    pub tags: Mutex<Vec<(i32, String)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock only happens in a failing test; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T: ArrItem> Core<T> {
    pub fn new(cfg: ArrConfig) -> Self {
        let major = cfg
            .version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(5);
        let ctx = WireCtx {
            major,
            url_base: cfg.url_base.trim_end_matches('/').to_owned(),
            image_base: cfg.image_base.trim_end_matches('/').to_owned(),
            indented: cfg.indented,
        };
        Self {
            cfg,
            ctx,
            items: RwLock::new(Arc::new(Vec::new())),
            next_id: Mutex::new(1),
            faults: Mutex::default(),
            counters: Counters::default(),
            tags: Mutex::default(),
        }
    }

    pub fn snapshot(&self) -> Arc<Vec<T>> {
        self.items.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn edit<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        let mut guard = self.items.write().unwrap_or_else(|p| p.into_inner());
        f(Arc::make_mut(&mut guard))
    }

    /// Adds items, giving each with id 0 the next free id; returns the ids.
    pub fn add(&self, items: impl IntoIterator<Item = T>) -> Vec<i32> {
        let mut next = lock(&self.next_id);
        self.edit(|list| {
            items
                .into_iter()
                .map(|mut item| {
                    if item.id() <= 0 {
                        item.set_id(*next);
                    }
                    *next = (*next).max(item.id() + 1);
                    let id = item.id();
                    list.push(item);
                    id
                })
                .collect()
        })
    }

    pub fn remove(&self, id: i32) -> bool {
        self.edit(|list| {
            let before = list.len();
            list.retain(|i| i.id() != id);
            list.len() != before
        })
    }

    pub fn update(&self, id: i32, f: impl FnOnce(&mut T)) -> bool {
        self.edit(|list| list.iter_mut().find(|i| i.id() == id).map(f).is_some())
    }

    pub fn clear(&self) {
        self.edit(Vec::clear);
    }

    pub fn get(&self, id: i32) -> Option<T> {
        self.snapshot().iter().find(|i| i.id() == id).cloned()
    }

    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    pub fn set_fault(&self, fault: Option<ArrFault>) {
        lock(&self.faults).sticky = fault;
    }

    pub fn fault_once(&self, fault: ArrFault) {
        lock(&self.faults).once.push_back(fault);
    }

    pub fn clear_faults(&self) {
        *lock(&self.faults) = Faults::default();
    }

    fn take_fault(&self) -> Option<ArrFault> {
        let mut f = lock(&self.faults);
        f.once.pop_front().or_else(|| f.sticky.clone())
    }

    pub fn stats(&self) -> ArrStats {
        let c = &self.counters;
        ArrStats {
            requests: c.requests.load(Ordering::Relaxed),
            unauthorized: c.unauthorized.load(Ordering::Relaxed),
            list_requests: c.list_requests.load(Ordering::Relaxed),
            lists_completed: c.lists_completed.load(Ordering::Relaxed),
        }
    }

    /// Counts the request and checks the key the way the Arrs do: `?apikey=`, then
    /// `X-Api-Key`, then `Authorization: Bearer`. `Some` is the empty-bodied 401 to send.
    pub fn refuse(&self, headers: &HeaderMap, query: &HashMap<String, String>) -> Option<Response> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let given = query
            .get("apikey")
            .map(String::as_str)
            .or_else(|| header("x-api-key"))
            .or_else(|| header("authorization").and_then(|v| v.strip_prefix("Bearer ")));
        if given == Some(self.cfg.api_key.as_str()) {
            None
        } else {
            self.counters.unauthorized.fetch_add(1, Ordering::Relaxed);
            Some(StatusCode::UNAUTHORIZED.into_response())
        }
    }

    /// `GET …/{id}`: the item or the Arrs' 404 body.
    pub fn one(&self, id: &str) -> Response {
        let found = id.parse::<i32>().ok().and_then(|id| self.get(id));
        match found {
            Some(item) => Json(item.to_value(&self.ctx)).into_response(),
            None => {
                let message = format!("{} with ID {id} does not exist", T::NOUN);
                let description = format!(
                    "NzbDrone.Core.Datastore.ModelNotFoundException: {message}\n   at NzbDrone.Core.Datastore.BasicRepository`1.Get(Int32 id)"
                );
                error_body(StatusCode::NOT_FOUND, &message, &description)
            }
        }
    }

    /// `GET /api/v3/movie` or `/series`: the whole library as one streamed array, with the
    /// external-id filter (`filter`) and the pending fault applied.
    pub async fn list(self: &Arc<Self>, filter: Option<i32>) -> Response {
        self.counters.list_requests.fetch_add(1, Ordering::Relaxed);
        let fault = self.take_fault();
        if let Some(ArrFault::Delay(d)) = &fault {
            tokio::time::sleep(*d).await;
        }
        let items = self.snapshot();
        let body = match fault {
            Some(ArrFault::ServerError) => {
                self.counters
                    .lists_completed
                    .fetch_add(1, Ordering::Relaxed);
                return error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "database is locked\ndatabase is locked",
                    "code = Busy (5), message = System.Data.SQLite.SQLiteException (0x800007AF): database is locked",
                );
            }
            Some(ArrFault::Empty) => {
                self.counters
                    .lists_completed
                    .fetch_add(1, Ordering::Relaxed);
                return json_response(Body::from("[]"));
            }
            other => ListStream {
                core: self.clone(),
                items,
                filter,
                pos: 0,
                first: true,
                end: match other {
                    Some(ArrFault::AbortAfter(n)) => End::Abort(n),
                    Some(ArrFault::TruncateAfter(n)) => End::Truncate(n),
                    _ => End::Whole,
                },
                malformed: match other {
                    Some(ArrFault::Malformed { index, kind }) => Some((index, kind)),
                    _ => None,
                },
                phase: Phase::Items,
            },
        };
        json_response(Body::from_stream(futures_util::stream::unfold(
            body,
            |mut s| async move {
                if s.phase == Phase::AbortPending {
                    // Pending first, so hyper flushes what was written before the drop.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                s.next_chunk().map(|chunk| (chunk, s))
            },
        )))
    }
}

fn json_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The Arrs' `ErrorModel`: `{"message": …, "description": …}`.
pub(crate) fn error_body(status: StatusCode, message: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"message": message, "description": description})),
    )
        .into_response()
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    Whole,
    Abort(usize),
    Truncate(usize),
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Items,
    /// The bytes before the cut went out; the next poll fails the body.
    AbortPending,
    Done,
}

/// Writes the array a chunk (about 256 KiB) at a time from the shared snapshot.
struct ListStream<T> {
    core: Arc<Core<T>>,
    items: Arc<Vec<T>>,
    filter: Option<i32>,
    pos: usize,
    first: bool,
    end: End,
    malformed: Option<(usize, Malformed)>,
    phase: Phase,
}

const CHUNK: usize = 256 * 1024;

impl<T: ArrItem> ListStream<T> {
    fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        match self.phase {
            Phase::Done => return None,
            Phase::AbortPending => {
                self.phase = Phase::Done;
                self.finish();
                return Some(Err(std::io::Error::other("fake arr: connection dropped")));
            }
            Phase::Items => {}
        }
        let indented = self.core.ctx.indented;
        let mut out = Vec::with_capacity(CHUNK + 16 * 1024);
        if self.first {
            out.push(b'[');
        }
        let cut = match self.end {
            End::Whole => None,
            End::Abort(n) | End::Truncate(n) => Some(n),
        };
        let mut one = Vec::with_capacity(4096);
        while out.len() < CHUNK {
            let Some(item) = self.items.get(self.pos) else {
                break;
            };
            let index = self.pos;
            self.pos += 1;
            if self.filter.is_some_and(|f| item.external_id() != f) {
                continue;
            }
            one.clear();
            let res = match &self.malformed {
                Some((at, kind)) if *at == index => {
                    let v = kind.apply(item.to_value(&self.core.ctx), T::ID_KEY);
                    write_value(&v, indented, &mut one)
                }
                _ => item.write(&self.core.ctx, &mut one),
            };
            if let Err(e) = res {
                return Some(Err(std::io::Error::other(e)));
            }
            if !self.first {
                out.push(b',');
            }
            self.first = false;
            if cut == Some(index) {
                // Half of this item, then the cut.
                push_item(&mut out, &one[..one.len() / 2], indented);
                if matches!(self.end, End::Abort(_)) {
                    self.phase = Phase::AbortPending;
                } else {
                    self.phase = Phase::Done;
                    self.finish();
                }
                return Some(Ok(Bytes::from(out)));
            }
            push_item(&mut out, &one, indented);
        }
        if self.pos >= self.items.len() {
            // Also when the cut lies past the end: then the whole list goes out.
            if indented && !self.first {
                out.push(b'\n');
            }
            out.push(b']');
            self.phase = Phase::Done;
            self.finish();
        }
        Some(Ok(Bytes::from(out)))
    }

    fn finish(&self) {
        self.core
            .counters
            .lists_completed
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Appends one array element; indented output puts it on its own lines, two spaces in.
fn push_item(out: &mut Vec<u8>, item: &[u8], indented: bool) {
    if !indented {
        out.extend_from_slice(item);
        return;
    }
    out.extend_from_slice(b"\n  ");
    // Pretty JSON escapes newlines inside strings, so every raw '\n' is layout.
    for line in item.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(line);
        if line.ends_with(b"\n") {
            out.extend_from_slice(b"  ");
        }
    }
}

/// Writes `v` as the Arrs do (indented with two spaces, or compact).
pub(crate) fn write_value<S: Serialize>(
    v: &S,
    indented: bool,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    if indented {
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"  ");
        let mut ser = serde_json::Serializer::with_formatter(out, fmt);
        v.serialize(&mut ser)
    } else {
        serde_json::to_writer(out, v)
    }
}

impl<T: ArrItem> Core<T> {
    /// `GET /api/v3/rootfolder`.
    pub fn root_folders_json(&self) -> Value {
        let roots: Vec<Value> = self
            .cfg
            .root_folders
            .iter()
            .enumerate()
            .map(|(i, path)| {
                json!({"id": i + 1, "path": path.trim_end_matches('/'), "accessible": true,
                       "freeSpace": 1_099_511_627_776_i64, "unmappedFolders": []})
            })
            .collect();
        Value::Array(roots)
    }

    /// `GET /api/v3/tag`.
    pub fn tags_json(&self) -> Value {
        let tags: Vec<Value> = lock(&self.tags)
            .iter()
            .map(|(id, label)| json!({"id": id, "label": label}))
            .collect();
        Value::Array(tags)
    }
}

/// The body of `POST /_control/fault` (same for Radarr and Sonarr):
/// `{"fault": "server_error"|"empty"|"abort_after"|"truncate_after"|"malformed"|"delay",
///   "n": 5, "kind": "id_as_string"|"missing_title"|"wrong_types"|"not_an_object",
///   "ms": 2000, "once": true}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct FaultRequest {
    fault: String,
    #[serde(default)]
    n: usize,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    once: bool,
}

impl FaultRequest {
    fn parse(&self) -> Result<ArrFault, String> {
        Ok(match self.fault.as_str() {
            "server_error" => ArrFault::ServerError,
            "empty" => ArrFault::Empty,
            "abort_after" => ArrFault::AbortAfter(self.n),
            "truncate_after" => ArrFault::TruncateAfter(self.n),
            "delay" => ArrFault::Delay(Duration::from_millis(self.ms)),
            "malformed" => ArrFault::Malformed {
                index: self.n,
                kind: match self.kind.as_deref().unwrap_or("id_as_string") {
                    "id_as_string" => Malformed::IdAsString,
                    "missing_title" => Malformed::MissingTitle,
                    "wrong_types" => Malformed::WrongTypes,
                    "not_an_object" => Malformed::NotAnObject,
                    other => return Err(format!("unknown malformed kind {other}")),
                },
            },
            other => return Err(format!("unknown fault {other}")),
        })
    }
}

/// `/_control/fault` (POST sets, DELETE clears), `/_control/stats`, `/_control/clear`,
/// `DELETE /_control/items/{id}`: the parts of the control API both Arrs share.
pub(crate) fn control_router<T: ArrItem>() -> axum::Router<Arc<Core<T>>> {
    use axum::extract::{Path, State};
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route(
            "/_control/fault",
            post(
                |State(core): State<Arc<Core<T>>>, Json(req): Json<FaultRequest>| async move {
                    match req.parse() {
                        Ok(f) if req.once => core.fault_once(f),
                        Ok(f) => core.set_fault(Some(f)),
                        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
                    }
                    StatusCode::NO_CONTENT.into_response()
                },
            )
            .delete(|State(core): State<Arc<Core<T>>>| async move {
                core.clear_faults();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_control/stats",
            get(|State(core): State<Arc<Core<T>>>| async move {
                let s = core.stats();
                Json(
                    json!({"requests": s.requests, "unauthorized": s.unauthorized,
                    "listRequests": s.list_requests, "listsCompleted": s.lists_completed,
                    "items": core.len()}),
                )
            }),
        )
        .route(
            "/_control/clear",
            post(|State(core): State<Arc<Core<T>>>| async move {
                core.clear();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_control/items/{id}",
            delete(
                |State(core): State<Arc<Core<T>>>, Path(id): Path<i32>| async move {
                    if core.remove(id) {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::NOT_FOUND
                    }
                },
            ),
        )
}

/// The read endpoints both Arrs serve alike, for an item collection at `/api/v3/{noun}`
/// (`movie`, `series`); `list` filters on `?{T::ID_KEY}=`.
pub(crate) fn read_routes<T: ArrItem>(noun: &str) -> axum::Router<Arc<Core<T>>> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v3/rootfolder", get(rootfolder::<T>))
        .route("/api/v3/tag", get(tags::<T>))
        .route(&format!("/api/v3/{noun}"), get(list::<T>))
        .route(&format!("/api/v3/{noun}/{{id}}"), get(one::<T>))
        .route("/MediaCover/{id}/{file}", get(media_cover::<T>))
}

type CoreState<T> = axum::extract::State<Arc<Core<T>>>;
type QueryMap = axum::extract::Query<HashMap<String, String>>;

async fn rootfolder<T: ArrItem>(
    axum::extract::State(core): CoreState<T>,
    headers: HeaderMap,
    axum::extract::Query(q): QueryMap,
) -> Response {
    core.refuse(&headers, &q)
        .unwrap_or_else(|| Json(core.root_folders_json()).into_response())
}

async fn tags<T: ArrItem>(
    axum::extract::State(core): CoreState<T>,
    headers: HeaderMap,
    axum::extract::Query(q): QueryMap,
) -> Response {
    core.refuse(&headers, &q)
        .unwrap_or_else(|| Json(core.tags_json()).into_response())
}

async fn list<T: ArrItem>(
    axum::extract::State(core): CoreState<T>,
    headers: HeaderMap,
    axum::extract::Query(q): QueryMap,
) -> Response {
    if let Some(r) = core.refuse(&headers, &q) {
        return r;
    }
    let filter = q.get(T::ID_KEY).and_then(|v| v.parse().ok());
    core.list(filter).await
}

async fn one<T: ArrItem>(
    axum::extract::State(core): CoreState<T>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    axum::extract::Query(q): QueryMap,
) -> Response {
    if let Some(r) = core.refuse(&headers, &q) {
        return r;
    }
    core.one(&id)
}

/// `/MediaCover/{id}/{poster|fanart}.jpg`: a real (flat-coloured) JPEG of the usual size.
async fn media_cover<T: ArrItem>(
    axum::extract::State(core): CoreState<T>,
    axum::extract::Path((id, file)): axum::extract::Path<(i32, String)>,
) -> Response {
    if core.get(id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::artwork::response(&file).await
}

/// Binds `cfg.bind` and serves `api` under `cfg.url_base` plus `control` at the root.
pub(crate) async fn serve<T: ArrItem>(
    core: Arc<Core<T>>,
    api: axum::Router<Arc<Core<T>>>,
    control: axum::Router<Arc<Core<T>>>,
    name: &'static str,
) -> std::io::Result<(std::net::SocketAddr, crate::serve::StopOnDrop)> {
    let listener = tokio::net::TcpListener::bind(&core.cfg.bind).await?;
    let addr = listener.local_addr()?;
    let base = core.ctx.url_base.clone();
    let app = if base.is_empty() {
        api
    } else {
        axum::Router::new().nest(&base, api)
    };
    let app = app.merge(control).merge(control_router()).with_state(core);
    Ok((addr, crate::serve::spawn(listener, app, name)))
}

/// A .NET-ticks `lastWrite` value for MediaCover URLs (stable per item).
pub(crate) fn last_write(id: i32) -> i64 {
    638_707_712_000_000_000 + i64::from(id) * 10_000_000
}

/// `YYYY-MM-DDThh:mm:ssZ` from epoch seconds (1970 onwards).
pub(crate) fn iso_secs(secs: u64) -> String {
    crate::hls_origin::time_fmt::rfc3339(std::time::UNIX_EPOCH + Duration::from_secs(secs), 0)
}

/// `YYYY-MM-DDT00:00:00Z` (release dates; any year).
pub(crate) fn iso_date(year: i32, month: u32, day: u32) -> String {
    format!("{year:04}-{month:02}-{day:02}T00:00:00Z")
}
