#!/usr/bin/env bash
# Deconfliction benchmarks against PostgreSQL + PostGIS (issue 7).
#
# Installs postgresql and the PostGIS extension package for its major from
# Debian's packages when missing, starts a throwaway cluster on 127.0.0.1
# (free port, unix socket in a temp dir), runs the Go benchmarks
# (BenchmarkQuery1M, BenchmarkPairs200k) and their PostGIS twins
# (BenchmarkPostGISQuery1M, BenchmarkPostGISPairs200k, which need
# TRUCE_BENCH_POSTGRES_DSN) in one go test run, prints both sets of
# figures, then stops the cluster and removes the temp dir.
#
# The cluster is tuned for a read benchmark on a throwaway database:
# shared_buffers 2GB, fsync/synchronous_commit/full_page_writes off and
# wal_level minimal (a crash loses the data, which is regenerated on every
# run anyway; none of this changes how a read query runs), JIT off (it
# costs short queries more than it saves).
#
# Usage: bash scripts/bench-postgis.sh [extra go test flags, e.g. -count 3]
set -euo pipefail

cd "$(dirname "$0")/.."

find_pg_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x $d/pg_ctl && -x $d/initdb ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

apt_updated=
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if [[ -z $apt_updated ]]; then
		apt-get update -qq
		apt_updated=1
	fi
	apt-get install -y -qq --no-install-recommends "$@"
}

if ! pg_bin=$(find_pg_bin); then
	echo "== installing postgresql" >&2
	apt_install postgresql
	pg_bin=$(find_pg_bin)
fi
pg_major=$(basename "$(dirname "$pg_bin")")
if ! ls "/usr/share/postgresql/$pg_major/extension/postgis.control" >/dev/null 2>&1; then
	echo "== installing postgresql-$pg_major-postgis-3" >&2
	apt_install "postgresql-$pg_major-postgis-3"
fi

# postgres will not run as root: run the cluster as an unprivileged user.
run_as=()
if [[ $(id -u) -eq 0 ]]; then
	if ! id -u postgres >/dev/null 2>&1; then
		useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
	fi
	run_as=(runuser -u postgres --)
fi

tmp=$(mktemp -d /tmp/truce-postgis.XXXXXX)
chmod 755 "$tmp"
data=$tmp/data
sock=$tmp/sock
mkdir -p "$data" "$sock"
if [[ ${#run_as[@]} -gt 0 ]]; then
	chown -R postgres: "$tmp"
fi

started=
cleanup() {
	if [[ -n $started ]]; then
		"${run_as[@]}" "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A free port on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || true)
if [[ -z $port ]]; then
	port=$((20000 + RANDOM % 20000))
	while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
fi

"${run_as[@]}" "$pg_bin/initdb" -D "$data" -U bench --auth=trust -E UTF8 --locale=C >/dev/null
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
shared_buffers = 2GB
effective_cache_size = 8GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2
random_page_cost = 1.1
jit = off
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
checkpoint_timeout = 30min
logging_collector = off
EOF
"${run_as[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$tmp/postgres.log" -w start >/dev/null
started=1
"${run_as[@]}" "$pg_bin/psql" -h "$sock" -p "$port" -U bench -d postgres -qAtc 'CREATE DATABASE truce_bench' >/dev/null

export TRUCE_BENCH_POSTGRES_DSN="postgres://bench@127.0.0.1:$port/truce_bench?sslmode=disable"
versions=$("$pg_bin/psql" -h 127.0.0.1 -p "$port" -U bench -d truce_bench -qAt \
	-c 'CREATE EXTENSION IF NOT EXISTS postgis' -c 'SELECT version()' -c 'SELECT postgis_full_version()')
echo "== $(echo "$versions" | sed -n 1p)"
echo "== $(echo "$versions" | sed -n 2p | cut -d' ' -f1-2)"
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "== cluster on 127.0.0.1:$port (data in $data)"

out=$tmp/bench.txt
go test ./internal/deconflict -run '^$' -bench '^Benchmark(PostGIS)?(Query1M|Pairs200k)$' -v -timeout 30m "$@" | tee "$out"

echo
echo "== summary (Go / PostGIS, same run)"
awk '
	/^Benchmark/ && NF > 2 {
		name = $1; sub(/-[0-9]+$/, "", name)
		line = name
		for (i = 3; i < NF; i += 2) line = line "  " $i " " $(i + 1)
		print line
	}' "$out"
