//! Candidate search (T5), in source order: the user's override, the Arr's trailer id, TMDB
//! videos (when a key is set), then a yt-dlp search with the profile's query; all ranked by
//! `score::rank` so the user sees every candidate with its score and reasons.

pub mod language;
pub mod score;
pub mod season;

use crate::trailers::download::politeness::{Slot as HostSlot, host_of};
use crate::trailers::download::ytdlp::{VideoInfo, YtDlp, watch_url};
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::{CandidateSource, MediaItem, MediaKind};
use crate::trailers::model::{Profile, SearchRules, Slot, SlotKind};
use crate::trailers::search::language::wanted_languages;
use crate::trailers::search::score::{Candidate, Scored, rank, search_query};
use crate::trailers::service::Trailers;
use std::time::Duration;
use tapearr_integrations::tmdb::{TmdbClient, TmdbError, TmdbKind, TmdbVideo, site_videos};
use tokio_util::sync::CancellationToken;

impl Trailers {
    pub(super) fn yt_dlp(&self) -> YtDlp {
        let t = &self.config().trailers;
        YtDlp::new(self.yt_dlp_program())
            .cookies(t.cookies_file.clone())
            .timeout(Duration::from_secs(t.download_timeout_secs))
            .js_runtime(self.inner.tools.js_runtime())
            .po_token_provider(t.po_token_provider_url.clone())
            .proxy(Some(t.proxy.expose().to_string()))
    }

    /// The page URL of a video id, or an error for an id that is not one.
    pub(super) fn video_url(&self, video_id: &str) -> TrailerResult<String> {
        watch_url(&self.config().trailers.watch_url, video_id)
            .ok_or_else(|| TrailerError::Invalid(format!("`{video_id}` is not a video id")))
    }

    /// Every candidate for `item` under `profile`'s first trailer, best accepted first.
    pub async fn candidates(
        &self,
        item: &MediaItem,
        profile: &Profile,
        slot: Slot,
        cancel: &CancellationToken,
    ) -> TrailerResult<Vec<Scored>> {
        // The videos the profile's other slots of this title hold are left out, as a run does.
        let taken: Vec<String> = self
            .store()
            .media_downloads(&item.id)
            .await?
            .into_iter()
            .filter(|d| d.profile_id == profile.id && d.slot != slot && d.status.has_trailer())
            .filter_map(|d| d.video_id)
            .collect();
        self.slot_candidates(item, profile, slot, &taken, cancel)
            .await
    }

