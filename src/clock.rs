//! Time, injected.
//!
//! The crate never reads the system clock on its own: every operation asks a [`Clock`] once and passes the
//! resulting [`Timestamp`] down, so the logic underneath is a pure function of `now` and tests are
//! deterministic (the pattern of rustls' `TimeProvider`). [`SystemClock`] is for production,
//! [`ManualClock`] for tests and for the example service's `--manual-clock`.
//!
//! All arithmetic on [`Timestamp`] is checked (R-SAFE-4): an overflow is an error value, never a wrap or a
//! panic.

// Time, generation and counter arithmetic here is checked (R-SAFE-4): no silent wrap.
#![deny(clippy::arithmetic_side_effects)]

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A point in time, in whole seconds since the Unix epoch (UTC), as Cognito's wire format writes it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from seconds since the Unix epoch.
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// `self + seconds`, or `None` on overflow.
    pub fn checked_add_secs(self, seconds: u64) -> Option<Timestamp> {
        self.0.checked_add_unsigned(seconds).map(Timestamp)
    }

    /// `self - seconds`, or `None` on overflow.
    pub fn checked_sub_secs(self, seconds: u64) -> Option<Timestamp> {
        self.0.checked_sub_unsigned(seconds).map(Timestamp)
    }

    /// Whole seconds from `earlier` to `self`, or `None` when `earlier` is later. Every such difference
    /// fits: the whole range of timestamps spans `u64::MAX` seconds.
    pub fn seconds_since(self, earlier: Timestamp) -> Option<u64> {
        (self.0 >= earlier.0).then(|| self.0.abs_diff(earlier.0))
    }

    /// The same instant as an [`OffsetDateTime`], or `None` outside the range `time` can represent.
    pub fn to_offset_date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.0).ok()
    }
}

impl From<OffsetDateTime> for Timestamp {
    /// Truncates to whole seconds.
    fn from(t: OffsetDateTime) -> Self {
        Timestamp(t.unix_timestamp())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A source of the current time.
///
/// Contract: `now` is cheap, never panics and never goes backwards by more than the host tolerates; the
/// crate reads it once per operation.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from(OffsetDateTime::now_utc())
    }
}

/// A clock that moves only when told to. Thread-safe: share one behind an `Arc` between the issuer and
/// the code that moves it.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            now: AtomicI64::new(start.unix_seconds()),
        }
    }

    /// A clock standing at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    /// Sets the time.
    pub fn set(&self, t: Timestamp) {
        self.now.store(t.unix_seconds(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `seconds` and returns the new time. Saturates at the largest
    /// representable time instead of overflowing.
    pub fn advance(&self, seconds: u64) -> Timestamp {
        let mut cur = self.now.load(Ordering::SeqCst);
        loop {
            let next = cur.saturating_add_unsigned(seconds);
            match self
                .now
                .compare_exchange(cur, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return Timestamp(next),
                Err(seen) => cur = seen,
            }
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-SAFE-4: checked arithmetic refuses only what overflows: a result that fits is given, however
    /// large the operand, and the whole range of timestamps is a difference that fits.
    #[test]
    fn r_safe_4_results_that_fit_at_the_extremes_are_given() {
        let (min, max) = (
            Timestamp::from_unix_seconds(i64::MIN),
            Timestamp::from_unix_seconds(i64::MAX),
        );
        assert_eq!(max.checked_sub_secs(u64::MAX), Some(min));
        assert_eq!(min.checked_add_secs(u64::MAX), Some(max));
        assert_eq!(max.seconds_since(min), Some(u64::MAX));
        assert_eq!(min.seconds_since(max), None);
        assert_eq!(max.checked_add_secs(1), None);
        assert_eq!(min.checked_sub_secs(1), None);
        assert_eq!(
            Timestamp::from_unix_seconds(0).checked_add_secs(u64::MAX),
            None
        );
        assert_eq!(
            Timestamp::from_unix_seconds(5).seconds_since(Timestamp::from_unix_seconds(5)),
            Some(0)
        );
    }

    #[test]
    fn r_safe_4_checked_arithmetic_at_the_edges() {
        let max = Timestamp::from_unix_seconds(i64::MAX);
        assert_eq!(max.checked_add_secs(1), None);
        assert_eq!(Timestamp::EPOCH.checked_add_secs(u64::MAX), None);
        assert_eq!(
            Timestamp::from_unix_seconds(i64::MIN).checked_sub_secs(1),
            None
        );
        assert_eq!(Timestamp::EPOCH.seconds_since(max), None);
        assert_eq!(max.seconds_since(Timestamp::EPOCH), Some(i64::MAX as u64));
        assert_eq!(
            Timestamp::from_unix_seconds(10).checked_add_secs(5),
            Some(Timestamp::from_unix_seconds(15))
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_unix_seconds(1_000));
        assert_eq!(c.now().unix_seconds(), 1_000);
        assert_eq!(c.advance(10).unix_seconds(), 1_010);
        assert_eq!(c.now().unix_seconds(), 1_010);
        assert_eq!(c.advance(u64::MAX).unix_seconds(), i64::MAX, "saturates");
    }

    /// R-SAFE-4: a step beyond `i64::MAX` seconds is taken whole, and saturates only where the result
    /// does not fit.
    #[test]
    fn r_safe_4_manual_clock_takes_steps_beyond_i64_max_whole() {
        let c = ManualClock::new(Timestamp::from_unix_seconds(i64::MIN));
        assert_eq!(c.advance(1u64 << 63), Timestamp::EPOCH);
        let c = ManualClock::new(Timestamp::from_unix_seconds(-10));
        assert_eq!(c.advance(u64::MAX), Timestamp::from_unix_seconds(i64::MAX));
    }
}
