//! Test harness: the server on a temporary data dir, on SQLite or PostgreSQL, in this process
//! ([`InProcess`]) or as the real `tapearr` binary ([`Server`]); a client with typed requests.
#![allow(dead_code)]

pub mod in_process;
pub mod trailer_world;
pub mod twitch_world;

pub use in_process::InProcess;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tapearr_api::error::ErrorBody;
use tapearr_api::routes::apikeys::{CreateApiKey, CreatedApiKey};
use tapearr_api::routes::session::{LoginRequest, LoginResponse};
use tapearr_api::routes::setup::SetupRequest;
pub use tapearr_core::jobs::model::{JobRecord, JobStatus};

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// A backend to run a story on: a name for messages and an optional database URL
/// (`None`: the default SQLite file in the data dir).
pub struct Backend {
    pub name: &'static str,
    pub database_url: Option<String>,
}

impl Backend {
    /// The default SQLite file in the data dir, for stories that need no second backend.
    pub fn sqlite() -> Backend {
        Backend {
            name: "sqlite",
            database_url: None,
        }
    }
}

pub async fn backends(label: &str) -> Vec<Backend> {
    let mut out = Vec::new();
    for b in tapearr_db::testing::backends() {
        match b {
            None => out.push(Backend::sqlite()),
            Some(pg) => out.push(Backend {
                name: "postgres",
                database_url: Some(
                    tapearr_db::testing::isolated_postgres_url(&pg, label)
                        .await
                        .expect("create a PostgreSQL schema"),
                ),
            }),
        }
    }
    out
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running `tapearr serve`.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    pub output: Arc<Mutex<Vec<String>>>,
}

pub struct ServerOptions<'a> {
    pub data_dir: &'a Path,
    pub database_url: Option<&'a str>,
    pub env: Vec<(&'a str, String)>,
}

impl Server {
    pub fn start(opts: ServerOptions<'_>) -> Server {
        Self::start_bin(Path::new(env!("CARGO_BIN_EXE_tapearr")), opts)
    }

    /// `start` with another `tapearr` binary (a bench comparing builds).
    pub fn start_bin(bin: &Path, opts: ServerOptions<'_>) -> Server {
        install_crypto();
        let mut cmd = Command::new(bin);
        cmd.arg("--data-dir")
            .arg(opts.data_dir)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TAPEARR_LISTEN", "127.0.0.1:0")
            .env(
                "TAPEARR_LOG__LEVEL",
                "info,tapearr=debug,tapearr_core=debug,tapearr_api=debug",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = opts.database_url {
            cmd.env("TAPEARR_DATABASE_URL", url);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn tapearr");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let output = output.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("tapearr listening on http://").nth(1) {
                        let addr = rest
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        let _ = tx.send(addr);
                    }
                    output.lock().expect("lock").push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "tapearr did not start:\n{}",
                    output.lock().expect("lock").join("\n")
                );
            }
        };
        Server {
            child,
            base: format!("http://{addr}"),
            data_dir: opts.data_dir.to_path_buf(),
            output,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::SIGTERM,
        );
        self.child.wait().expect("wait")
    }

    pub fn output_text(&self) -> String {
        self.output.lock().expect("lock").join("\n")
    }
}

/// Where a running server answers, in this process or another.
pub trait Running {
    fn base(&self) -> &str;
}

impl Running for Server {
    fn base(&self) -> &str {
        &self.base
    }
}

impl Running for InProcess {
    fn base(&self) -> &str {
        &self.base
    }
}

/// A fresh server in this process with its admin set up; the client uses a new API key.
pub async fn start_admin(backend: &Backend) -> (InProcess, Client) {
    let server = InProcess::start_on(backend).await;
    let (client, _) = Client::admin(&server).await;
    (server, client)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small API client that keeps the session cookie and CSRF token like a browser would.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub session: Option<String>,
    pub csrf: Option<String>,
    pub api_key: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The body as `T`; panics with the status and body when it is not one.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone()).unwrap_or_else(|e| {
            panic!(
                "{} body is not a {}: {e}: {}",
                self.status,
                std::any::type_name::<T>(),
                self.body
            )
        })
    }

    /// The `{code, message}` of an error answer.
    pub fn error(&self) -> ErrorBody {
        assert!(
            self.status.is_client_error() || self.status.is_server_error(),
            "expected an error, got {}: {}",
            self.status,
            self.body
        );
        self.json()
    }

    /// The body as `T` after a 2xx answer.
    pub fn ok<T: DeserializeOwned>(&self) -> T {
        assert!(
            self.status.is_success(),
            "expected success, got {}: {}",
            self.status,
            self.body
        );
        self.json()
    }
}

impl Client {
    pub fn new(server: &impl Running) -> Client {
        install_crypto();
        Client {
            http: reqwest::Client::new(),
            base: server.base().to_string(),
            session: None,
            csrf: None,
            api_key: None,
        }
    }

    pub fn with_key(server: &impl Running, key: &str) -> Client {
        let mut c = Client::new(server);
        c.api_key = Some(key.to_string());
        c
    }

