//! EventSub webhooks: the subscription routes, and the sender that delivers challenges,
//! notifications and revocations to callbacks, signed and shaped as Twitch does.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::helix::Caller;
use super::wire::{ago, error, eventsub_signature, page, pagination, rfc3339_nanos, uuid};
use super::{ControlError, Shared};

/// One webhook delivery and what the callback answered (`None`: unreachable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    /// notification, webhook_callback_verification or revocation.
    pub message_type: String,
    /// The subscription type (`stream.online`, …).
    pub kind: String,
    pub subscription_id: String,
    pub retry: u32,
    pub status: Option<u16>,
}

/// A hand-made delivery for [`super::FakeTwitch::send_raw`].
#[derive(Debug, Clone)]
pub struct RawDelivery {
    pub callback: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A message on its way to a callback.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub callback: String,
    pub message_id: String,
    pub message_type: String,
    pub sub_id: String,
    pub sub_type: String,
    pub sub_version: String,
    pub timestamp: String,
    pub retry: u32,
    pub body: Vec<u8>,
    pub signature: String,
    /// Set for a challenge: what the callback must echo.
    pub challenge: Option<String>,
}

impl Outgoing {
    fn signed(sub: &super::state::Sub, message_type: &str, body: Value, sent: SystemTime) -> Self {
        let message_id = uuid();
        let timestamp = rfc3339_nanos(sent);
        let body = body.to_string().into_bytes();
        let signature = eventsub_signature(sub.secret.as_bytes(), &message_id, &timestamp, &body);
        Self {
            callback: sub.callback.clone(),
            message_id,
            message_type: message_type.to_owned(),
            sub_id: sub.id.clone(),
            sub_type: sub.kind.clone(),
            sub_version: sub.version.clone(),
            timestamp,
            retry: 0,
            body,
            signature,
            challenge: None,
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        [
            ("Content-Type", "application/json"),
            ("Twitch-Eventsub-Message-Id", &self.message_id),
            ("Twitch-Eventsub-Message-Retry", &self.retry.to_string()),
            ("Twitch-Eventsub-Message-Type", &self.message_type),
            ("Twitch-Eventsub-Message-Signature", &self.signature),
            ("Twitch-Eventsub-Message-Timestamp", &self.timestamp),
            ("Twitch-Eventsub-Subscription-Type", &self.sub_type),
            ("Twitch-Eventsub-Subscription-Version", &self.sub_version),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

/// Delivers queued messages one at a time, in order (so online comes before offline).
pub fn spawn_sender(shared: Weak<Shared>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Outgoing>) {
    tokio::spawn(async move {
        while let Some(out) = rx.recv().await {
            let Some(s) = shared.upgrade() else { return };
            let _ = deliver(&s, &out).await;
        }
    });
}

/// POSTs one message and records the answer. A challenge enables or fails its subscription.
async fn deliver(s: &Shared, out: &Outgoing) -> Result<u16, ControlError> {
    let mut req = s.http.post(&out.callback).body(out.body.clone());
    for (k, v) in out.headers() {
        req = req.header(k, v);
    }
    let result = req.send().await;
    let (status, text, plain) = match result {
        Ok(r) => {
            let status = r.status().as_u16();
            let plain = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/plain"));
            (Some(status), r.text().await.unwrap_or_default(), plain)
        }
        Err(e) => {
            tracing::debug!(error = %e, "eventsub delivery failed");
            (None, String::new(), false)
        }
    };
    if let Some(challenge) = &out.challenge {
        let ok = status == Some(200) && plain && text == *challenge;
        let mut w = s.world();
        if let Some(sub) = w.subs.iter_mut().find(|x| x.id == out.sub_id) {
            sub.status = if ok {
                "enabled".into()
            } else {
                "webhook_callback_verification_failed".into()
            };
        }
    }
    record(s, out, status);
    status.ok_or_else(|| ControlError::Unreachable(out.callback.clone()))
}

fn record(s: &Shared, out: &Outgoing, status: Option<u16>) {
    if let Ok(mut d) = s.deliveries.lock() {
        d.push(Delivery {
            message_id: out.message_id.clone(),
            message_type: out.message_type.clone(),
            kind: out.sub_type.clone(),
            subscription_id: out.sub_id.clone(),
            retry: out.retry,
            status,
        });
    }
    s.delivered.notify_waiters();
}

pub fn deliveries(s: &Shared) -> Vec<Delivery> {
    s.deliveries.lock().map(|d| d.clone()).unwrap_or_default()
}

pub async fn wait_for(
    s: &Shared,
    n: usize,
    timeout: Duration,
) -> Result<Vec<Delivery>, Vec<Delivery>> {
    crate::serve::wait_until(
        &s.delivered,
        timeout,
        || Some(deliveries(s)).filter(|d| d.len() >= n),
        || deliveries(s),
    )
    .await
}

/// Queues a notification for every enabled subscription to `kind` on `broadcaster_id`.
pub fn emit(s: &Shared, kind: &str, broadcaster_id: &str, event: Value) {
    let subs: Vec<_> = s
        .world()
        .subs
        .iter()
        .filter(|x| {
            x.status == "enabled" && x.kind == kind && x.broadcaster() == Some(broadcaster_id)
        })
        .cloned()
        .collect();
    for sub in subs {
        let body = json!({"subscription": sub.json(), "event": event});
        let out = Outgoing::signed(&sub, "notification", body, SystemTime::now());
        if let Ok(mut last) = s.last_notification.lock() {
            *last = Some(out.clone());
        }
        let _ = s.outbox.send(out);
    }
}

fn last(s: &Shared) -> Result<Outgoing, ControlError> {
    s.last_notification
        .lock()
        .ok()
        .and_then(|l| l.clone())
        .ok_or(ControlError::NothingSent)
}

fn secret_of(s: &Shared, sub_id: &str) -> Option<String> {
    s.world()
        .subs
        .iter()
        .find(|x| x.id == sub_id)
        .map(|x| x.secret.clone())
}

pub async fn resend_last(s: &Shared) -> Result<u16, ControlError> {
    let mut out = last(s)?;
    out.retry += 1;
    deliver(s, &out).await
}

pub async fn send_forged(s: &Shared) -> Result<u16, ControlError> {
    let mut out = last(s)?;
    out.message_id = uuid();
    out.signature = eventsub_signature(
        b"not-the-secret",
        &out.message_id,
        &out.timestamp,
        &out.body,
    );
    deliver(s, &out).await
}

pub async fn send_stale(s: &Shared) -> Result<u16, ControlError> {
    let mut out = last(s)?;
    let secret = secret_of(s, &out.sub_id)
        .ok_or_else(|| ControlError::UnknownSubscription(out.sub_id.clone()))?;
    out.message_id = uuid();
    out.timestamp = rfc3339_nanos(ago(Duration::from_secs(11 * 60)));
    out.signature = eventsub_signature(
        secret.as_bytes(),
        &out.message_id,
        &out.timestamp,
        &out.body,
    );
    deliver(s, &out).await
}

pub async fn send_raw(s: &Shared, raw: RawDelivery) -> Result<u16, ControlError> {
    let mut req = s.http.post(&raw.callback).body(raw.body);
    let header = |name: &str| {
        raw.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let out = Outgoing {
        callback: raw.callback.clone(),
        message_id: header("Twitch-Eventsub-Message-Id"),
        message_type: header("Twitch-Eventsub-Message-Type"),
        sub_id: String::new(),
        sub_type: header("Twitch-Eventsub-Subscription-Type"),
        sub_version: header("Twitch-Eventsub-Subscription-Version"),
        timestamp: String::new(),
        retry: 0,
        body: Vec::new(),
        signature: String::new(),
        challenge: None,
    };
    for (k, v) in &raw.headers {
        req = req.header(k, v);
    }
    let status = req.send().await.ok().map(|r| r.status().as_u16());
    record(s, &out, status);
    status.ok_or(ControlError::Unreachable(raw.callback))
}

pub async fn revoke(s: &Shared, sub_id: &str, reason: &str) -> Result<u16, ControlError> {
    let sub = {
        let mut w = s.world();
        let sub = w
            .subs
            .iter_mut()
            .find(|x| x.id == sub_id)
            .ok_or_else(|| ControlError::UnknownSubscription(sub_id.to_owned()))?;
        sub.status = reason.to_owned();
        sub.clone()
    };
    let body = json!({ "subscription": sub.json() });
    let out = Outgoing::signed(&sub, "revocation", body, SystemTime::now());
    deliver(s, &out).await
}

// ---- Helix routes ----

fn require_app(caller: &Caller) -> Result<(), Response> {
    match caller {
        Caller::App => Ok(()),
        Caller::User(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid transport and auth combination",
        )),
    }
}

fn envelope(s: &Shared, data: Vec<Value>) -> Value {
    let w = s.world();
    json!({
        "data": data, "total": w.subs.len(), "total_cost": w.subs.len(), "max_total_cost": 10_000,
    })
}

pub async fn list(
    State(s): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = require_app(&caller) {
        return r;
    }
    let get = |key: &str| q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let (all, size) = {
        let w = s.world();
        let all: Vec<Value> = w
            .subs
            .iter()
            .filter(|x| get("status").is_none_or(|v| v == x.status))
            .filter(|x| get("type").is_none_or(|v| v == x.kind))
            .filter(|x| get("user_id").is_none_or(|v| x.broadcaster() == Some(v)))
            .map(super::state::Sub::json)
            .collect();
        (all, w.max_page)
    };
    match page(&all, size, get("after")) {
        Ok((data, next)) => {
            let mut body = envelope(&s, data);
            body["pagination"] = pagination(next);
            Json(body).into_response()
        }
        Err(r) => r,
    }
}

pub async fn create(
    State(s): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    if let Err(r) = require_app(&caller) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "malformed JSON");
    };
    let str_of = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (kind, version) = (str_of("/type"), str_of("/version"));
    let (method, callback, secret) = (
        str_of("/transport/method"),
        str_of("/transport/callback"),
        str_of("/transport/secret"),
    );
    let condition = v.get("condition").cloned().unwrap_or(Value::Null);
    if kind.is_empty() || version.is_empty() || !condition.is_object() {
        return error(
            StatusCode::BAD_REQUEST,
            "type, version and condition are required",
        );
    }
    if method != "webhook" || callback.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "transport.method must be webhook with a callback",
        );
    }
    if !(10..=100).contains(&secret.len()) || !secret.is_ascii() {
        return error(
            StatusCode::BAD_REQUEST,
            "secret must be 10-100 ASCII characters",
        );
    }
    let sub = {
        let mut w = s.world();
        let exists = w.subs.iter().any(|x| {
            x.kind == kind
                && x.version == version
                && x.condition == condition
                && x.callback == callback
        });
        if exists {
            return error(StatusCode::CONFLICT, "subscription already exists");
        }
        w.new_sub(&kind, &version, condition, &callback, &secret)
    };
    let challenge = uuid();
    let mut out = Outgoing::signed(
        &sub,
        "webhook_callback_verification",
        json!({"challenge": challenge, "subscription": sub.json()}),
        SystemTime::now(),
    );
    out.challenge = Some(challenge);
    let _ = s.outbox.send(out);
    (StatusCode::ACCEPTED, Json(envelope(&s, vec![sub.json()]))).into_response()
}

pub async fn delete(
    State(s): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = require_app(&caller) {
        return r;
    }
    let Some(id) = q.iter().find(|(k, _)| k == "id").map(|(_, v)| v.clone()) else {
        return error(StatusCode::BAD_REQUEST, "Missing required parameter \"id\"");
    };
    let mut w = s.world();
    let before = w.subs.len();
    w.subs.retain(|x| x.id != id);
    if w.subs.len() == before {
        return error(StatusCode::NOT_FOUND, "subscription not found");
    }
    StatusCode::NO_CONTENT.into_response()
}
