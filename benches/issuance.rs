//! Token issuance against the signature bound.
//!
//! The bound of a refresh is `bound/<alg>`: the two bare ring signatures (ID and access token) over
//! representative claim bytes with the key already parsed. Every other benchmark of an algorithm is read
//! against it; `naive/<alg>` is what the same two tokens cost through `jsonwebtoken::encode`.
//! `cargo run --release --example bench_report` runs the same workloads (from `benches/support`) with
//! interleaved rounds and prints the ratios; these criterion benches are for looking at one workload.
//!
//! Run with `cargo bench --bench issuance [filter]`. Run times are kept short on purpose.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode};

mod support;

use support::{
    alg_name, naive_key, signing_key, Advancer, NonRotating, Pool, Representative, Rotating, ALGS,
};

/// Store sizes of the refresh benchmarks.
const SIZES: [(usize, &str); 3] = [(1_000, "1k"), (100_000, "100k"), (1_000_000, "1M")];

fn issuance(c: &mut Criterion) {
    let pools: Vec<(Pool, &str)> = SIZES.iter().map(|&(n, l)| (Pool::new(n), l)).collect();
    let small = &pools[0].0;
    for alg in ALGS {
        let name = alg_name(alg);
        let key = signing_key(alg);
        let rep = Representative::new(&small.issuer(&key), small);
        let (header, naive) = naive_key(alg);

        let mut g = c.benchmark_group(name);
        // RS256 through the rsa crate takes milliseconds per token: fewer samples keep it quick.
        g.sample_size(if name == "rs256" { 10 } else { 30 });
        g.bench_function("bound", |b| b.iter(|| rep.bound(&key)));
        g.bench_function("naive", |b| b.iter(|| rep.naive(&header, &naive)));
        {
            let issuer = small.issuer(&key);
            let mut user = 0usize;
            g.bench_function("sign_in", |b| {
                b.iter(|| {
                    user += 1;
                    support::sign_in(&issuer, small, user)
                })
            });
        }
        for (pool, label) in &pools {
            let issuer = pool.issuer(&key);
            let mut rot = Rotating::new(pool.rotating_tokens(0, support::WORKING_SET));
            g.bench_function(BenchmarkId::new("refresh_rotating", label), |b| {
                b.iter(|| rot.refresh(&issuer, pool))
            });
            let mut non = NonRotating::new(pool);
            g.bench_function(BenchmarkId::new("refresh_non_rotating", label), |b| {
                b.iter(|| non.refresh(&issuer, pool))
            });
        }
        {
            let pool = &pools[1].0;
            let issuer = pool.issuer(&key);
            let token = pool.grace_token();
            g.bench_function("retry_in_grace", |b| {
                b.iter(|| support::retry_in_grace(&issuer, pool, &token))
            });
        }
        g.finish();
    }

    let mut g = c.benchmark_group("store");
    for (pool, label) in &pools {
        let mut adv = Advancer::new(pool);
        g.bench_function(BenchmarkId::new("store_advance", label), |b| {
            b.iter(|| adv.advance(pool))
        });
    }
    g.finish();
    drop(pools);

    let mut g = c.benchmark_group("store");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.bench_function("purge/1M", |b| {
        b.iter_batched(
            || support::expired_store(1_000_000),
            |store| {
                let start = Instant::now();
                assert_eq!(support::purge_all(&store), 1_000_000);
                // Dropping the emptied store is part of giving the memory back, but not of the purge.
                let t = start.elapsed();
                (store, t)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = issuance
}
criterion_main!(benches);
