#!/usr/bin/env bash
# Installs the system packages Tainá builds and runs with, when they are missing:
#   - libheif-dev and pkg-config: HEIF/HEIC photos are decoded through libheif (linked at build time);
#   - poppler-utils: `pdftoppm` renders the first page of PDFs as their preview.
# It uses apt-get when run as root on Debian or Ubuntu; otherwise it says what to install and fails.
#
# Usage: scripts/deps.sh        (sourced or run; idempotent and quiet when all is there)
set -euo pipefail

taina_deps_missing=()
pkg-config --exists libheif 2>/dev/null || taina_deps_missing+=(libheif-dev pkg-config)
command -v pdftoppm >/dev/null 2>&1 || taina_deps_missing+=(poppler-utils)

if [ "${#taina_deps_missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "scripts/deps.sh: installing ${taina_deps_missing[*]} with apt-get..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "${taina_deps_missing[@]}" >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq "${taina_deps_missing[@]}" >/dev/null; } \
            || { echo "scripts/deps.sh: could not install ${taina_deps_missing[*]} with apt-get" >&2; exit 1; }
    else
        echo "scripts/deps.sh: please install ${taina_deps_missing[*]} (e.g. sudo apt-get install ${taina_deps_missing[*]})," >&2
        echo "or build without HEIC support: cargo run --release -p taina-cli --no-default-features -- serve" >&2
        exit 1
    fi
fi
