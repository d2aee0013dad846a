//! A fake Twitch on one local port that speaks the real wire formats: the OAuth token and
//! validate endpoints, Helix (users, streams, channels, games, follows, EventSub
//! subscriptions) with an enforced point bucket, EventSub webhook deliveries signed like
//! Twitch's, and the GQL playback token + usher that lead to an [`HlsOrigin`] channel.
//!
//! URLs for a client: helix `{url}/helix/`, id `{url}/`, gql `{url}/gql`, usher `{url}/`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tapearr_testkit::hls_origin::HlsOrigin;
//! use tapearr_testkit::twitch::FakeTwitch;
//! let twitch = FakeTwitch::start(Arc::new(HlsOrigin::start().await?)).await?;
//! twitch.add_user("cool_user", "Cool_User");
//! twitch.go_live("cool_user", "hello", "Just Chatting").await?;
//! # Ok(()) }
//! ```

// Route helpers return a ready error `Response` early; its size does not matter in a fake.
#![allow(clippy::result_large_err)]

mod chat;
mod control;
mod eventsub;
mod helix;
mod oauth;
mod playback;
mod ratelimit;
mod script;
mod state;
mod video_gql;
mod vod;
mod wire;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::sync::Notify;

use crate::hls_origin::{ChannelSpec, Container, HlsOrigin, MediaError, MediaParams};

pub use chat::{ChatMessage, ChatStats};
pub use eventsub::{Delivery, RawDelivery};
pub use ratelimit::RateStats;
pub use script::Action;
pub use video_gql::{CommentRequests, GqlFault, KAPPA_ID, VideoChatComment, VideoGameMoment};
pub use vod::{VideoSpec, helix_duration};

pub const DEFAULT_CLIENT_ID: &str = "fakeclientid0000000000000000000";
pub const DEFAULT_CLIENT_SECRET: &str = "fakeclientsecret00000000000000";

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no user {0}")]
    UnknownUser(String),
    #[error("no pending device code {0}")]
    UnknownDeviceCode(String),
    #[error("no subscription {0}")]
    UnknownSubscription(String),
    #[error("nothing was sent yet")]
    NothingSent,
    #[error("the callback could not be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Media(#[from] MediaError),
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct FakeTwitchConfig {
    pub bind: String,
    pub client_id: String,
    pub client_secret: String,
    /// Points per `per`, per client id.
    pub rate_points: u32,
    pub rate_per: Duration,
}

impl Default for FakeTwitchConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            rate_points: 800,
            rate_per: Duration::from_secs(60),
        }
    }
}

pub(crate) struct Shared {
    pub cfg: FakeTwitchConfig,
    pub base: String,
    pub world: Mutex<state::World>,
    pub origin: Arc<HlsOrigin>,
    pub limits: ratelimit::RateLimits,
    pub http: reqwest::Client,
    pub spec: Mutex<ChannelSpec>,
    pub outbox: tokio::sync::mpsc::UnboundedSender<eventsub::Outgoing>,
    pub deliveries: Mutex<Vec<Delivery>>,
    pub last_notification: Mutex<Option<eventsub::Outgoing>>,
    pub delivered: Notify,
    pub token_requests: std::sync::atomic::AtomicU64,
    /// Key of the fake's playback-token signatures.
    pub playback_key: String,
    pub playback: Mutex<PlaybackState>,
    /// The IRC-over-WebSocket chat server.
    pub chat: chat::ChatHub,
    /// Past broadcasts, clips, their faults and counters.
    pub vods: Mutex<vod::VodState>,
    /// Wakes held VOD segment requests (see [`FakeTwitch::hold_vod_segment`]).
    pub vod_released: Notify,
}

/// Playback settings and what the playback endpoints saw.
#[derive(Debug, Clone)]
pub(crate) struct PlaybackState {
    /// How long a playback token is valid (Twitch: 20 min for the web player, 24 h at most).
    pub token_ttl: Duration,
    /// User ids whose tokens hide ads (Turbo or a subscription).
    pub ad_free_viewers: std::collections::HashSet<String>,
    pub gql_requests: u64,
    pub tokens_issued: u64,
    pub expired_refusals: u64,
    pub media_playlist_requests: u64,
    pub authorized_playlist_requests: u64,
}

