#!/usr/bin/env bash
# Builds and runs the whole test suite: installs dependencies if missing, then the dev preset
# (warnings as errors), the asan+ubsan preset, and a bounded libFuzzer run of the decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
echo "== dev preset: build and test"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs" --timeout 300
echo "== asan+ubsan preset: build and test"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs" --timeout 600
echo "== libFuzzer: decoder and job core, 60 s each"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target decoder_fuzz core_fuzz
ctest --test-dir build/fuzz -L fuzz --output-on-failure
