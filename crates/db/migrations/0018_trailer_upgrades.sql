-- Quality upgrades (#18): the placed file's height (from ffprobe at placement; NULL for files
-- placed before this or found on disk), when the record was last searched for a better
-- video, and how many times its file was replaced by a better one (upgrades are bounded).
ALTER TABLE trailer_downloads ADD COLUMN height BIGINT;

ALTER TABLE trailer_downloads ADD COLUMN upgrade_checked_at BIGINT;

ALTER TABLE trailer_downloads ADD COLUMN upgrades BIGINT NOT NULL DEFAULT 0;
