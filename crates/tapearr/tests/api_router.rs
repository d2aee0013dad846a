//! The router in-process, one request at a time (`tower::ServiceExt::oneshot`): error bodies,
//! authentication and pagination, on SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL.
//!
//! Here rather than in `crates/api/tests`: a full `AppState` needs the wiring in
//! `tapearr::serve::Server::build`, and `tapearr-api` cannot depend on `tapearr` (which depends
//! on it) without building a second, incompatible copy of itself.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::in_process::build;
use common::{ADMIN, Backend, PASSWORD, ServerOptions, backends};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tapearr::serve::Server;
use tapearr_api::error::{Code, ErrorBody};
use tapearr_api::routes::apikeys::{CreateApiKey, CreatedApiKey};
use tapearr_api::routes::jobs::EnqueueRequest;
use tapearr_api::routes::session::{LoginRequest, LoginResponse, Me};
use tapearr_api::routes::setup::{SetupRequest, SetupStatus};
use tapearr_core::auth::model::ApiKey;
use tapearr_core::jobs::model::{JobRecord, JobStatus};
use tapearr_core::storage::Paged;
use tower::ServiceExt;

/// A built server (not serving: no jobs run) and the credentials a request may carry.
struct Api {
    router: Router,
    session: Option<String>,
    csrf: Option<String>,
    key: Option<String>,
    _server: Server,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not a {}: {e}: {}",
                self.status,
                std::any::type_name::<T>(),
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The answer's status and error code, which every error carries with a message.
    fn error(&self) -> (StatusCode, Code) {
        let e: ErrorBody = self.json();
        assert!(!e.message.is_empty(), "{:?} without a message", e.code);
        (self.status, e.code)
    }
}

