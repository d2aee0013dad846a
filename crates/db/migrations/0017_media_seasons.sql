-- A series' seasons as Sonarr lists them (season trailers, #18): a JSON array of
-- `{"number", "monitored"}`; empty for movies and for sources that do not say.
ALTER TABLE media ADD COLUMN seasons TEXT NOT NULL DEFAULT '[]';

-- The next sync rewrites every series (its fingerprint no longer matches), so the column is
-- filled for series that have not changed in Sonarr since the last sync.
UPDATE media SET fingerprint = '' WHERE kind = 'series';