/// What the playback endpoints saw: see [`FakeTwitch::playback_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaybackStats {
    /// GQL requests (any operation).
    pub gql_requests: u64,
    /// `PlaybackAccessToken` answers (a token or `null` for an offline channel).
    pub tokens_issued: u64,
    /// Usher and media playlist requests refused because their token had expired.
    pub expired_refusals: u64,
    /// Media playlist requests (valid or not).
    pub media_playlist_requests: u64,
    /// Usher and media playlist requests that carried an `Authorization` header.
    pub authorized_playlist_requests: u64,
}

impl Shared {
    pub fn playback(&self) -> std::sync::MutexGuard<'_, PlaybackState> {
        self.playback.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn vods(&self) -> std::sync::MutexGuard<'_, vod::VodState> {
        self.vods.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, state::World> {
        // A panic while holding the lock only happens in a failing test; keep serving.
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake; stops when dropped. Clone-free: share it behind an `Arc` if needed.
pub struct FakeTwitch {
    shared: Arc<Shared>,
    _shutdown: crate::serve::StopOnDrop,
}

impl FakeTwitch {
    /// Starts on `127.0.0.1:<random port>` with the default credentials and 800 points/min.
    pub async fn start(origin: Arc<HlsOrigin>) -> std::io::Result<Self> {
        Self::start_with(origin, FakeTwitchConfig::default()).await
    }

    /// Starts with a different point bucket (e.g. a tiny one to test 429 handling).
    pub async fn with_rate_limit(
        origin: Arc<HlsOrigin>,
        points: u32,
        per: Duration,
    ) -> std::io::Result<Self> {
        let cfg = FakeTwitchConfig {
            rate_points: points,
            rate_per: per,
            ..FakeTwitchConfig::default()
        };
        Self::start_with(origin, cfg).await
    }

    pub async fn start_with(
        origin: Arc<HlsOrigin>,
        cfg: FakeTwitchConfig,
    ) -> std::io::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind(&cfg.bind).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let (outbox, rx) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            world: Mutex::new(state::World::new()),
            origin,
            limits: ratelimit::RateLimits::new(cfg.rate_points, cfg.rate_per),
            http,
            spec: Mutex::new(ChannelSpec::new(MediaParams::test(Container::Ts)).window(5)),
            outbox,
            deliveries: Mutex::default(),
            last_notification: Mutex::default(),
            delivered: Notify::new(),
            token_requests: Default::default(),
            playback_key: wire::random_hex(16),
            playback: Mutex::new(PlaybackState {
                token_ttl: Duration::from_secs(1200),
                ad_free_viewers: Default::default(),
                gql_requests: 0,
                tokens_issued: 0,
                expired_refusals: 0,
                media_playlist_requests: 0,
                authorized_playlist_requests: 0,
            }),
            chat: chat::ChatHub::default(),
            vods: Mutex::default(),
            vod_released: Notify::new(),
            cfg,
        });
        eventsub::spawn_sender(Arc::downgrade(&shared), rx);
        let app = Router::new()
            .merge(oauth::router())
            .nest("/helix", helix::router(shared.clone()))
            .merge(playback::router())
            .merge(vod::router())
            .merge(control::router())
            .route("/irc", axum::routing::get(chat::upgrade))
            .with_state(shared.clone());
        Ok(Self {
            shared,
            _shutdown: crate::serve::spawn(listener, app, "fake twitch"),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    pub fn helix_url(&self) -> String {
        format!("{}/helix/", self.shared.base)
    }

    pub fn id_url(&self) -> String {
        format!("{}/", self.shared.base)
    }

    pub fn gql_url(&self) -> String {
        format!("{}/gql", self.shared.base)
    }

    pub fn usher_url(&self) -> String {
        format!("{}/", self.shared.base)
    }

    /// The chat server (`wss://irc-ws.chat.twitch.tv:443` on Twitch).
    pub fn chat_url(&self) -> String {
        format!("{}/irc", self.shared.base.replacen("http://", "ws://", 1))
    }

    pub fn client_id(&self) -> &str {
        &self.shared.cfg.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.shared.cfg.client_secret
    }

    pub fn origin(&self) -> &Arc<HlsOrigin> {
        &self.shared.origin
    }

    /// The media every channel that goes live gets (default: one 720p TS variant, 5-segment
    /// window).
    pub fn set_channel_spec(&self, spec: ChannelSpec) {
        *self.shared.spec.lock().unwrap_or_else(|p| p.into_inner()) = spec;
    }

    // ---- scripting ----

    /// Adds a user (idempotent per login); returns its numeric id.
    pub fn add_user(&self, login: &str, display_name: &str) -> String {
        self.shared.world().add_user(login, display_name)
    }

    pub fn user_id(&self, login: &str) -> Option<String> {
        self.shared
            .world()
            .user_by_login(login)
            .map(|u| u.id.clone())
    }

    /// Starts a stream: creates the HLS channel, lists it in `/streams`, sends
    /// `stream.online`. Returns the stream id.
    pub async fn go_live(
        &self,
        login: &str,
        title: &str,
        game: &str,
    ) -> Result<String, ControlError> {
        script::go_live(&self.shared, login, title, game).await
    }

    /// Changes title and category; sends `channel.update` (v2).
    pub fn set_channel(&self, login: &str, title: &str, game: &str) -> Result<(), ControlError> {
        script::set_channel(&self.shared, login, title, game)
    }

    /// Ends the stream: gone from `/streams`, usher 404, HLS channel removed, sends
    /// `stream.offline`.
    pub fn go_offline(&self, login: &str) -> Result<(), ControlError> {
        script::go_offline(&self.shared, login)
    }

    /// Runs `steps` in a task; each delay counts from the previous step.
    pub fn script(
        &self,
        steps: Vec<(Duration, Action)>,
    ) -> tokio::task::JoinHandle<Result<(), ControlError>> {
        let shared = self.shared.clone();
        tokio::spawn(async move { script::run(&shared, steps).await })
    }

    /// While true, every Helix call answers 500 (an outage is not "offline").
    pub fn set_helix_failing(&self, failing: bool) {
        self.shared.world().helix_failing = failing;
    }

    /// Invalidates every app token: the next Helix call with one gets 401.
    pub fn expire_tokens(&self) {
        self.shared.world().app_tokens.clear();
    }

    /// Caps every page Helix returns (to exercise pagination with small data).
    pub fn set_max_page(&self, n: usize) {
        self.shared.world().max_page = n.max(1);
    }

    pub fn follow(&self, user_login: &str, channel_login: &str) -> Result<(), ControlError> {
        script::follow(&self.shared, user_login, channel_login)
    }

    /// A user access token for `login` issued to this app's client id (what the OAuth code
    /// flow would give): Helix takes it, GQL's playback query refuses it.
    pub fn issue_user_token(&self, login: &str) -> Result<String, ControlError> {
        script::issue_user_token(&self.shared, login)
    }

    /// A user access token for `login` issued to the twitch.tv web player's client id (its
    /// `auth-token` cookie): GQL's playback query takes it.
    pub fn issue_web_token(&self, login: &str) -> Result<String, ControlError> {
        script::issue_web_token(&self.shared, login)
    }

    /// Playback tokens issued from now on expire after `ttl` (whole seconds, like Twitch's
    /// `expires`); usher and media playlists refuse them with 403 afterwards.
    pub fn set_playback_token_ttl(&self, ttl: Duration) {
        self.shared.playback().token_ttl = ttl;
    }

    /// `viewer` subscribes to `channel`: its subscriber-only videos play for `viewer`'s token.
    pub fn subscribe(&self, viewer: &str, channel: &str) -> Result<(), ControlError> {
        let unknown = |l: &str| ControlError::UnknownUser(l.to_owned());
        let viewer_id = self.user_id(viewer).ok_or_else(|| unknown(viewer))?;
        let channel_id = self.user_id(channel).ok_or_else(|| unknown(channel))?;
        self.shared
            .vods()
            .subscribers
            .insert((viewer_id, channel_id));
        Ok(())
    }

    /// `login` has Turbo (or subscribes): playback tokens for its web-player tokens hide ads,
    /// and the media playlists signed with them carry none.
    pub fn grant_ad_free(&self, login: &str) -> Result<(), ControlError> {
        let id = self
            .user_id(login)
            .ok_or_else(|| ControlError::UnknownUser(login.to_owned()))?;
        self.shared.playback().ad_free_viewers.insert(id);
        Ok(())
    }

    // ---- chat ----

    /// Relays a message to the clients joined to `#login`; returns its id (for
    /// [`Self::chat_clear_message`]). Nobody joined: the message is lost, as on Twitch.
    pub fn chat_say(&self, login: &str, message: &ChatMessage) -> String {
        let room_id = self.user_id(login).unwrap_or_default();
        self.shared.chat.say(login, &room_id, message)
    }

    /// Says `messages` in a task, `every` apart (a scripted stream at a fixed rate).
    pub fn chat_script(
        &self,
        login: &str,
        messages: Vec<ChatMessage>,
        every: Duration,
    ) -> tokio::task::JoinHandle<Vec<String>> {
        let shared = self.shared.clone();
        let login = login.to_string();
        let room_id = self.user_id(&login).unwrap_or_default();
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(messages.len());
            for message in messages {
                ids.push(shared.chat.say(&login, &room_id, &message));
                tokio::time::sleep(every).await;
            }
            ids
        })
    }

