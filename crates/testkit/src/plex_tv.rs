//! A fake plex.tv for the PIN sign-in (the flow Plex's own apps use):
//!
//! - `POST /api/v2/pins?strong=true` with `X-Plex-Product` and `X-Plex-Client-Identifier`
//!   (`Accept: application/json`) → `201` `{id, code, product, trusted, clientIdentifier,
//!   expiresIn, createdAt, expiresAt, authToken: null, …}`; without the headers → `400`.
//! - `GET /api/v2/pins/{id}` (same client identifier) → the pin, `authToken` set once the user
//!   signed in at `app.plex.tv/auth#?clientID=…&code=…`; an unknown or expired pin, or another
//!   client's, → `404 {"errors":[{"code":1020,"message":"Code not found or expired","status":404}]}`.
//! - `GET /api/v2/resources?includeHttps=1` with `X-Plex-Token` → the account's devices with their
//!   `connections`; a wrong token → `401` (`code` 1001).
//!
//! The user's side (signing in at app.plex.tv) is [`FakePlexTv::sign_in`], or over HTTP
//! `POST /_control/sign-in {"code", "token"}`; `GET /auth` is a stand-in page for app.plex.tv.

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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct Pin {
    id: u64,
    code: String,
    client: String,
    product: String,
    created: SystemTime,
    expires: SystemTime,
    token: Option<String>,
}

/// One Plex Media Server on the account, as `resources` lists it.
#[derive(Debug, Clone)]
pub struct PlexServerEntry {
    pub name: String,
    pub client_identifier: String,
    /// `(uri, local)` pairs, best first.
    pub connections: Vec<(String, bool)>,
}

#[derive(Default)]
struct Shared {
    pins: Vec<Pin>,
    next_id: u64,
    lifetime: Option<Duration>,
    /// Token → the servers of that account.
    accounts: HashMap<String, Vec<PlexServerEntry>>,
}

type Fake = Arc<Mutex<Shared>>;

/// A running fake plex.tv; stops when dropped.
pub struct FakePlexTv {
    addr: SocketAddr,
    shared: Fake,
    _stop: crate::serve::StopOnDrop,
}

