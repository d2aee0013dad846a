//! Per-host politeness (T9): instead of one global multi-minute sleep, each video host gets
//! its own schedule — a minimum interval with random jitter between requests and an hourly
//! cap — so hosts never wait on each other and a 10k library finishes in days, not months.
//!
//! A host that refuses us (a bot check, a rate limit, rejected cookies) is paused: nothing is
//! asked of it until the pause ends, and each refusal in a row doubles the pause (a success
//! ends the streak). Pauses are kept in wall-clock time so they can be saved and restored.

use crate::time::Timestamp;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const HOUR: Duration = Duration::from_secs(3600);

pub struct Politeness {
    interval: Duration,
    jitter: Duration,
    hourly_cap: u32,
    hosts: Mutex<HashMap<String, HostSchedule>>,
    pause_base: Duration,
    pause_max: Duration,
    /// Refusing hosts by name; an entry whose `until` passed stays (its strikes count on).
    pauses: Mutex<BTreeMap<String, HostPause>>,
}

/// A host that refused us, and until when nothing is asked of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HostPause {
    pub host: String,
    /// The refusal: `bot_check`, `rate_limited` or `cookies_rejected`.
    pub kind: String,
    /// What the host said, in words the user can act on.
    pub reason: String,
    /// Refusals in a row (the pause doubles with each).
    pub strikes: u32,
    pub since: Timestamp,
    /// Requests to the host resume after this.
    pub until: Timestamp,
}

/// What [`Politeness::acquire`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// Go ahead.
    Ready,
    /// The host refused us and is paused.
    Paused(HostPause),
    /// `cancel` fired first.
    Cancelled,
}

#[derive(Default)]
struct HostSchedule {
    /// The earliest moment the next request may start.
    next_free: Option<Instant>,
    /// Start times within the last hour, oldest first.
    recent: VecDeque<Instant>,
}

impl Politeness {
    pub fn new(interval: Duration, jitter: Duration, hourly_cap: u32) -> Self {
        Self {
            interval,
            jitter,
            hourly_cap,
            hosts: Mutex::new(HashMap::new()),
            pause_base: Duration::from_secs(30 * 60),
            pause_max: Duration::from_secs(24 * 3600),
            pauses: Mutex::new(BTreeMap::new()),
        }
    }

    /// The first pause after a refusal, and the longest one.
    pub fn with_pauses(mut self, base: Duration, max: Duration) -> Self {
        self.pause_base = base;
        self.pause_max = max.max(base);
        self
    }

    /// Waits for this host's next slot, and books it. Slots are handed out in call order, so
    /// concurrent callers for one host queue up while other hosts go ahead. A paused host
    /// answers at once, before and after the wait (another caller's refusal may pause it).
    pub async fn acquire(&self, host: &str, cancel: &CancellationToken) -> Slot {
        if let Some(p) = self.paused(host, Timestamp::now()) {
            return Slot::Paused(p);
        }
        let start = self.book(host, Instant::now());
        tokio::select! {
            () = tokio::time::sleep_until(start) => match self.paused(host, Timestamp::now()) {
                Some(p) => Slot::Paused(p),
                None => Slot::Ready,
            },
            () = cancel.cancelled() => Slot::Cancelled,
        }
    }

    /// The pause `host` is in at `now`, if any.
    pub fn paused(&self, host: &str, now: Timestamp) -> Option<HostPause> {
        self.lock_pauses()
            .get(host)
            .filter(|p| p.until > now)
            .cloned()
    }

    /// Records a refusal by `host` and pauses it: `base × 2^(strikes-1)`, at most the maximum.
    pub fn refuse(&self, host: &str, kind: &str, reason: &str, now: Timestamp) -> HostPause {
        let mut pauses = self.lock_pauses();
        let strikes = pauses.get(host).map_or(0, |p| p.strikes).saturating_add(1);
        let factor = 1u32.checked_shl(strikes - 1).unwrap_or(u32::MAX);
        let pause = self
            .pause_base
            .checked_mul(factor)
            .unwrap_or(self.pause_max)
            .min(self.pause_max);
        let entry = HostPause {
            host: host.to_string(),
            kind: kind.to_string(),
            reason: reason.to_string(),
            strikes,
            since: now,
            until: now.plus(pause),
        };
        pauses.insert(host.to_string(), entry.clone());
        entry
    }

    /// A request to `host` worked: its streak of refusals ends. True when there was one.
    pub fn succeeded(&self, host: &str) -> bool {
        self.lock_pauses().remove(host).is_some()
    }

    /// Every host with a streak of refusals (paused now or not), by name.
    pub fn pauses(&self) -> Vec<HostPause> {
        self.lock_pauses().values().cloned().collect()
    }

    /// Puts back pauses saved before a restart.
    pub fn restore(&self, saved: Vec<HostPause>) {
        let mut pauses = self.lock_pauses();
        for p in saved {
            pauses.insert(p.host.clone(), p);
        }
    }

