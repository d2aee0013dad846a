//! The streams side: Twitch channels, live detection and automatic recording (S1, S2, S4).
//!
//! - [`channels`]: add, configure, remove and import channels.
//! - [`live`]: what happens when a channel goes live, changes title or category, or goes
//!   offline — whoever noticed it (polling, EventSub, a manual check).
//! - [`detect`]: Helix polling.
//! - [`eventsub`]: the webhook and subscription reconciliation.
//! - [`recorder`]: one supervised recorder per channel, restarted when it dies while live.
//! - [`reconcile`]: recordings left "recording" by a stopped or killed process.
//! - [`watch`]: running recordings served again as HLS playlists to viewers with a token (S9).
//! - [`views`]: what the API reads: channels with their recording, streams with their events.

mod account;
pub(crate) mod channels;
mod chat;
mod control;
pub mod detect;
mod error;
pub mod eventsub;
mod live;
pub mod model;
mod progress;
mod proxies;
mod reconcile;
mod recorder;
mod renewal;
mod signin;
mod timeline;
mod twitch;
mod views;
mod watch;
mod watch_relay;

pub use account::TwitchAccount;
pub use channels::{AddChannel, ChannelPatch, ImportResult};
pub use error::{StreamsError, StreamsResult};
pub use live::LiveInfo;
pub use signin::SignInStatus;
pub use twitch::TwitchApi;
use twitch::TwitchKey;
pub use watch::{WATCH_TOKEN_TTL, WatchFile, WatchRange, WatchTicket};
pub use watch_relay::Relayed;

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::events::EventBus;
use crate::files::LibraryRoots;
use crate::settings::{LiveConfig, LiveRoots};
use crate::setup::SetupError;
use crate::storage::Storage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tapearr_hls::NativeRecorder;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A recording whose heartbeat is older than this belongs to a dead process.
const STALE_OWNER: Duration = Duration::from_secs(45);

/// Everything the streams side needs; cheap to clone.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    store: Arc<dyn Storage>,
    events: EventBus,
    instance: String,
    secrets: SecretBox,
    /// The settings as they are now (credentials, roots, poll interval, disk floor, public URL).
    live: LiveConfig,
    http: reqwest::Client,
    /// The Twitch clients for the current credentials, rebuilt when they change.
    twitch: Mutex<Option<(TwitchKey, Option<TwitchApi>)>>,
    roots: LiveRoots,
    /// Starts new recordings a few segments behind the live edge.
    recorder: Arc<NativeRecorder>,
    /// Restarts and resumes at the live edge: earlier segments are already in the parts.
    restart_recorder: Arc<NativeRecorder>,
    /// Recorders running in this process, by channel id.
    active: Mutex<HashMap<String, recorder::Running>>,
    /// Serialises decisions per channel (online/offline/start/stop arrive from several places).
    channel_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    eventsub: eventsub::WebhookState,
    /// Channels changed: EventSub subscriptions need reconciling.
    channels_changed: Notify,
    shutdown: CancellationToken,
    /// Segment indexes of the running recordings and the viewers' tokens.
    watch: watch::Watch,
    disk: Arc<crate::system_checks::DiskWatch>,
    /// Writes the recordings' counters and heartbeats, grouped.
    progress: progress::ProgressWriter,
    /// The proxy list for playlist requests.
    proxies: proxies::PlaylistProxies,
    /// Wakes the account's token renewal; one renewal at a time.
    account: account::AccountState,
    /// The device-code sign-in in progress, or how the last one ended.
    signins: signin::SignIns,
}

pub struct StreamsDeps {
    pub config: Arc<Config>,
    /// Where the settings changed in the app are read.
    pub live: LiveConfig,
    pub store: Arc<dyn Storage>,
    pub events: EventBus,
    pub instance: String,
    pub secrets: SecretBox,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    /// Told at once when a write finds the disk full.
    pub disk: Arc<crate::system_checks::DiskWatch>,
}

