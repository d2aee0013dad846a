-- Portable schema: TEXT ids made by the application, BIGINT epoch-millisecond UTC timestamps,
-- BIGINT 0/1 flags, JSON as TEXT. {{SERIAL_PK}} is the one per-backend piece.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_throttle (
    username TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    progress_message TEXT,
    last_error TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    task TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);

CREATE INDEX jobs_claim ON jobs (status, run_after);
CREATE INDEX jobs_task ON jobs (task, status);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE tasks (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    interval_secs BIGINT NOT NULL,
    paused BIGINT NOT NULL DEFAULT 0,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_duration_ms BIGINT,
    last_status TEXT,
    last_error TEXT
);

CREATE TABLE events (
    id {{SERIAL_PK}},
    event_type TEXT NOT NULL,
    subject TEXT,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX events_subject ON events (subject, id);
CREATE INDEX events_created ON events (created_at);