    fn lock_pauses(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, HostPause>> {
        self.pauses.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Books the next slot for `host` at or after `now` and returns its start.
    fn book(&self, host: &str, now: Instant) -> Instant {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let s = hosts.entry(host.to_string()).or_default();
        let mut start = s.next_free.map_or(now, |t| t.max(now));
        while s
            .recent
            .front()
            .is_some_and(|t| start.saturating_duration_since(*t) >= HOUR)
        {
            s.recent.pop_front();
        }
        if self.hourly_cap > 0
            && s.recent.len() >= self.hourly_cap as usize
            && let Some(oldest) = s.recent.front()
        {
            start = start.max(*oldest + HOUR);
            s.recent.pop_front();
        }
        s.recent.push_back(start);
        s.next_free = Some(start + self.interval + self.random_jitter());
        start
    }

    fn random_jitter(&self) -> Duration {
        if self.jitter.is_zero() {
            return Duration::ZERO;
        }
        let ms = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=ms))
    }
}

/// The host part of a URL or a yt-dlp search target (`ytsearch5:` counts as youtube.com).
pub fn host_of(target: &str) -> String {
    if target.starts_with("ytsearch") {
        return "www.youtube.com".into();
    }
    url::Url::parse(target)
        .ok()
        // The host alone: a search (`ytsearch…`) and a watch page of one site share a schedule.
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_host_is_spaced_and_other_hosts_do_not_wait() {
        let p = Politeness::new(Duration::from_secs(10), Duration::ZERO, 0);
        let t0 = Instant::now();
        let a1 = p.book("a", t0);
        let a2 = p.book("a", t0);
        let a3 = p.book("a", t0);
        let b1 = p.book("b", t0);
        assert_eq!(a1 - t0, Duration::ZERO);
        assert_eq!(a2 - t0, Duration::from_secs(10));
        assert_eq!(a3 - t0, Duration::from_secs(20));
        assert_eq!(b1, t0, "another host is not held up by host a");
    }

    #[test]
    fn the_hourly_cap_pushes_the_next_slot_an_hour_past_the_oldest() {
        let p = Politeness::new(Duration::from_secs(1), Duration::ZERO, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            p.book("h", t0);
        }
        let fourth = p.book("h", t0);
        assert_eq!(fourth - t0, HOUR);
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        let p = Politeness::new(Duration::from_secs(5), Duration::from_secs(3), 0);
        let t0 = Instant::now();
        let mut last = p.book("h", t0);
        for _ in 0..50 {
            let next = p.book("h", t0);
            let gap = next - last;
            assert!(
                gap >= Duration::from_secs(5) && gap <= Duration::from_secs(8),
                "{gap:?}"
            );
            last = next;
        }
    }

    #[test]
    fn refusals_in_a_row_double_the_pause_up_to_the_maximum_and_a_success_ends_them() {
        let p = Politeness::new(Duration::ZERO, Duration::ZERO, 0)
            .with_pauses(Duration::from_secs(60), Duration::from_secs(300));
        let t0 = Timestamp(1_000_000);
        let minutes = |pause: &HostPause| (pause.until.0 - pause.since.0) / 60_000;
        let firsts: Vec<i64> = (0..5)
            .map(|_| minutes(&p.refuse("yt", "bot_check", "bot", t0)))
            .collect();
        assert_eq!(firsts, [1, 2, 4, 5, 5]);
        assert!(p.paused("yt", t0).is_some());
        assert!(p.paused("other", t0).is_none(), "other hosts go on");
        assert!(
            p.paused("yt", t0.plus(Duration::from_secs(300))).is_none(),
            "the pause ends at `until`"
        );
        assert!(p.succeeded("yt"));
        assert_eq!(minutes(&p.refuse("yt", "rate_limited", "429", t0)), 1);
    }

    #[tokio::test]
    async fn a_paused_host_answers_at_once_with_its_pause() {
        let p = Politeness::new(Duration::from_secs(3600), Duration::ZERO, 0);
        let cancel = CancellationToken::new();
        assert_eq!(p.acquire("yt", &cancel).await, Slot::Ready);
        let pause = p.refuse("yt", "bot_check", "sign in", Timestamp::now());
        // The next slot is an hour away; a paused host does not make the caller wait for it.
        assert_eq!(p.acquire("yt", &cancel).await, Slot::Paused(pause));
    }

    #[test]
    fn hosts_of_targets() {
        assert_eq!(host_of("ytsearch5:alien trailer"), "www.youtube.com");
        assert_eq!(
            host_of("https://www.youtube.com/watch?v=x"),
            "www.youtube.com"
        );
        assert_eq!(host_of("http://127.0.0.2:8080/feed?q=a"), "127.0.0.2");
    }
}