impl Streams {
    pub fn new(deps: StreamsDeps) -> Result<Self, SetupError> {
        // Roots from the environment or file are created at start (and checked: a bad one
        // stops the start); those chosen in the app exist already.
        let current = deps.live.current();
        for root in &current.library_roots {
            std::fs::create_dir_all(root).map_err(|source| SetupError::CreateRoot {
                path: root.clone(),
                source,
            })?;
        }
        if !current.library_roots.is_empty() {
            LibraryRoots::new(&current.library_roots)?;
        }
        let live = tapearr_hls::LiveOptions {
            no_segment_timeout: Duration::from_secs(deps.config.twitch.stall_secs),
            ..tapearr_hls::LiveOptions::default()
        };
        let recorder = NativeRecorder::with_options(live)?;
        let restart_recorder = recorder.with_live_edge(1);
        let progress = progress::ProgressWriter::new(deps.store.clone(), deps.instance.clone());
        let proxies = proxies::PlaylistProxies::from_config(&deps.config.twitch)
            .map_err(|e| SetupError::PlaylistProxy(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                config: deps.config,
                store: deps.store,
                events: deps.events,
                instance: deps.instance,
                secrets: deps.secrets,
                roots: LiveRoots::new(deps.live.clone()),
                live: deps.live,
                http: deps.http,
                twitch: Mutex::new(None),
                recorder: Arc::new(recorder),
                restart_recorder: Arc::new(restart_recorder),
                active: Mutex::new(HashMap::new()),
                channel_locks: Mutex::new(HashMap::new()),
                eventsub: eventsub::WebhookState::default(),
                channels_changed: Notify::new(),
                shutdown: deps.shutdown,
                watch: watch::Watch::default(),
                disk: deps.disk,
                progress,
                proxies,
                account: account::AccountState::default(),
                signins: signin::SignIns::default(),
            }),
        })
    }

    pub fn twitch_configured(&self) -> bool {
        self.current_twitch().is_some()
    }

    pub(crate) fn twitch(&self) -> StreamsResult<TwitchApi> {
        self.current_twitch().ok_or(StreamsError::NotConfigured)
    }

    /// The clients for the credentials in use now; the same clients (and their app token)
    /// while the credentials stay the same.
    fn current_twitch(&self) -> Option<TwitchApi> {
        let config = self.inner.live.current();
        let key = TwitchKey::of(&config);
        let mut cached = self.inner.twitch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, api)) = cached.as_ref()
            && *k == key
        {
            return api.clone();
        }
        let api = TwitchApi::from_config(&config, self.inner.http.clone());
        *cached = Some((key, api.clone()));
        api
    }

    /// The library roots in use now; `None` while none is set.
    pub(crate) fn roots(&self) -> Option<LibraryRoots> {
        self.inner.roots.get()
    }

    /// Starts the background work: start-up reconciliation, then polling and (with a public
    /// URL) EventSub subscription upkeep. Returns when `shutdown` is cancelled and every
    /// recorder has stopped (their recordings stay "recording" and resume at the next start).
    pub async fn run(self) {
        // The account's token is renewed with the client id alone (public client).
        let account = tokio::spawn(self.clone().account_refresh_loop());
        if !self.wait_until_configured().await {
            let _ = account.await;
            return;
        }
        self.reconcile_at_start().await;
        let poller = tokio::spawn(self.clone().poll_loop());
        let subscriptions = tokio::spawn(self.clone().eventsub_loop());
        let proxy_checks = tokio::spawn(self.clone().proxy_check_loop());
        self.inner.shutdown.cancelled().await;
        let _ = poller.await;
        let _ = subscriptions.await;
        let _ = proxy_checks.await;
        let _ = account.await;
        self.wait_for_recorders().await;
    }

    /// Checks the playlist proxies every `twitch.proxy_check_secs`, first at once.
    async fn proxy_check_loop(self) {
        let proxies = &self.inner.proxies;
        if proxies.is_empty() {
            return;
        }
        let probe = self.inner.config.twitch.usher_url.to_string();
        let every = Duration::from_secs(self.inner.config.twitch.proxy_check_secs);
        loop {
            proxies.check(&probe).await;
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = self.inner.shutdown.cancelled() => return,
            }
        }
    }

    /// Waits for Twitch credentials (set in the app or already there); `false` on shutdown.
    async fn wait_until_configured(&self) -> bool {
        let mut live = self.inner.live.clone();
        let mut told = false;
        while !self.twitch_configured() {
            if !told {
                tracing::info!(
                    "Twitch is not configured: no live detection or recording until it is"
                );
                told = true;
            }
            tokio::select! {
                more = live.changed() => if !more {
                    self.inner.shutdown.cancelled().await;
                    return false;
                },
                _ = self.inner.shutdown.cancelled() => return false,
            }
        }
        !self.inner.shutdown.is_cancelled()
    }

    /// The recorders running in this process (a panic elsewhere must not wedge them).
    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, recorder::Running>> {
        self.inner.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this process may run `rec`: it owns it, or its owner stopped heartbeating.
    fn may_take_over(&self, rec: &model::Recording) -> bool {
        rec.owner == self.inner.instance
            || rec.heartbeat_at.plus(STALE_OWNER) < crate::time::Timestamp::now()
    }

    /// The per-channel decision lock.
    pub(crate) fn channel_lock(&self, channel_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .inner
            .channel_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        locks.entry(channel_id.to_string()).or_default().clone()
    }
}
