//! Settings changed in the app (C2, C16): the environment and `tapearr.toml` win and are
//! read-only, then the database, then the default; secrets are sealed and never shown; a bad
//! request changes nothing; changes apply without a restart; the folder browser and the
//! YouTube cookies upload.

mod common;

use common::twitch_world::{self, add, wait_active};
use common::{Client, InProcess, Reply, ServerOptions, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tapearr_api::routes::settings::SettingsPage;
use tapearr_core::settings::{CookiesInfo, FolderListing, SettingSource, SettingView};

async fn patch(api: &mut Client, values: Value) -> Reply {
    api.send(
        Method::PATCH,
        "/api/v1/settings",
        Some(json!({ "values": values })),
    )
    .await
}

async fn page(api: &mut Client) -> SettingsPage {
    api.get_json("/api/v1/settings").await
}

fn setting<'a>(page: &'a SettingsPage, key: &str) -> &'a SettingView {
    page.settings
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_and_file_win_then_the_database_then_the_default_and_secrets_stay_hidden() {
    for backend in backends("settings_layers").await {
        let b = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let library = tempfile::tempdir().expect("library");
        std::fs::write(
            dir.path().join("tapearr.toml"),
            "public_url = \"https://tapearr.example.com/\"\n",
        )
        .expect("toml");
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_TWITCH__POLL_SECS", "7".to_string())],
        };
        let server = InProcess::start(opts()).await;
        let (mut api, key) = Client::admin(&server).await;

        let first = page(&mut api).await;
        let poll = setting(&first, "twitch.poll_secs");
        assert_eq!(
            (poll.source, poll.read_only),
            (SettingSource::Env, true),
            "{b}"
        );
        assert_eq!(poll.value, json!(7));
        assert_eq!(poll.env_name, "TAPEARR_TWITCH__POLL_SECS");
        let public = setting(&first, "public_url");
        assert_eq!(
            (public.source, public.read_only),
            (SettingSource::File, true)
        );
        let tmdb = setting(&first, "tmdb.api_key");
        assert_eq!((tmdb.source, tmdb.is_set), (SettingSource::Default, false));
        assert!(!first.wizard_done);

        let secret = "tmdb-key-6f1e0a";
        let r = patch(
            &mut api,
            json!({"tmdb.api_key": secret, "twitch.client_id": "my-app",
                   "library_roots": [library.path().display().to_string()]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        assert!(!r.body.to_string().contains(secret), "{b}: secret echoed");
        let saved: SettingsPage = r.json();
        let tmdb = setting(&saved, "tmdb.api_key");
        assert_eq!(
            (tmdb.source, tmdb.is_set, &tmdb.value),
            (SettingSource::Database, true, &Value::Null),
            "{b}"
        );
        assert!(
            !api.get("/api/v1/settings")
                .await
                .body
                .to_string()
                .contains(secret)
        );
        let db =
            tapearr_db::Db::connect(&backend.database_url.clone().unwrap_or_else(|| {
                format!("sqlite://{}", dir.path().join("tapearr.db").display())
            }))
            .await
            .expect("db");
        let stored = tapearr_core::storage::KeyValueStore::app_value(&db, "setting:tmdb.api_key")
            .await
            .expect("read")
            .expect("stored");
        assert!(
            stored.starts_with("enc:v1:") && !stored.contains(secret),
            "{b}: not sealed"
        );

        // Pinned, bad or unknown: 400 naming the key, and nothing in the request is applied.
        for (values, named) in [
            (
                json!({"twitch.client_id": "other", "twitch.poll_secs": 3}),
                "twitch.poll_secs",
            ),
            (
                json!({"twitch.client_id": "other", "disk.low_free_gb": -1}),
                "disk.low_free_gb",
            ),
            (
                json!({"twitch.client_id": "other", "library_roots": ["relative/dir"]}),
                "library_roots",
            ),
            (
                json!({"twitch.client_id": "other", "library_roots": ["/no/such/folder"]}),
                "library_roots",
            ),
            (
                json!({"twitch.client_id": "other", "log.level": "info,[="}),
                "log.level",
            ),
            (
                json!({"twitch.client_id": "other", "public_url": "https://x"}),
                "public_url",
            ),
            (
                json!({"twitch.client_id": "other", "no.such": 1}),
                "no.such",
            ),
            (
                json!({"twitch.client_id": "line\nbreak"}),
                "twitch.client_id",
            ),
        ] {
            let r = patch(&mut api, values.clone()).await;
            let err = r.error();
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}: {values}");
            assert!(
                err.message.contains(named),
                "{b}: {values}: {}",
                err.message
            );
        }
        let after = page(&mut api).await;
        assert_eq!(
            setting(&after, "twitch.client_id").value,
            json!("my-app"),
            "{b}"
        );
        assert_eq!(setting(&after, "twitch.poll_secs").value, json!(7), "{b}");

        // Kept across a restart; `null` goes back to the default.
        server.stop().await;
        let server = InProcess::start(opts()).await;
        let mut api = Client::with_key(&server, &key);
        let again = page(&mut api).await;
        assert_eq!(
            setting(&again, "twitch.client_id").value,
            json!("my-app"),
            "{b}"
        );
        assert!(setting(&again, "tmdb.api_key").is_set, "{b}: secret lost");
        assert_eq!(
            setting(&again, "library_roots").value,
            json!([library.path().display().to_string()])
        );
        let cleared: SettingsPage = patch(&mut api, json!({"tmdb.api_key": null})).await.ok();
        let tmdb = setting(&cleared, "tmdb.api_key");
        assert_eq!(
            (tmdb.source, tmdb.is_set),
            (SettingSource::Default, false),
            "{b}"
        );

        let r = api.post("/api/v1/settings/wizard", json!({})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}");
        assert!(page(&mut api).await.wizard_done, "{b}");
        let mut anonymous = Client::new(&server);
        assert_eq!(
            anonymous.get("/api/v1/settings").await.status,
            StatusCode::UNAUTHORIZED
        );
        server.stop().await;
    }
}

/// A server started with no Twitch credentials and no library: the settings saved in the app
/// are used at once — the credentials are checked, a channel is added and recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twitch_credentials_and_a_library_set_in_the_app_record_without_a_restart() {
    for backend in backends("settings_live").await {
        let b = backend.name;
        let w = twitch_world::world().await;
        w.twitch.add_user("first_channel", "First Channel");
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![
                ("TAPEARR_TWITCH__HELIX_URL", w.twitch.helix_url()),
                ("TAPEARR_TWITCH__ID_URL", w.twitch.id_url()),
                ("TAPEARR_TWITCH__GQL_URL", w.twitch.gql_url()),
                ("TAPEARR_TWITCH__USHER_URL", w.twitch.usher_url()),
                ("TAPEARR_DISK__LOW_FREE_GB", "0".to_string()),
            ],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;
        let r = api
            .post("/api/v1/channels", json!({"channel": "first_channel"}))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b}: {:?}", r.body);

        let test =
            |secret: &str| json!({"client_id": w.twitch.client_id(), "client_secret": secret});
        let r = api
            .post("/api/v1/settings/twitch/test", test("bad-secret-91x"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{b}: {:?}", r.body);
        assert!(!r.body.to_string().contains("bad-secret-91x"), "{b}");
        let r = api
            .post(
                "/api/v1/settings/twitch/test",
                test(w.twitch.client_secret()),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);

        let r = patch(
            &mut api,
            json!({"twitch.client_id": w.twitch.client_id(),
                   "twitch.client_secret": w.twitch.client_secret(),
                   "twitch.poll_secs": 1,
                   "library_roots": [w.library.path().display().to_string()]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        let status: Value = api.get_json("/api/v1/twitch").await;
        assert_eq!(status["configured"], json!(true), "{b}");
        assert_eq!(status["poll_secs"], json!(1), "{b}");
        let system: Value = api.get_json("/api/v1/system/status").await;
        assert_eq!(
            system["library_roots"][0]["path"],
            json!(w.library.path().display().to_string()),
            "{b}: the status shows the new library folder"
        );

        let added = add(&mut api, "first_channel").await;
        w.twitch
            .go_live("first_channel", "Hello", "Just Chatting")
            .await
            .expect("live");
        let rec = wait_active(&api, &added.channel.id).await;
        assert!(
            std::path::Path::new(&rec.dir).starts_with(w.library.path()),
            "{b}: recording outside the library: {}",
            rec.dir
        );
        w.twitch.go_offline("first_channel").expect("offline");
        server.stop().await;
    }
}

/// Concurrent changes never interleave: the pair written together is read together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_leave_one_whole_request_in_place() {
    for backend in backends("settings_race").await {
        let b = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        let (api, key) = Client::admin(&server).await;
        let writers = (1..=12u64).map(|n| {
            let mut api = api.clone();
            tokio::spawn(async move {
                let r = patch(
                    &mut api,
                    json!({"twitch.client_id": format!("app-{n}"), "twitch.poll_secs": n,
                           "disk.low_free_gb": n as f64}),
                )
                .await;
                assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            })
        });
        for w in writers.collect::<Vec<_>>() {
            w.await.expect("writer");
        }
        // What the running server uses, and what a restart reads back, agree.
        let mut api = api.clone();
        let live = page(&mut api).await;
        let n = setting(&live, "twitch.poll_secs")
            .value
            .as_u64()
            .expect("n");
        assert_eq!(
            setting(&live, "twitch.client_id").value,
            json!(format!("app-{n}")),
            "{b}"
        );
        assert_eq!(
            setting(&live, "disk.low_free_gb").value,
            json!(n as f64),
            "{b}"
        );
        server.stop().await;
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        let mut api = Client::with_key(&server, &key);
        let restarted = page(&mut api).await;
        assert_eq!(
            setting(&restarted, "twitch.client_id").value,
            json!(format!("app-{n}")),
            "{b}"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_browser_and_the_cookies_upload_refuse_what_they_cannot_use() {
    let backend = common::Backend::sqlite();
    let (server, mut api) = common::start_admin(&backend).await;
    let tree = tempfile::tempdir().expect("tree");
    std::fs::create_dir(tree.path().join("Movies")).expect("mkdir");
    std::fs::create_dir(tree.path().join("Twitch")).expect("mkdir");
    std::fs::write(tree.path().join("notes.txt"), "x").expect("file");
    let base = tree.path().display().to_string();

    let listing: FolderListing = api
        .get_json(&format!("/api/v1/system/folders?path={base}"))
        .await;
    let names: Vec<&str> = listing.folders.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Movies", "Twitch"]);
    assert!(listing.writable && listing.free_bytes.is_some());
    for bad in [
        format!("{base}/Movies/../.."),
        format!("{base}/notes.txt"),
        "relative".to_string(),
        format!("{base}/missing"),
    ] {
        let r = api.get(&format!("/api/v1/system/folders?path={bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", r.body);
    }
    let mut anonymous = Client::new(&server);
    let r = anonymous.get("/api/v1/system/folders?path=/").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let cookies_file = server.data_dir.join("youtube-cookies.txt");
    for bad in [
        "{\"not\": \"netscape\"}",
        ".example.com\tTRUE\t/\tTRUE\t1900000000\tA\tb\n",
    ] {
        let r = api
            .send(
                Method::PUT,
                "/api/v1/settings/cookies",
                Some(json!({"content": bad})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert!(r.error().message.contains("cookies"));
        assert!(!cookies_file.exists());
    }
    let jar = "# Netscape HTTP Cookie File\n\
               .youtube.com\tTRUE\t/\tTRUE\t1900000000\tPREF\tsecret-pref\n";
    let r = api
        .send(
            Method::PUT,
            "/api/v1/settings/cookies",
            Some(json!({"content": jar})),
        )
        .await;
    let info: CookiesInfo = r.ok();
    assert_eq!(info.site_cookies, 1);
    assert!(
        info.earliest_expiry
            .as_deref()
            .is_some_and(|e| e.starts_with("2030-"))
    );
    assert!(!r.body.to_string().contains("secret-pref"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cookies_file)
            .expect("kept")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(page(&mut api).await.cookies, Some(info));
    assert_eq!(
        api.delete("/api/v1/settings/cookies").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(!cookies_file.exists());
    assert_eq!(page(&mut api).await.cookies, None);
    server.stop().await;
}
