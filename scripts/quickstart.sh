#!/usr/bin/env bash
# Quick start: installs what is needed, builds (release), starts gearmand on its defaults
# (port 4730, daemonized) and runs the seed's Hello World through it with our C++ client and
# worker. The server keeps running afterwards; the script prints how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target gearmand gearman gearadmin \
  example_reverse_worker example_reverse_client
bin=build/release
pidfile=/tmp/gearbox-gearmand.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "gearmand already running (pid $(cat "$pidfile"))"
else
  "$bin/src/app/gearmand" -d -P "$pidfile"
  for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
  echo "gearmand started on port 4730 (pid $(cat "$pidfile"))"
fi
"$bin/examples/reverse_worker" localhost:4730 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
echo "Hello World! ->"
"$bin/examples/reverse_client" localhost:4730 "Hello World!"
"$bin/tools/gearadmin/gearadmin" --status
echo "Stop the server with: kill \$(cat $pidfile)   (or: $bin/tools/gearadmin/gearadmin --shutdown)"
