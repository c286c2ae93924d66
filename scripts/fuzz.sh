#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with cargo-fuzz (libFuzzer), each target for the given
# number of seconds (default 30). The targets live in fuzz/ (not a workspace member); each starts
# from its seed corpus fuzz/corpus/<target>/ and writes what it discovers to a scratch folder, so
# the checked-in corpus stays small. A crash is saved by libFuzzer in fuzz/artifacts/<target>/:
# check it in (or copy it into fuzz/corpus/<target>/) and fix the parser; `cargo test`
# (tests/fuzz_corpus.rs) replays both folders on stable.
#
# Needs the nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
#
# Usage: scripts/fuzz.sh [seconds] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "scripts/fuzz.sh: $*" >&2; exit 1; }

SECONDS_PER_TARGET="${1:-30}"
[[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || die "seconds must be a whole number, not '$SECONDS_PER_TARGET'"
shift || true

command -v rustup >/dev/null 2>&1 \
    || die "rustup is missing: fuzzing needs the nightly toolchain (https://rustup.rs, then 'rustup toolchain install nightly')"
rustup toolchain list | grep -q '^nightly' \
    || die "the nightly toolchain is missing: 'rustup toolchain install nightly' (cargo-fuzz needs nightly's sanitizers). Without it, 'cargo test --workspace fuzz_corpus' still replays the corpus on stable."
cargo +nightly fuzz --version >/dev/null 2>&1 \
    || die "cargo-fuzz is missing: 'cargo install cargo-fuzz'. Without it, 'cargo test --workspace fuzz_corpus' still replays the corpus on stable."

if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(cd fuzz && cargo +nightly fuzz list)
fi
[ "${#TARGETS[@]}" -gt 0 ] || die "no fuzz targets found in fuzz/"

SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

failed=()
for target in "${TARGETS[@]}"; do
    echo "== $target: ${SECONDS_PER_TARGET}s"
    mkdir -p "$SCRATCH/$target" "fuzz/corpus/$target"
    # New inputs go to the scratch folder (first); the checked-in corpus is only read.
    if ! (cd fuzz && cargo +nightly fuzz run "$target" "$SCRATCH/$target" "corpus/$target" -- \
            -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 -rss_limit_mb=2048); then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "scripts/fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
    exit 1
fi
echo "scripts/fuzz.sh: ${#TARGETS[@]} targets fuzzed for ${SECONDS_PER_TARGET}s each, no crash"