    pub async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(s) = &self.session {
            req = req.header("cookie", format!("tapearr_session={s}"));
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(k) = &self.api_key {
            req = req.header("x-api-key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        for cookie in resp.headers().get_all("set-cookie") {
            let cookie = cookie.to_str().unwrap_or_default();
            if let Some(v) = cookie.strip_prefix("tapearr_session=") {
                let v = v.split(';').next().unwrap_or_default();
                self.session = (!v.is_empty()).then(|| v.to_string());
            }
        }
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn delete(&mut self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Sends `body` (any request DTO) as JSON.
    pub async fn send_typed<B: Serialize>(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Reply {
        let body = serde_json::to_value(body).expect("request body as JSON");
        self.send(method, path, Some(body)).await
    }

    /// GET `path`, expecting success, as `T`.
    pub async fn get_json<T: DeserializeOwned>(&mut self, path: &str) -> T {
        self.get(path).await.ok()
    }

    /// POST `body` to `path`, expecting success, as `T`.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &B,
    ) -> T {
        self.send_typed(reqwest::Method::POST, path, body)
            .await
            .ok()
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Reply {
        let login = LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
        };
        let r = self
            .send_typed(reqwest::Method::POST, "/api/v1/auth/login", &login)
            .await;
        if r.status == StatusCode::OK {
            self.csrf = Some(r.json::<LoginResponse>().csrf_token);
        }
        r
    }

    /// Sets up the admin, logs in and returns a new API key.
    pub async fn bootstrap(&mut self) -> String {
        let setup = SetupRequest {
            username: ADMIN.to_string(),
            password: PASSWORD.to_string(),
            setup_token: None,
        };
        let r = self
            .send_typed(reqwest::Method::POST, "/api/v1/setup", &setup)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(self.login(ADMIN, PASSWORD).await.status, StatusCode::OK);
        let key = CreateApiKey {
            name: "tests".to_string(),
        };
        let r = self
            .send_typed(reqwest::Method::POST, "/api/v1/apikeys", &key)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.json::<CreatedApiKey>().secret
    }

    /// Creates the admin on a fresh server; returns a client that uses a new API key, and the key.
    pub async fn admin(server: &impl Running) -> (Client, String) {
        let key = Client::new(server).bootstrap().await;
        (Client::with_key(server, &key), key)
    }

    /// Polls a job until it has finished (the runner usually takes milliseconds).
    pub async fn wait_job(&mut self, id: &str, timeout: Duration) -> JobRecord {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let job: JobRecord = self.get_json(&format!("/api/v1/jobs/{id}")).await;
            if job.status.is_finished() {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} still {:?}",
                job.status
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Client {
    /// `wait_job`, asserting that the job succeeded.
    pub async fn wait_succeeded(&mut self, id: &str, timeout: Duration) -> JobRecord {
        let job = self.wait_job(id, timeout).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
        job
    }
}

/// Polls `check` every 100 ms until it yields a value; panics with `what` after `timeout`.
/// For state that changes through the public API, where no event can be awaited directly.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Answers every request with a redirect to `to` + the request's path.
pub async fn redirector(to: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let to = to.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {to}{path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

/// The security headers every response carries (C13): no sniffing, no framing, no referrer,
/// and a content security policy.
pub fn assert_security_headers(headers: &reqwest::header::HeaderMap, what: &str) {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{what}: {csp}");
}

/// Everything the database holds in its secret-bearing tables, as text: on SQLite the raw
/// bytes of the database file and its WAL, on PostgreSQL every row of those tables.
pub async fn database_text(data_dir: &std::path::Path, database_url: Option<&str>) -> String {
    match database_url {
        None => {
            let mut out = Vec::new();
            for name in ["tapearr.db", "tapearr.db-wal", "tapearr.db-shm"] {
                if let Ok(bytes) = std::fs::read(data_dir.join(name)) {
                    out.extend_from_slice(&bytes);
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        }
        Some(url) => {
            use sqlx::Row;
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("connect to PostgreSQL");
            let mut out = String::new();
            for table in [
                "media_servers",
                "notification_channels",
                "arr_connections",
                "app_state",
            ] {
                let rows = sqlx::query(&format!("SELECT t::text AS row FROM {table} t"))
                    .fetch_all(&pool)
                    .await
                    .expect("rows");
                for r in rows {
                    out.push_str(&r.get::<String, _>("row"));
                    out.push('\n');
                }
            }
            pool.close().await;
            out
        }
    }
}

/// Links the tools venv `make test` installs (yt-dlp, deno) into `data_dir`, for stories that
/// need the real yt-dlp.
pub fn link_tools(data_dir: &std::path::Path) {
    let shared = std::env::var("TAPEARR_TEST_TOOLS_DATA_DIR")
        .expect("TAPEARR_TEST_TOOLS_DATA_DIR (set by `make test`) must point at the tools venv");
    let tools = std::path::Path::new(&shared).join("tools");
    assert!(
        tools.join("venv/bin/yt-dlp").exists(),
        "yt-dlp missing in {}; run `make tools`",
        tools.display()
    );
    std::os::unix::fs::symlink(&tools, data_dir.join("tools")).expect("link the tools venv");
}
