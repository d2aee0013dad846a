//! Helix's point bucket per client id (refills continuously; Twitch's default is 800 points
//! a minute), plus the counters a benchmark needs to prove it stayed inside the limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::wire::unix_secs;

/// Request counters, for assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateStats {
    /// Every Helix request, refused ones included.
    pub total_requests: u64,
    /// How many were answered 429.
    pub rate_limited: u64,
    /// The most requests seen in any sliding window of the limit's period.
    pub max_in_window: u64,
}

/// What one request got.
pub struct Verdict {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds when the bucket is full again.
    pub reset: u64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimits {
    points: f64,
    per: Duration,
    buckets: Mutex<HashMap<String, Bucket>>,
    window: Mutex<VecDeque<Instant>>,
    total: AtomicU64,
    limited: AtomicU64,
    max_in_window: AtomicU64,
}

impl RateLimits {
    pub fn new(points: u32, per: Duration) -> Self {
        Self {
            points: f64::from(points.max(1)),
            per: per.max(Duration::from_millis(1)),
            buckets: Mutex::default(),
            window: Mutex::default(),
            total: AtomicU64::new(0),
            limited: AtomicU64::new(0),
            max_in_window: AtomicU64::new(0),
        }
    }

    /// Counts a request and takes a point from `client_id`'s bucket.
    pub fn take(&self, client_id: &str) -> Verdict {
        let now = Instant::now();
        self.count(now);
        let rate = self.points / self.per.as_secs_f64();
        let (allowed, tokens) = match self.buckets.lock() {
            Ok(mut map) => {
                let b = map.entry(client_id.to_owned()).or_insert(Bucket {
                    tokens: self.points,
                    at: now,
                });
                let refill = now.saturating_duration_since(b.at).as_secs_f64() * rate;
                b.tokens = (b.tokens + refill).min(self.points);
                b.at = now;
                let allowed = b.tokens >= 1.0;
                if allowed {
                    b.tokens -= 1.0;
                }
                (allowed, b.tokens)
            }
            Err(_) => (true, self.points),
        };
        if !allowed {
            self.limited.fetch_add(1, Ordering::Relaxed);
        }
        // Rounded up: a client that waits until `reset` must find the bucket full.
        let now_secs = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let full_at = now_secs + (self.points - tokens) / rate;
        Verdict {
            allowed,
            limit: self.points as u64,
            remaining: tokens.floor() as u64,
            reset: (full_at.ceil() as u64).max(unix_secs(SystemTime::now()) + 1),
        }
    }

    fn count(&self, now: Instant) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut w) = self.window.lock() {
            w.push_back(now);
            while w
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= self.per)
            {
                w.pop_front();
            }
            self.max_in_window
                .fetch_max(w.len() as u64, Ordering::Relaxed);
        }
    }

    pub fn stats(&self) -> RateStats {
        RateStats {
            total_requests: self.total.load(Ordering::Relaxed),
            rate_limited: self.limited.load(Ordering::Relaxed),
            max_in_window: self.max_in_window.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_empties_and_counts() {
        let r = RateLimits::new(3, Duration::from_secs(60));
        let v: Vec<bool> = (0..4).map(|_| r.take("c").allowed).collect();
        assert_eq!(v, [true, true, true, false]);
        assert!(r.take("other").allowed, "buckets are per client id");
        let s = r.stats();
        assert_eq!(
            (s.total_requests, s.rate_limited, s.max_in_window),
            (5, 1, 5)
        );
    }
}
