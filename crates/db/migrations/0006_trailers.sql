-- Trailers: Arr connections, their synced media, trailer profiles and per (media, profile)
-- download records (the single source of truth), and each item's history.

CREATE TABLE arr_connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    -- Sealed with the instance key (crypto.rs), never plain text.
    api_key TEXT NOT NULL,
    path_mappings TEXT NOT NULL,
    monitor_new BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    last_sync_at BIGINT,
    last_sync_error TEXT,
    last_sync_items BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE media (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES arr_connections (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    arr_id BIGINT NOT NULL,
    ext_id BIGINT NOT NULL,
    tmdb_id BIGINT,
    imdb_id TEXT,
    title TEXT NOT NULL,
    original_title TEXT,
    year BIGINT,
    language TEXT,
    studio TEXT,
    overview TEXT,
    runtime_min BIGINT,
    tags TEXT NOT NULL,
    folder TEXT NOT NULL,
    has_file BIGINT NOT NULL,
    arr_monitored BIGINT NOT NULL,
    monitor BIGINT NOT NULL,
    arr_trailer_id TEXT,
    trailer_id_override TEXT,
    poster_url TEXT,
    fanart_url TEXT,
    -- Hash of the Arr's JSON for this item: a re-sync skips unchanged items.
    fingerprint TEXT NOT NULL,
    -- Disk scan: ok | missing | unavailable, and what it saw (JSON) for the incremental scan.
    scan_status TEXT,
    scan_state TEXT,
    scanned_at BIGINT,
    added_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (connection_id, ext_id)
);

CREATE INDEX media_kind_title ON media (kind, title);

CREATE TABLE trailer_profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    enabled BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    filters TEXT NOT NULL,
    search TEXT NOT NULL,
    output TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE trailer_downloads (
    media_id TEXT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES trailer_profiles (id) ON DELETE CASCADE,
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
    PRIMARY KEY (media_id, profile_id)
);

CREATE INDEX trailer_downloads_status ON trailer_downloads (status, next_attempt_at);

CREATE TABLE media_events (
    id {{SERIAL_PK}},
    media_id TEXT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    profile_id TEXT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);

CREATE INDEX media_events_media ON media_events (media_id, at);
