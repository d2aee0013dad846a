//! Poster and fanart thumbnails (T2): fetched once from the Arr (or TMDB's image host),
//! shrunk to small JPEGs in `<data_dir>/cache/trailers/`, and served from there.

use crate::library::artwork::{fetch_image, image_to_jpeg};
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::service::Trailers;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Poster,
    Fanart,
}

impl ImageKind {
    fn file_suffix(self) -> &'static str {
        match self {
            Self::Poster => "poster",
            Self::Fanart => "fanart",
        }
    }

    fn filter(self) -> &'static str {
        match self {
            Self::Poster => "scale=300:450:force_original_aspect_ratio=decrease",
            Self::Fanart => "scale=1280:720:force_original_aspect_ratio=decrease",
        }
    }
}

impl Trailers {
    /// The cached thumbnail of an item's poster or fanart, made on first use.
    pub async fn image(&self, media_id: &str, kind: ImageKind) -> TrailerResult<PathBuf> {
        let item = self.media_item(media_id).await?;
        let dir = self.inner.config.data_dir.join("cache").join("trailers");
        // Media ids are generated ids (no separators), so the name cannot leave the folder.
        let path = dir.join(format!("{}-{}.jpg", item.id, kind.file_suffix()));
        if tokio::fs::metadata(&path).await.is_ok() {
            return Ok(path);
        }
        let url = match kind {
            ImageKind::Poster => item.poster_url.as_deref(),
            ImageKind::Fanart => item.fanart_url.as_deref(),
        }
        .ok_or(TrailerError::NotFound("image"))?;
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| TrailerError::Internal(format!("cannot create the image cache: {e}")))?;
        let bytes = fetch_image(&self.inner.http, url)
            .await
            .map_err(TrailerError::Upstream)?;
        let source = dir.join(format!(".{}-{}.src", item.id, kind.file_suffix()));
        let temp = dir.join(format!(".{}-{}.jpg", item.id, kind.file_suffix()));
        let made = async {
            tokio::fs::write(&source, &bytes)
                .await
                .map_err(|e| format!("cannot write the image: {e}"))?;
            image_to_jpeg(
                &self.inner.config.tools.ffmpeg,
                &source,
                kind.filter(),
                &temp,
                &CancellationToken::new(),
            )
            .await?;
            tokio::fs::rename(&temp, &path)
                .await
                .map_err(|e| format!("cannot store the image: {e}"))
        }
        .await;
        let _ = tokio::fs::remove_file(&source).await;
        let _ = tokio::fs::remove_file(&temp).await;
        // ffmpeg refusing the fetched bytes is the image host's failure, like the fetch itself.
        made.map_err(TrailerError::Upstream)?;
        Ok(path)
    }
}