impl Api {
    async fn start(backend: &Backend) -> Api {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = build(&ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        Api {
            router: server.router(),
            session: None,
            csrf: None,
            key: None,
            _server: server,
            _dir: dir,
        }
    }

    /// A server with its admin, and this client holding an API key (returned too).
    async fn with_admin(backend: &Backend) -> (Api, String) {
        let mut api = Api::start(backend).await;
        api.setup().await;
        api.login().await;
        let created: CreatedApiKey = api
            .send(Method::POST, "/api/v1/apikeys", Some(&key_named("tests")))
            .await
            .json();
        api.session = None;
        api.csrf = None;
        api.key = Some(created.secret.clone());
        (api, created.secret)
    }

    async fn setup(&mut self) {
        let setup = SetupRequest {
            username: ADMIN.into(),
            password: PASSWORD.into(),
            setup_token: None,
        };
        let r = self.send(Method::POST, "/api/v1/setup", Some(&setup)).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }

    async fn login(&mut self) {
        let login = LoginRequest {
            username: ADMIN.into(),
            password: PASSWORD.into(),
        };
        let r = self
            .send(Method::POST, "/api/v1/auth/login", Some(&login))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        self.csrf = Some(r.json::<LoginResponse>().csrf_token);
        let cookie = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find_map(|c| c.strip_prefix("tapearr_session="))
            .and_then(|c| c.split(';').next())
            .expect("session cookie");
        self.session = Some(cookie.to_string());
    }

    async fn send<B: Serialize>(&self, method: Method, path: &str, body: Option<&B>) -> Answer {
        let body = body.map(|b| serde_json::to_vec(b).expect("JSON body"));
        self.raw(method, path, body, Some("application/json")).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send::<()>(Method::GET, path, None).await
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(s) = &self.session {
            req = req.header(header::COOKIE, format!("tapearr_session={s}"));
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(k) = &self.key {
            req = req.header("x-api-key", k);
        }
        let req = match body {
            Some(body) => {
                if let Some(t) = content_type {
                    req = req.header(header::CONTENT_TYPE, t);
                }
                req.body(Body::from(body))
            }
            None => req.body(Body::empty()),
        }
        .expect("request");
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn enqueue_probe(&self) -> JobRecord {
        let probe = EnqueueRequest {
            kind: "system.probe".into(),
            payload: json!({}),
            max_attempts: None,
        };
        let r = self.send(Method::POST, "/api/v1/jobs", Some(&probe)).await;
        assert_eq!(r.status, StatusCode::CREATED);
        r.json()
    }
}

fn key_named(name: &str) -> CreateApiKey {
    CreateApiKey { name: name.into() }
}

#[tokio::test]
async fn bad_input_answers_a_code_and_a_message() {
    let enqueue = |kind: &str, payload: serde_json::Value| {
        let req = EnqueueRequest {
            kind: kind.into(),
            payload,
            max_attempts: None,
        };
        serde_json::to_vec(&req).expect("JSON body")
    };
    let json = Some("application/json");
    // The API has no 415: a body without its JSON content type is a bad request too.
    let cases: [(&str, Vec<u8>, Option<&str>); 5] = [
        ("broken JSON", b"{\"kind\":".to_vec(), json),
        ("no content type", enqueue("system.probe", json!({})), None),
        ("a number for the kind", br#"{"kind":7}"#.to_vec(), json),
        ("an unknown kind", enqueue("no.such.kind", json!({})), json),
        (
            "a payload that is no object",
            enqueue("system.probe", json!([1, 2])),
            json,
        ),
    ];
    for backend in backends("router_errors").await {
        let b = backend.name;
        let (api, _) = Api::with_admin(&backend).await;
        for (what, body, content_type) in &cases {
            let r = api
                .raw(
                    Method::POST,
                    "/api/v1/jobs",
                    Some(body.clone()),
                    *content_type,
                )
                .await;
            assert_eq!(
                r.error(),
                (StatusCode::BAD_REQUEST, Code::InvalidRequest),
                "{b}: {what}"
            );
        }
    }
}

#[tokio::test]
async fn missing_things_are_json_404s_and_a_wrong_method_is_405() {
    for backend in backends("router_404").await {
        let b = backend.name;
        let (api, _) = Api::with_admin(&backend).await;
        for path in ["/api/v1/jobs/no-such-job", "/api/v1/no-such-route", "/api"] {
            assert_eq!(
                api.get(path).await.error(),
                (StatusCode::NOT_FOUND, Code::NotFound),
                "{b}: {path}"
            );
        }
        let r = api
            .send::<()>(Method::POST, "/api/v1/tasks/no-such-task/run", None)
            .await;
        assert_eq!(r.error(), (StatusCode::NOT_FOUND, Code::NotFound), "{b}");
        // axum's own answer: no body, but the methods that would do.
        let r = api.send::<()>(Method::DELETE, "/api/v1/jobs", None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{b}");
        let allow = r
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            allow.contains("GET") && allow.contains("POST"),
            "{b}: {allow}"
        );
    }
}

#[tokio::test]
async fn setup_gates_everything_but_itself_and_then_logs_in() {
    for backend in backends("router_setup").await {
        let b = backend.name;
        let mut api = Api::start(&backend).await;
        let status: SetupStatus = api.get("/api/v1/setup").await.json();
        assert!(status.setup_required && !status.setup_token_required, "{b}");
        assert_eq!(
            api.get("/api/v1/jobs").await.error(),
            (StatusCode::CONFLICT, Code::SetupRequired),
            "{b}"
        );
        let login = LoginRequest {
            username: ADMIN.into(),
            password: PASSWORD.into(),
        };
        let r = api
            .send(Method::POST, "/api/v1/auth/login", Some(&login))
            .await;
        assert_eq!(
            r.error(),
            (StatusCode::CONFLICT, Code::SetupRequired),
            "{b}"
        );

        api.setup().await;
        let status: SetupStatus = api.get("/api/v1/setup").await.json();
        assert!(!status.setup_required, "{b}");
        let again = SetupRequest {
            username: "second".into(),
            password: PASSWORD.into(),
            setup_token: None,
        };
        let r = api.send(Method::POST, "/api/v1/setup", Some(&again)).await;
        assert_eq!(r.error(), (StatusCode::CONFLICT, Code::AlreadySetUp), "{b}");
        assert_eq!(
            api.get("/api/v1/jobs").await.error(),
            (StatusCode::UNAUTHORIZED, Code::Unauthorized),
            "{b}: no session, no key"
        );

        api.login().await;
        let me: Me = api.get("/api/v1/auth/me").await.json();
        assert_eq!(
            (me.auth.as_str(), me.username.as_deref()),
            ("session", Some(ADMIN)),
            "{b}"
        );
        // A cookie-authenticated write needs the CSRF token.
        let csrf = api.csrf.take();
        let r = api
            .send(Method::POST, "/api/v1/apikeys", Some(&key_named("x")))
            .await;
        assert_eq!(r.error(), (StatusCode::FORBIDDEN, Code::CsrfFailed), "{b}");
        api.csrf = csrf;
        let r = api
            .send(Method::POST, "/api/v1/apikeys", Some(&key_named("x")))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}");
    }
}

#[tokio::test]
async fn api_keys_work_in_either_header_until_revoked() {
    for backend in backends("router_keys").await {
        let b = backend.name;
        let (mut api, key) = Api::with_admin(&backend).await;
        let me: Me = api.get("/api/v1/auth/me").await.json();
        assert_eq!(
            (me.auth.as_str(), me.api_key_name.as_deref()),
            ("api_key", Some("tests")),
            "{b}"
        );
        let bearer = Request::get("/api/v1/auth/me")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .expect("request");
        let r = api.router.clone().oneshot(bearer).await.expect("answer");
        assert_eq!(r.status(), StatusCode::OK, "{b}");

        // The list shows the key without its secret or hash.
        let keys: Vec<ApiKey> = api.get("/api/v1/apikeys").await.json();
        let listed = keys.iter().find(|k| k.name == "tests").expect("listed");
        assert!(
            listed.key_hash.is_empty() && key.starts_with(&listed.prefix),
            "{b}"
        );

        api.key = Some(format!("{key}x"));
        assert_eq!(
            api.get("/api/v1/jobs").await.error(),
            (StatusCode::UNAUTHORIZED, Code::Unauthorized),
            "{b}: a wrong key"
        );
        api.key = Some(key.clone());
        let r = api
            .send::<()>(
                Method::DELETE,
                &format!("/api/v1/apikeys/{}", listed.id),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b}");
        assert_eq!(
            api.get("/api/v1/jobs").await.error(),
            (StatusCode::UNAUTHORIZED, Code::Unauthorized),
            "{b}: a revoked key"
        );
    }
}

#[tokio::test]
async fn lists_page_by_limit_and_offset() {
    for backend in backends("router_pages").await {
        let b = backend.name;
        let (api, _) = Api::with_admin(&backend).await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(api.enqueue_probe().await.id);
        }
        // Newest first by default; the runner is not running, so all are still queued.
        let page = |query: &'static str| {
            let api = &api;
            async move {
                let r = api
                    .get(&format!("/api/v1/jobs?kind=system.probe&{query}"))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{b}: {query}");
                r.json::<Paged<JobRecord>>()
            }
        };
        let first = page("limit=2").await;
        assert_eq!((first.total, first.limit, first.offset), (5, 2, 0), "{b}");
        let first_ids: Vec<&str> = first.items.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(first_ids, [ids[4].as_str(), ids[3].as_str()], "{b}");
        assert!(
            first.items.iter().all(|j| j.status == JobStatus::Queued),
            "{b}"
        );
        let last = page("limit=2&offset=4").await;
        assert_eq!(last.items.len(), 1, "{b}: the last page is short");
        assert_eq!(last.items[0].id, ids[0], "{b}");
        let past = page("limit=2&offset=10").await;
        assert!(past.items.is_empty() && past.total == 5, "{b}");
        let oldest = page("order=asc&limit=1").await;
        assert_eq!(oldest.items[0].id, ids[0], "{b}");

        // Limits are clamped to 1–500, not refused.
        assert_eq!(page("limit=0").await.limit, 1, "{b}");
        assert_eq!(page("limit=100000").await.limit, 500, "{b}");
        assert_eq!(page("").await.limit, 50, "{b}");

        for bad in [
            "/api/v1/jobs?limit=-1",
            "/api/v1/jobs?offset=abc",
            "/api/v1/jobs?order=sideways",
            "/api/v1/jobs?status=sleeping",
            "/api/v1/events?since=yesterday",
            "/api/v1/trailers/media?cursor=not-a-cursor",
        ] {
            assert_eq!(
                api.get(bad).await.error(),
                (StatusCode::BAD_REQUEST, Code::InvalidRequest),
                "{b}: {bad}"
            );
        }
    }
}
