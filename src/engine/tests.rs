//! The engine driven by hand with plain values: no store, no directory, no clock (R-ENG-1).

use super::refresh::{decide, Decision};
use super::*;
use crate::store::FamilyState;

fn state(generation: u32, grace_deadline: i64) -> FamilyState {
    FamilyState {
        generation,
        grace_deadline: Timestamp::from_unix_seconds(grace_deadline),
        ..FamilyState::new(1)
    }
}

#[test]
fn decision_table_matches_spec_section_6() {
    let now = Timestamp::from_unix_seconds(100);
    // R-ROT-1
    assert_eq!(
        decide(3, &state(3, 0), true, 10, now),
        Decision::Advance { current: 3 }
    );
    // R-ROT-2: inside the window (now < d)
    assert_eq!(
        decide(2, &state(3, 101), true, 10, now),
        Decision::Retry { successor: 3 }
    );
    // grace 0 means d == now at the advance: closed at once
    assert_eq!(decide(2, &state(3, 100), true, 10, now), Decision::Reuse);
    // R-ROT-3/R-ROT-4: two generations behind, even inside the window
    assert_eq!(decide(1, &state(3, 1_000), true, 10, now), Decision::Reuse);
    // R-ROT-6, R-ROT-7
    assert_eq!(
        decide(3, &state(3, 0), false, 10, now),
        Decision::NoRotation
    );
    assert_eq!(decide(2, &state(3, 1_000), false, 10, now), Decision::Reuse);
}

#[test]
fn r_rot_9_with_grace_0_nothing_is_a_retry_whatever_the_clocks_say() {
    // A deadline in the future of `now` (a clock read before the winner's advance) must not make a
    // presentation of c - 1 a retry when the client's grace period is 0.
    let now = Timestamp::from_unix_seconds(100);
    assert_eq!(decide(2, &state(3, 105), true, 0, now), Decision::Reuse);
    assert_eq!(
        decide(2, &state(3, 105), true, 5, now),
        Decision::Retry { successor: 3 }
    );
}
