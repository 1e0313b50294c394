#!/usr/bin/env bash
# Runs refresh-rotation-postgres's tests against a real, throwaway PostgreSQL server.
#
# As root on a Debian machine: installs PostgreSQL from Debian's packages if it is missing, starts a
# private server as the `postgres` user in a temporary data directory, listening on 127.0.0.1 only on a
# free port, with password (SCRAM) authentication and a random password; creates a database, exports
# REFRESH_ROTATION_PG_URL, runs the command, and stops the server and deletes its data on exit, however the
# command ends. A system cluster, if one is installed or running, is left alone.
#
#   stores/postgres/ci.sh                       # cargo test -p refresh-rotation-postgres
#   stores/postgres/ci.sh cargo bench -p refresh-rotation-postgres
#
# The server also accepts TLS (ssl=on) with a certificate for `localhost` and 127.0.0.1 issued by a CA made
# for this run with the openssl command-line tool; REFRESH_ROTATION_PG_CA names that CA's PEM file, and
# REFRESH_ROTATION_PG_WRONG_CA a second, unrelated CA's, for the tests of verified TLS (R-SAFE-9).
# Plain connections keep working: the tests choose per connection.
#
# Environment: RR_PG_FSYNC=on to keep fsync on (the default turns it off: the data is thrown away
# anyway, and it makes the test server faster; turn it on for benchmark figures).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ "$(id -u)" -ne 0 ]; then
    echo "ci.sh: must run as root (it installs packages and runs the server as the postgres user)" >&2
    exit 1
fi

pg_bindir() {
    # The newest installed major version.
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
        echo "$d"
    fi
}

bindir="$(pg_bindir)"
if [ -z "$bindir" ] || ! id postgres >/dev/null 2>&1; then
    echo "ci.sh: installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends postgresql
    bindir="$(pg_bindir)"
    if [ -z "$bindir" ]; then
        echo "ci.sh: PostgreSQL installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin" >&2
        exit 1
    fi
fi
echo "ci.sh: using $("$bindir/postgres" --version) from $bindir"

as_pg() { runuser -u postgres -- "$@"; }

if ! command -v openssl >/dev/null 2>&1; then
    echo "ci.sh: installing the openssl command-line tool (test certificates)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends openssl
fi

work="$(mktemp -d /tmp/rr-pg.XXXXXX)"
data="$work/data"
chown postgres: "$work"
chmod 700 "$work"

started=""
cleanup() {
    local rc=$?
    if [ -n "$started" ]; then
        as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 ||
            as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" >"$work/pwfile"
chown postgres: "$work/pwfile"
chmod 600 "$work/pwfile"
as_pg "$bindir/initdb" -D "$data" -U postgres --pwfile="$work/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log" >&2; exit 1; }
rm -f "$work/pwfile"

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Test certificates: a CA, a server certificate it issues for localhost and 127.0.0.1 (P-256 keys: quick
# to make), and a second CA that issued nothing, to be refused with. Valid for two days.
tls="$work/tls"
mkdir "$tls"
ca_ext="basicConstraints=critical,CA:TRUE"
for ca in ca wrong_ca; do
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -keyout "$tls/$ca.key" -out "$tls/$ca.pem" -days 2 -subj "/CN=refresh-rotation test $ca" \
        -addext "$ca_ext" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$work/openssl.log" ||
        { cat "$work/openssl.log" >&2; exit 1; }
done
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=localhost" 2>"$work/openssl.log" ||
    { cat "$work/openssl.log" >&2; exit 1; }
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -out "$tls/server.pem" -days 2 -extfile "$tls/server.ext" 2>"$work/openssl.log" ||
    { cat "$work/openssl.log" >&2; exit 1; }
chown -R postgres: "$tls"
# The server refuses a private key that others can read.
chmod 600 "$tls/server.key"

fsync="${RR_PG_FSYNC:-off}"
port=""
for _ in 1 2 3 4 5 6 7 8; do
    candidate=$((20000 + RANDOM % 40000))
    port_is_free "$candidate" || continue
    # The port may be taken between the check and the bind; then pg_ctl fails and we try another.
    if as_pg "$bindir/pg_ctl" -D "$data" -l "$work/server.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $candidate -c unix_socket_directories=$work -c fsync=$fsync -c max_connections=200 -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key" \
        start >/dev/null; then
        port="$candidate"
        started=1
        break
    fi
done
if [ -z "$port" ]; then
    echo "ci.sh: could not start PostgreSQL; server log:" >&2
    cat "$work/server.log" >&2 || true
    exit 1
fi
echo "ci.sh: PostgreSQL listening on 127.0.0.1:$port (data in $data)"

as_pg "$bindir/createdb" -h "$work" -p "$port" -U postgres refresh_rotation_test
export REFRESH_ROTATION_PG_URL="postgresql://postgres:$password@127.0.0.1:$port/refresh_rotation_test"
export REFRESH_ROTATION_PG_CA="$tls/ca.pem"
export REFRESH_ROTATION_PG_WRONG_CA="$tls/wrong_ca.pem"

cd "$root"
if [ "$#" -eq 0 ]; then
    set -- cargo test -p refresh-rotation-postgres
fi
echo "ci.sh: running: $*"
"$@"
