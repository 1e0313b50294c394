//! Measures the in-memory store's resident memory per family (target: at most 256 bytes at 1,000,000
//! families, R-FAM-2).
//!
//! Run with `cargo run --release --example store_memory [families]`. It fills an
//! `InMemoryRefreshTokenStore` with realistic families (a shared 26-character client id, a 36-character
//! UUID subject, a 12-character username, the shared `aws.cognito.signin.user.admin` scope string, no
//! device), reading the process's resident set from `/proc/self/statm` before and after, and prints
//! `RESULT bytes_per_family <n>`. The figure includes everything the families cost: records, strings,
//! hash tables at whatever load factor they happen to have, and the allocator's own overhead.
//! Linux only (it needs `/proc`).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use refresh_rotation::clock::Timestamp;
use refresh_rotation::store::{
    Family, FamilyId, FamilyInfo, FamilyState, InMemoryRefreshTokenStore, RefreshTokenStore,
};

/// Resident set size in bytes, from `/proc/self/statm` (second field, in pages).
fn resident_bytes() -> Result<u64, Box<dyn std::error::Error>> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or("statm has no resident field")?
        .parse()?;
    // The page size is 4 KiB on every Linux target this example is meant for (x86-64, most aarch64).
    Ok(pages * 4096)
}

/// SplitMix64: cheap, well-mixed ids without going to the OS for each of a million families.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next().to_le_bytes());
        out[8..].copy_from_slice(&self.next().to_le_bytes());
        out
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let families: usize = match std::env::args().nth(1).as_deref() {
        Some("--help" | "-h") => {
            println!(
                "store_memory: the in-memory store's resident memory per family\n\n\
                 usage: cargo run --release --example store_memory [-- FAMILIES]   (default 1000000)"
            );
            return Ok(());
        }
        Some(n) => n
            .parse()
            .map_err(|_| format!("FAMILIES must be a number, not {n:?}; see --help"))?,
        None => 1_000_000,
    };
    let client_id: Arc<str> = Arc::from("4j2k9c1m5n7p3q8r0s6t2v4w1x"); // 26 characters
    let scopes: Arc<str> = Arc::from("aws.cognito.signin.user.admin");
    let auth_time = Timestamp::from_unix_seconds(1_700_000_000);
    let expires_at = auth_time
        .checked_add_secs(30 * 24 * 3600)
        .ok_or("time overflow")?;
    let mut rng = SplitMix(0x5eed);

    let store = InMemoryRefreshTokenStore::new();
    let before = resident_bytes()?;
    for i in 0..families {
        let id = FamilyId::from_bytes(rng.bytes16());
        let subject = FamilyId::from_bytes(rng.bytes16()).to_uuid_string(); // 36 characters
        let username = format!("user{i:08}"); // 12 characters
        let family = Family {
            id,
            info: Arc::new(FamilyInfo {
                client_id: Arc::clone(&client_id),
                subject: subject.into_boxed_str(),
                username: username.into_boxed_str(),
                device_key: None,
                scopes: Arc::clone(&scopes),
                auth_time,
                event_id: rng.bytes16(),
                expires_at,
            }),
            state: FamilyState::new(1),
        };
        store.create(family)?;
    }
    let after = resident_bytes()?;
    assert_eq!(store.len(), families);

    let growth = after.saturating_sub(before);
    let per_family = growth / (families.max(1) as u64);
    println!("families          {families}");
    println!("resident before   {before} bytes");
    println!("resident after    {after} bytes");
    println!("growth            {growth} bytes");
    println!("RESULT bytes_per_family {per_family}");
    Ok(())
}
