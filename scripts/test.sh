#!/usr/bin/env bash
# Runs every test of the workspace against SQLite and against a real PostgreSQL.
#
# It installs the system packages it needs when missing (scripts/deps.sh: libheif-dev for HEIC,
# poppler-utils for PDF previews; chromium and chromium-driver for the web app's browser tests;
# nginx-light for the two-instance test; litmus, rclone and nextcloud-desktop-cmd for WebDAV),
# starts a throwaway PostgreSQL
# cluster (initdb into a temporary directory, on a private port, run as the `postgres` user when
# invoked as root), installs PostgreSQL with apt if it is missing, starts an S3 protocol server
# (scripts/s3-server.sh: moto from PyPI),
# runs `cargo test --workspace` with TAINA_TEST_POSTGRES_URL and TAINA_TEST_S3_ENDPOINT pointing at
# them, then the mobile SDK's
# Python bindings end to end (scripts/test-python-sdk.sh), the runnable examples
# (scripts/test-examples.sh) and the API contract through schemathesis (scripts/test-contract.sh),
# and stops both servers.
# If PostgreSQL or the S3 server cannot be started it fails with a clear message; it never skips.
#
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "scripts/test.sh: $*" >&2; exit 1; }

find_pg_bin() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir; return
    fi
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

PG_BIN="$(find_pg_bin || true)"
if [ -z "$PG_BIN" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "PostgreSQL is not installed; installing it with apt-get..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq postgresql >/dev/null \
            || die "could not install PostgreSQL with apt-get"
        PG_BIN="$(find_pg_bin || true)"
    fi
fi
[ -n "$PG_BIN" ] || die "PostgreSQL's initdb was not found and could not be installed; install PostgreSQL (e.g. apt-get install postgresql) and retry"

# System libraries the build links (libheif) and tools the tests use (pdftoppm).
./scripts/deps.sh

# The web app's tests drive Debian's Chromium through chromedriver.
if ! command -v chromedriver >/dev/null 2>&1 || ! [ -x /usr/bin/chromium ] \
    || ! [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Chromium is not installed; installing chromium, chromium-driver and an emoji font with apt-get..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji >/dev/null; } \
            || die "could not install chromium and chromium-driver with apt-get"
    else
        die "the web app's tests need Chromium and chromedriver (e.g. apt-get install chromium chromium-driver)"
    fi
fi

# The two-instance test puts nginx in front of two servers.
if ! command -v nginx >/dev/null 2>&1 && ! [ -x /usr/sbin/nginx ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "nginx is not installed; installing nginx-light with apt-get..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq nginx-light >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; } \
            || die "could not install nginx-light with apt-get"
        # Only the test's own nginx runs; the package's service is not wanted.
        (systemctl disable --now nginx || service nginx stop) >/dev/null 2>&1 || true
    else
        die "the two-instance test needs nginx (e.g. apt-get install nginx-light)"
    fi
fi

# WebDAV's tests run the real clients: litmus (the WebDAV test suite), rclone, and the Nextcloud
# desktop client's command line (nextcloudcmd).
if ! command -v litmus >/dev/null 2>&1 || ! command -v rclone >/dev/null 2>&1 \
    || ! command -v nextcloudcmd >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "litmus, rclone or nextcloudcmd is missing; installing them with apt-get..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq litmus rclone nextcloud-desktop-cmd >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq litmus rclone nextcloud-desktop-cmd >/dev/null; } \
            || die "could not install litmus, rclone and nextcloud-desktop-cmd with apt-get"
    else
        die "the WebDAV tests need litmus, rclone and nextcloudcmd (e.g. apt-get install litmus rclone nextcloud-desktop-cmd)"
    fi
fi

PG_DIR="$(mktemp -d /tmp/taina-pg.XXXXXX)"
PG_PORT="${TAINA_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54329)}"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

stop_s3() { :; }
stop_pg() {
    stop_s3
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_pg EXIT

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2 2>/dev/null; die "PostgreSQL did not start"; }

export TAINA_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') running for the tests on port $PG_PORT"

# A real S3 protocol server for the object storage tests (exports TAINA_TEST_S3_ENDPOINT).
. ./scripts/s3-server.sh || die "the S3 server for the object storage tests did not start"

status=0
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$PG_DIR/test.log" || status=$?

# Whole runs only: the mobile SDK through its Python bindings against a real `taina serve`, the
# runnable examples, and the API contract checked from outside by schemathesis (both databases,
# admin and member).
if [ "$#" -eq 0 ]; then
    ./scripts/test-python-sdk.sh 2>&1 | tee -a "$PG_DIR/test.log" || status=$?
    ./scripts/test-examples.sh 2>&1 | tee -a "$PG_DIR/test.log" || status=$?
    ./scripts/test-contract.sh 2>&1 | tee -a "$PG_DIR/test.log" || status=$?
fi

# One closing line over every test binary and doc-test run, whatever happened.
awk '/^test result:|^python: |^examples: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }' "$PG_DIR/test.log"
exit "$status"
