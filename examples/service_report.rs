//! The service benchmark report: the example service as deployed (HTTP on loopback, in memory and on
//! PostgreSQL), each figure a ratio to a limit measured in the same run.
//!
//! `cargo run --release --example service_report [-- --secs S --rounds N --pg-url URL | --no-pg]`
//!
//! It builds and starts `cognito_server` itself (`--listen 127.0.0.1:0`, one process per algorithm and
//! backend: in memory, and with `--database-url` on a database of its own), sets up one family per
//! connection through the service's own operations (`driver::set_up`), and drives them with the load
//! generator of `examples/loadgen` for 1, 16 and 64 connections, ES256 and RS256, in three modes.
//!
//! PostgreSQL: `--pg-url URL` (or `REFRESH_ROTATION_PG_URL`) names a server on which it may create and
//! drop databases; without either it runs itself under `stores/postgres/ci.sh` with `RR_PG_FSYNC=on`,
//! which starts a throwaway server (as root) and exports the URL. `--no-pg` skips PostgreSQL altogether.
//!
//! The headline figures come from `--rounds` rounds in which the workloads they compare take turns, each
//! for `--secs`; a figure is the median over rounds, a ratio the median of per-round ratios, so a load
//! change on a shared machine falls on both sides of a ratio alike:
//!
//! - `pg_select_update_rps_c16`: PostgreSQL's own floor for a refresh, 16 connections each doing a
//!   primary-key read and a single-row conditional update (each committed on its own) on a table of the
//!   store's shape and size, through tokio-postgres (the store's client library); in each round the
//!   higher of two runs, its clients on one thread (as the load generator's) and on a multi-threaded
//!   runtime.
//! - `ratio_http_pg_to_additive_limit_c16`: the PostgreSQL-backed ES256 service at 16 connections against
//!   `1 / (1/memory service + 1/floor)`: the service and the database share the cores, so costs add.
//! - `ratio_http_memory_to_inprocess_es256`: the in-memory ES256 service at 16 connections against
//!   in-process rotating refreshes on two threads (`benches/support`, as `bench_report`). The load
//!   generator runs on the same two cores as the service, so the HTTP side also pays for its client.

// Tool code: a panic here is the tool failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/mod.rs"]
mod support;

#[path = "loadgen/driver.rs"]
mod driver;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use driver::{BenchClient, Mode, Stats};
use refresh_rotation::jwt::Algorithm;

type Res<T> = driver::Res<T>;

const CONNS: [usize; 3] = [1, 16, 64];
/// Families per service: one per connection of the largest run.
const FAMILIES: usize = 64;
/// Set when this process runs itself under `stores/postgres/ci.sh`, so it does not do so again.
const UNDER_CI_SH: &str = "RR_SERVICE_REPORT_UNDER_CI_SH";

struct Opts {
    secs: f64,
    rounds: usize,
    pg_url: Option<String>,
    no_pg: bool,
    server: Option<PathBuf>,
}

const USAGE: &str = "\
service_report: the example service as deployed, each figure a ratio to a limit measured in the same run

usage: cargo run --release --example service_report -- [OPTIONS]

  --secs S        seconds per workload and round (default 2)
  --rounds N      interleaved rounds; the median is reported (default 5)
  --pg-url URL    a PostgreSQL server on which it may create and drop databases
                  (default: REFRESH_ROTATION_PG_URL; without either, it runs itself under
                  stores/postgres/ci.sh, which starts a throwaway server and needs root)
  --no-pg         in memory only, no PostgreSQL
  --server PATH   the cognito_server binary to drive (default: built beside this one)
  --help          this text";

