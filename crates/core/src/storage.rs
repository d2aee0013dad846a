//! Storage traits: one per concern, implemented for SQLite and PostgreSQL by `tapearr-db`.
//!
//! Services take `Arc<dyn Storage>`; nothing here knows SQL.

use crate::auth::model::{ApiKey, LoginAttempt, LoginThrottle, Session, User};
use crate::events::model::{EventQuery, EventRecord, NewEvent};
use crate::jobs::model::{JobQuery, JobRecord, NewJob, TaskRecord, TaskUpdate};
use crate::mediaserver::model::MediaServer;
use crate::notify::model::{
    Backlog, Channel, ItemRecord, MessageQuery, MessageRecord, MessageStatus, NewItem,
    PushSubscription,
};
use crate::streams::model::{
    Channel as TwitchChannel, ChannelSettings, FinalizeStep, Recording, RecordingGap,
    RecordingProgress, RecordingStatus, Stream, StreamEvent,
};
use crate::time::Timestamp;
use crate::trailers::model::Profile;
use crate::trailers::model::{
    Connection as ArrConnection, DownloadRecord, MediaCursor, MediaEvent, MediaItem, MediaListPage,
    MediaQuery, ScanRecord, SyncOutcome, TrailerWrites,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// The pagination convention of every list: `limit` (1–500, default 50) and `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub limit: u32,
    pub offset: u32,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn new(limit: Option<u32>, offset: Option<u32>) -> Self {
        Self {
            limit: limit
                .unwrap_or(Self::DEFAULT_LIMIT)
                .clamp(1, Self::MAX_LIMIT),
            offset: offset.unwrap_or(0),
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// One page of a list plus the total number of matching rows.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn count_users(&self) -> StorageResult<u64>;
    /// Fails with `Conflict` when the user name is taken.
    async fn insert_user(&self, user: &User) -> StorageResult<()>;
    /// Inserts the user only while there is none, atomically (parallel first-run setups: one
    /// wins); fails with `Conflict` when any user exists.
    async fn insert_first_user(&self, user: &User) -> StorageResult<()>;
    async fn user_by_name(&self, username: &str) -> StorageResult<Option<User>>;
    async fn user_by_id(&self, id: &str) -> StorageResult<Option<User>>;
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StorageResult<()>;
    async fn login_throttle(&self, username: &str) -> StorageResult<Option<LoginThrottle>>;
    /// Counts one login attempt for `attempt.username` atomically and returns the row after it:
    /// a window older than `attempt.window` (and no running lock) starts again at 1, and the
    /// count reaching `attempt.limit` sets `locked_until` (kept while it runs).
    async fn count_login_attempt(&self, attempt: &LoginAttempt) -> StorageResult<LoginThrottle>;
    /// Deletes counts whose window started before `window_cutoff` and whose lock (if any) ended
    /// before `now`; how many.
    async fn delete_stale_login_throttles(
        &self,
        window_cutoff: Timestamp,
        now: Timestamp,
    ) -> StorageResult<u64>;
    async fn clear_login_throttle(&self, username: &str) -> StorageResult<()>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> StorageResult<()>;
    async fn session_by_token_hash(&self, token_hash: &str) -> StorageResult<Option<Session>>;
    async fn touch_session(
        &self,
        id: &str,
        seen: Timestamp,
        expires: Timestamp,
    ) -> StorageResult<()>;
    async fn delete_session(&self, id: &str) -> StorageResult<()>;
    async fn delete_sessions_of_user(&self, user_id: &str) -> StorageResult<u64>;
    async fn delete_expired_sessions(&self, now: Timestamp) -> StorageResult<u64>;
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &ApiKey) -> StorageResult<()>;
    async fn api_key_by_hash(&self, key_hash: &str) -> StorageResult<Option<ApiKey>>;
    async fn list_api_keys(&self) -> StorageResult<Vec<ApiKey>>;
    /// Marks the key revoked; `NotFound` when no live key has that id.
    async fn revoke_api_key(&self, id: &str, at: Timestamp) -> StorageResult<ApiKey>;
    async fn touch_api_key(&self, id: &str, at: Timestamp) -> StorageResult<()>;
}

#[async_trait]
pub trait JobStore: Send + Sync {
    async fn insert_job(&self, job: &NewJob) -> StorageResult<JobRecord>;
    /// Atomically claims the oldest due queued job of one of `kinds` for `owner`.
    /// Two processes never claim the same job.
    async fn claim_job(
        &self,
        kinds: &[String],
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StorageResult<Option<JobRecord>>;
    /// Extends the lease of a job `owner` still holds; returns the job (with `cancel_requested`)
    /// or `None` when the lease was lost.
    async fn heartbeat_job(
        &self,
        id: &str,
        owner: &str,
        lease_until: Timestamp,
        progress: Option<(f64, Option<String>)>,
    ) -> StorageResult<Option<JobRecord>>;
    /// Records the end of a run by `owner`: `status` is succeeded, failed or cancelled, or
    /// queued again (with `run_after`) for a retry or a release at shutdown.
    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        end: &JobEnd,
    ) -> StorageResult<Option<JobRecord>>;
    /// Puts back jobs whose lease expired (or, with `owner`, every job that owner held).
    async fn requeue_stale_jobs(&self, now: Timestamp, owner: Option<&str>) -> StorageResult<u64>;
    async fn request_job_cancel(&self, id: &str, now: Timestamp) -> StorageResult<JobRecord>;
    async fn retry_job(&self, id: &str, now: Timestamp) -> StorageResult<JobRecord>;
    async fn job(&self, id: &str) -> StorageResult<Option<JobRecord>>;
    async fn list_jobs(&self, query: &JobQuery) -> StorageResult<Paged<JobRecord>>;
    /// How many jobs there are in each status (one query, for `/metrics`).
    async fn count_jobs_by_status(&self) -> StorageResult<Vec<(String, u64)>>;
    async fn has_active_job_for_task(&self, task: &str) -> StorageResult<bool>;
    async fn delete_finished_jobs(&self, before: Timestamp) -> StorageResult<u64>;
}

/// How a run ended, as written by [`JobStore::finish_job`].
#[derive(Debug, Clone)]
pub struct JobEnd {
    pub status: crate::jobs::model::JobStatus,
    pub error: Option<String>,
    pub run_after: Option<Timestamp>,
    pub at: Timestamp,
    /// A released job (shutdown) does not count the attempt.
    pub refund_attempt: bool,
}

#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Inserts the task when missing; keeps the user's interval and pause state when present.
    async fn ensure_task(&self, task: &TaskRecord) -> StorageResult<TaskRecord>;
    async fn list_tasks(&self) -> StorageResult<Vec<TaskRecord>>;
    async fn task(&self, name: &str) -> StorageResult<Option<TaskRecord>>;
    async fn update_task(&self, name: &str, update: &TaskUpdate) -> StorageResult<TaskRecord>;
    /// Moves `next_run_at` from `expected` to `next`; false when another process got there first.
    async fn advance_task(
        &self,
        name: &str,
        expected: Timestamp,
        next: Timestamp,
    ) -> StorageResult<bool>;
    async fn record_task_run(
        &self,
        name: &str,
        started: Timestamp,
        duration_ms: i64,
        status: &str,
        error: Option<&str>,
    ) -> StorageResult<()>;
}

