-- Indexes in the order the lists are read (B6: a page costs the same at any offset and any
-- library size, instead of sorting the whole table for every page).

-- The Movies/Series list: `ORDER BY LOWER(title), COALESCE(year, 0), id`, also its keyset cursor.
-- The expressions must be written exactly as the query writes them for either planner to use it.
CREATE INDEX media_title_order ON media (LOWER(title), (COALESCE(year, 0)), id);

-- Its trailer filter (`trailer=missing|has|failed`): the ids of the items with a record in
-- those states, read from the index alone.
CREATE INDEX trailer_downloads_status_media ON trailer_downloads (status, media_id);

-- The recordings list, newest first by default.
CREATE INDEX recordings_started ON recordings (started_at, id);