    /// `CLEARMSG`: a moderator deleted message `id` of `user`.
    pub fn chat_clear_message(&self, login: &str, user: &str, id: &str) {
        let room_id = self.user_id(login).unwrap_or_default();
        self.shared.chat.clear_message(login, &room_id, user, id);
    }

    /// `CLEARCHAT`: `user` timed out (their messages go) or, with `None`, the chat cleared.
    pub fn chat_clear(&self, login: &str, user: Option<&str>) {
        let room_id = self.user_id(login).unwrap_or_default();
        self.shared.chat.clear_chat(login, &room_id, user);
    }

    /// Sends `PING :tmi.twitch.tv` to every logged-in client; one that does not answer
    /// within the pong timeout (default 10 s) is dropped.
    pub fn chat_ping(&self) {
        self.shared.chat.ping();
    }

    pub fn set_chat_pong_timeout(&self, timeout: Duration) {
        self.shared.chat.set_pong_timeout(timeout);
    }

    /// Closes every connection joined to `#login` without a word.
    pub fn chat_drop(&self, login: &str) {
        self.shared.chat.drop_channel(login);
    }

    /// Sends `RECONNECT` to the clients joined to `#login`, then closes them.
    pub fn chat_reconnect(&self, login: &str) {
        self.shared.chat.reconnect(login);
    }

