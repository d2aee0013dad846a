-- The media server that already shows a trailer for an item (`Plex`, `Jellyfin`), as the last
-- sync saw it (Jellyfin's `LocalTrailerCount`/`RemoteTrailers`, Plex's trailer extras); NULL
-- when it shows none or the source was not asked. Profiles with `skip_if_server_has_trailer`
-- leave such items alone.
ALTER TABLE media ADD COLUMN server_trailer TEXT;