    /// Every candidate for one slot of `item` under `profile`, best accepted first, leaving
    /// out the videos in `taken` (the profile's other slots of this title hold them: a title
    /// never gets the same video twice). Trailers come from every source; an extra only from
    /// TMDB's videos of its type (a search for "featurette" finds trailers and reviews).
    pub async fn slot_candidates(
        &self,
        item: &MediaItem,
        profile: &Profile,
        slot: Slot,
        taken: &[String],
        cancel: &CancellationToken,
    ) -> TrailerResult<Vec<Scored>> {
        let rules = &profile.search;
        let free = |c: &Candidate| !taken.contains(&c.video_id);
        let mut found = Vec::new();
        let languages: Vec<String> = wanted_languages(item, rules)
            .into_iter()
            .map(|w| w.code)
            .collect();
        if let Some(n) = slot.season_number() {
            // A season's trailer comes from TMDB's videos of that season only (the series'
            // own trailers and a search would give the show's trailer again).
            let found: Vec<Candidate> = self
                .tmdb_season_candidates(item, n, &languages)
                .await?
                .into_iter()
                .filter(free)
                .collect();
            let ranked = rank(item, rules, profile.output.max_height, found);
            return Ok(season::apply(ranked, u32::from(n)));
        }
        if let SlotKind::Extra(_) = slot.kind {
            // The profile's include words are about trailers (`trailer|teaser`); the type
            // already says what the video is.
            let rules = SearchRules {
                include_words: Vec::new(),
                ..rules.clone()
            };
            found.extend(
                self.tmdb_candidates(item, &languages, &[slot.kind.tmdb_type()])
                    .await
                    .into_iter()
                    .filter(free),
            );
            return Ok(rank(item, &rules, profile.output.max_height, found));
        }
        if let Some(id) = item.trailer_id_override.as_deref() {
            found.push(self.id_candidate(id, CandidateSource::User)?);
        }
        if let Some(id) = item.arr_trailer_id.as_deref() {
            // The Arr's id is outside data: a malformed one is skipped, not fatal.
            match self.id_candidate(id, CandidateSource::Arr) {
                Ok(c) => found.push(c),
                Err(e) => {
                    tracing::warn!(title = %item.title, error = %e, "ignoring the Arr's trailer id")
                }
            }
        }
        found.extend(
            self.tmdb_candidates(item, &languages, &["Trailer", "Teaser"])
                .await,
        );
        found.retain(free);
        let ranked = rank(item, rules, profile.output.max_height, found.clone());
        if rules.always_search || !ranked.iter().any(|s| s.accepted) {
            match self.search_candidates(item, profile, cancel).await {
                Ok(more) => found.extend(more.into_iter().filter(free)),
                // A failed search still leaves the other sources usable.
                Err(e) if ranked.iter().any(|s| s.accepted) => {
                    tracing::warn!(error = %e, title = %item.title, "trailer search failed")
                }
                Err(e) => return Err(e),
            }
            return Ok(rank(item, rules, profile.output.max_height, found));
        }
        Ok(ranked)
    }

    fn id_candidate(&self, video_id: &str, source: CandidateSource) -> TrailerResult<Candidate> {
        Ok(Candidate::from_id(
            video_id,
            source,
            self.video_url(video_id)?,
        ))
    }

