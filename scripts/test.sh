#!/usr/bin/env bash
# Builds and runs the whole test suite: dev preset (warnings as errors), then asan+ubsan, then
# a bounded libFuzzer run of the decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs" --timeout 300
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs" --timeout 600
