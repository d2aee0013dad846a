//! Media-server rescans against fake Plex, Jellyfin and Emby: the right section, mapped paths,
//! tokens never shown, failures retried and visible.

mod common;

use common::{Client, InProcess, ServerOptions, backends};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use tapearr_testkit::media_servers::FakeMediaServer;

const PLEX_TOKEN: &str = "plex-token-8d7f";
const JF_KEY: &str = "jellyfin-key-3c2b";
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landed_folder_is_rescanned_on_every_server_with_mapped_paths() {
    for backend in backends("mediasrv").await {
        let b = backend.name;
        let plex = FakeMediaServer::plex(
            PLEX_TOKEN,
            &[
                ("1", "Movies", "/mnt/movies"),
                ("2", "Twitch", "/mnt/twitch"),
            ],
        )
        .await
        .expect("plex");
        let jellyfin = FakeMediaServer::jellyfin(JF_KEY, false)
            .await
            .expect("jellyfin");
        let emby = FakeMediaServer::jellyfin(JF_KEY, true).await.expect("emby");
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;

        let add = |name: &str, kind: &str, url: String, token: &str, server_root: &str| {
            json!({"name": name, "kind": kind, "url": url, "token": token,
                   "path_mappings": [{"local": "/library", "server": server_root}]})
        };
        let r = api
            .post(
                "/api/v1/media-servers",
                add("plex", "plex", plex.url(), PLEX_TOKEN, "/mnt"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let plex_id = r.body["id"].as_str().expect("id").to_string();
        let r = api
            .post(
                "/api/v1/media-servers",
                add("jellyfin", "jellyfin", jellyfin.url(), JF_KEY, "D:\\Media"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}");
        let jf_id = r.body["id"].as_str().expect("id").to_string();
        let r = api
            .post(
                "/api/v1/media-servers",
                add("emby", "emby", emby.url(), JF_KEY, "/data"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}");

        // Bad input and hidden tokens.
        let r = api
            .post(
                "/api/v1/media-servers",
                add("x", "plex", "not a url".into(), "t", "/mnt"),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}");
        let r = api
            .post(
                "/api/v1/media-servers",
                json!({"name": "x", "kind": "kodi", "url": plex.url(), "token": "t"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}");
        let listed = api.get("/api/v1/media-servers").await.body;
        assert_eq!(listed.as_array().map(Vec::len), Some(3), "{b}");
        assert!(
            !listed.to_string().contains(PLEX_TOKEN) && !listed.to_string().contains(JF_KEY),
            "{b}: {listed}"
        );

        // The connection test reaches each server with its token.
        let r = api
            .post(&format!("/api/v1/media-servers/{plex_id}/test"), json!({}))
            .await;
        assert_eq!(
            (r.status, r.body["name"].as_str()),
            (StatusCode::OK, Some("fake-plex")),
            "{b}: {:?}",
            r.body
        );
        let r = api
            .post(&format!("/api/v1/media-servers/{jf_id}/test"), json!({}))
            .await;
        assert_eq!(
            (r.status, r.body["version"].as_str()),
            (StatusCode::OK, Some("10.11.11")),
            "{b}: {:?}",
            r.body
        );

        // One landed folder → one scan per server, each in its own path language.
        let r = api
            .post(
                "/api/v1/media-servers/refresh",
                json!({"folder": "/library/twitch/somechannel/Season 2026-11"}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["jobs"].as_u64()),
            (StatusCode::ACCEPTED, Some(3)),
            "{b}: {:?}",
            r.body
        );
        let scans = plex.wait_for_scans(1, WAIT).await.expect("plex scanned");
        assert_eq!(
            scans,
            vec![(
                "2".to_string(),
                "/mnt/twitch/somechannel/Season 2026-11".to_string()
            )],
            "{b}"
        );
        let scans = jellyfin
            .wait_for_scans(1, WAIT)
            .await
            .expect("jellyfin told");
        assert_eq!(
            scans[0].1, "D:\\Media\\twitch\\somechannel\\Season 2026-11",
            "{b}"
        );
        let scans = emby.wait_for_scans(1, WAIT).await.expect("emby told");
        assert_eq!(scans[0].1, "/data/twitch/somechannel/Season 2026-11", "{b}");
        let r = api
            .post(
                "/api/v1/media-servers/refresh",
                json!({"folder": "relative/path"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        // A failing server is retried by its job, and the failure is visible meanwhile.
        plex.fail_next(1);
        api.post(
            "/api/v1/media-servers/refresh",
            json!({"folder": "/library/movies/Heat (1995)"}),
        )
        .await;
        let scans = plex.wait_for_scans(2, WAIT).await.expect("plex retried");
        assert_eq!(
            scans[1],
            ("1".to_string(), "/mnt/movies/Heat (1995)".to_string()),
            "{b}"
        );
        // The job is marked succeeded just after Plex answered.
        let deadline = tokio::time::Instant::now() + WAIT;
        let retried = loop {
            let jobs = api
                .get("/api/v1/jobs?kind=mediaserver.refresh&limit=100")
                .await
                .body;
            let done = jobs["items"].as_array().and_then(|items| {
                items
                    .iter()
                    .find(|j| j["attempts"].as_u64() == Some(2) && j["status"] == "succeeded")
                    .cloned()
            });
            if let Some(job) = done {
                break job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{b}: no retried job succeeded: {jobs}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let id = retried["id"].as_str().expect("id");
        let failures = api
            .get(&format!("/api/v1/events?type=job.failed&subject=job:{id}"))
            .await
            .body;
        assert_eq!(failures[0]["data"]["will_retry"], true, "{b}: {failures}");
        assert!(
            failures[0]["data"]["error"]
                .as_str()
                .unwrap_or_default()
                .contains("500"),
            "{b}: {failures}"
        );

        // A wrong token is a visible, permanent failure; editing with `***` keeps the token.
        let r = api
            .send(
                Method::PUT,
                &format!("/api/v1/media-servers/{plex_id}"),
                Some(add("plex", "plex", plex.url(), "***", "/mnt")),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        assert_eq!(
            api.post(&format!("/api/v1/media-servers/{plex_id}/test"), json!({}))
                .await
                .status,
            StatusCode::OK
        );
        api.send(
            Method::PUT,
            &format!("/api/v1/media-servers/{plex_id}"),
            Some(add("plex", "plex", plex.url(), "wrong", "/mnt")),
        )
        .await;
        let r = api
            .post(&format!("/api/v1/media-servers/{plex_id}/test"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{b}");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("401"),
            "{b}: {:?}",
            r.body
        );
        assert!(
            !r.body.to_string().contains("wrong"),
            "the token is not echoed"
        );
        server.stop().await;
    }
}
