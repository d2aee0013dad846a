//! Share links (S8): an unguessable, expiring URL for one recording's MP4. Only the token's
//! hash is stored; it is also the link's id for listing and revoking (it cannot open the link).

use super::{Library, LibraryError, LibraryResult};
use crate::auth::tokens::{random_token, sha256_hex};
use crate::storage::ShareLink;
use crate::streams::model::{Recording, RecordingStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const MIN_SHARE: Duration = Duration::from_secs(60);
pub const MAX_SHARE: Duration = Duration::from_secs(30 * 86_400);

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareTicket {
    /// Shown once; only its hash is kept.
    pub token: String,
    pub recording_id: String,
    pub expires_at: Timestamp,
}

/// A share link that still works, without its token (shown only when it was created).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareInfo {
    /// The link's id (the SHA-256 of its token), for `DELETE /api/v1/shares/{id}`.
    pub id: String,
    pub recording_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Library {
    pub async fn share(&self, recording_id: &str, ttl: Duration) -> LibraryResult<ShareTicket> {
        if !(MIN_SHARE..=MAX_SHARE).contains(&ttl) {
            return Err(LibraryError::Invalid(format!(
                "a share link lasts between {} seconds and {} days",
                MIN_SHARE.as_secs(),
                MAX_SHARE.as_secs() / 86_400
            )));
        }
        let rec = self.playable(recording_id).await?;
        let token = random_token("");
        let now = Timestamp::now();
        let link = ShareLink {
            token_hash: sha256_hex(&token),
            recording_id: rec.id.clone(),
            expires_at: now.plus(ttl),
            created_at: now,
        };
        self.inner.store.insert_share_link(&link).await?;
        let _ = self.inner.store.delete_expired_share_links(now).await;
        Ok(ShareTicket {
            token,
            recording_id: rec.id,
            expires_at: link.expires_at,
        })
    }

    /// The links that still work, newest first: of one recording, or of every recording.
    pub async fn share_links(&self, recording_id: Option<&str>) -> LibraryResult<Vec<ShareInfo>> {
        if let Some(id) = recording_id {
            self.inner
                .store
                .recording(id)
                .await?
                .ok_or(LibraryError::NotFound)?;
        }
        let links = self
            .inner
            .store
            .share_links(recording_id, Timestamp::now())
            .await?;
        Ok(links
            .into_iter()
            .map(|l| ShareInfo {
                id: l.token_hash,
                recording_id: l.recording_id,
                created_at: l.created_at,
                expires_at: l.expires_at,
            })
            .collect())
    }

    /// Revokes a link by its id: it answers 404 from now on. NotFound for an unknown id.
    pub async fn revoke_share(&self, id: &str) -> LibraryResult<()> {
        Ok(self.inner.store.delete_share_link(id).await?)
    }

    /// The recording a share token opens; NotFound for an unknown or expired token.
    pub async fn shared(&self, token: &str) -> LibraryResult<Recording> {
        let link = self
            .inner
            .store
            .share_link(&sha256_hex(token), Timestamp::now())
            .await?
            .ok_or(LibraryError::NotFound)?;
        self.playable(&link.recording_id).await
    }

    /// A finalized recording whose MP4 can be streamed.
    pub async fn playable(&self, recording_id: &str) -> LibraryResult<Recording> {
        let rec = self
            .inner
            .store
            .recording(recording_id)
            .await?
            .ok_or(LibraryError::NotFound)?;
        if rec.status != RecordingStatus::Ready || rec.library.video_path.is_none() {
            return Err(LibraryError::Conflict(format!(
                "the recording is {}; only finalized recordings can be played or shared",
                rec.status.as_str()
            )));
        }
        Ok(rec)
    }

    /// The MP4 of a finalized recording, checked to lie in a library root.
    pub async fn video_file(&self, rec: &Recording) -> LibraryResult<std::path::PathBuf> {
        let path = rec
            .library
            .video_path
            .as_deref()
            .ok_or(LibraryError::NotFound)?;
        Ok(self.roots()?.resolve(path)?.as_path().to_path_buf())
    }

    /// The episode thumbnail of a finalized recording.
    pub async fn thumbnail_file(&self, rec: &Recording) -> LibraryResult<std::path::PathBuf> {
        let video = self.video_file(rec).await?;
        let stem = video
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .ok_or(LibraryError::NotFound)?;
        let thumb = video.with_file_name(format!("{stem}{}", super::sidecars::THUMB_SUFFIX));
        // Checked again on its own: a thumbnail that is a link out of the library (or whose
        // folder is) is not served.
        let thumb = thumb
            .to_str()
            .and_then(|t| self.roots().ok()?.resolve(t).ok())
            .ok_or(LibraryError::NotFound)?;
        if thumb.as_path().is_file() {
            Ok(thumb.as_path().to_path_buf())
        } else {
            Err(LibraryError::NotFound)
        }
    }
}
