-- Notifications: channels, the items waiting in them, and the outbox of messages.

CREATE TABLE notification_channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    event_types TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    batch_secs BIGINT NOT NULL,
    max_per_minute BIGINT NOT NULL,
    quiet_hours TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE notification_messages (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);

CREATE INDEX notification_messages_due ON notification_messages (status, next_attempt_at);
CREATE INDEX notification_messages_sent ON notification_messages (channel_id, sent_at);

CREATE TABLE notification_items (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    line TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    message_id TEXT REFERENCES notification_messages (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX notification_items_once ON notification_items (channel_id, event_id);
CREATE INDEX notification_items_waiting ON notification_items (channel_id, message_id, created_at);

CREATE TABLE app_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
