//! Show artwork (S6): `poster.jpg` from the channel's avatar, `fanart.jpg` and `banner.jpg` from
//! its offline image (or the episode thumbnail when it has none). Made once; a user's own
//! artwork is never replaced. Best effort: a failed download leaves the recording finalized.

use super::Library;
use crate::files::{SafePath, TEMP_PREFIX, move_into_place};
use crate::streams::model::Channel;
use crate::tools::Process;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Largest image accepted from Twitch's CDN.
const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

struct Art {
    file: &'static str,
    /// ffmpeg filter that shapes the image for its role.
    filter: &'static str,
}

const POSTER: Art = Art {
    file: "poster.jpg",
    filter: "scale=600:600:force_original_aspect_ratio=decrease",
};
const FANART: Art = Art {
    file: "fanart.jpg",
    filter: "scale=1920:1080:force_original_aspect_ratio=decrease",
};
const BANNER: Art = Art {
    file: "banner.jpg",
    filter: "scale=758:140:force_original_aspect_ratio=increase,crop=758:140",
};

impl Library {
    /// Adds whatever show artwork is missing from `show_dir`.
    pub(super) async fn ensure_show_artwork(
        &self,
        channel: &Channel,
        show_dir: &SafePath,
        episode_thumb: &Path,
        cancel: &CancellationToken,
    ) {
        let wide = channel.offline_image_url.as_deref();
        for (art, url) in [
            (POSTER, channel.avatar_url.as_deref()),
            (FANART, wide),
            (BANNER, wide),
        ] {
            let Ok(dest) = show_dir.join(art.file) else {
                continue;
            };
            if dest.as_path().exists() {
                continue;
            }
            let made = match url {
                Some(url) => self.artwork_from_url(url, &art, &dest, cancel).await,
                // A channel without an offline image still gets wide art: its first frame.
                None if art.file != POSTER.file => {
                    self.convert_image(episode_thumb, &art, &dest, cancel).await
                }
                None => Ok(()),
            };
            if let Err(e) = made {
                tracing::warn!(channel = %channel.login, file = art.file, error = %e, "artwork not made");
            }
        }
    }

    async fn artwork_from_url(
        &self,
        url: &str,
        art: &Art,
        dest: &SafePath,
        cancel: &CancellationToken,
    ) -> Result<(), String> {
        let bytes = fetch_image(&self.inner.http, url).await?;
        let dir = dest.parent().ok_or("no folder")?;
        let source = dir.as_path().join(format!("{TEMP_PREFIX}art-{}", art.file));
        tokio::fs::write(&source, &bytes)
            .await
            .map_err(|e| format!("cannot write {}: {e}", source.display()))?;
        let result = self.convert_image(&source, art, dest, cancel).await;
        let _ = tokio::fs::remove_file(&source).await;
        result
    }

    /// Any image ffmpeg reads → a JPEG shaped by the art's filter, placed atomically.
    async fn convert_image(
        &self,
        source: &Path,
        art: &Art,
        dest: &SafePath,
        cancel: &CancellationToken,
    ) -> Result<(), String> {
        let dir = dest.parent().ok_or("no folder")?;
        let temp = dir.as_path().join(format!("{TEMP_PREFIX}jpg-{}", art.file));
        image_to_jpeg(
            &self.inner.config.tools.ffmpeg,
            source,
            art.filter,
            &temp,
            cancel,
        )
        .await?;
        move_into_place(&temp, dest).await.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            e.to_string()
        })
    }
}

/// Downloads an image (at most 10 MiB). The URL must not carry a secret: errors quote it.
pub(crate) async fn fetch_image(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let response = http
        .get(url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("image download failed: {e}"))?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_IMAGE_BYTES as u64)
    {
        return Err("image is too large".into());
    }
    // Read chunk by chunk and give up at the cap: a body without (or lying about) its length
    // is never taken in whole.
    let mut response = response;
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("image download failed: {e}"))?
    {
        if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err("image is too large".into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Any image ffmpeg reads → one JPEG frame shaped by `filter`, written to `out`.
pub(crate) async fn image_to_jpeg(
    ffmpeg: &Path,
    source: &Path,
    filter: &str,
    out: &Path,
    cancel: &CancellationToken,
) -> Result<(), String> {
    Process::new(ffmpeg)
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i"])
        .arg(source)
        .args(["-frames:v", "1", "-vf", filter, "-q:v", "3", "-f", "image2"])
        .arg(out)
        .timeout(Duration::from_secs(60))
        .run(cancel)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every request with an endless chunked body (no length given)
    /// and counts the bytes it managed to send before the client hung up.
    async fn endless_image() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let data = vec![0xffu8; 64 * 1024];
            let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
            chunk.extend_from_slice(&data);
            chunk.extend_from_slice(b"\r\n");
            while socket.write_all(&chunk).await.is_ok() {
                counter.fetch_add(data.len(), Ordering::SeqCst);
            }
        });
        (format!("http://{addr}/poster.jpg"), sent)
    }

    #[tokio::test]
    async fn an_oversized_image_is_refused_without_being_read_whole() {
        let (url, sent) = endless_image().await;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let result = tokio::time::timeout(Duration::from_secs(20), fetch_image(&http, &url))
            .await
            .expect("the download stops at the cap instead of reading on");
        assert_eq!(result, Err("image is too large".to_string()));
        // Stopped near the cap: the rest of the (endless) body was never read.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = sent.load(Ordering::SeqCst);
        assert!(
            sent < MAX_IMAGE_BYTES + 8 * 1024 * 1024,
            "{sent} bytes were sent before the client gave up"
        );
    }
}
