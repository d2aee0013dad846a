-- Several videos per title (#18): the download record is keyed (media, profile, slot).
-- A primary key cannot be changed in place on SQLite, so the table is rebuilt (the same
-- statements work on PostgreSQL); every existing record becomes the first trailer.
CREATE TABLE trailer_downloads_slots (
    media_id TEXT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES trailer_profiles (id) ON DELETE CASCADE,
    slot TEXT NOT NULL DEFAULT 'trailer-1',
    status TEXT NOT NULL,
    video_id TEXT,
    source TEXT,
    file_path TEXT,
    file_bytes BIGINT,
    duration_ms BIGINT,
    reason TEXT,
    error_kind TEXT,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (media_id, profile_id, slot)
);

INSERT INTO trailer_downloads_slots (media_id, profile_id, slot, status, video_id, source,
    file_path, file_bytes, duration_ms, reason, error_kind, attempts, next_attempt_at, updated_at)
SELECT media_id, profile_id, 'trailer-1', status, video_id, source, file_path, file_bytes,
    duration_ms, reason, error_kind, attempts, next_attempt_at, updated_at
FROM trailer_downloads;

DROP TABLE trailer_downloads;

ALTER TABLE trailer_downloads_slots RENAME TO trailer_downloads;

CREATE INDEX trailer_downloads_status ON trailer_downloads (status, next_attempt_at);

CREATE INDEX trailer_downloads_status_media ON trailer_downloads (status, media_id);
