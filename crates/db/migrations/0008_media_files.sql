-- What the source says an item's own media files are (Radarr's `movieFile`, Plex's file
-- parts), as a JSON array of local paths: never taken for a trailer, never deleted as one.
ALTER TABLE media ADD COLUMN media_files TEXT NOT NULL DEFAULT '[]';

-- The next sync rewrites every item (its fingerprint no longer matches), so the column is
-- filled for items that have not changed in their source since the last sync.
UPDATE media SET fingerprint = '';
