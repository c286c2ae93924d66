#!/usr/bin/env bash
# Runs the server on the embedded default (SQLite and files in ./taina-data, http://127.0.0.1:8080),
# after installing the system libraries it builds with (scripts/deps.sh). Extra arguments go to
# `taina serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
exec cargo run --release -p taina-cli -- serve "$@"