fn parse_args() -> Res<Opts> {
    let mut o = Opts {
        secs: 2.0,
        rounds: 5,
        pg_url: std::env::var("REFRESH_ROTATION_PG_URL").ok(),
        no_pg: false,
        server: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--secs" => o.secs = value()?.parse()?,
            "--rounds" => o.rounds = value()?.parse()?,
            "--pg-url" => o.pg_url = Some(value()?),
            "--no-pg" => o.no_pg = true,
            "--server" => o.server = Some(value()?.into()),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if o.rounds == 0 || o.secs <= 0.0 {
        return Err("--rounds and --secs must be positive".into());
    }
    Ok(o)
}

// ------------------------------------------------------------------------------------- the service

/// The `cognito_server` binary beside this one, built first (a no-op when it is up to date).
fn server_binary(opts: &Opts) -> Res<PathBuf> {
    if let Some(p) = &opts.server {
        return Ok(p.clone());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "--example",
        "cognito_server",
        "--manifest-path",
    ])
    .arg(&manifest);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if !cmd.status()?.success() {
        return Err("building the cognito_server example failed".into());
    }
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name("cognito_server"))
}

/// A running `cognito_server`, stopped when dropped.
struct Service {
    child: Child,
    addr: SocketAddr,
}

impl Service {
    fn start(bin: &Path, alg: Algorithm, database_url: Option<&str>) -> Res<Service> {
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", "127.0.0.1:0", "--algorithm", alg.as_str()]);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let addr = loop {
            let Some(line) = lines.next().transpose()? else {
                let status = child.wait()?;
                return Err(format!("cognito_server exited ({status}) before it was ready").into());
            };
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap_or("").parse()?;
            }
        };
        // Keep reading its output so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Service { child, addr })
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One service under test with its families.
struct Target {
    label: String,
    alg: Algorithm,
    service: Service,
    client: BenchClient,
    tokens: Vec<String>,
}

impl Target {
    /// One run, with the CPU time the service and this process (the load generator) spent in it.
    ///
    /// The load runs on a runtime of its own with one thread: a request costs the generator a few
    /// microseconds, which one thread gives for every connection, while a second thread on two cores
    /// shared with the service only adds wake-ups and thread switches (about a fifth of the generator's
    /// CPU per request, measured). The database floor keeps the multi-threaded runtime.
    async fn run(&mut self, mode: Mode, conns: usize, secs: f64) -> Res<Stats> {
        let d = Duration::from_secs_f64(secs);
        let pid = self.service.child.id();
        let (svc0, gen0) = (cpu_time(pid), cpu_time(std::process::id()));
        let (addr, client, tokens) = (self.service.addr, &self.client, &mut self.tokens[..conns]);
        let mut st = on_one_thread(driver::run(addr, client, mode, tokens, d))?;
        if let (Some(s0), Some(g0), Some(s1), Some(g1)) =
            (svc0, gen0, cpu_time(pid), cpu_time(std::process::id()))
        {
            st.service_cpu = s1.saturating_sub(s0);
            st.client_cpu = g1.saturating_sub(g0);
        }
        Ok(st)
    }
}

/// Runs `work` to its end on a runtime of its own with one thread, from a task of the report's
/// multi-threaded runtime (which `block_in_place` lets it block).
fn on_one_thread<T>(work: impl std::future::Future<Output = Res<T>>) -> Res<T> {
    tokio::task::block_in_place(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(work)
    })
}

/// User and system CPU time of process `pid` so far, all its threads (exited ones included), from
/// `/proc/<pid>/stat`, in clock ticks of 10 ms (`CLK_TCK` is 100 on Linux); `None` elsewhere.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces: state is field 3,
    // utime 14 and stime 15.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

// ------------------------------------------------------------------------------------- PostgreSQL

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> Res<String> {
    let scheme_end = url.find("://").ok_or("the PostgreSQL URL has no scheme")? + 3;
    let query = url[scheme_end..]
        .find('?')
        .map_or(url.len(), |i| i + scheme_end);
    let path = url[scheme_end..query]
        .find('/')
        .map_or(query, |i| i + scheme_end);
    Ok(format!("{}/{db}{}", &url[..path], &url[query..]))
}

async fn pg_connect(url: &str) -> Res<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// Databases this run created on the server, dropped at the end.
struct Databases {
    admin_url: String,
    names: Vec<String>,
}