    pub fn chat_stats(&self) -> ChatStats {
        self.shared.chat.stats()
    }

    /// Waits until `#login` was joined `count` times in all (reconnects join again).
    pub async fn wait_chat_joins(&self, login: &str, count: u64, timeout: Duration) -> bool {
        self.shared.chat.wait_joins(login, count, timeout).await
    }

    /// Waits until the chat's counters satisfy `pred`; false on timeout.
    pub async fn wait_chat(&self, timeout: Duration, pred: impl Fn(&ChatStats) -> bool) -> bool {
        chat::wait_until(&self.shared.chat, timeout, pred).await
    }

    // ---- past broadcasts and clips ----

    /// Adds a video of `login` (media: the test TS segments, 1 s each); returns its id.
    /// Listed newest first by Helix `/videos`.
    pub async fn add_video(&self, login: &str, spec: VideoSpec) -> Result<String, ControlError> {
        self.add_video_with(login, spec, MediaParams::test(Container::Ts))
            .await
    }

    /// [`Self::add_video`] with other media (the bench uses realistic 2 s 720p segments).
    pub async fn add_video_with(
        &self,
        login: &str,
        spec: VideoSpec,
        params: MediaParams,
    ) -> Result<String, ControlError> {
        script::add_video(&self.shared, login, spec, params).await
    }

    /// Removes a video (the streamer deleted it).
    pub fn remove_video(&self, id: &str) {
        self.shared.vods().videos.retain(|v| v.id != id);
    }

    /// Adds a clip of `login` (media: a 2 s MP4); returns its slug.
    pub async fn add_clip(
        &self,
        login: &str,
        title: &str,
        view_count: u64,
        age: Duration,
    ) -> Result<String, ControlError> {
        let broadcaster_id = self
            .user_id(login)
            .ok_or_else(|| ControlError::UnknownUser(login.to_owned()))?;
        let media =
            crate::video_origin::media::load_or_generate(&crate::video_origin::VideoMedia::tiny())
                .await?;
        let slug = format!("Clip{}{}", title.replace(' ', ""), wire::random_hex(4));
        let mut st = self.shared.vods();
        st.clip_media = Some(media);
        st.clips.push(vod::Clip {
            id: slug.clone(),
            broadcaster_id,
            title: title.to_owned(),
            view_count,
            created_at: wire::ago(age),
            duration: 2.0,
            video_id: String::new(),
            vod_offset: None,
        });
        Ok(slug)
    }

