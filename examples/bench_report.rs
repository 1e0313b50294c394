//! The benchmark report: token issuance measured against the signature bound.
//!
//! `cargo run --release --example bench_report [-- --secs S --rounds N --svg PATH]`
//!
//! Runs the workloads of `benches/support` (the same code the criterion benches run) for a fixed time
//! each, with a plain timing loop, and prints a table and one `RESULT <name> <value>` line per figure.
//! Every figure that matters is a ratio against a bound measured in the same run. The workloads of an
//! algorithm take turns in 20 ms slices (bound, naive, ours, ...) for several rounds and the median is
//! taken, so a load change on a shared machine hits both sides alike; single-thread throughput is counted
//! per CPU-second of the measuring thread (from `/proc/thread-self/schedstat`, system calls included), so
//! time spent waiting for a core that a neighbour holds does not count against either side. Takes about
//! 90 seconds after the build.
//!
//! - `ratio_refresh_rotating_to_bound_<alg>`: rotating refreshes per second at 100,000 families divided by
//!   bound operations (two bare ring signatures) per second. 1.0 would be no overhead at all. The table
//!   beside it shows the lowest and highest per-round ratio: on a shared machine a round can be several
//!   percent off the median, so a figure near its target needs several runs to settle.
//! - `speedup_vs_naive_<alg>`: the same refresh throughput divided by that of `jsonwebtoken::encode` making
//!   the same two tokens.
//! - `scaling_2_threads`: EdDSA rotating refreshes with two threads on distinct families, divided by one
//!   thread's.
//! - `bytes_per_family`: resident memory growth per family at 1,000,000 families, measured in a child
//!   process (this binary with `--memory-child N`) so the other workloads do not pollute its RSS.
//!
//! `--svg PATH` also writes a bar chart of each algorithm's throughputs relative to its bound.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use refresh_rotation::jwt::Algorithm;
use refresh_rotation::store::RefreshTokenStore;
use support::{
    alg_name, naive_key, signing_key, Advancer, NonRotating, Pool, Representative, Rotating, ALGS,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "\
bench_report: token issuance measured against the signature bound (two bare ring signatures)

usage: cargo run --release --example bench_report -- [OPTIONS]

  --secs S             seconds per workload slice and round (default 0.25)
  --rounds N           interleaved rounds; the median is reported (default 7)
  --algs LIST          only these algorithms: rs256,es256,eddsa (default all)
  --svg PATH           also write a bar chart of throughputs relative to the bound
  --profile ALG WORKLOAD N
                       run one workload N times inside profiled_loop, for callgrind or perf
                       (RR_PROFILE_FAMILIES sets the pool size, default 1000)
  --help               this text";

struct Opts {
    secs: f64,
    rounds: usize,
    svg: Option<String>,
    /// `--algs rs256,es256`: measure only these (the RESULT lines of the others are then missing).
    algs: Vec<Algorithm>,
}

/// What to run instead of the report.
enum Special {
    /// `--help`: the options.
    Help,
    /// `--memory-child N`: the child process of `bytes_per_family`.
    MemoryChild(usize),
    /// `--profile ALG WORKLOAD N`: run one workload N times inside [`profiled_loop`], for
    /// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*profiled_loop*'` or `perf`,
    /// over a pool of 1,000 families (`RR_PROFILE_FAMILIES` sets another size).
    Profile(String, String, usize),
}

fn parse_args() -> Res<Result<Opts, Special>> {
    let mut opts = Opts {
        secs: 0.25,
        rounds: 7,
        svg: None,
        algs: ALGS.to_vec(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--secs" => opts.secs = value()?.parse()?,
            "--rounds" => opts.rounds = value()?.parse()?,
            "--svg" => opts.svg = Some(value()?),
            "--algs" => {
                let list = value()?;
                opts.algs = ALGS
                    .into_iter()
                    .filter(|a| list.split(',').any(|n| n == alg_name(*a)))
                    .collect();
            }
            "--help" | "-h" => return Ok(Err(Special::Help)),
            "--memory-child" => return Ok(Err(Special::MemoryChild(value()?.parse()?))),
            "--profile" => {
                let alg = value()?;
                let workload = args.next().ok_or("--profile ALG WORKLOAD N")?;
                let n = args.next().ok_or("--profile ALG WORKLOAD N")?.parse()?;
                return Ok(Err(Special::Profile(alg, workload, n)));
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if opts.rounds == 0 || opts.secs <= 0.0 {
        return Err("--rounds and --secs must be positive".into());
    }
    Ok(Ok(opts))
}

/// Nanoseconds the calling thread has spent on a CPU (user and kernel), from
/// `/proc/thread-self/schedstat`; `None` where that file is missing.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What one workload accumulated over the slices of a round.
#[derive(Default, Clone, Copy)]
struct Tally {
    ops: u64,
    wall: Duration,
    cpu_ns: u64,
}

impl Tally {
    /// Operations per CPU-second of the measuring thread when the kernel reports it, else per second of
    /// wall time. CPU time leaves out the time the thread waited for a core held by someone else, which
    /// on a shared machine is most of the noise; it does include system calls.
    fn rate(&self) -> f64 {
        if self.cpu_ns > 0 {
            self.ops as f64 / (self.cpu_ns as f64 * 1e-9)
        } else {
            self.ops as f64 / self.wall.as_secs_f64()
        }
    }
}

/// Runs `f` for one slice of about `slice` and adds what it did to `tally`. Calls are timed in chunks
/// that grow until a chunk takes a millisecond, so reading the clock costs nothing measurable even for
/// sub-microsecond work.
fn run_slice(slice: Duration, f: &mut dyn FnMut(), tally: &mut Tally) {
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let (mut ops, mut chunk) = (0u64, 1u64);
    loop {
        let t = Instant::now();
        for _ in 0..chunk {
            f();
        }
        ops += chunk;
        if t.elapsed() < Duration::from_millis(1) {
            chunk *= 2;
        }
        if start.elapsed() >= slice {
            break;
        }
    }
    tally.wall += start.elapsed();
    tally.ops += ops;
    if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
        tally.cpu_ns += b.saturating_sub(a);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One named workload of an interleaved set.
struct Workload<'a> {
    name: String,
    run: Box<dyn FnMut() + 'a>,
}

/// Measures `workloads` for `rounds` rounds of about `secs` each, and returns each one's per-round rates.
/// Within a round the workloads take turns in 20 ms slices, so that any change in the machine's load
/// falls on all of them alike and the ratios between them stay fair.
fn interleaved(rounds: usize, secs: f64, workloads: &mut [Workload<'_>]) -> Vec<Vec<f64>> {
    let slice = Duration::from_millis(20);
    let budget = Duration::from_secs_f64(secs);
    for w in workloads.iter_mut() {
        (w.run)(); // warm caches and lazily built state
    }
    let mut rates = vec![Vec::with_capacity(rounds); workloads.len()];
    for _ in 0..rounds {
        let mut tallies = vec![Tally::default(); workloads.len()];
        while tallies.iter().any(|t| t.wall < budget) {
            for (w, t) in workloads.iter_mut().zip(tallies.iter_mut()) {
                run_slice(slice, &mut *w.run, t);
            }
        }
        for (r, t) in rates.iter_mut().zip(&tallies) {
            r.push(t.rate());
        }
    }
    rates
}

/// Median over rounds of `a[i] / b[i]`: pairs measured close together, so load shifts cancel.
fn paired_ratio(a: &[f64], b: &[f64]) -> f64 {
    median(round_ratios(a, b))
}

/// The per-round ratios `a[i] / b[i]` whose median [`paired_ratio`] is.
fn round_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// A spread of a headline ratio's per-round values (highest minus lowest) above which the report says
/// that one run cannot settle how its median compares with a target a few hundredths away.
const NOISY_SPREAD: f64 = 0.1;

/// The lowest and highest of per-round ratios, shown beside a headline median so that a reader sees how
/// much the machine moved during the run.
fn range(ratios: &[f64]) -> (f64, f64) {
    ratios
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        })
}

fn read_loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Resident set size in bytes, from `/proc/self/statm` (as `examples/store_memory.rs` reads it).
fn resident_bytes() -> Res<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or("statm has no resident field")?
        .parse()?;
    Ok(pages * 4096)
}

/// The child process of `bytes_per_family`: fills a fresh store exactly as `examples/store_memory.rs`
/// does (shared client id and scope, 36-character subject, 12-character username, no device).
fn memory_child(families: usize) -> Res<()> {
    use refresh_rotation::clock::Timestamp;
    use refresh_rotation::store::{Family, FamilyId, FamilyInfo, FamilyState};
    let client_id: Arc<str> = Arc::from("4j2k9c1m5n7p3q8r0s6t2v4w1x");
    let scopes: Arc<str> = Arc::from("aws.cognito.signin.user.admin");
    let auth_time = Timestamp::from_unix_seconds(support::NOW);
    let expires_at = Timestamp::from_unix_seconds(support::NOW + 30 * 86_400);
    let mut rng = support::SplitMix(0x5eed);
    let store = refresh_rotation::store::InMemoryRefreshTokenStore::new();
    let before = resident_bytes()?;
    for i in 0..families {
        let id = FamilyId::from_bytes(rng.bytes16());
        let subject = FamilyId::from_bytes(rng.bytes16()).to_uuid_string();
        store.create(Family {
            id,
            info: Arc::new(FamilyInfo {
                client_id: Arc::clone(&client_id),
                subject: subject.into_boxed_str(),
                username: format!("user{i:08}").into_boxed_str(),
                device_key: None,
                scopes: Arc::clone(&scopes),
                auth_time,
                event_id: rng.bytes16(),
                expires_at,
            }),
            state: FamilyState::new(1),
        })?;
    }
    let after = resident_bytes()?;
    println!(
        "RESULT bytes_per_family {}",
        after.saturating_sub(before) / families.max(1) as u64
    );
    Ok(())
}

fn bytes_per_family(families: usize) -> Res<u64> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--memory-child", &families.to_string()])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "memory child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT bytes_per_family "))
        .ok_or("memory child printed no result")?;
    Ok(value.trim().parse()?)
}

/// Rotating refreshes per second with one thread per set in `sets`, over `secs`.
fn threaded_rate(
    secs: f64,
    issuer: &refresh_rotation::TokenIssuer,
    pool: &Pool,
    sets: &mut [Rotating],
) -> f64 {
    let barrier = Barrier::new(sets.len());
    let budget = Duration::from_secs_f64(secs);
    let results: Vec<(u64, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = sets
            .iter_mut()
            .map(|set| {
                let barrier = &barrier;
                s.spawn(move || {
                    set.refresh(issuer, pool);
                    barrier.wait();
                    let start = Instant::now();
                    let mut ops = 0u64;
                    while start.elapsed() < budget {
                        set.refresh(issuer, pool);
                        ops += 1;
                    }
                    (ops, start.elapsed())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect()
    });
    results
        .iter()
        .map(|(ops, t)| *ops as f64 / t.as_secs_f64())
        .sum()
}

/// Runs `f` `n` times; the only function callgrind collects in `--profile` mode.
#[inline(never)]
fn profiled_loop(n: usize, f: &mut dyn FnMut()) {
    for _ in 0..n {
        f();
    }
}

fn profile(alg: &str, workload: &str, n: usize) -> Res<()> {
    let alg = *ALGS
        .iter()
        .find(|a| alg_name(**a) == alg)
        .ok_or("ALG is rs256, es256 or eddsa")?;
    let families = match std::env::var("RR_PROFILE_FAMILIES") {
        Ok(n) => n.parse()?,
        Err(_) => 1_000,
    };
    let pool = Pool::new(families);
    let key = signing_key(alg);
    let issuer = pool.issuer(&key);
    let rep = Representative::new(&issuer, &pool);
    let (header, naive) = naive_key(alg);
    let mut rot = Rotating::new(pool.rotating_tokens(0, support::WORKING_SET));
    let mut non = NonRotating::new(&pool);
    let mut adv = Advancer::new(&pool);
    let grace = pool.grace_token();
    let mut user = 0;
    let mut f: Box<dyn FnMut()> = match workload {
        "bound" => Box::new(|| rep.bound(&key)),
        "naive" => Box::new(|| rep.naive(&header, &naive)),
        "sign_in" => Box::new(|| {
            user += 1;
            support::sign_in(&issuer, &pool, user)
        }),
        "refresh_rotating" => Box::new(|| rot.refresh(&issuer, &pool)),
        "refresh_non_rotating" => Box::new(|| non.refresh(&issuer, &pool)),
        "retry_in_grace" => Box::new(|| support::retry_in_grace(&issuer, &pool, &grace)),
        "store_advance" => Box::new(|| adv.advance(&pool)),
        other => return Err(format!("unknown workload {other}").into()),
    };
    f(); // lazily initialised state stays out of the count
    profiled_loop(n, &mut *f);
    Ok(())
}

struct Row {
    group: String,
    workload: String,
    rate: f64,
    vs_bound: Option<f64>,
}

fn main() -> Res<()> {
    let opts = match parse_args()? {
        Ok(o) => o,
        Err(Special::Help) => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(Special::MemoryChild(families)) => return memory_child(families),
        Err(Special::Profile(alg, workload, n)) => return profile(&alg, &workload, n),
    };
    let started = Instant::now();
    let load_before = read_loadavg();
    let (secs, rounds) = (opts.secs, opts.rounds);
    let mut results: BTreeMap<String, f64> = BTreeMap::new();
    // The lowest and highest per-round value of a headline ratio, for the table.
    let mut ranges: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut chart: Vec<(Algorithm, Vec<(String, f64)>)> = Vec::new();

    eprintln!("filling stores of 1k, 100k and 1M families...");
    let sizes = [(1_000usize, "1k"), (100_000, "100k"), (1_000_000, "1M")];
    let pools: Vec<(Pool, &str)> = sizes.iter().map(|&(n, l)| (Pool::new(n), l)).collect();
    let signin_pool = Pool::new(0);

    for &alg in &opts.algs {
        let name = alg_name(alg);
        eprintln!("{name}: {rounds} interleaved rounds of {secs} s per workload...");
        let key = signing_key(alg);
        let rep = Representative::new(&pools[0].0.issuer(&key), &pools[0].0);
        let (header, naive) = naive_key(alg);
        let signin_issuer = signin_pool.issuer(&key);
        let issuers: Vec<_> = pools.iter().map(|(p, _)| p.issuer(&key)).collect();
        let mut rotating: Vec<Rotating> = pools
            .iter()
            .map(|(p, _)| Rotating::new(p.rotating_tokens(0, support::WORKING_SET)))
            .collect();
        let mut non_rotating: Vec<NonRotating> =
            pools.iter().map(|(p, _)| NonRotating::new(p)).collect();
        let grace_token = pools[1].0.grace_token();

        let mut w: Vec<Workload<'_>> = Vec::new();
        w.push(Workload {
            name: "bound".into(),
            run: Box::new(|| rep.bound(&key)),
        });
        w.push(Workload {
            name: "naive".into(),
            run: Box::new(|| rep.naive(&header, &naive)),
        });
        let mut user = 0usize;
        let signin_issuer = &signin_issuer;
        let signin_pool = &signin_pool;
        w.push(Workload {
            name: "sign_in".into(),
            run: Box::new(move || {
                user += 1;
                support::sign_in(signin_issuer, signin_pool, user)
            }),
        });
        for (((pool, label), issuer), rot) in pools.iter().zip(&issuers).zip(rotating.iter_mut()) {
            w.push(Workload {
                name: format!("refresh_rotating_{label}"),
                run: Box::new(move || rot.refresh(issuer, pool)),
            });
        }
        for (((pool, label), issuer), non) in
            pools.iter().zip(&issuers).zip(non_rotating.iter_mut())
        {
            w.push(Workload {
                name: format!("refresh_non_rotating_{label}"),
                run: Box::new(move || non.refresh(issuer, pool)),
            });
        }
        let (grace_pool, grace_issuer, grace_token) = (&pools[1].0, &issuers[1], &grace_token);
        w.push(Workload {
            name: "retry_in_grace".into(),
            run: Box::new(move || support::retry_in_grace(grace_issuer, grace_pool, grace_token)),
        });

        let rates = interleaved(rounds, secs, &mut w);
        let bound = &rates[0];
        let mut bars = Vec::new();
        for (wl, r) in w.iter().zip(&rates) {
            let vs = (wl.name != "bound").then(|| paired_ratio(r, bound));
            let m = median(r.clone());
            results.insert(format!("{}_per_sec_{name}", wl.name), m);
            if let Some(v) = vs {
                results.insert(format!("ratio_{}_to_bound_{name}", wl.name), v);
            }
            bars.push((wl.name.clone(), vs.unwrap_or(1.0)));
            rows.push(Row {
                group: name.into(),
                workload: wl.name.clone(),
                rate: m,
                vs_bound: vs,
            });
        }
        let idx = |n: &str| w.iter().position(|x| x.name == n).expect("workload");
        let ours = &rates[idx("refresh_rotating_100k")];
        let headline = format!("ratio_refresh_rotating_to_bound_{name}");
        let per_round = round_ratios(ours, bound);
        ranges.insert(headline.clone(), range(&per_round));
        results.insert(headline, median(per_round));
        results.insert(
            format!("speedup_vs_naive_{name}"),
            paired_ratio(ours, &rates[idx("naive")]),
        );
        chart.push((alg, bars));
    }

    eprintln!("store: compare-and-set alone...");
    {
        let mut advancers: Vec<Advancer> = pools.iter().map(|(p, _)| Advancer::new(p)).collect();
        let mut w: Vec<Workload<'_>> = pools
            .iter()
            .zip(advancers.iter_mut())
            .map(|((pool, label), adv)| Workload {
                name: format!("store_advance_{label}"),
                run: Box::new(move || adv.advance(pool)) as Box<dyn FnMut()>,
            })
            .collect();
        let rates = interleaved(rounds, secs, &mut w);
        for (wl, r) in w.iter().zip(rates) {
            let m = median(r);
            results.insert(format!("{}_per_sec", wl.name), m);
            rows.push(Row {
                group: "store".into(),
                workload: wl.name.clone(),
                rate: m,
                vs_bound: None,
            });
        }
    }

    eprintln!("scaling: EdDSA, one thread against two on distinct families...");
    {
        let (pool, _) = &pools[1];
        let issuer = pool.issuer(&signing_key(Algorithm::EdDSA));
        let half = support::WORKING_SET / 2;
        let mut sets = [
            Rotating::new(pool.rotating_tokens(0, half)),
            Rotating::new(pool.rotating_tokens(half, support::WORKING_SET)),
        ];
        let (mut one, mut two) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            one.push(threaded_rate(secs * 2.0, &issuer, pool, &mut sets[..1]));
            two.push(threaded_rate(secs * 2.0, &issuer, pool, &mut sets[..]));
        }
        results.insert("scaling_2_threads".into(), paired_ratio(&two, &one));
        rows.push(Row {
            group: "eddsa".into(),
            workload: "refresh_rotating_100k_1_thread".into(),
            rate: median(one),
            vs_bound: None,
        });
        rows.push(Row {
            group: "eddsa".into(),
            workload: "refresh_rotating_100k_2_threads".into(),
            rate: median(two),
            vs_bound: None,
        });
    }
    drop(pools);

    eprintln!("purge: 1M expired families...");
    {
        let mut times = Vec::new();
        for _ in 0..3 {
            let store = support::expired_store(1_000_000);
            let t = Instant::now();
            let n = support::purge_all(&store);
            times.push(t.elapsed().as_secs_f64());
            assert_eq!(n, 1_000_000);
            assert!(store.is_empty());
            drop(store);
        }
        let t = median(times);
        results.insert("purge_1m_ms".into(), t * 1e3);
        rows.push(Row {
            group: "store".into(),
            workload: "purge_1M (families/s)".into(),
            rate: 1e6 / t,
            vs_bound: None,
        });
    }

    eprintln!("memory: 1M families in a child process...");
    results.insert(
        "bytes_per_family".into(),
        bytes_per_family(1_000_000)? as f64,
    );

    // The report.
    let load_after = read_loadavg();
    let date = time::OffsetDateTime::now_utc().date();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("## Benchmarks");
    println!();
    println!(
        "Machine: {cores} cores ({}), {date}; load average before {load_before}, after {load_after}.",
        cpu_model()
    );
    println!(
        "Each workload ran {rounds} rounds of {secs} s, the workloads of an algorithm taking turns in 20 ms \
         slices; throughput is {}, the median over rounds. \"vs bound\" is the median over rounds of \
         throughput / bound throughput in the same round. Two-thread figures are per wall-clock second.",
        if thread_cpu_ns().is_some() {
            "per CPU-second of the measuring thread (system calls included)"
        } else {
            "per wall-clock second"
        }
    );
    println!();
    println!("| alg | workload | ops/s | µs/op | vs bound |");
    println!("|---|---|---:|---:|---:|");
    for r in &rows {
        let vs = r.vs_bound.map_or(String::new(), |v| format!("{v:.3}"));
        println!(
            "| {} | {} | {:.0} | {:.2} | {} |",
            r.group,
            r.workload,
            r.rate,
            1e6 / r.rate,
            vs
        );
    }
    println!();
    let key_figures = [
        "ratio_refresh_rotating_to_bound_rs256",
        "ratio_refresh_rotating_to_bound_es256",
        "ratio_refresh_rotating_to_bound_eddsa",
        "speedup_vs_naive_rs256",
        "speedup_vs_naive_es256",
        "speedup_vs_naive_eddsa",
        "scaling_2_threads",
        "bytes_per_family",
    ];
    let targets = [
        ">= 0.97", ">= 0.92", ">= 0.92", "", ">= 1.5", "", ">= 1.7", "<= 256",
    ];
    println!("| figure | value | rounds from .. to | target |");
    println!("|---|---:|---|---|");
    for (k, t) in key_figures.iter().zip(targets) {
        if let Some(v) = results.get(*k) {
            let range = ranges
                .get(*k)
                .map_or(String::new(), |(lo, hi)| format!("{lo:.3} .. {hi:.3}"));
            println!("| {k} | {} | {range} | {t} |", fmt_value(*v));
        }
    }
    let widest = ranges.values().map(|(lo, hi)| hi - lo).fold(0.0, f64::max);
    if widest > NOISY_SPREAD {
        println!();
        println!(
            "The machine moved during this run: a headline ratio's rounds spread over {widest:.3}. \
             Compare medians of several runs, or run longer (`--rounds 21`)."
        );
    }
    println!();
    for k in key_figures {
        if let Some(v) = results.get(k) {
            println!("RESULT {k} {}", fmt_value(*v));
        }
    }
    for (k, v) in &results {
        if !key_figures.contains(&k.as_str()) {
            println!("RESULT {k} {}", fmt_value(*v));
        }
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());

    if let Some(path) = opts.svg {
        std::fs::write(&path, svg(&chart, &results))?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 || v >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// A horizontal bar chart: per algorithm, each workload's throughput relative to the bound.
fn svg(chart: &[(Algorithm, Vec<(String, f64)>)], results: &BTreeMap<String, f64>) -> String {
    const SHOWN: [&str; 5] = [
        "bound",
        "refresh_rotating_100k",
        "refresh_non_rotating_100k",
        "sign_in",
        "naive",
    ];
    let (label_w, bar_w, row_h) = (230.0, 420.0, 18.0);
    let rows: usize = chart.len() * (SHOWN.len() + 1);
    let height = 40.0 + rows as f64 * row_h + 20.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="sans-serif" font-size="12">"#,
        label_w + bar_w + 150.0
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-size="14">Throughput relative to the signature bound (two bare ring signatures = 1.0)</text>"#
    );
    let mut y = 40.0;
    for (alg, bars) in chart {
        let name = alg_name(*alg);
        let _ = writeln!(
            s,
            r#"<text x="10" y="{}" font-weight="bold">{alg}</text>"#,
            y + 12.0
        );
        y += row_h;
        for shown in SHOWN {
            let Some((_, v)) = bars.iter().find(|(n, _)| n == shown) else {
                continue;
            };
            let per_sec = results
                .get(&format!("{shown}_per_sec_{name}"))
                .copied()
                .unwrap_or(0.0);
            let color = match shown {
                "bound" => "#888888",
                "naive" => "#d62728",
                _ => "#1f77b4",
            };
            let w = (v.min(1.2) / 1.2 * bar_w).max(1.0);
            let _ = writeln!(
                s,
                r#"<text x="20" y="{}">{shown}</text><rect x="{label_w}" y="{}" width="{w:.1}" height="{}" fill="{color}"/><text x="{}" y="{}">{v:.3} ({per_sec:.0}/s)</text>"#,
                y + 12.0,
                y + 2.0,
                row_h - 4.0,
                label_w + w + 5.0,
                y + 12.0
            );
            y += row_h;
        }
    }
    let x1 = label_w + bar_w / 1.2;
    let _ = writeln!(
        s,
        r#"<line x1="{x1}" y1="30" x2="{x1}" y2="{y}" stroke="gray" stroke-dasharray="4,3"/>"#
    );
    s.push_str("</svg>\n");
    s
}
