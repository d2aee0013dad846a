//! The server inside the test process (`tapearr::serve::Server` on `127.0.0.1:0`): no binary to
//! spawn and no log line to wait for. Stories that need a separate process (SIGKILL, its stdout,
//! the CLI) stay on [`super::Server`].

use super::{Backend, ServerOptions, install_crypto};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use std::path::PathBuf;
use tapearr::serve::Server;
use tapearr_core::config::Config;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct InProcess {
    pub base: String,
    pub data_dir: PathBuf,
    shutdown: CancellationToken,
    served: Option<JoinHandle<anyhow::Result<()>>>,
    /// Kept for servers that own their data dir ([`super::start_admin`]).
    _owned_dir: Option<tempfile::TempDir>,
}

impl InProcess {
    /// Starts on `opts` as the binary would: `opts.env` is read as `TAPEARR_*` variables.
    pub async fn start(opts: ServerOptions<'_>) -> InProcess {
        let server = build(&opts).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shutdown = CancellationToken::new();
        let served = tokio::spawn(server.serve(listener, shutdown.clone()));
        InProcess {
            base: format!("http://{addr}"),
            data_dir: opts.data_dir.to_path_buf(),
            shutdown,
            served: Some(served),
            _owned_dir: None,
        }
    }

    /// Starts on a new temporary data dir of its own.
    pub async fn start_on(backend: &Backend) -> InProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        server._owned_dir = Some(dir);
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The graceful stop SIGTERM gives the binary; returns once the server has stopped (and
    /// released its data dir).
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(served) = self.served.take() {
            served.await.expect("server task").expect("serve");
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The server wired on `opts`, not serving yet (router tests drive `Server::router` directly).
pub async fn build(opts: &ServerOptions<'_>) -> Server {
    install_crypto();
    Server::build(config(opts), Default::default())
        .await
        .expect("build the server")
}

/// `Config::load` with `opts.env` in place of the process environment (which tests share).
fn config(opts: &ServerOptions<'_>) -> Config {
    let mut figment = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(opts.data_dir.join("tapearr.toml")));
    for (name, value) in &opts.env {
        figment = figment.merge((env_key(name), env_value(value)));
    }
    let mut config: Config = figment
        .merge(("data_dir", opts.data_dir))
        .merge(("listen", "127.0.0.1:0"))
        .extract()
        .expect("test configuration");
    if let Some(url) = opts.database_url {
        config.database_url = tapearr_core::secret::Secret::new(url);
    }
    config.origins = tapearr_core::settings::Origins::with_env(
        opts.data_dir,
        opts.env.iter().map(|(k, v)| (*k, v.as_str())),
    );
    config
}

/// `TAPEARR_AUTH__LOCKOUT_ATTEMPTS` → `auth.lockout_attempts`, as figment's `Env` reads it.
fn env_key(name: &str) -> String {
    name.trim_start_matches("TAPEARR_")
        .to_lowercase()
        .replace("__", ".")
}

/// A variable's value typed as figment's `Env` types it (numbers, booleans, strings).
fn env_value(value: &str) -> figment::value::Value {
    value
        .parse()
        .unwrap_or_else(|e: std::convert::Infallible| match e {})
}
