//! Per-host politeness (T9): instead of one global multi-minute sleep, each video host gets
//! its own schedule — a minimum interval with random jitter between requests and an hourly
//! cap — so hosts never wait on each other and a 10k library finishes in days, not months.

use rand::Rng;
use std::collections::{HashMap, VecDeque};
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
        }
    }

    /// Waits for this host's next slot, and books it. Slots are handed out in call order, so
    /// concurrent callers for one host queue up while other hosts go ahead.
    /// `false` when `cancel` fired first (the slot stays booked).
    pub async fn acquire(&self, host: &str, cancel: &CancellationToken) -> bool {
        let start = self.book(host, Instant::now());
        tokio::select! {
            () = tokio::time::sleep_until(start) => true,
            () = cancel.cancelled() => false,
        }
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
    fn hosts_of_targets() {
        assert_eq!(host_of("ytsearch5:alien trailer"), "www.youtube.com");
        assert_eq!(
            host_of("https://www.youtube.com/watch?v=x"),
            "www.youtube.com"
        );
        assert_eq!(host_of("http://127.0.0.2:8080/feed?q=a"), "127.0.0.2");
    }
}
