-- Per-channel opt-in to the playlist proxy list (twitch.playlist_proxies), set in the app.
ALTER TABLE channels ADD COLUMN use_playlist_proxy BIGINT NOT NULL DEFAULT 0;
