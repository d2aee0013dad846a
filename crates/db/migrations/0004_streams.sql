-- Twitch channels, their streams and stream events, and recordings.

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    twitch_id TEXT NOT NULL UNIQUE,
    login TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    avatar_url TEXT,
    offline_image_url TEXT,
    auto_record BIGINT NOT NULL,
    quality TEXT NOT NULL,
    codecs TEXT NOT NULL,
    naming_template TEXT,
    favourite BIGINT NOT NULL,
    live BIGINT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    live_checked_at BIGINT,
    -- Removed channels whose recordings were kept stay here, hidden, so the recordings keep their channel.
    removed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE streams (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    twitch_stream_id TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    -- The user stopped its recording: detection must not start it again.
    record_stopped BIGINT NOT NULL,
    UNIQUE (channel_id, twitch_stream_id)
);

CREATE INDEX streams_channel ON streams (channel_id, started_at);

CREATE TABLE stream_events (
    id TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX stream_events_stream ON stream_events (stream_id, at);

CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    stream_id TEXT REFERENCES streams (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    dir TEXT NOT NULL,
    stem TEXT NOT NULL,
    quality TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    bytes BIGINT NOT NULL,
    media_ms BIGINT NOT NULL,
    segments BIGINT NOT NULL,
    missed_segments BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    owner TEXT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    end_reason TEXT,
    error TEXT,
    updated_at BIGINT NOT NULL
);

-- One active recording per channel, across processes.
CREATE UNIQUE INDEX recordings_one_active ON recordings (channel_id) WHERE status = 'recording';
CREATE INDEX recordings_channel ON recordings (channel_id, started_at);
CREATE INDEX recordings_status ON recordings (status);
CREATE INDEX recordings_stream ON recordings (stream_id);

CREATE TABLE recording_gaps (
    id TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    ms BIGINT NOT NULL,
    reason TEXT NOT NULL
);

CREATE INDEX recording_gaps_recording ON recording_gaps (recording_id, at);
