//! Every documented `/api/v1` route except setup, login and Twitch's webhook refuses callers
//! without credentials.

mod common;

use common::{Backend, start_admin};
use reqwest::{Method, StatusCode};
use tapearr_api::error::{Code, ErrorBody};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protected_route_answers_401_without_credentials() {
    let (server, _) = start_admin(&Backend::sqlite()).await;

    let doc = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .expect("openapi")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    // The EventSub webhook is for Twitch: it is guarded by the HMAC signature instead. Watch
    // live playlists and segments, and Radarr's/Sonarr's trailer webhook, are guarded by the
    // token in their path.
    let public = [
        "/api/v1/setup",
        "/api/v1/auth/login",
        "/api/v1/twitch/eventsub",
        "/api/v1/share/{token}",
        "/api/v1/watch/{token}/index.m3u8",
        "/api/v1/watch/{token}/h264.m3u8",
        "/api/v1/watch/{token}/{file}",
        "/api/v1/trailers/webhooks/{id}/{token}",
    ];
    let http = reqwest::Client::new();
    let mut checked = 0;
    for (path, ops) in paths {
        if !path.starts_with("/api/v1") || public.contains(&path.as_str()) {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in ops.as_object().expect("operations").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let resp = http
                .request(method.clone(), server.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            let body: ErrorBody = resp.json().await.expect("error body");
            assert_eq!(body.code, Code::Unauthorized, "{method} {path}");
            checked += 1;
        }
    }
    assert!(
        checked >= 15,
        "only {checked} operations found in the OpenAPI document"
    );

    // Text answers are gzipped for clients that accept it.
    let gz = http
        .get(server.url("/api/v1/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("openapi gzip");
    assert_eq!(
        gz.headers().get("content-encoding").map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );

    // The docs page works offline (Swagger UI is vendored into the binary).
    let docs = reqwest::get(server.url("/api/v1/docs/"))
        .await
        .expect("docs");
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.expect("html").contains("swagger"));
}