impl Databases {
    async fn create(&mut self, suffix: &str) -> Res<String> {
        let name = format!("rr_service_report_{}_{suffix}", std::process::id());
        let admin = pg_connect(&self.admin_url).await?;
        // One statement each: DROP and CREATE DATABASE cannot run in the implicit transaction of a
        // multi-statement query.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        self.names.push(name.clone());
        with_database(&self.admin_url, &name)
    }

    async fn drop_all(&self) -> Res<()> {
        let admin = pg_connect(&self.admin_url).await?;
        for name in &self.names {
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Ok(())
    }
}

/// The store's table (`stores/postgres/src/schema.rs`, `migration_sql`), for the floor measurement.
const FLOOR_TABLE: &str = "CREATE TABLE floor_families (
    family_id      BYTEA   PRIMARY KEY CHECK (octet_length(family_id) = 16),
    client_id      TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    username       TEXT    NOT NULL,
    device_key     TEXT    NULL,
    scopes         TEXT    NOT NULL,
    auth_time      BIGINT  NOT NULL,
    event_id       BYTEA   NOT NULL CHECK (octet_length(event_id) = 16),
    expires_at     BIGINT  NOT NULL,
    generation     BIGINT  NOT NULL CHECK (generation BETWEEN 0 AND 4294967295),
    grace_deadline BIGINT  NOT NULL,
    revoked        BOOLEAN NOT NULL,
    key_id         BIGINT  NOT NULL DEFAULT 0 CHECK (key_id BETWEEN 0 AND 4294967295),
    device_confirmed BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX floor_families_subject_idx ON floor_families (subject);
CREATE INDEX floor_families_expires_at_idx ON floor_families (expires_at);";

/// The least a refresh needs from the database: read the family by primary key, then advance it with a
/// conditional update, each statement committed on its own (autocommit).
const FLOOR_SELECT: &str = "SELECT family_id, client_id, subject, username, device_key, scopes, \
    auth_time, event_id, expires_at, generation, grace_deadline, key_id, revoked, device_confirmed \
    FROM floor_families WHERE family_id = $1";
const FLOOR_UPDATE: &str = "UPDATE floor_families SET generation = generation + 1, \
    grace_deadline = $3, key_id = $4 WHERE family_id = $1 AND generation = $2";

/// Creates the floor table in `url` with `rows` families.
async fn floor_set_up(url: &str, rows: usize) -> Res<()> {
    let c = pg_connect(url).await?;
    c.batch_execute(FLOOR_TABLE).await?;
    c.execute(
        "INSERT INTO floor_families (family_id, client_id, subject, username, scopes, auth_time, \
         event_id, expires_at, generation, grace_deadline, revoked) \
         SELECT decode(lpad(to_hex(i), 32, '0'), 'hex'), 'bench-client-id-0123456789', \
                '5b0e7c4e-1f7a-4d0e-9a51-' || lpad(to_hex(i), 12, '0'), 'bench-user', \
                'aws.cognito.signin.user.admin openid profile email', 1700000000, \
                decode(md5(i::text), 'hex'), 4102444800, 0, 0, FALSE \
         FROM generate_series(1, $1::bigint) AS i",
        &[&(rows as i64)],
    )
    .await?;
    c.batch_execute("VACUUM ANALYZE floor_families").await?;
    Ok(())
}

/// `conns` connections, each advancing its own row, for `secs`.
async fn floor_run(url: &str, conns: usize, secs: f64) -> Res<Stats> {
    let barrier = Arc::new(tokio::sync::Barrier::new(conns + 1));
    let mut tasks = Vec::new();
    for i in 0..conns {
        let (url, barrier) = (url.to_owned(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let c = pg_connect(&url).await?;
            let (sel, upd) = (
                c.prepare(FLOOR_SELECT).await?,
                c.prepare(FLOOR_UPDATE).await?,
            );
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            let id = id.to_vec();
            barrier.wait().await;
            let deadline = Instant::now() + Duration::from_secs_f64(secs);
            let mut st = Stats::default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let row = c.query_one(&sel, &[&id]).await?;
                let generation: i64 = row.get("generation");
                let n = c.execute(&upd, &[&id, &generation, &0i64, &0i64]).await?;
                if n != 1 {
                    return Err(format!("the conditional update matched {n} rows").into());
                }
                st.latencies_us
                    .push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                st.ok += 1;
            }
            Res::Ok(st)
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut total = Stats {
        connections: conns,
        ..Stats::default()
    };
    for t in tasks {
        let st = t.await??;
        total.ok += st.ok;
        total.latencies_us.extend(st.latencies_us);
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

// ------------------------------------------------------------------------------------- in process

/// Rotating ES256 refreshes in process on two threads, on distinct families, for `secs`: refreshes per
/// second (wall clock) and the refreshes made.
fn inprocess_rate(
    secs: f64,
    issuer: &refresh_rotation::TokenIssuer,
    pool: &support::Pool,
) -> (f64, u64) {
    let n = pool.rotating_ids.len();
    let mut sets = [
        support::Rotating::new(pool.rotating_tokens(0, n / 2)),
        support::Rotating::new(pool.rotating_tokens(n / 2, n)),
    ];
    let barrier = Barrier::new(sets.len());
    let budget = Duration::from_secs_f64(secs);
    std::thread::scope(|s| {
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
                    (ops as f64 / start.elapsed().as_secs_f64(), ops)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .fold((0.0, 0), |(r, n), (r1, n1)| (r + r1, n + n1))
    })
}

// ------------------------------------------------------------------------------------- the report

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn read_loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|l| l.split_once(':')))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({model})")
}

/// One row of the table.
struct Row {
    backend: &'static str,
    alg: Algorithm,
    mode: Mode,
    conns: usize,
    stats: Stats,
    /// Requests per second: the median over rounds for the headline rows, else the one run's.
    rps: f64,
}

fn alg_name(alg: Algorithm) -> &'static str {
    support::alg_name(alg)
}

/// Runs itself under `stores/postgres/ci.sh` (a throwaway server with fsync on); returns its exit code.
fn rerun_under_ci_sh() -> Res<i32> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("stores/postgres/ci.sh");
    eprintln!(
        "service_report: no --pg-url or REFRESH_ROTATION_PG_URL: starting a throwaway PostgreSQL with {}",
        script.display()
    );
    let status = Command::new("bash")
        .arg(&script)
        .arg(std::env::current_exe()?)
        .args(std::env::args().skip(1))
        .env("RR_PG_FSYNC", "on")
        .env(UNDER_CI_SH, "1")
        .status()?;
    Ok(status.code().unwrap_or(1))
}

