-- Per-channel chat capture while recording (S10), on unless the user turns it off.
ALTER TABLE channels ADD COLUMN record_chat BIGINT NOT NULL DEFAULT 1;
