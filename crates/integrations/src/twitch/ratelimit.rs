//! Helix's point bucket as the `Ratelimit-*` headers describe it. Calls spend a point locally
//! before they go out so concurrent callers do not overshoot; when none are left, callers wait
//! for the reset Twitch announced.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Slack after the announced reset: Twitch's clock and ours are not the same clock.
const RESET_MARGIN: Duration = Duration::from_millis(250);
/// Never park a caller longer than this on one announcement (a bogus reset far away).
const MAX_WAIT: Duration = Duration::from_secs(60);
/// When nothing says when the bucket refills: after a bare 429, or once a bucketful has been
/// spent after a reset and no answer has told us the next one yet.
const ASSUMED_REFILL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimitSnapshot {
    pub limit: u32,
    pub remaining: u32,
    pub reset_at: SystemTime,
}

#[derive(Default)]
pub(crate) struct RateLimiter {
    state: Mutex<Option<RateLimitSnapshot>>,
}

impl RateLimiter {
    #[cfg(test)]
    pub fn snapshot(&self) -> Option<RateLimitSnapshot> {
        self.state.lock().ok().and_then(|s| *s)
    }

    /// Takes a point; returns how long to wait first when the bucket is empty.
    pub fn acquire(&self, now: SystemTime) -> Option<Duration> {
        let mut guard = self.state.lock().ok()?;
        let s = guard.as_mut()?;
        if s.reset_at <= now {
            if s.limit == 0 {
                // Only a bare 429 was heard (no headers): its wait is over and there is no
                // bucket size to refill to. Forget it; the next answer tells us more.
                *guard = None;
                return None;
            }
            // The bucket has refilled since we last heard; the next answer tells us more. Until
            // one arrives, assume the next refill is a second away (as for a bare 429), so
            // callers beyond this bucketful wait instead of refilling it again.
            s.remaining = s.limit;
            s.reset_at = now + ASSUMED_REFILL;
        }
        if s.remaining > 0 {
            s.remaining -= 1;
            return None;
        }
        let wait = s.reset_at.duration_since(now).unwrap_or_default() + RESET_MARGIN;
        Some(wait.min(MAX_WAIT))
    }

    /// Records what an answer said.
    pub fn observe(&self, headers: &HeaderMap) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let (Some(limit), Some(remaining), Some(reset)) = (
            num("ratelimit-limit"),
            num("ratelimit-remaining"),
            num("ratelimit-reset"),
        ) else {
            return;
        };
        if let Ok(mut s) = self.state.lock() {
            *s = Some(RateLimitSnapshot {
                limit: u32::try_from(limit).unwrap_or(u32::MAX),
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                reset_at: UNIX_EPOCH + Duration::from_secs(reset),
            });
        }
    }

    /// A 429 arrived: the bucket is empty whatever the headers said. Without a known reset,
    /// assume one second.
    pub fn exhausted(&self, now: SystemTime) {
        if let Ok(mut s) = self.state.lock() {
            let snap = s.get_or_insert(RateLimitSnapshot {
                limit: 0,
                remaining: 0,
                reset_at: now + ASSUMED_REFILL,
            });
            snap.remaining = 0;
            if snap.reset_at <= now {
                snap.reset_at = now + ASSUMED_REFILL;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(limit: u64, remaining: u64, reset: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("Ratelimit-Limit", HeaderValue::from(limit));
        h.insert("Ratelimit-Remaining", HeaderValue::from(remaining));
        h.insert("Ratelimit-Reset", HeaderValue::from(reset));
        h
    }

    #[test]
    fn waits_until_reset_only_when_empty() {
        let r = RateLimiter::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(r.acquire(now), None, "nothing known: go");
        r.observe(&headers(800, 1, 1_010));
        assert_eq!(r.acquire(now), None, "last point");
        let wait = r.acquire(now).expect("empty bucket waits");
        assert_eq!(wait, Duration::from_secs(10) + RESET_MARGIN);
        let later = now + Duration::from_secs(11);
        assert_eq!(r.acquire(later), None, "refilled");
        for _ in 1..800 {
            assert_eq!(r.acquire(later), None);
        }
        assert_eq!(
            r.acquire(later),
            Some(ASSUMED_REFILL + RESET_MARGIN),
            "one bucketful per reset, not one per caller"
        );
    }

    #[test]
    fn waits_are_capped_and_429_empties_the_bucket() {
        let r = RateLimiter::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        r.observe(&headers(800, 500, 1_000_000));
        r.exhausted(now);
        assert_eq!(r.acquire(now), Some(MAX_WAIT));
        assert_eq!(r.snapshot().map(|s| s.remaining), Some(0));
    }

    #[test]
    fn a_bare_429_is_forgotten_after_its_reset() {
        let r = RateLimiter::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        // No Ratelimit-* headers ever: the 429 alone says "empty for a second".
        r.exhausted(now);
        assert_eq!(r.acquire(now), Some(ASSUMED_REFILL + RESET_MARGIN));
        let later = now + Duration::from_secs(2);
        assert_eq!(r.acquire(later), None, "the wait is over");
        assert_eq!(r.snapshot(), None, "no bucket of size 0 left behind");
        assert_eq!(r.acquire(later), None, "and it stays that way");
    }
}