    /// The TMDB client, when a key is set and usable.
    fn tmdb_client(&self) -> Option<TmdbClient> {
        let tmdb = &self.config().tmdb;
        if tmdb.api_key.is_empty() {
            return None;
        }
        match TmdbClient::new(
            self.inner.http.clone(),
            tmdb.api_url.as_str(),
            tmdb.api_key.expose(),
        ) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "TMDB is not usable");
                None
            }
        }
    }

    /// The trailers and teasers of season `n` from TMDB's season videos. A season TMDB does
    /// not know has none; a refusal (429) or an outage is an error, so the slot is tried
    /// again after its backoff instead of being marked "not found".
    async fn tmdb_season_candidates(
        &self,
        item: &MediaItem,
        n: u8,
        languages: &[String],
    ) -> TrailerResult<Vec<Candidate>> {
        let (Some(id), Some(client)) = (item.tmdb_id, self.tmdb_client()) else {
            return Ok(Vec::new());
        };
        let asked: Vec<&str> = languages.iter().map(String::as_str).collect();
        match client.season_videos(id, u32::from(n), &asked).await {
            Ok(videos) => {
                Ok(self.tmdb_videos(&videos, &["Trailer", "Teaser"], asked.first().copied()))
            }
            Err(TmdbError::NotFound) => Ok(Vec::new()),
            Err(e) => Err(TrailerError::Upstream(e.to_string())),
        }
    }

    /// TMDB's YouTube (then Vimeo) videos of these `types` in the wanted languages (best
    /// first); any TMDB failure just means no TMDB candidates.
    async fn tmdb_candidates(
        &self,
        item: &MediaItem,
        languages: &[String],
        types: &[&str],
    ) -> Vec<Candidate> {
        let Some(id) = item.tmdb_id else {
            return Vec::new();
        };
        let Some(client) = self.tmdb_client() else {
            return Vec::new();
        };
        let kind = match item.kind {
            MediaKind::Movie => TmdbKind::Movie,
            MediaKind::Series => TmdbKind::Tv,
        };
        let languages: Vec<&str> = languages.iter().map(String::as_str).collect();
        let videos = match client.videos_in(kind, id, &languages).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, tmdb_id = id, "TMDB videos failed");
                return Vec::new();
            }
        };
        self.tmdb_videos(&videos, types, languages.first().copied())
    }

    /// TMDB videos of these `types` as candidates: YouTube's first; Vimeo's after them, so a
    /// title still gets a trailer while YouTube refuses us (the download skips a paused
    /// host's candidates).
    fn tmdb_videos(
        &self,
        videos: &[TmdbVideo],
        types: &[&str],
        language: Option<&str>,
    ) -> Vec<Candidate> {
        let t = &self.config().trailers;
        site_videos(videos, "youtube", types, language)
            .into_iter()
            .map(|v| (v, t.watch_url.as_str()))
            .chain(
                site_videos(videos, "vimeo", types, language)
                    .into_iter()
                    .map(|v| (v, t.vimeo_url.as_str())),
            )
            .filter_map(|(v, template)| {
                let url = watch_url(template, &v.key)?;
                Some(Candidate {
                    video_id: v.key.clone(),
                    source: CandidateSource::Tmdb,
                    title: v.name.clone(),
                    url,
                    duration_s: None,
                    uploader: None,
                    height: v.size,
                    is_live: false,
                    is_upcoming: false,
                    official: v.official,
                    language: v.language.clone(),
                    kind: Some(v.kind.clone()),
                })
            })
            .collect()
    }

    async fn search_candidates(
        &self,
        item: &MediaItem,
        profile: &Profile,
        cancel: &CancellationToken,
    ) -> TrailerResult<Vec<Candidate>> {
        let query = search_query(item, &profile.search);
        let target = search_target(
            &self.config().trailers.search_target,
            &query,
            profile.search.search_results,
        );
        let host = host_of(&target);
        match self.inner.politeness.acquire(&host, cancel).await {
            HostSlot::Ready => {}
            HostSlot::Cancelled => return Err(TrailerError::Cancelled),
            HostSlot::Paused(p) => return Err(TrailerError::Upstream(p.reason)),
        }
        let results = match self.yt_dlp().search(&target, cancel).await {
            Ok(found) => found,
            Err(e) if e.kind.refuses_host() => {
                self.host_refused(&host, e.kind.as_str(), &e.message).await;
                return Err(TrailerError::Upstream(e.message));
            }
            Err(e) => return Err(TrailerError::Upstream(e.message)),
        };
        self.host_worked(&host).await;
        Ok(results.into_iter().map(search_candidate).collect())
    }
}

fn search_candidate(v: VideoInfo) -> Candidate {
    Candidate {
        video_id: v.id,
        source: CandidateSource::Search,
        title: v.title,
        url: v.url,
        duration_s: v.duration_s,
        uploader: v.uploader,
        height: v.height,
        is_live: v.is_live,
        is_upcoming: v.is_upcoming,
        official: false,
        language: v.language,
        kind: None,
    }
}

/// `ytsearch{n}:{query}` as is; in a URL target the query is URL-encoded.
pub fn search_target(template: &str, query: &str, n: u32) -> String {
    let query = if template.starts_with("http") {
        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
    } else {
        query.to_string()
    };
    template
        .replace("{n}", &n.to_string())
        .replace("{query}", &query)
}

#[cfg(test)]
mod tests {
    use super::search_target;

    #[test]
    fn search_targets_encode_queries_only_in_urls() {
        assert_eq!(
            search_target("ytsearch{n}:{query}", "Alien 1979 movie trailer", 5),
            "ytsearch5:Alien 1979 movie trailer"
        );
        assert_eq!(
            search_target("http://127.0.0.1:9/feed?q={query}&n={n}", "Amélie & co", 3),
            "http://127.0.0.1:9/feed?q=Am%C3%A9lie+%26+co&n=3"
        );
    }
}
