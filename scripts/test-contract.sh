#!/usr/bin/env bash
# The OpenAPI document as a contract, checked from outside by schemathesis (issue 17 §1): a live
# `taina serve` on SQLite and on PostgreSQL, tried once signed in as an admin and once as a
# member, with every check (enabled in scripts/contract/schemathesis.toml) and every phase (examples, coverage, fuzzing, stateful). Any failure
# fails the run; the reports are kept in target/contract/.
#
# schemathesis is installed from PyPI into a virtual environment of its own
# (target/contract/venv, reused while its pinned version stays the same).
#
# Usage: scripts/test-contract.sh            (scripts/test.sh runs it after the Rust tests)
#   TAINA_TEST_POSTGRES_URL   a PostgreSQL server to create the test databases on (else SQLite only,
#                             with a warning; scripts/test.sh always sets it)
#   TAINA_CONTRACT_EXAMPLES   test cases per operation and phase (default 40)
#   TAINA_CONTRACT_SEED       the seed (default: a fixed one, so that the test command is the same
#                             run every time and a failure in it is a change's; `random` explores
#                             new cases, and each run prints its seed to replay)
#   TAINA_CONTRACT_ONLY       some runs only, e.g. "sqlite-admin postgres-member"
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
OUT=target/contract
VENV="$OUT/venv"
mkdir -p "$OUT"
if ! [ -x "$VENV/bin/st" ] || [ "$("$VENV/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The workspace's test build (as `cargo test --workspace` makes it: nothing compiled twice);
# `--lib --bins` make cargo copy `taina` to target/debug/ (see scripts/test-python-sdk.sh).
cargo build -q --workspace --lib --bins --tests
TAINA=target/debug/taina
PASSWORD='correct horse battery staple'
EXAMPLES="${TAINA_CONTRACT_EXAMPLES:-40}"
DEFAULT_SEED=231467565298812846877707906815187827686

WORK="$(mktemp -d /tmp/taina-contract.XXXXXX)"
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One run: a fresh data directory (and database), the community with an admin and a member,
# the server, schemathesis signed in as `$role`.
run() {
    local backend="$1" role="$2" name="$1-$2"
    local data="$WORK/$name" port
    port="$(free_port)"
    unset TAINA_DATABASE_URL TAINA_CONFIG
    export TAINA_LOG=error
    if [ "$backend" = postgres ]; then
        local db="taina_contract_${role}_$$"
        psql -q "$TAINA_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
        export TAINA_DATABASE_URL="${TAINA_TEST_POSTGRES_URL%/*}/$db"
    fi
    printf '%s\n' "$PASSWORD" | "$TAINA" --data-dir "$data" \
        admin community create --name "Contract" --admin-email admin@example.org --admin-name Admin >/dev/null
    printf '%s\n' "$PASSWORD" | "$TAINA" --data-dir "$data" \
        admin user add member@example.org --name Member >/dev/null
    "$TAINA" serve --listen "127.0.0.1:$port" --data-dir "$data" >"$OUT/$name.server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null && break
        sleep 0.1
    done

    # One worker: this machine's CPython 3.11 can fail inside `ast.parse` when two threads describe
    # hypothesis strategies at once ("AST constructor recursion depth mismatch"), an error of the
    # tool, not of the server; the server has the other core to itself.
    local seed=()
    case "${TAINA_CONTRACT_SEED:-$DEFAULT_SEED}" in
        random) ;;
        *) seed=(--seed "${TAINA_CONTRACT_SEED:-$DEFAULT_SEED}") ;;
    esac
    echo "contract: $backend, signed in as the $role"
    local status=0
    TAINA_CONTRACT_HOST=127.0.0.1 TAINA_CONTRACT_PORT="$port" \
        TAINA_CONTRACT_EMAIL="$role@example.org" TAINA_CONTRACT_PASSWORD="$PASSWORD" \
        SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$PWD/scripts/contract" \
        "$VENV/bin/st" --config-file scripts/contract/schemathesis.toml run \
        "http://127.0.0.1:$port/api/v1/openapi.json" \
        --max-examples "$EXAMPLES" --workers 1 --no-color "${seed[@]}" \
        --report junit --report-junit-path "$OUT/$name.junit.xml" \
        >"$OUT/$name.txt" 2>&1 || status=$?
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
    unset TAINA_DATABASE_URL
    grep -E "^(Seed:|=+ .* in [0-9.]+s =+$)" "$OUT/$name.txt" | sed 's/^/  /' || true
    if [ "$status" != 0 ]; then
        echo "contract: $name FAILED (exit $status); the whole report is $OUT/$name.txt:" >&2
        sed -n '/^=* FAILURES =*$/,$p;/^=* ERRORS =*$/,/^=* FAILURES =*$/p' "$OUT/$name.txt" | head -400 >&2
        return 1
    fi
}

failed=0
backends=(sqlite)
if [ -n "${TAINA_TEST_POSTGRES_URL:-}" ]; then
    backends+=(postgres)
else
    echo "contract: TAINA_TEST_POSTGRES_URL is not set; PostgreSQL is not tried (scripts/test.sh sets it)" >&2
fi
runs=0
for backend in "${backends[@]}"; do
    for role in admin member; do
        case " ${TAINA_CONTRACT_ONLY:-$backend-$role} " in *" $backend-$role "*) ;; *) continue ;; esac
        runs=$((runs + 1))
        run "$backend" "$role" || failed=$((failed + 1))
    done
done
# The closing line scripts/test.sh sums up: one "test" per run.
echo "python: contract $((runs - failed)) passed, $failed failed"
[ "$failed" = 0 ]