impl FakePlexTv {
    pub async fn start() -> std::io::Result<FakePlexTv> {
        Self::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(bind: &str) -> std::io::Result<FakePlexTv> {
        let shared: Fake = Arc::new(Mutex::new(Shared {
            next_id: 1_000_001,
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/api/v2/pins", post(create_pin))
            .route("/api/v2/pins/{id}", get(read_pin))
            .route("/api/v2/resources", get(resources))
            .route("/auth", get(auth_page))
            .route("/_control/sign-in", post(control_sign_in))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        Ok(FakePlexTv {
            addr,
            shared,
            _stop: crate::serve::spawn(listener, app, "fake plex.tv"),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long new pins live (plex.tv: 30 minutes for a strong pin).
    pub fn set_pin_lifetime(&self, lifetime: Duration) {
        self.lock().lifetime = Some(lifetime);
    }

    /// The user signs in at app.plex.tv with this pin code; the account's token becomes the
    /// pin's `authToken`. False when no live pin has that code.
    pub fn sign_in(&self, code: &str, token: &str) -> bool {
        sign_in(&mut self.lock(), code, token)
    }

    /// The servers the account behind `token` has.
    pub fn set_servers(&self, token: &str, servers: Vec<PlexServerEntry>) {
        self.lock().accounts.insert(token.to_string(), servers);
    }

    /// The codes of the pins made so far (what the user would see).
    pub fn codes(&self) -> Vec<String> {
        self.lock().pins.iter().map(|p| p.code.clone()).collect()
    }
}

fn sign_in(s: &mut Shared, code: &str, token: &str) -> bool {
    let now = SystemTime::now();
    let found = s
        .pins
        .iter_mut()
        .find(|p| p.code == code && p.expires > now);
    match found {
        Some(pin) => {
            pin.token = Some(token.to_string());
            s.accounts.entry(token.to_string()).or_default();
            true
        }
        None => false,
    }
}

fn errors(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"errors": [{"code": code, "message": message, "status": status.as_u16()}]}),
        ),
    )
        .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
}

#[derive(Deserialize)]
struct PinQuery {
    strong: Option<String>,
}

async fn create_pin(
    State(fake): State<Fake>,
    Query(q): Query<PinQuery>,
    headers: HeaderMap,
) -> Response {
    let (Some(client), Some(product)) = (
        header(&headers, "X-Plex-Client-Identifier"),
        header(&headers, "X-Plex-Product"),
    ) else {
        return errors(
            StatusCode::BAD_REQUEST,
            1000,
            "X-Plex-Client-Identifier and X-Plex-Product are required",
        );
    };
    let strong = q.strong.as_deref() == Some("true");
    let mut s = fake.lock().unwrap_or_else(|p| p.into_inner());
    let id = s.next_id;
    s.next_id += 1;
    let created = SystemTime::now();
    let lifetime = s
        .lifetime
        .unwrap_or(Duration::from_secs(if strong { 1800 } else { 900 }));
    let code: String = {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let len = if strong { 25 } else { 4 };
        (0..len)
            .map(|_| {
                let c = rng.gen_range(0..36u8);
                char::from(if c < 10 { b'0' + c } else { b'a' + c - 10 })
            })
            .collect()
    };
    let pin = Pin {
        id,
        code,
        client: client.to_string(),
        product: product.to_string(),
        created,
        expires: created + lifetime,
        token: None,
    };
    let body = pin_json(&pin);
    s.pins.push(pin);
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn read_pin(
    State(fake): State<Fake>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = fake.lock().unwrap_or_else(|p| p.into_inner());
    let now = SystemTime::now();
    let client = header(&headers, "X-Plex-Client-Identifier");
    let pin = id.parse::<u64>().ok().and_then(|id| {
        s.pins
            .iter()
            .find(|p| p.id == id && p.expires > now && Some(p.client.as_str()) == client)
    });
    match pin {
        Some(pin) => axum::Json(pin_json(pin)).into_response(),
        None => errors(StatusCode::NOT_FOUND, 1020, "Code not found or expired"),
    }
}

fn pin_json(pin: &Pin) -> Value {
    let expires_in = pin
        .expires
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs();
    json!({
        "id": pin.id,
        "code": pin.code,
        "product": pin.product,
        "trusted": false,
        "qr": format!("https://plex.tv/api/v2/pins/qr/{}", pin.code),
        "clientIdentifier": pin.client,
        "location": {"code": "NL", "european_union_member": true, "continent_code": "EU",
            "country": "Netherlands", "city": "Amsterdam", "time_zone": "Europe/Amsterdam",
            "postal_code": "1012", "in_privacy_restricted_country": false,
            "in_privacy_restricted_region": false, "subdivisions": "North Holland",
            "coordinates": "52.3740, 4.8897"},
        "expiresIn": expires_in,
        "createdAt": rfc3339(pin.created),
        "expiresAt": rfc3339(pin.expires),
        "authToken": pin.token,
        "newRegistration": null
    })
}

async fn resources(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    let s = fake.lock().unwrap_or_else(|p| p.into_inner());
    let Some(servers) = header(&headers, "X-Plex-Token").and_then(|t| s.accounts.get(t)) else {
        return errors(
            StatusCode::UNAUTHORIZED,
            1001,
            "User could not be authenticated",
        );
    };
    let list: Vec<Value> = servers
        .iter()
        .map(|srv| {
            json!({
                "name": srv.name,
                "product": "Plex Media Server",
                "productVersion": "1.41.3.9314-a0bfb8370",
                "platform": "Linux",
                "platformVersion": "6.1",
                "device": "Docker Container",
                "clientIdentifier": srv.client_identifier,
                "createdAt": "2023-05-01T10:00:00Z",
                "lastSeenAt": "2026-12-01T10:00:00Z",
                "provides": "server",
                "ownerId": null,
                "sourceTitle": null,
                "publicAddress": "203.0.113.7",
                "accessToken": format!("server-token-{}", srv.client_identifier),
                "owned": true,
                "home": false,
                "synced": false,
                "relay": true,
                "presence": true,
                "httpsRequired": false,
                "publicAddressMatches": true,
                "dnsRebindingProtection": false,
                "natLoopbackSupported": true,
                "connections": srv.connections.iter().map(|(uri, local)| {
                    let url = url::Url::parse(uri).ok();
                    json!({
                        "protocol": url.as_ref().map_or("http", |u| u.scheme()),
                        "address": url.as_ref().and_then(|u| u.host_str().map(str::to_string)),
                        "port": url.as_ref().and_then(url::Url::port_or_known_default),
                        "uri": uri,
                        "local": local,
                        "relay": false,
                        "IPv6": false
                    })
                }).collect::<Vec<_>>()
            })
        })
        // A player on the same account, which a server picker must skip.
        .chain(std::iter::once(json!({
            "name": "Living room TV", "product": "Plex for Android (TV)", "provides": "player",
            "clientIdentifier": "player-1", "owned": true, "presence": false, "connections": []
        })))
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

/// Stands in for app.plex.tv's sign-in page (point the app URL here), so a browser test's
/// opened tab lands on a page; the test signs in with `/_control/sign-in`.
async fn auth_page() -> axum::response::Html<&'static str> {
    axum::response::Html(
        "<!doctype html><title>Plex</title><h1>Sign in to Plex (fake)</h1><p>Approve the pin.</p>",
    )
}

#[derive(Deserialize)]
struct SignIn {
    code: String,
    token: String,
}

async fn control_sign_in(
    State(fake): State<Fake>,
    axum::Json(req): axum::Json<SignIn>,
) -> StatusCode {
    let mut s = fake.lock().unwrap_or_else(|p| p.into_inner());
    if sign_in(&mut s, &req.code, &req.token) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

/// `2026-12-06T20:30:00Z`.
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_like_plex_tv_writes_them() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_796_588_400)),
            "2026-12-06T20:20:00Z"
        );
    }
}
