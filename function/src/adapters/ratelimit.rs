//! A pacing limiter: hands out request slots exactly `60 / rate` seconds apart, shared by
//! every worker of a run, so the server is never asked faster than the quota. Idle time
//! does not bank credit: a slot is never earlier than "now".

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// `rate_per_min` must be positive (checked by the config loader).
    pub fn per_minute(rate_per_min: f64) -> RateLimiter {
        RateLimiter { interval: Duration::from_secs_f64(60.0 / rate_per_min), next: Mutex::new(Instant::now()) }
    }

    /// Reserves the next slot and waits for it.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().expect("limiter lock");
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Pushes every later slot to at least `until` (after a throttle reply, everyone waits).
    pub fn hold_off(&self, until: Instant) {
        let mut next = self.next.lock().expect("limiter lock");
        if *next < until {
            *next = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_evenly_spaced_and_never_bunched() {
        let l = std::sync::Arc::new(RateLimiter::per_minute(600.0)); // 100 ms apart
        let t0 = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..10 {
            let l = l.clone();
            handles.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now()
            }));
        }
        let mut times: Vec<Duration> = Vec::new();
        for h in handles {
            times.push(h.await.unwrap() - t0);
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            assert_eq!(t.as_millis(), i as u128 * 100);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn hold_off_delays_later_slots() {
        let l = RateLimiter::per_minute(6000.0);
        let t0 = Instant::now();
        l.hold_off(t0 + Duration::from_secs(2));
        l.acquire().await;
        assert!(Instant::now() - t0 >= Duration::from_secs(2));
    }
}
