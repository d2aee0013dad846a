//! Typed configuration: defaults → `<data_dir>/tapearr.toml` → `TAPEARR_*` environment (`__` nests).
//!
//! Settings a user edits in the web app live in the database; this file holds what the process
//! needs before the database is open, plus the base URL of every outside service so users and
//! tests can point them elsewhere.

use crate::secret::Secret;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tapearr_integrations::mediaserver::plex_tv;
use tapearr_integrations::twitch;
use url::Url;

pub const CONFIG_FILE_NAME: &str = "tapearr.toml";
pub const ENV_PREFIX: &str = "TAPEARR_";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Where the database, logs, tools venv and caches live.
    pub data_dir: PathBuf,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/tapearr.db`.
    pub database_url: Secret,
    /// Folders Tapearr may write into; every library path must stay inside one of them.
    #[serde(deserialize_with = "paths_from_list_or_csv")]
    pub library_roots: Vec<PathBuf>,
    /// Path prefix when served behind a reverse proxy, e.g. `/tapearr`.
    pub base_path: String,
    /// The HTTPS address the internet reaches this server at (base path included), e.g.
    /// `https://tapearr.example.com`. Enables Twitch EventSub webhooks; without it Tapearr polls.
    pub public_url: Option<Url>,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub jobs: JobsConfig,
    pub events: EventsConfig,
    pub disk: DiskConfig,
    pub library: LibraryConfig,
    pub tools: ToolsConfig,
    pub twitch: TwitchConfig,
    pub tmdb: TmdbConfig,
    pub plex: PlexConfig,
    pub trailers: TrailersConfig,
    /// The settings the environment or `tapearr.toml` sets: read-only in the app.
    #[serde(skip)]
    pub origins: crate::settings::Origins,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `tapearr_core=debug,info` …
    pub level: String,
    /// Write a daily-rotated log file under `<data_dir>/logs`.
    pub file: bool,
    /// How many rotated log files to keep.
    pub max_files: usize,
    /// Output format on stdout: `text` or `json`.
    pub format: String,
}

