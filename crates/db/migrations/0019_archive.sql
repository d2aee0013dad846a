-- The archive (S10): past broadcasts (VODs) are recordings with another source, and clips.

-- `live` (recorded while broadcast) or `vod` (downloaded afterwards from Twitch).
ALTER TABLE recordings ADD COLUMN source TEXT NOT NULL DEFAULT 'live';
-- The Twitch video a VOD was downloaded from.
ALTER TABLE recordings ADD COLUMN twitch_video_id TEXT;
-- A VOD of a broadcast also recorded live: that recording (cleared when it is deleted).
ALTER TABLE recordings ADD COLUMN linked_recording_id TEXT;

-- One recording per Twitch video and channel (NULLs, live recordings, do not collide).
CREATE UNIQUE INDEX recordings_video ON recordings (channel_id, twitch_video_id);

-- Per-channel archive settings (JSON); NULL: the archive is off for the channel.
ALTER TABLE channels ADD COLUMN archive TEXT;

-- Clips placed in a channel's extras folder.
CREATE TABLE archived_clips (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    clip_id TEXT NOT NULL,
    title TEXT NOT NULL,
    view_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- `placed` or `failed`.
    status TEXT NOT NULL,
    path TEXT,
    bytes BIGINT,
    error TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (channel_id, clip_id)
);
