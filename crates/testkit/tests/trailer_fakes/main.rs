//! The fakes that trailer stories run Tapearr against: Radarr, Sonarr, TMDB and the video
//! origin (with the real yt-dlp and ffprobe when the tools venv is there).

mod arr;
mod plex;
mod tmdb;
mod video;

use std::time::Duration;

/// A plain HTTP client (no redirects, 30 s timeout).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}