/// Limits on the HTTP listener, so slow or idle clients cannot hold every socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpConfig {
    /// A request's headers must arrive within this many seconds of the connection waiting for
    /// them; an idle keep-alive connection is closed after it too.
    pub header_timeout_secs: u64,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthConfig {
    /// How long a login session lasts without use.
    pub session_days: u32,
    /// How long a login session lasts at most, however often it is used (fractions allowed).
    pub session_max_age_days: f64,
    /// Failed logins for one user name within `lockout_minutes` before it is locked.
    pub lockout_attempts: u32,
    pub lockout_minutes: u32,
    /// Set the cookie's `Secure` flag (turn on behind HTTPS).
    pub secure_cookies: bool,
    /// Argon2 hashes (logins, setup) running at once; each takes ~19 MiB and a core.
    pub hash_concurrency: usize,
    /// How long a login waits for one of those before it is answered `429 busy`.
    pub hash_wait_ms: u64,
    /// Reverse-proxy authentication: the header an authenticating proxy sets to the signed-in
    /// user's name (e.g. `Remote-User`). Empty: off.
    pub proxy_header: String,
    /// The proxies that header is believed from: comma-separated addresses or CIDR networks
    /// (`172.18.0.0/16, 127.0.0.1`). Compared with the TCP peer, never a forwarded header.
    pub trusted_proxies: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobsConfig {
    /// A claimed job belongs to its worker this long after each heartbeat.
    pub lease_secs: u64,
    pub heartbeat_secs: u64,
    /// How often idle workers look for new jobs (they are also woken on enqueue).
    pub poll_ms: u64,
    /// Jobs of one kind running at once in this process, unless `concurrency` names the kind.
    pub default_concurrency: usize,
    pub concurrency: BTreeMap<String, usize>,
    /// Bound on waiting for running jobs at shutdown.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventsConfig {
    /// Event history older than this is pruned.
    pub retention_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiskConfig {
    /// Below this much free space (GiB) on the data dir or a library root, a
    /// `system.disk_low` event is raised (and notified to subscribed channels).
    pub low_free_gb: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LibraryConfig {
    /// Retention leaves a recording alone until it finished this long ago (a viewer or a
    /// media-server scan may still be on it). Tests shorten it.
    pub retention_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolsConfig {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// The python used to create the tools venv.
    pub python: PathBuf,
    /// A prepared tools venv used while `<data_dir>/tools/venv` does not exist (the
    /// container image's); never written.
    pub fallback_venv: Option<PathBuf>,
    /// Which yt-dlp releases the scheduled update follows: `stable` or `nightly`.
    pub ytdlp_channel: crate::tools::YtDlpChannel,
    /// Update yt-dlp daily (task `update-yt-dlp`), rolling back a release that fails the
    /// self-check.
    pub ytdlp_auto_update: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwitchConfig {
    pub helix_url: Url,
    pub id_url: Url,
    pub gql_url: Url,
    pub usher_url: Url,
    /// Twitch chat (IRC over WebSocket), read anonymously while a channel is recorded.
    pub chat_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    /// How often Helix is asked which channels are live.
    pub poll_secs: u64,
    /// A recorder that got no new segment for this long while the channel is live is restarted.
    pub stall_secs: u64,
    /// HTTP proxies for playlist requests, comma separated (`http://user:pass@host:port`).
    pub playlist_proxies: String,
    /// Logins whose playlist requests use them, comma separated; `*` for every channel. Adds to
    /// the channels whose own `use_playlist_proxy` setting is on.
    pub proxy_channels: String,
    /// How often each proxy is checked (a failing one is skipped until it recovers).
    pub proxy_check_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TmdbConfig {
    pub api_url: Url,
    pub api_key: Secret,
}

/// plex.tv, for signing in to Plex by PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlexConfig {
    /// plex.tv's API (pins, the account's servers).
    pub tv_url: Url,
    /// The page where the user signs in and approves a pin.
    pub app_url: Url,
}

/// Where trailers come from and how politely they are fetched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrailersConfig {
    /// The video page of an id; `{id}` is replaced. Point it at an Invidious/Piped mirror if
    /// you like (yt-dlp must understand the site).
    pub watch_url: String,
    /// The page of a Vimeo id (TMDB lists some trailers there); `{id}` is replaced.
    pub vimeo_url: String,
    /// yt-dlp search target; `{n}` results for `{query}` (URL-encoded when the target is a URL).
    pub search_target: String,
    /// A Netscape cookies file for yt-dlp (YouTube's bot check and age gate).
    pub cookies_file: Option<PathBuf>,
    /// One yt-dlp run (search or download) is stopped after this long.
    pub download_timeout_secs: u64,
    /// At least this long between two requests to the same video host.
    pub host_interval_secs: u64,
    /// Plus a random 0…jitter seconds.
    pub host_jitter_secs: u64,
    /// At most this many downloads per host and hour.
    pub host_hourly_cap: u32,
    /// A host that refuses us (bot check, rate limit, rejected cookies) is paused this long;
    /// each refusal in a row doubles it.
    pub host_pause_secs: u64,
    /// The longest pause.
    pub host_pause_max_secs: u64,
    /// Quality upgrades (a profile option): a placed trailer below the profile's height is
    /// searched for a taller video at most this often (per slot; 14 days).
    pub upgrade_interval_secs: u64,
    /// A bgutil PO-token provider (e.g. `http://127.0.0.1:4416`), off when unset: yt-dlp gets
    /// it as the `youtubepot-bgutilhttp` extractor argument. See docs/trailers.md.
    pub po_token_provider_url: Option<String>,
    /// A proxy for yt-dlp (`--proxy`: `http://user:pass@host:port`, `socks5://…`), none when
    /// empty. Sealed like other secrets when set in the app: it may hold a password.
    pub proxy: Secret,
    /// Downloads running at once (each on its own host's schedule).
    pub parallel_downloads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration key `{key}`: {message}")]
    BadValue { key: &'static str, message: String },
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|_| unreachable!("built-in URL {s} is valid"))
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            database_url: Secret::default(),
            library_roots: Vec::new(),
            base_path: String::new(),
            public_url: None,
            log: LogConfig {
                level: "info".into(),
                file: true,
                max_files: 7,
                format: "text".into(),
            },
            http: HttpConfig {
                header_timeout_secs: 10,
                max_connections: 1024,
            },
            auth: AuthConfig {
                session_days: 30,
                session_max_age_days: 90.0,
                lockout_attempts: 5,
                lockout_minutes: 15,
                secure_cookies: false,
                hash_concurrency: 2,
                hash_wait_ms: 2000,
                proxy_header: String::new(),
                trusted_proxies: String::new(),
            },
            jobs: JobsConfig {
                lease_secs: 60,
                heartbeat_secs: 15,
                poll_ms: 1000,
                default_concurrency: 2,
                concurrency: BTreeMap::new(),
                shutdown_grace_secs: 20,
            },
            events: EventsConfig { retention_days: 30 },
            disk: DiskConfig { low_free_gb: 10.0 },
            library: LibraryConfig {
                retention_grace_secs: 300,
            },
            tools: ToolsConfig {
                ffmpeg: "ffmpeg".into(),
                ffprobe: "ffprobe".into(),
                python: "python3".into(),
                fallback_venv: None,
                ytdlp_channel: crate::tools::YtDlpChannel::Stable,
                ytdlp_auto_update: true,
            },
            twitch: TwitchConfig {
                helix_url: url(twitch::HELIX_URL),
                id_url: url(twitch::ID_URL),
                gql_url: url(twitch::GQL_URL),
                usher_url: url(twitch::USHER_URL),
                chat_url: url(twitch::CHAT_URL),
                client_id: String::new(),
                client_secret: Secret::default(),
                poll_secs: 30,
                stall_secs: 60,
                playlist_proxies: String::new(),
                proxy_channels: String::new(),
                proxy_check_secs: 60,
            },
            tmdb: TmdbConfig {
                api_url: url("https://api.themoviedb.org/3/"),
                api_key: Secret::default(),
            },
            plex: PlexConfig {
                tv_url: url(plex_tv::PLEX_TV),
                app_url: url(plex_tv::PLEX_APP),
            },
            trailers: TrailersConfig {
                watch_url: "https://www.youtube.com/watch?v={id}".into(),
                vimeo_url: "https://vimeo.com/{id}".into(),
                search_target: "ytsearch{n}:{query}".into(),
                cookies_file: None,
                download_timeout_secs: 900,
                host_interval_secs: 20,
                host_jitter_secs: 10,
                host_hourly_cap: 60,
                host_pause_secs: 30 * 60,
                host_pause_max_secs: 24 * 3600,
                upgrade_interval_secs: 14 * 86_400,
                po_token_provider_url: None,
                proxy: Secret::default(),
                parallel_downloads: 2,
            },
            origins: Default::default(),
        }
    }
}

impl Config {
    /// Load from defaults, the data dir's `tapearr.toml`, then the environment.
    ///
    /// `data_dir_override` (from the command line) wins over everything for the data dir, which
    /// must be known before the file inside it can be read.
    pub fn load(data_dir_override: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(data_dir_override, Env::prefixed(ENV_PREFIX).split("__"))
    }

    fn load_from(data_dir_override: Option<&Path>, env: Env) -> Result<Self, ConfigError> {
        let env_data_dir = Figment::from(env.clone().only(&["data_dir"]))
            .extract_inner::<PathBuf>("data_dir")
            .ok();
        let data_dir = data_dir_override
            .map(Path::to_path_buf)
            .or(env_data_dir)
            .unwrap_or_else(|| Config::default().data_dir);

        let origins =
            crate::settings::Origins::from_providers(Figment::from(env.clone()), &data_dir);
        let mut figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(data_dir.join(CONFIG_FILE_NAME)))
            .merge(env);
        if let Some(dir) = data_dir_override {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        let mut config: Config = figment.extract().map_err(describe)?;
        config.origins = origins;
        config.validated()
    }

    fn validated(mut self) -> Result<Self, ConfigError> {
        let url = self.database_url.expose();
        if !(url.is_empty() || url.starts_with("sqlite:") || url.starts_with("postgres")) {
            return Err(ConfigError::BadValue {
                key: "database_url",
                message: "must start with sqlite:// or postgres://".into(),
            });
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            ConfigError::BadValue {
                key: "log.level",
                message: e.to_string(),
            }
        })?;
        if !(self.disk.low_free_gb >= 0.0 && self.disk.low_free_gb.is_finite()) {
            return Err(ConfigError::BadValue {
                key: "disk.low_free_gb",
                message: "must be a number of GiB, 0 or more".into(),
            });
        }
        // An empty value means off; yt-dlp splits extractor arguments on `,` and `;`.
        self.trailers.po_token_provider_url = self
            .trailers
            .po_token_provider_url
            .take()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        if let Some(u) = &self.trailers.po_token_provider_url
            && (!matches!(
                Url::parse(u).map(|u| u.scheme().to_owned()).as_deref(),
                Ok("http" | "https")
            ) || u.contains([',', ';']))
        {
            return Err(ConfigError::BadValue {
                key: "trailers.po_token_provider_url",
                message: "must be an http(s) URL such as http://127.0.0.1:4416".into(),
            });
        }
        if !self.trailers.vimeo_url.contains("{id}") {
            return Err(ConfigError::BadValue {
                key: "trailers.vimeo_url",
                message: "must contain {id}".into(),
            });
        }
        if !self.trailers.watch_url.contains("{id}") {
            return Err(ConfigError::BadValue {
                key: "trailers.watch_url",
                message: "must contain {id}".into(),
            });
        }
        if !self.trailers.search_target.contains("{query}") {
            return Err(ConfigError::BadValue {
                key: "trailers.search_target",
                message: "must contain {query}".into(),
            });
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError::BadValue {
                key: "log.format",
                message: "must be `text` or `json`".into(),
            });
        }
        if self.jobs.lease_secs == 0 || self.jobs.heartbeat_secs >= self.jobs.lease_secs {
            return Err(ConfigError::BadValue {
                key: "jobs.heartbeat_secs",
                message: "must be greater than 0 and smaller than jobs.lease_secs".into(),
            });
        }
        if !(self.auth.session_max_age_days.is_finite() && self.auth.session_max_age_days > 0.0) {
            return Err(ConfigError::BadValue {
                key: "auth.session_max_age_days",
                message: "must be a number of days above 0".into(),
            });
        }
        if let Err(message) = crate::auth::proxy::TrustedProxies::parse(&self.auth.trusted_proxies)
        {
            return Err(ConfigError::BadValue {
                key: "auth.trusted_proxies",
                message,
            });
        }
        if !self.auth.proxy_header.is_empty() && self.auth.trusted_proxies.trim().is_empty() {
            return Err(ConfigError::BadValue {
                key: "auth.trusted_proxies",
                message: "auth.proxy_header needs the proxies it is believed from".into(),
            });
        }
        if !self.auth.proxy_header.is_empty() && !is_header_name(&self.auth.proxy_header) {
            return Err(ConfigError::BadValue {
                key: "auth.proxy_header",
                message: "must be an HTTP header name such as Remote-User".into(),
            });
        }
        if self.auth.hash_concurrency == 0 {
            return Err(ConfigError::BadValue {
                key: "auth.hash_concurrency",
                message: "must be at least 1".into(),
            });
        }
        if self.http.header_timeout_secs == 0 {
            return Err(ConfigError::BadValue {
                key: "http.header_timeout_secs",
                message: "must be at least 1".into(),
            });
        }
        if self.http.max_connections == 0 {
            return Err(ConfigError::BadValue {
                key: "http.max_connections",
                message: "must be at least 1".into(),
            });
        }
        if self.jobs.default_concurrency == 0 {
            return Err(ConfigError::BadValue {
                key: "jobs.default_concurrency",
                message: "must be at least 1".into(),
            });
        }
        if !self.base_path.is_empty() {
            let trimmed = self.base_path.trim_end_matches('/');
            if !trimmed.starts_with('/') {
                return Err(ConfigError::BadValue {
                    key: "base_path",
                    message: "must start with `/`, e.g. /tapearr".into(),
                });
            }
            self.base_path = trimmed.to_string();
        }
        if self.twitch.stall_secs < 2 {
            return Err(ConfigError::BadValue {
                key: "twitch.stall_secs",
                message: "must be at least 2".into(),
            });
        }
        if self.twitch.proxy_check_secs == 0 {
            return Err(ConfigError::BadValue {
                key: "twitch.proxy_check_secs",
                message: "must be at least 1".into(),
            });
        }
        if self.twitch.poll_secs == 0 {
            return Err(ConfigError::BadValue {
                key: "twitch.poll_secs",
                message: "must be at least 1".into(),
            });
        }
        if let Some(url) = &self.public_url
            && !matches!(url.scheme(), "https" | "http")
        {
            return Err(ConfigError::BadValue {
                key: "public_url",
                message: "must be an http(s) URL".into(),
            });
        }
        for root in &self.library_roots {
            if !root.is_absolute() {
                return Err(ConfigError::BadValue {
                    key: "library_roots",
                    message: format!("{} is not an absolute path", root.display()),
                });
            }
        }
        Ok(self)
    }

    /// The database URL with the SQLite default filled in.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("tapearr.db").display())
        } else {
            self.database_url.expose().to_string()
        }
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn tools_dir(&self) -> PathBuf {
        self.data_dir.join("tools")
    }
}

