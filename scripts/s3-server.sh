#!/usr/bin/env bash
# Starts a real S3 protocol server for the tests: moto's server mode (PyPI, in-memory), installed
# into a virtual environment of its own (target/s3/venv, reused while its pinned version stays the
# same), on a free loopback port, with the bucket the tests use (`taina-tests`).
#
# Source it: it exports TAINA_TEST_S3_ENDPOINT and defines stop_s3 (call it when done).
#   . scripts/s3-server.sh && trap stop_s3 EXIT
# MinIO and Garage are not in Debian; moto implements the S3 protocol the way AWS answers it
# (signatures, multipart uploads, ranges, copies, presigned URLs), which is what Tainá speaks.

MOTO_VERSION=5.2.1
S3_OUT=target/s3
S3_VENV="$S3_OUT/venv"
mkdir -p "$S3_OUT"
if ! [ -x "$S3_VENV/bin/moto_server" ] \
    || [ "$("$S3_VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ]; then
    rm -rf "$S3_VENV"
    python3 -m venv "$S3_VENV"
    "$S3_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION" \
        || { echo "scripts/s3-server.sh: could not install moto[server]==$MOTO_VERSION from PyPI" >&2; return 1 2>/dev/null || exit 1; }
fi

S3_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
S3_LOG="$S3_OUT/server.log"
"$S3_VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$S3_LOG" 2>&1 &
S3_PID=$!
stop_s3() { kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; }

export TAINA_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
# The bucket, made as soon as the server answers (moto takes unsigned requests).
if ! python3 - "$TAINA_TEST_S3_ENDPOINT/taina-tests" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="PUT"), timeout=2)
        urllib.request.urlopen(sys.argv[1], timeout=2)
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PY
then
    cat "$S3_LOG" >&2
    echo "scripts/s3-server.sh: the S3 server did not start" >&2
    stop_s3
    return 1 2>/dev/null || exit 1
fi
echo "S3 server (moto $MOTO_VERSION) running for the tests on port $S3_PORT"