fn main() -> Res<()> {
    let opts = parse_args()?;
    if !opts.no_pg && opts.pg_url.is_none() {
        if std::env::var_os(UNDER_CI_SH).is_some() {
            return Err("stores/postgres/ci.sh exported no REFRESH_ROTATION_PG_URL".into());
        }
        std::process::exit(rerun_under_ci_sh()?);
    }
    if cfg!(debug_assertions) {
        eprintln!("service_report: a debug build measures nothing useful; use --release");
    }
    let bin = server_binary(&opts)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(report(opts, bin))
}

async fn report(opts: Opts, bin: PathBuf) -> Res<()> {
    let started = Instant::now();
    let load_before = read_loadavg();
    let help = Command::new(&bin).arg("--help").output()?;
    let server_has_pg = String::from_utf8_lossy(&help.stdout).contains("--database-url");
    let algs = [Algorithm::ES256, Algorithm::RS256];
    let mut notes: Vec<String> = Vec::new();

    // PostgreSQL: a database per PostgreSQL-backed service and one for the floor.
    let mut dbs = opts
        .pg_url
        .as_ref()
        .filter(|_| !opts.no_pg)
        .map(|url| Databases {
            admin_url: url.clone(),
            names: Vec::new(),
        });
    if let Some(d) = &dbs {
        let c = pg_connect(&d.admin_url).await?;
        let fsync: String = c.query_one("SHOW fsync", &[]).await?.get(0);
        let version: String = c.query_one("SHOW server_version", &[]).await?.get(0);
        notes.push(format!("PostgreSQL {version} on loopback, fsync={fsync}"));
        if fsync != "on" {
            notes.push(
                "WARNING: fsync is off: the PostgreSQL figures overstate a durable database".into(),
            );
        }
    }
    if dbs.is_some() && !server_has_pg {
        notes.push(
            "SKIPPED: cognito_server does not accept --database-url yet (R-SRV-6 is not merged): \
             the http_rotating_pg_* lines and ratio_http_pg_to_additive_limit_c16 are not measured; \
             pg_select_update_rps_c16 is"
                .into(),
        );
    }

    // Services: in memory for each algorithm, and on PostgreSQL when the service can.
    eprintln!("service_report: starting services and signing in {FAMILIES} families each");
    let mut targets: Vec<(&'static str, Target)> = Vec::new();
    for alg in algs {
        let mut backends: Vec<(&'static str, Option<String>)> = vec![("memory", None)];
        if let (Some(d), true) = (dbs.as_mut(), server_has_pg) {
            backends.push(("pg", Some(d.create(alg_name(alg)).await?)));
        }
        for (backend, url) in backends {
            let started = async {
                let service = Service::start(&bin, alg, url.as_deref())?;
                let (client, tokens) = driver::set_up(service.addr, FAMILIES, 2).await?;
                Res::Ok((service, client, tokens))
            };
            let (service, client, tokens) = match started.await {
                Ok(s) => s,
                // A PostgreSQL-backed service that cannot start is reported, and the rest measured.
                Err(e) if backend == "pg" => {
                    notes.push(format!(
                        "SKIPPED pg_{}: the service failed: {e}",
                        alg_name(alg)
                    ));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let label = format!("{backend}_{}", alg_name(alg));
            targets.push((
                backend,
                Target {
                    label,
                    alg,
                    service,
                    client,
                    tokens,
                },
            ));
        }
    }
    let floor_url = match dbs.as_mut() {
        Some(d) => {
            let url = d.create("floor").await?;
            // The same size as the service's table: one family per connection of the largest run.
            floor_set_up(&url, FAMILIES).await?;
            Some(url)
        }
        None => None,
    };
    let setup_secs = started.elapsed().as_secs_f64();

    // The matrix, one run each (the headline cells come from the rounds below).
    eprintln!("service_report: the matrix ({:.1} s per run)", opts.secs);
    let mut rows: Vec<Row> = Vec::new();
    for (backend, t) in targets.iter_mut() {
        for mode in Mode::ALL {
            for conns in CONNS {
                if mode == Mode::Refresh && conns == 16 {
                    continue;
                }
                let stats = t.run(mode, conns, opts.secs).await?;
                eprintln!(
                    "  {} {} c{conns}: {:.0}/s, {} errors",
                    t.label,
                    mode.name(),
                    stats.rps(),
                    stats.errors
                );
                rows.push(Row {
                    backend,
                    alg: t.alg,
                    mode,
                    conns,
                    rps: stats.rps(),
                    stats,
                });
            }
        }
    }

    // The rounds: every headline workload takes its turn in each round.
    eprintln!(
        "service_report: {} rounds of the headline workloads",
        opts.rounds
    );
    let sp = support::Pool::new(1_000);
    let issuer = sp.issuer(&support::signing_key(Algorithm::ES256));
    let mut per_round: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut merged: BTreeMap<String, Stats> = BTreeMap::new();
    let (mut inprocess_cpu, mut inprocess_ops) = (Duration::ZERO, 0u64);
    for round in 0..opts.rounds {
        for (_, t) in targets.iter_mut() {
            let st = t.run(Mode::Refresh, 16, opts.secs).await?;
            per_round.entry(t.label.clone()).or_default().push(st.rps());
            merged.entry(t.label.clone()).or_default().absorb(&st);
        }
        if let Some(url) = &floor_url {
            // The floor's clients on both kinds of runtime, the load generator's (one thread) and a
            // multi-threaded one; the higher rate is the round's floor, so that neither choice of client
            // runtime can make the limit the service is measured against easier to meet.
            let multi = floor_run(url, 16, opts.secs).await?;
            let one = on_one_thread(floor_run(url, 16, opts.secs))?;
            let st = if one.rps() > multi.rps() { one } else { multi };
            per_round.entry("floor".into()).or_default().push(st.rps());
            merged.entry("floor".into()).or_default().absorb(&st);
        }
        let secs = opts.secs;
        let (issuer, sp) = (&issuer, &sp);
        let cpu0 = cpu_time(std::process::id());
        let (rate, ops) = tokio::task::block_in_place(|| inprocess_rate(secs, issuer, sp));
        if let (Some(c0), Some(c1)) = (cpu0, cpu_time(std::process::id())) {
            inprocess_cpu += c1.saturating_sub(c0);
            inprocess_ops += ops;
        }
        per_round.entry("inprocess".into()).or_default().push(rate);
        eprintln!(
            "  round {}: {}",
            round + 1,
            per_round
                .iter()
                .map(|(k, v)| format!("{k} {:.0}", v[round]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (backend, t) in &targets {
        let stats = merged.remove(&t.label).unwrap_or_default();
        rows.push(Row {
            backend,
            alg: t.alg,
            mode: Mode::Refresh,
            conns: 16,
            rps: median(per_round[&t.label].clone()),
            stats,
        });
    }
    rows.sort_by_key(|r| {
        let m = Mode::ALL.iter().position(|m| *m == r.mode);
        (r.backend != "memory", r.alg != Algorithm::ES256, m, r.conns)
    });

    let mut results: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.mode == Mode::Refresh && r.conns == 16)
    {
        let name = format!("http_rotating_{}_{{}}_{}_c16", r.backend, alg_name(r.alg));
        results.insert(name.replace("{}", "rps"), r.rps);
        results.insert(name.replace("{}", "p99_ms"), r.stats.percentile_ms(99.0));
    }
    let inprocess = &per_round["inprocess"];
    results.insert(
        "inprocess_rotating_rps_es256_2threads".into(),
        median(inprocess.clone()),
    );
    if inprocess_ops > 0 {
        results.insert(
            "inprocess_cpu_us_per_refresh_es256".into(),
            inprocess_cpu.as_secs_f64() * 1e6 / inprocess_ops as f64,
        );
    }
    for r in rows
        .iter()
        .filter(|r| r.mode == Mode::Refresh && r.conns == 16)
    {
        let alg = alg_name(r.alg);
        let (svc, gen) = (r.stats.service_cpu, r.stats.client_cpu);
        if !svc.is_zero() {
            let name = format!("http_{}_service_cpu_us_per_refresh_{alg}_c16", r.backend);
            results.insert(name, r.stats.cpu_us_per_request(svc));
            let name = format!("http_{}_loadgen_cpu_us_per_refresh_{alg}_c16", r.backend);
            results.insert(name, r.stats.cpu_us_per_request(gen));
        }
    }
    // The same comparison in CPU time per refresh, which a neighbour's load does not move: what the
    // ratio of throughputs would be on two otherwise idle cores, where the service and the load
    // generator split them and the in-process threads have them to themselves.
    if let (Some(inproc), Some(svc), Some(gen)) = (
        results.get("inprocess_cpu_us_per_refresh_es256"),
        results.get("http_memory_service_cpu_us_per_refresh_es256_c16"),
        results.get("http_memory_loadgen_cpu_us_per_refresh_es256_c16"),
    ) {
        let ratio = inproc / (svc + gen);
        results.insert("ratio_http_memory_to_inprocess_es256_cpu".into(), ratio);
    }
    let mem = &per_round["memory_es256"];
    results.insert(
        "ratio_http_memory_to_inprocess_es256".into(),
        median(mem.iter().zip(inprocess).map(|(m, i)| m / i).collect()),
    );
    if let Some(floor) = per_round.get("floor") {
        results.insert("pg_select_update_rps_c16".into(), median(floor.clone()));
        let floor_stats = &merged["floor"];
        results.insert(
            "pg_select_update_p99_ms_c16".into(),
            floor_stats.percentile_ms(99.0),
        );
        let limits: Vec<f64> = mem
            .iter()
            .zip(floor)
            .map(|(m, f)| 1.0 / (1.0 / m + 1.0 / f))
            .collect();
        results.insert("additive_limit_rps_c16".into(), median(limits.clone()));
        if let Some(pg) = per_round.get("pg_es256") {
            results.insert(
                "ratio_http_pg_to_additive_limit_c16".into(),
                median(pg.iter().zip(&limits).map(|(p, l)| p / l).collect()),
            );
        }
    }
    let errors: u64 = rows.iter().map(|r| r.stats.errors).sum();

    // The table.
    println!(
        "Machine: {}, {}; load average before {load_before}, after {}.",
        cpu_model(),
        time_stamp(),
        read_loadavg()
    );
    println!(
        "Each cell: {} s of N connections on loopback, each with its own family, one request in flight; \
         the load generator, the service{} share the cores. Refresh at 16 connections: median of {} rounds \
         (p50/p99 over all of them).",
        opts.secs,
        if floor_url.is_some() { " and PostgreSQL" } else { "" },
        opts.rounds
    );
    for n in &notes {
        println!("{n}");
    }
    println!();
    println!(
        "| backend | alg | mode | conns | req/s | p50 ms | p99 ms | service CPU µs/req | loadgen CPU µs/req | errors |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {} |",
            r.backend,
            alg_name(r.alg),
            r.mode.name(),
            r.conns,
            r.rps,
            r.stats.percentile_ms(50.0),
            r.stats.percentile_ms(99.0),
            r.stats.cpu_us_per_request(r.stats.service_cpu),
            r.stats.cpu_us_per_request(r.stats.client_cpu),
            r.stats.errors
        );
    }
    if let Some(floor) = per_round.get("floor") {
        println!(
            "| pg floor | - | select+update | 16 | {:.0} | {:.2} | {:.2} | | | 0 |",
            median(floor.clone()),
            merged["floor"].percentile_ms(50.0),
            merged["floor"].percentile_ms(99.0)
        );
    }
    println!(
        "| in process | es256 | refresh | 2 threads | {:.0} | | | | | |",
        median(inprocess.clone())
    );
    for r in rows.iter().filter(|r| r.stats.first_error.is_some()) {
        println!(
            "error in {} {} {} c{}: {}",
            r.backend,
            alg_name(r.alg),
            r.mode.name(),
            r.conns,
            r.stats.first_error.as_deref().unwrap_or("")
        );
    }
    println!();
    for (k, v) in &results {
        println!("RESULT {k} {}", fmt_value(*v));
    }
    if floor_url.is_some() && !per_round.contains_key("pg_es256") {
        for name in [
            "http_rotating_pg_rps_es256_c16",
            "http_rotating_pg_p99_ms_es256_c16",
            "http_rotating_pg_rps_rs256_c16",
            "http_rotating_pg_p99_ms_rs256_c16",
            "ratio_http_pg_to_additive_limit_c16",
        ] {
            println!("# RESULT {name} not measured: no PostgreSQL-backed service (see above)");
        }
    }
    println!("RESULT errors {errors}");
    println!(
        "setup {setup_secs:.0} s, total {:.0} s",
        started.elapsed().as_secs_f64()
    );
    drop(targets);
    if let Some(d) = &dbs {
        d.drop_all().await?;
    }
    Ok(())
}

fn fmt_value(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// Today's date (UTC), without a date crate: `time` is already a dependency.
fn time_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}