/// Names the key (dotted, lower case) and where its value came from.
/// An HTTP header name: one RFC 9110 token.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn describe(errors: figment::Error) -> ConfigError {
    let parts: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("key `{key}`: {}{source}", e.kind)
            }
        })
        .collect();
    ConfigError::Invalid(parts.join("; "))
}

/// Accept `["/a", "/b"]` (TOML) as well as `/a,/b` (handy in an environment variable).
fn paths_from_list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<PathBuf>),
        Csv(String),
    }
    Ok(match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(list) => list,
        ListOrCsv::Csv(csv) => csv
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Load with `env` set and `toml` as the data dir's config file, isolated by figment's Jail.
    #[allow(clippy::result_large_err)] // figment's own error type, test-only
    fn load_with(env: &[(&str, &str)], toml: Option<&str>) -> Result<Config, ConfigError> {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            for (k, v) in env {
                jail.set_env(k, v);
            }
            if let Some(toml) = toml {
                jail.create_file(CONFIG_FILE_NAME, toml)?;
            }
            out = Some(Config::load(Some(jail.directory())));
            Ok(())
        });
        out.expect("jail ran")
    }

    #[test]
    fn defaults_then_file_then_env() {
        let c = load_with(
            &[("TAPEARR_TWITCH__HELIX_URL", "http://127.0.0.1:9/helix/")],
            Some("listen = \"0.0.0.0:8080\"\n[log]\nlevel = \"debug\"\n"),
        )
        .expect("valid");
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.log.level, "debug");
        assert_eq!(c.twitch.helix_url.as_str(), "http://127.0.0.1:9/helix/");
        assert_eq!(c.jobs.lease_secs, 60);
        assert!(c.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn bad_value_names_the_key() {
        let err = load_with(&[("TAPEARR_LISTEN", "not-an-address")], None).expect_err("invalid");
        assert!(err.to_string().contains("listen"), "{err}");
        let err = load_with(&[("TAPEARR_LOG__LEVEL", "info,[=")], None).expect_err("invalid");
        assert!(err.to_string().contains("log.level"), "{err}");
        let err =
            load_with(&[], Some("[twitch]\nusher_url = \"not a url\"\n")).expect_err("bad url");
        assert!(err.to_string().contains("usher_url"), "{err}");
    }

    #[test]
    fn a_proxy_header_needs_valid_trusted_proxies() {
        let ok = load_with(
            &[
                ("TAPEARR_AUTH__PROXY_HEADER", "Remote-User"),
                ("TAPEARR_AUTH__TRUSTED_PROXIES", "172.18.0.0/16, ::1"),
            ],
            None,
        )
        .expect("valid");
        assert_eq!(ok.auth.proxy_header, "Remote-User");
        for (header, proxies) in [
            ("Remote-User", ""),
            ("Remote-User", "172.18.0.0/33"),
            ("Remote User", "10.0.0.1"),
        ] {
            let err = load_with(
                &[
                    ("TAPEARR_AUTH__PROXY_HEADER", header),
                    ("TAPEARR_AUTH__TRUSTED_PROXIES", proxies),
                ],
                None,
            )
            .expect_err("invalid");
            assert!(
                err.to_string().contains("auth."),
                "{header} {proxies}: {err}"
            );
        }
    }

    #[test]
    fn the_po_token_provider_is_off_by_default_and_must_be_an_http_url() {
        let c = load_with(&[], None).expect("ok");
        assert_eq!(c.trailers.po_token_provider_url, None);
        let c = load_with(
            &[(
                "TAPEARR_TRAILERS__PO_TOKEN_PROVIDER_URL",
                "http://127.0.0.1:4416/",
            )],
            None,
        )
        .expect("ok");
        assert_eq!(
            c.trailers.po_token_provider_url.as_deref(),
            Some("http://127.0.0.1:4416")
        );
        let c = load_with(&[("TAPEARR_TRAILERS__PO_TOKEN_PROVIDER_URL", " ")], None).expect("ok");
        assert_eq!(c.trailers.po_token_provider_url, None, "empty is off");
        for bad in [
            "file:///etc/passwd",
            "127.0.0.1:4416",
            "http://a/x;youtube:x=y",
        ] {
            let err = load_with(&[("TAPEARR_TRAILERS__PO_TOKEN_PROVIDER_URL", bad)], None)
                .expect_err(bad);
            assert!(err.to_string().contains("po_token_provider_url"), "{err}");
        }
    }

    #[test]
    fn a_fallback_tools_venv_from_env() {
        let c = load_with(&[], None).expect("ok");
        assert_eq!(c.tools.fallback_venv, None);
        let c = load_with(
            &[("TAPEARR_TOOLS__FALLBACK_VENV", "/opt/tapearr/venv")],
            None,
        )
        .expect("ok");
        assert_eq!(
            c.tools.fallback_venv,
            Some(PathBuf::from("/opt/tapearr/venv"))
        );
    }

    #[test]
    fn library_roots_from_csv_env() {
        let c = load_with(&[("TAPEARR_LIBRARY_ROOTS", "/media/a, /media/b")], None).expect("ok");
        assert_eq!(
            c.library_roots,
            vec![PathBuf::from("/media/a"), PathBuf::from("/media/b")]
        );
        let err =
            load_with(&[("TAPEARR_LIBRARY_ROOTS", "relative/dir")], None).expect_err("relative");
        assert!(err.to_string().contains("library_roots"));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = load_with(&[("TAPEARR_TWITCH__CLIENT_SECRET", "s3cr3t-value")], None).expect("ok");
        assert_eq!(c.twitch.client_secret.expose(), "s3cr3t-value");
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }
}