#[async_trait]
pub trait EventStore: Send + Sync {
    async fn append_event(&self, event: &NewEvent) -> StorageResult<EventRecord>;
    async fn list_events(&self, query: &EventQuery) -> StorageResult<Vec<EventRecord>>;
    async fn delete_events_before(&self, before: Timestamp) -> StorageResult<u64>;
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    async fn insert_channel(&self, channel: &Channel) -> StorageResult<()>;
    async fn update_channel(&self, channel: &Channel) -> StorageResult<()>;
    async fn delete_channel(&self, id: &str) -> StorageResult<()>;
    async fn channel(&self, id: &str) -> StorageResult<Option<Channel>>;
    async fn list_channels(&self) -> StorageResult<Vec<Channel>>;
    /// The last event id turned into items (`None` before the first run).
    async fn notifier_cursor(&self) -> StorageResult<Option<i64>>;
    /// Stores the items (once per channel and event) and moves the cursor, atomically.
    async fn ingest_items(&self, items: &[NewItem], cursor: i64) -> StorageResult<()>;
    async fn notification_backlog(&self) -> StorageResult<Vec<Backlog>>;
    async fn unassigned_items(
        &self,
        channel_id: &str,
        limit: u32,
    ) -> StorageResult<Vec<ItemRecord>>;
    /// Creates the message and assigns the items to it; false if another process took one of them.
    async fn create_message(
        &self,
        message: &MessageRecord,
        item_ids: &[String],
    ) -> StorageResult<bool>;
    async fn due_messages(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<MessageRecord>>;
    /// Moves `next_attempt_at` from `expected` to `until`: the caller owns this attempt.
    async fn claim_message(
        &self,
        id: &str,
        expected: Timestamp,
        until: Timestamp,
    ) -> StorageResult<bool>;
    async fn messages_sent_since(&self, channel_id: &str, since: Timestamp) -> StorageResult<u64>;
    /// Records an attempt: sent, failed for good, or pending again from `next_attempt_at`.
    async fn finish_message(
        &self,
        id: &str,
        status: MessageStatus,
        error: Option<&str>,
        next_attempt_at: Timestamp,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn list_messages(&self, query: &MessageQuery) -> StorageResult<Vec<MessageRecord>>;
    /// Stores `value` under `name` unless a value is there; returns the stored value.
    async fn app_state_init(&self, name: &str, value: &str) -> StorageResult<String>;
    /// Adds or refreshes a subscription (keyed by endpoint).
    async fn save_push_subscription(
        &self,
        sub: &PushSubscription,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn list_push_subscriptions(&self) -> StorageResult<Vec<PushSubscription>>;
    /// True when a subscription with that endpoint existed.
    async fn delete_push_subscription(&self, endpoint: &str) -> StorageResult<bool>;
}

#[async_trait]
pub trait MediaServerStore: Send + Sync {
    async fn insert_media_server(&self, server: &MediaServer) -> StorageResult<()>;
    async fn update_media_server(&self, server: &MediaServer) -> StorageResult<()>;
    async fn delete_media_server(&self, id: &str) -> StorageResult<()>;
    async fn media_server(&self, id: &str) -> StorageResult<Option<MediaServer>>;
    async fn list_media_servers(&self) -> StorageResult<Vec<MediaServer>>;
}

/// Profile fields refreshed from Helix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelProfile {
    pub login: String,
    pub display_name: String,
    pub description: String,
    pub avatar_url: Option<String>,
    pub offline_image_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingQuery {
    pub channel_id: Option<String>,
    pub status: Option<RecordingStatus>,
    /// Matches any category the stream had (its events), case-insensitively.
    pub category: Option<String>,
    /// Words in the title, the channel login or its display name.
    pub search: Option<String>,
    /// Recordings started in `[from, to)`.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub sort: RecordingSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingSort {
    #[default]
    Started,
    Duration,
    Size,
    Channel,
}

/// A share link as stored: only the token's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub token_hash: String,
    pub recording_id: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

/// The recordings library (S5–S8): finalize state, episodes, deletion, share links.
#[async_trait]
pub trait LibraryStore: Send + Sync {
    /// Recordings waiting for finalize or interrupted in it (`ended`, `finalizing`).
    async fn recordings_to_finalize(&self) -> StorageResult<Vec<Recording>>;
    /// Moves a recording between `ended`, `finalizing` and `ready` and records the step reached;
    /// false when it is `recording` or gone.
    async fn set_finalize_state(
        &self,
        id: &str,
        status: RecordingStatus,
        step: Option<FinalizeStep>,
        error: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// Gives the recording the next episode number of `season` for its channel, once: a
    /// recording that has one keeps it. Returns the number.
    async fn assign_episode(&self, id: &str, season: &str) -> StorageResult<u32>;
    async fn set_video_path(&self, id: &str, path: &str) -> StorageResult<()>;
    async fn set_video_facts(&self, id: &str, bytes: u64, duration_ms: u64) -> StorageResult<()>;
    /// What a closed recording's parts hold, read from the files (they outrank the counters a
    /// dead recorder saved last).
    async fn set_recorded_media(
        &self,
        id: &str,
        bytes: u64,
        media_ms: u64,
        segments: u64,
    ) -> StorageResult<()>;
    async fn set_recording_keep(&self, id: &str, keep: bool, at: Timestamp) -> StorageResult<()>;
    /// Deletes the rows in one transaction and returns them; Conflict (nothing deleted) when any
    /// is still recording, NotFound when any does not exist.
    async fn delete_recordings(&self, ids: &[String]) -> StorageResult<Vec<Recording>>;
    /// The id of every recording (the orphan scan adopts parts folders with none).
    async fn recording_ids(&self) -> StorageResult<Vec<String>>;
    async fn insert_share_link(&self, link: &ShareLink) -> StorageResult<()>;
    /// A link that has not expired at `now`.
    async fn share_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StorageResult<Option<ShareLink>>;
    async fn delete_expired_share_links(&self, now: Timestamp) -> StorageResult<u64>;
    /// Links that have not expired at `now`, newest first; of one recording, or of all.
    async fn share_links(
        &self,
        recording_id: Option<&str>,
        now: Timestamp,
    ) -> StorageResult<Vec<ShareLink>>;
    /// Deletes one link; NotFound when there is none with this hash.
    async fn delete_share_link(&self, token_hash: &str) -> StorageResult<()>;
    async fn set_channel_retention(
        &self,
        channel_id: &str,
        policy: Option<&str>,
    ) -> StorageResult<()>;
    /// Per-channel retention overrides (JSON), by channel id.
    async fn channel_retention(&self) -> StorageResult<Vec<(String, String)>>;
    /// What retention may delete: `ready` and `failed` recordings, oldest first, each with
    /// whether its channel is a favourite.
    async fn retention_candidates(&self) -> StorageResult<Vec<(Recording, bool)>>;
}

/// Channels, streams, stream events and recordings (the streams side).
#[async_trait]
pub trait StreamStore: Send + Sync {
    /// Conflict when the Twitch id is already watched (removed channels included).
    async fn insert_twitch_channel(&self, channel: &TwitchChannel) -> StorageResult<()>;
    /// A channel, removed ones included (see `removed_at`).
    async fn twitch_channel(&self, id: &str) -> StorageResult<Option<TwitchChannel>>;
    async fn twitch_channel_by_twitch_id(
        &self,
        twitch_id: &str,
    ) -> StorageResult<Option<TwitchChannel>>;
    /// Channels not removed, by login.
    async fn list_twitch_channels(&self) -> StorageResult<Vec<TwitchChannel>>;
    async fn update_channel_settings(
        &self,
        id: &str,
        settings: &ChannelSettings,
        at: Timestamp,
    ) -> StorageResult<()>;
    /// Refreshes the profile and clears `removed_at` (a removed channel added again).
    async fn update_channel_profile(
        &self,
        id: &str,
        profile: &ChannelProfile,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn set_channel_state(
        &self,
        id: &str,
        live: bool,
        title: &str,
        category: &str,
        at: Timestamp,
    ) -> StorageResult<()>;
    /// Sets `live_checked_at` of many channels at once (a poll that changed nothing else).
    async fn mark_channels_checked(&self, ids: &[String], at: Timestamp) -> StorageResult<()>;
    /// Keeping recordings hides the channel; otherwise the channel and its rows are deleted.
    async fn remove_twitch_channel(
        &self,
        id: &str,
        keep_recordings: bool,
        at: Timestamp,
    ) -> StorageResult<()>;

    /// Inserts the stream unless the channel already has it; returns it and whether it was new.
    async fn upsert_stream(&self, stream: &Stream) -> StorageResult<(Stream, bool)>;
    async fn stream(&self, id: &str) -> StorageResult<Option<Stream>>;
    /// The channel's newest stream that has not ended.
    async fn open_stream(&self, channel_id: &str) -> StorageResult<Option<Stream>>;
    /// Ends every open stream of the channel except `keep` (a stale one when a new one starts).
    async fn end_open_streams(
        &self,
        channel_id: &str,
        keep: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<Vec<Stream>>;
    async fn set_stream_record_stopped(&self, id: &str) -> StorageResult<()>;
    async fn list_streams(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StorageResult<Paged<Stream>>;
    async fn insert_stream_event(&self, event: &StreamEvent) -> StorageResult<()>;
    async fn list_stream_events(&self, stream_id: &str) -> StorageResult<Vec<StreamEvent>>;
    /// The events of several streams in one query, by stream then time.
    async fn list_events_of_streams(
        &self,
        stream_ids: &[String],
    ) -> StorageResult<Vec<StreamEvent>>;

    /// Conflict when the channel already has an active recording.
    async fn insert_recording(&self, recording: &Recording) -> StorageResult<()>;
    async fn recording(&self, id: &str) -> StorageResult<Option<Recording>>;
    async fn active_recording(&self, channel_id: &str) -> StorageResult<Option<Recording>>;
    /// Every recording still running, on any channel.
    async fn active_recordings(&self) -> StorageResult<Vec<Recording>>;
    async fn recordings_of_stream(&self, stream_id: &str) -> StorageResult<Vec<Recording>>;
    async fn list_recordings(&self, query: &RecordingQuery) -> StorageResult<Paged<Recording>>;
    /// Persists counters and the heartbeat; false when `owner` no longer holds it.
    async fn update_recording_progress(
        &self,
        id: &str,
        owner: &str,
        progress: &RecordingProgress,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// [`Self::update_recording_progress`] for several recordings of `owner` at once (one
    /// transaction where the backend has them); one flag per entry, in order.
    async fn update_recordings_progress(
        &self,
        batch: &[(String, RecordingProgress)],
        owner: &str,
        at: Timestamp,
    ) -> StorageResult<Vec<bool>> {
        let mut owned = Vec::with_capacity(batch.len());
        for (id, progress) in batch {
            owned.push(
                self.update_recording_progress(id, owner, progress, at)
                    .await?,
            );
        }
        Ok(owned)
    }
    /// Takes over an active recording (restart or resume): new owner, one more session.
    async fn resume_recording(&self, id: &str, owner: &str, at: Timestamp) -> StorageResult<()>;
    /// Closes an active recording; false when it was not active.
    async fn finish_recording(
        &self,
        id: &str,
        status: RecordingStatus,
        end_reason: Option<&str>,
        error: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// Stores a gap; one with the id of a stored gap replaces it (an open gap gets its length
    /// when it closes).
    async fn insert_recording_gap(&self, gap: &RecordingGap) -> StorageResult<()>;
    async fn list_recording_gaps(&self, recording_id: &str) -> StorageResult<Vec<RecordingGap>>;

    /// Makes values replaced earlier in `tables` leave no copy behind (after secrets were
    /// sealed in place): SQLite rebuilds the file (`VACUUM`, then a WAL checkpoint), PostgreSQL
    /// vacuums those tables' dead rows.
    async fn scrub_replaced(&self, _tables: &[&str]) -> StorageResult<()> {
        Ok(())
    }

    async fn app_value(&self, name: &str) -> StorageResult<Option<String>>;
    /// Sets or (with `None`) deletes a named value.
    async fn set_app_value(&self, name: &str, value: Option<&str>) -> StorageResult<()>;
}

/// Trailers: Arr connections, their media, profiles, download records and history.
#[async_trait]
pub trait TrailerStore: Send + Sync {
    async fn insert_arr_connection(&self, c: &ArrConnection) -> StorageResult<()>;
    async fn update_arr_connection(&self, c: &ArrConnection) -> StorageResult<()>;
    /// Deletes the connection with its media, download records and history.
    async fn delete_arr_connection(&self, id: &str) -> StorageResult<()>;
    async fn arr_connections(&self) -> StorageResult<Vec<ArrConnection>>;
    async fn arr_connection(&self, id: &str) -> StorageResult<ArrConnection>;
    async fn record_arr_sync(&self, id: &str, outcome: &SyncOutcome) -> StorageResult<()>;

    /// `ext_id → (media id, arr id, fingerprint)` of one connection's media.
    async fn media_fingerprints(
        &self,
        connection_id: &str,
    ) -> StorageResult<std::collections::HashMap<i64, (String, i64, String)>>;
    /// New items as they are; existing ones (by id) get the Arr's fields only: the user's
    /// `monitor`, `trailer_id_override` and `added_at` are kept. One transaction per call.
    async fn upsert_media(
        &self,
        inserts: &[(MediaItem, String)],
        updates: &[(MediaItem, String)],
    ) -> StorageResult<()>;
    async fn delete_media(&self, ids: &[String]) -> StorageResult<()>;
    /// One page in title order, by offset or after `q.cursor` (see [`MediaCursor`]).
    async fn list_media(
        &self,
        q: &MediaQuery,
        after: Option<&MediaCursor>,
    ) -> StorageResult<MediaListPage>;
    async fn all_media(&self) -> StorageResult<Vec<MediaItem>>;
    /// Every item with its scan state, in one read, for the plan (preview and run): without the
    /// fields no plan reads (`overview`, `poster_url`, `fanart_url`, `imdb_id` and the scan's
    /// `state` are `None`).
    async fn plan_media(&self) -> StorageResult<(Vec<MediaItem>, Vec<ScanRecord>)>;
    async fn media(&self, id: &str) -> StorageResult<MediaItem>;
    async fn set_media_monitor(&self, id: &str, monitor: bool) -> StorageResult<()>;
    async fn set_media_override(&self, id: &str, video_id: Option<&str>) -> StorageResult<()>;
    async fn scan_records(&self) -> StorageResult<Vec<ScanRecord>>;
    /// Writes download records, history lines and scan states in one transaction.
    async fn save_trailer_writes(&self, writes: &TrailerWrites) -> StorageResult<()>;

    async fn trailer_profiles(&self) -> StorageResult<Vec<Profile>>;
    async fn insert_trailer_profile(&self, p: &Profile) -> StorageResult<()>;
    async fn update_trailer_profile(&self, p: &Profile) -> StorageResult<()>;
    async fn delete_trailer_profile(&self, id: &str) -> StorageResult<()>;

    async fn all_downloads(&self) -> StorageResult<Vec<DownloadRecord>>;
    /// These items (ids not found are left out).
    async fn media_of(&self, ids: &[String]) -> StorageResult<Vec<MediaItem>>;
    /// The download records of these items only (a list page).
    async fn downloads_of(&self, media_ids: &[String]) -> StorageResult<Vec<DownloadRecord>>;
    /// The scan states of these items only.
    async fn scan_records_of(&self, media_ids: &[String]) -> StorageResult<Vec<ScanRecord>>;
    async fn media_downloads(&self, media_id: &str) -> StorageResult<Vec<DownloadRecord>>;
    async fn save_download(&self, d: &DownloadRecord) -> StorageResult<()>;
    async fn delete_download(&self, media_id: &str, profile_id: &str) -> StorageResult<()>;

    async fn add_media_event(
        &self,
        media_id: &str,
        profile_id: Option<&str>,
        kind: &str,
        message: &str,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn media_events(&self, media_id: &str, limit: u32) -> StorageResult<Vec<MediaEvent>>;
}

/// Everything the services need from the database.
#[async_trait]
pub trait Storage:
    UserStore
    + SessionStore
    + ApiKeyStore
    + JobStore
    + TaskStore
    + EventStore
    + NotificationStore
    + MediaServerStore
    + StreamStore
    + LibraryStore
    + TrailerStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StorageResult<()>;
}
