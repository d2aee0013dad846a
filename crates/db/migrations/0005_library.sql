-- The recordings library: finalize state, the placed MP4, retention and share links.

ALTER TABLE recordings ADD COLUMN finalize_step TEXT;
ALTER TABLE recordings ADD COLUMN finalize_error TEXT;
ALTER TABLE recordings ADD COLUMN finalized_at BIGINT;
-- Absolute path of the MP4 in the library (chosen before the remux, so a retry writes the same file).
ALTER TABLE recordings ADD COLUMN video_path TEXT;
ALTER TABLE recordings ADD COLUMN video_bytes BIGINT;
ALTER TABLE recordings ADD COLUMN duration_ms BIGINT;
-- Media-server season (yyyymm) and episode number within it.
ALTER TABLE recordings ADD COLUMN season TEXT;
ALTER TABLE recordings ADD COLUMN episode BIGINT;
-- The user keeps it: retention never deletes it.
ALTER TABLE recordings ADD COLUMN keep BIGINT NOT NULL DEFAULT 0;

-- Episode numbers are unique per channel and season (NULLs, not yet numbered, do not collide).
CREATE UNIQUE INDEX recordings_episode ON recordings (channel_id, season, episode);

-- Per-channel retention policy (JSON) overriding the global one.
ALTER TABLE channels ADD COLUMN retention TEXT;

CREATE TABLE share_links (
    token_hash TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX share_links_recording ON share_links (recording_id);
