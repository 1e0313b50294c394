//! R-ROT-5 / R-SAFE-5 across connections and processes: however many present the same generation at
//! once, the family advances exactly once; and a revoke wins against concurrent advances.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{family, ts};
use refresh_rotation::store::{Advance, FamilyId, FamilyState, RefreshTokenStore};
use refresh_rotation_postgres::{BlockingPgStore, PgRefreshTokenStore};

const FAR: i64 = 4_000_000_000;
const THREADS: usize = 8;

/// A store whose pool holds `n` open connections, so that `n` threads each run on their own.
fn warm_store(url: &str, n: u32) -> BlockingPgStore {
    let s = PgRefreshTokenStore::builder()
        .table(&common::unique_table())
        .max_connections(n)
        .min_idle(Some(n))
        .connect_blocking(url, common::rt())
        .expect("connect");
    s.migrate().expect("migrate");
    s
}

#[test]
fn r_rot_5_eight_pooled_connections_race_one_advance() {
    let Some(url) = common::pg_url() else { return };
    let store = Arc::new(warm_store(&url, THREADS as u32));
    let f = family("racer", FAR);
    store.create(f.clone()).unwrap();
    const ROUNDS: u32 = 20;
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(THREADS));
        let deadline = ts(1_000 + i64::from(round));
        let results: Vec<Advance> = (0..THREADS)
            .map(|_| {
                let (s, b, id) = (Arc::clone(&store), Arc::clone(&barrier), f.id);
                std::thread::spawn(move || {
                    b.wait();
                    s.advance(&id, round, deadline, 1).unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let after = FamilyState {
            generation: round + 1,
            grace_deadline: deadline,
            revoked: false,
            key_id: 1,
            device_confirmed: true,
        };
        let won = results
            .iter()
            .filter(|r| matches!(r, Advance::Advanced(_)))
            .count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        for r in &results {
            match r {
                Advance::Advanced(st) | Advance::Unchanged(st) => assert_eq!(*st, after),
                Advance::NotFound => panic!("round {round}: NotFound"),
            }
        }
    }
    assert_eq!(store.get(&f.id).unwrap().unwrap().state.generation, ROUNDS);
}

#[test]
fn r_rev_2_revoke_wins_against_concurrent_advances() {
    let Some(url) = common::pg_url() else { return };
    let store = Arc::new(warm_store(&url, THREADS as u32));
    for round in 0..15 {
        let f = family("victim", FAR);
        store.create(f.clone()).unwrap();
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (s, b, id) = (Arc::clone(&store), Arc::clone(&barrier), f.id);
                std::thread::spawn(move || {
                    b.wait();
                    if i == 0 {
                        Err(s.revoke(&id).unwrap())
                    } else {
                        Ok(s.advance(&id, 0, ts(77), 1).unwrap())
                    }
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(
            results.contains(&Err(true)),
            "round {round}: the revoke found it live"
        );
        let advanced = results
            .iter()
            .filter(|r| matches!(r, Ok(Advance::Advanced(_))))
            .count();
        assert!(advanced <= 1, "round {round}: {results:?}");
        let end = store.get(&f.id).unwrap().unwrap().state;
        assert!(end.revoked);
        assert_eq!(end.generation as usize, advanced, "round {round}");
        // An advance after the revoke returned can never succeed.
        assert_eq!(
            store.advance(&f.id, end.generation, ts(99), 1).unwrap(),
            Advance::Unchanged(end)
        );
    }
}

// ---- Cross-process race -------------------------------------------------------------------------------
//
// The parent spawns PROCS copies of this test binary, each running only `cross_process_child`. Every
// child opens its own store (own pool, own connection) and, for each round, blocks on a shared advisory
// lock that the parent holds exclusively. When the parent sees all PROCS children queued on the lock, it
// releases it, and all of them send the same advance at once. Waiting on the server's lock queue (rather
// than on a sleep or a wall-clock start time) makes the start simultaneous without guessing how long a
// process takes to start.

const CHILD_ENV: &str = "RR_PG_RACE_CHILD";
const PROCS: usize = 4;
const PROC_ROUNDS: u32 = 5;

fn lock_key(base: i64, round: u32) -> i64 {
    base + i64::from(round)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex16(s: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn r_rot_5_processes_race_one_advance() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let store = common::store_on(&url, &table, 2);
    let f = family("proc-racer", FAR);
    store.create(f.clone()).unwrap();
    // Small positive keys: PostgreSQL shows them in pg_locks as objid with classid 0.
    let base = i64::from(u32::from_le_bytes(common::random::<4>()) >> 2);
    let mut ctl = common::raw_client(&url);
    for r in 0..PROC_ROUNDS {
        ctl.execute("SELECT pg_advisory_lock($1)", &[&lock_key(base, r)])
            .unwrap();
    }

    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..PROCS)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "cross_process_child",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(
                    CHILD_ENV,
                    format!("{table} {} {base}", hex(f.id.as_bytes())),
                )
                .env(common::URL_VAR, &url)
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn a child test process")
        })
        .collect();

    let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 \
                   AND objid::bigint = $1 AND NOT granted \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    for r in 0..PROC_ROUNDS {
        let key = lock_key(base, r);
        let started = Instant::now();
        loop {
            let n: i64 = ctl.query_one(waiting, &[&key]).unwrap().get(0);
            if n as usize == PROCS {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                for c in &mut children {
                    let _ = c.kill();
                }
                panic!("round {r}: only {n} of {PROCS} child processes reached the start line");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        ctl.execute("SELECT pg_advisory_unlock($1)", &[&key])
            .unwrap();
    }

    let mut wins: HashMap<u32, usize> = HashMap::new();
    let mut answers = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "child failed: {out:?}");
        for line in BufReader::new(&out.stdout[..]).lines() {
            let line = line.unwrap();
            // libtest prints `test cross_process_child ... ` without a newline before the body runs.
            let Some(at) = line.find("RACE_RESULT ") else {
                continue;
            };
            let rest = &line[at + "RACE_RESULT ".len()..];
            let v: Vec<u32> = rest.split(' ').map(|x| x.parse().unwrap()).collect();
            let (round, advanced, generation) = (v[0], v[1], v[2]);
            assert_eq!(generation, round + 1, "every answer shows the one advance");
            *wins.entry(round).or_default() += advanced as usize;
            answers += 1;
        }
    }
    assert_eq!(answers, PROCS * PROC_ROUNDS as usize);
    for r in 0..PROC_ROUNDS {
        assert_eq!(
            wins.get(&r),
            Some(&1),
            "round {r}: exactly one process advanced"
        );
    }
    assert_eq!(
        store.get(&f.id).unwrap().unwrap().state.generation,
        PROC_ROUNDS
    );
}

/// Not a test on its own: the body of one racing process of `r_rot_5_processes_race_one_advance`. Does
/// nothing unless started by it.
#[test]
fn cross_process_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let url = std::env::var(common::URL_VAR).unwrap();
    let mut parts = spec.split(' ');
    let (table, id, base) = (
        parts.next().unwrap(),
        FamilyId::from_bytes(unhex16(parts.next().unwrap())),
        parts.next().unwrap().parse::<i64>().unwrap(),
    );
    // The store's pool is opened (and its connection established) before the start line.
    let store = PgRefreshTokenStore::builder()
        .table(table)
        .max_connections(1)
        .min_idle(Some(1))
        .connect_blocking(&url, common::rt())
        .unwrap();
    let mut gate = common::raw_client(&url);
    for r in 0..PROC_ROUNDS {
        let key = lock_key(base, r);
        gate.execute("SELECT pg_advisory_lock_shared($1)", &[&key])
            .unwrap();
        let result = store.advance(&id, r, ts(500 + i64::from(r)), 1).unwrap();
        gate.execute("SELECT pg_advisory_unlock_shared($1)", &[&key])
            .unwrap();
        let (advanced, st) = match result {
            Advance::Advanced(st) => (1, st),
            Advance::Unchanged(st) => (0, st),
            Advance::NotFound => panic!("family not found"),
        };
        println!("RACE_RESULT {r} {advanced} {}", st.generation);
    }
}