    /// The next request for this segment answers 503.
    pub fn fail_vod_segment_once(&self, video_id: &str, segment: u32) {
        self.shared
            .vods()
            .fail_once
            .insert((video_id.to_owned(), segment));
    }

    /// The next request for this segment sends half its body, then drops the connection.
    pub fn cut_vod_segment_once(&self, video_id: &str, segment: u32) {
        self.shared
            .vods()
            .cut_once
            .insert((video_id.to_owned(), segment));
    }

    /// Requests for this segment wait until [`Self::release_vod_segments`].
    pub fn hold_vod_segment(&self, video_id: &str, segment: u32) {
        self.shared
            .vods()
            .hold
            .insert((video_id.to_owned(), segment));
    }

    /// Every request for this segment answers 403 until [`Self::accept_vod_segments`].
    pub fn refuse_vod_segment(&self, video_id: &str, segment: u32) {
        self.shared
            .vods()
            .refuse
            .insert((video_id.to_owned(), segment));
    }

    pub fn accept_vod_segments(&self) {
        self.shared.vods().refuse.clear();
    }

    pub fn release_vod_segments(&self) {
        self.shared.vods().hold.clear();
        self.shared.vod_released.notify_waiters();
    }

    /// Requests for each segment of a video so far (index = segment number).
    pub fn vod_segment_requests(&self, video_id: &str) -> Vec<u64> {
        let st = self.shared.vods();
        let count = st
            .videos
            .iter()
            .find(|v| v.id == video_id)
            .map_or(0, |v| v.spec.segments);
        (0..count)
            .map(|n| {
                st.segment_requests
                    .get(&(video_id.to_owned(), n))
                    .copied()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// VOD media playlist requests so far (valid or not).
    pub fn vod_playlist_requests(&self) -> u64 {
        self.shared.vods().playlist_requests
    }

    /// The chat replay queries of this video fail this way from now on (`None`: answer).
    pub fn set_video_chat_fault(&self, video_id: &str, fault: Option<GqlFault>) {
        let mut st = self.shared.vods();
        match fault {
            Some(f) => st.chat_faults.insert(video_id.to_owned(), f),
            None => st.chat_faults.remove(video_id),
        };
    }

    /// The moments queries of this video fail this way from now on (`None`: answer).
    pub fn set_video_moments_fault(&self, video_id: &str, fault: Option<GqlFault>) {
        let mut st = self.shared.vods();
        match fault {
            Some(f) => st.moments_faults.insert(video_id.to_owned(), f),
            None => st.moments_faults.remove(video_id),
        };
    }

    /// After `free` more chat requests of this video, the next ones wait until
    /// [`Self::release_video_chat`] (a chat fetch in flight when a test kills the process).
    pub fn hold_video_chat(&self, video_id: &str, free: u64) {
        let mut st = self.shared.vods();
        let served = st
            .comment_requests
            .get(video_id)
            .map_or(0, |r| r.by_offset + r.by_cursor);
        st.chat_hold.insert(video_id.to_owned(), served + free);
    }

    pub fn release_video_chat(&self) {
        self.shared.vods().chat_hold.clear();
        self.shared.vod_released.notify_waiters();
    }

    /// Chat requests that waited on [`Self::hold_video_chat`] so far.
    pub fn video_chat_held(&self) -> u64 {
        self.shared.vods().chat_held
    }

    /// Comments per chat replay page (Twitch: a few dozen).
    pub fn set_comment_page_size(&self, n: usize) {
        self.shared.vods().comment_page_size = n;
    }

    /// The chat replay requests for a video so far.
    pub fn comment_requests(&self, video_id: &str) -> CommentRequests {
        self.shared
            .vods()
            .comment_requests
            .get(video_id)
            .copied()
            .unwrap_or_default()
    }

    /// Moments requests so far (all videos).
    pub fn moments_requests(&self) -> u64 {
        self.shared.vods().moments_requests
    }

    /// Downloads of a clip's MP4 so far.
    pub fn clip_downloads(&self, slug: &str) -> u64 {
        self.shared
            .vods()
            .clip_downloads
            .get(slug)
            .copied()
            .unwrap_or(0)
    }

    // ---- the user account (device-code sign-in) ----

    /// Device codes issued from now on live `ttl` and ask to be polled every `interval`
    /// (Twitch: 1800 s and 5 s).
    pub fn set_device_code(&self, ttl: Duration, interval: Duration) {
        let mut w = self.shared.world();
        w.oauth.device_ttl = ttl;
        w.oauth.device_interval = interval;
    }

    /// Access tokens from the device and refresh grants issued from now on live `ttl`.
    pub fn set_user_token_ttl(&self, ttl: Duration) {
        self.shared.world().oauth.user_token_ttl = ttl;
    }

    /// `login` enters `user_code` on twitch.tv and authorizes the application.
    pub fn approve_device(&self, user_code: &str, login: &str) -> Result<(), ControlError> {
        oauth::approve_device(&self.shared, user_code, login)
    }

    /// The user enters `user_code` and declines.
    pub fn deny_device(&self, user_code: &str) -> Result<(), ControlError> {
        oauth::deny_device(&self.shared, user_code)
    }

    /// `login` disconnects the application on twitch.tv: its tokens, refresh tokens
    /// included, stop working.
    pub fn disconnect_app(&self, login: &str) -> Result<(), ControlError> {
        oauth::disconnect_app(&self.shared, login)
    }

    /// Every access and refresh token the device and refresh grants issued so far.
    pub fn issued_user_tokens(&self) -> Vec<String> {
        self.shared.world().oauth.issued.clone()
    }

    /// `(device-code polls, refreshes, revocations)` the id service answered.
    pub fn oauth_stats(&self) -> (u64, u64, u64) {
        let w = self.shared.world();
        (w.oauth.device_polls, w.oauth.refreshes, w.oauth.revocations)
    }

    // ---- observation ----

    pub fn playback_stats(&self) -> PlaybackStats {
        let p = self.shared.playback();
        PlaybackStats {
            gql_requests: p.gql_requests,
            tokens_issued: p.tokens_issued,
            expired_refusals: p.expired_refusals,
            media_playlist_requests: p.media_playlist_requests,
            authorized_playlist_requests: p.authorized_playlist_requests,
        }
    }

    pub fn rate_stats(&self) -> RateStats {
        self.shared.limits.stats()
    }

    /// How many app tokens were issued.
    pub fn token_requests(&self) -> u64 {
        self.shared
            .token_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `(id, type, status)` of every EventSub subscription.
    pub fn subscriptions(&self) -> Vec<(String, String, String)> {
        self.shared
            .world()
            .subs
            .iter()
            .map(|s| (s.id.clone(), s.kind.clone(), s.status.clone()))
            .collect()
    }

    /// Every webhook delivery so far, with the status the callback answered.
    pub fn deliveries(&self) -> Vec<Delivery> {
        eventsub::deliveries(&self.shared)
    }

    /// Waits until at least `n` deliveries happened; `Err` with what there is on timeout.
    pub async fn wait_for_deliveries(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Delivery>, Vec<Delivery>> {
        eventsub::wait_for(&self.shared, n, timeout).await
    }

    // ---- hostile deliveries ----

    /// Sends the last notification again, byte for byte (same message id): a redelivery.
    pub async fn resend_last(&self) -> Result<u16, ControlError> {
        eventsub::resend_last(&self.shared).await
    }

    /// The last notification under a new id, signed with the wrong secret.
    pub async fn send_forged(&self) -> Result<u16, ControlError> {
        eventsub::send_forged(&self.shared).await
    }

    /// The last notification under a new id, correctly signed, but 11 minutes old.
    pub async fn send_stale(&self) -> Result<u16, ControlError> {
        eventsub::send_stale(&self.shared).await
    }

    /// Anything at all, to any URL.
    pub async fn send_raw(&self, raw: RawDelivery) -> Result<u16, ControlError> {
        eventsub::send_raw(&self.shared, raw).await
    }

    /// Revokes a subscription (status = `reason`, e.g. `authorization_revoked`) and sends
    /// the revocation message.
    pub async fn revoke(&self, sub_id: &str, reason: &str) -> Result<u16, ControlError> {
        eventsub::revoke(&self.shared, sub_id, reason).await
    }
}
