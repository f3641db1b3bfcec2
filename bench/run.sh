#!/usr/bin/env bash
# `make bench`: the performance benchmark against PostgreSQL (see docs/performance.md).
#
# Needs a PostgreSQL server on the loopback (BENCH_DATABASE_URL, default
# postgres://cqpm:cqpm@127.0.0.1:5432/cqpm_bench; the database is created if absent) and, for the
# document part, Redis (BENCH_BROKER_URL, default redis://127.0.0.1:6379/5).
# Sizes: BENCH_CANDIDATES (20000; 200000 for « ten years »), BENCH_CENTRES (20, or candidates ÷ 4000
# when larger: 50 for 200000), BENCH_JURY_SESSION_SIZE (300),
# BENCH_IMPORT_ROWS (10000). Load: BENCH_DURATION seconds per page (20), BENCH_WARMUP (3),
# BENCH_WORKERS gunicorn workers (2 × cores + 1), BENCH_CONNECTIONS (= workers).
# Arguments are passed to bench/bench.py, e.g. `bash bench/run.sh --only pages --duration 10`.
set -euo pipefail
# The development-only `bench` app (seed_scale, the bare page): bench/bench.py sets it for every step too.
export CQPM_BENCH=1
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
if [ ! -x "$PY" ]; then
    echo "Environnement Python absent : lancez d'abord « make install »." >&2
    exit 1
fi
# wrk measures load without eating the processors the server needs; install it when we may.
if ! command -v wrk >/dev/null 2>&1 && [ "${BENCH_INSTALL_WRK:-1}" = "1" ] && [ "$(id -u)" = "0" ] \
    && command -v apt-get >/dev/null 2>&1; then
    echo "Installation de wrk (apt-get)…"
    (apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }) \
        >/dev/null 2>&1 || echo "wrk indisponible : générateur de charge Python."
fi
exec "$PY" bench/bench.py "$@"
