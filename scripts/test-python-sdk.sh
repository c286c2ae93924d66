#!/usr/bin/env bash
# The mobile SDK through its generated Python bindings, end to end against a real `taina serve`
# (SQLite in a throwaway data directory): builds the library and the `taina` binary, generates the
# bindings with the workspace's own uniffi-bindgen, starts the server, runs the Python tests.
#
# Usage: scripts/test-python-sdk.sh   (scripts/test.sh runs it after the Rust tests)
set -euo pipefail
cd "$(dirname "$0")/.."

# The workspace's test build (the one `cargo test --workspace` makes, so nothing is compiled a
# second time with other features) holds the library, `taina` and `uniffi-bindgen`. `--lib --bins`
# make them root units, so cargo copies them to target/debug/ (a library built only for the tests
# stays in target/debug/deps/ under a hashed name, and a clean clone has no other copy).
cargo build -q --workspace --lib --bins --tests
# The generated modules import each other as a package: taina_sdk.{taina_ffi,taina_core,...}.
OUT=target/python
rm -rf "$OUT" && mkdir -p "$OUT/taina_sdk"
target/debug/uniffi-bindgen \
    generate --library target/debug/libtaina_ffi.so --language python --out-dir "$OUT/taina_sdk" >/dev/null
cp target/debug/libtaina_ffi.so "$OUT/taina_sdk/"
# The Kotlin and Swift bindings generate from the same library (compiling them needs the
# Android and Apple toolchains; see the README).
for language in kotlin swift; do
    rm -rf "target/bindings/$language"
    target/debug/uniffi-bindgen generate --no-format \
        --library target/debug/libtaina_ffi.so --language "$language" --out-dir "target/bindings/$language" >/dev/null
done
grep -q "open class TainaClient" target/bindings/kotlin/uniffi/taina_ffi/taina_ffi.kt
grep -q "open class TainaClient" target/bindings/swift/taina_ffi.swift
echo "bindings: kotlin and swift generated"
touch "$OUT/taina_sdk/__init__.py"

WORK="$(mktemp -d /tmp/taina-py.XXXXXX)"
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export TAINA_LOG=error TAINA_DATABASE_URL= TAINA_CONFIG=
unset TAINA_DATABASE_URL TAINA_CONFIG
printf 'correct horse battery staple\n' | target/debug/taina --data-dir "$WORK/data" \
    admin community create --name "Python test" --admin-email admin@example.org --admin-name Admin >/dev/null
printf 'correct horse battery staple\n' | target/debug/taina --data-dir "$WORK/data" \
    admin user add bia@example.org --name Bia >/dev/null
target/debug/taina serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" >/dev/null &
SERVER=$!
for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz')" 2>/dev/null && break
    sleep 0.1
done

TAINA_URL="http://127.0.0.1:$PORT" TAINA_PHOTOS="$PWD/tests/fixtures/photos" TAINA_WORK="$WORK" \
    PYTHONPATH="$OUT" python3 taina-ffi/python/test_sdk.py ${TAINA_PY_ARGS:-}
