#!/usr/bin/env bash
# bench/run.sh: the side-by-side benchmark, Gearbox's gearmand against Debian's gearmand 1.1.20,
# both driven by gearbox-load on this host. Builds the release preset, installs
# gearman-job-server if it is missing, stops the system gearmand service, then runs every
# scenario for several rounds, alternating the two servers (A B A B ...), each server started
# fresh per scenario run on a free loopback port with the same -t. Prints medians and the ratio
# ours/gearmand for every figure, and writes a markdown table and JSON under bench/results/.
# See bench/README.md and docs/performance.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARGS="$*"
ROUNDS=""
QUICK=0
# gearmand's default -t; the baselines issue #4 quotes were measured there.
THREADS=4
OURS_ARGS=""
SCALING=""
ONLY=""
SKIP_BUILD=0
INSTALL=1
FULL=0
OUT=""
OURS=""
LOAD=""
THEIRS=/usr/sbin/gearmand
SUMMARIZE=""
LOAD_ENGINE=""
# The unloaded round trip is paced: after each result gearbox-load waits this long before the
# next submit, so the worker is back asleep (PRE_SLEEP sent, nothing pending) and each job meets
# an idle system. See bench/README.md.
UNLOADED_GAP_US=2000

usage() {
  cat <<'EOF'
Usage: bench/run.sh [options]

  --quick             small sizes, 2 rounds, no 1M/10M runs (under 2 minutes)
  --rounds N          rounds per scenario, each running ours then gearmand (default 5; quick 2)
  --threads N         the -t both servers get (default 4, gearmand's default)
  --ours-args "ARGS"   extra arguments for our gearmand only (e.g. --threads-exact)
  --scaling LIST      also run drain, roundtrip and submit with -t for each of LIST (e.g. 1,2,4)
  --only LIST         run only these scenarios (comma-separated ids, see below)
  --full              also run gearmand's full 1M drain (about 7 minutes here) and 10M queue
  --skip-build        use the binaries already built
  --no-install        do not apt-get install gearman-job-server
  --ours PATH         our gearmand (default build/release/src/app/gearmand)
  --load PATH         gearbox-load (default build/release/tools/load/gearbox-load)
  --gearmand PATH     the reference server (default /usr/sbin/gearmand)
  --load-engine E     gearbox-load --io-engine for every run: io_uring, epoll or auto (default:
                      the tool's default, auto = io_uring where the kernel allows it)
  --unloaded-gap-us N pause after each result in the unloaded round trip (default 2000)
  --out DIR           results directory (default bench/results/<date>-<time>)
  --summarize DIR     only rebuild DIR/summary.md and summary.json from DIR/raw

Scenarios (ids): drain echo drain-pipelined roundtrip roundtrip-1k roundtrip-64k unloaded pingpong submit memory
                 connections shallow deep drained huge
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --ours-args) OURS_ARGS=$2; shift ;;
    --scaling) SCALING=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --full) FULL=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --no-install) INSTALL=0 ;;
    --ours) OURS=$2; shift ;;
    --load) LOAD=$2; shift ;;
    --gearmand) THEIRS=$2; shift ;;
    --load-engine) LOAD_ENGINE=$2; shift ;;
    --unloaded-gap-us) UNLOADED_GAP_US=$2; shift ;;
    --out) OUT=$2; shift ;;
    --summarize) SUMMARIZE=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ -n "$ROUNDS" ] || { [ "$QUICK" = 1 ] && ROUNDS=2 || ROUNDS=5; }
OURS=${OURS:-$ROOT/build/release/src/app/gearmand}
LOAD=${LOAD:-$ROOT/build/release/tools/load/gearbox-load}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/bench/results/$STAMP}
RAW=$OUT/raw
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- summary -------------------------------------------------------------------------------------
summarize() {  # results-dir threads scaling
python3 - "$1" "$2" "$3" <<'PYEOF'
import json, os, statistics, sys, glob

out, main_t, scaling = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = {}  # (id, who, threads) -> list of reports
for path in sorted(glob.glob(os.path.join(out, "raw", "*.json"))):
    name = os.path.basename(path)[:-5]
    id_, who, t, r = name.rsplit(".", 3)
    try:
        rep = json.load(open(path))
    except Exception as e:  # a crashed tool leaves no or partial JSON
        rep = {"ok": False, "errors": [f"unreadable report: {e}"], "metrics": {}}
    runs.setdefault((id_, who, int(t[1:])), []).append(rep)

def med(id_, who, key, t=main_t):
    reps = runs.get((id_, who, t), [])
    vals = [r["metrics"][key] for r in reps if r.get("ok") and key in r.get("metrics", {})]
    return statistics.median(vals) if vals else None

def spread(id_, who, key, t=main_t):
    reps = runs.get((id_, who, t), [])
    vals = [r["metrics"][key] for r in reps if r.get("ok") and key in r.get("metrics", {})]
    return (min(vals), max(vals), len(vals)) if vals else None

def failed(id_, who, t=main_t):
    return sum(1 for r in runs.get((id_, who, t), []) if not r.get("ok"))

def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "bytes":
        for u, d in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(v) >= d:
                return f"{v / d:.2f} {u}"
        return f"{v:.0f} B"
    if unit == "frac":
        return f"{v:.2f}"
    if abs(v) >= 1000:
        return f"{v:,.0f} {unit}"
    if abs(v) >= 10:
        return f"{v:.1f} {unit}"
    return f"{v:.2f} {unit}"

GiB = 2**30
machine = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(out, "machine.txt")) if "=" in l)
# (id, metric key, label, unit, target kind, target value)
# target kinds: ratio>= / ratio<= (ours/gearmand), abs<= / abs< (ours), rel>= (ours vs another row)
ROWS = [
    ("drain", "drain_jobs_per_s", "drain a {jobs}-job queue", "jobs/s", "ratio>=", 10),
    ("drain", "drain_server_cpu_us_per_job", "  server CPU per job", "µs", None, None),
    ("echo", "echo_per_s", "  floor: ECHO_REQ/ECHO_RES, {clients} connections x {window}", "echoes/s", "floor", None),
    ("echo", "echo_server_cpu_us", "    server CPU per echo", "µs", None, None),
    ("drain-pipelined", "drain_jobs_per_s", "same, {workers} workers x {grab_window} grabs outstanding", "jobs/s", "ratio>=", 10),
    ("drain-pipelined", "drain_server_cpu_us_per_job", "  server CPU per job", "µs", None, None),
    ("roundtrip", "roundtrip_jobs_per_s", "round trip {clients} clients x {window}, {workers} workers", "jobs/s", "ratio>=", 5),
    ("roundtrip", "latency_p50_us", "  latency p50", "µs", None, None),
    ("roundtrip", "latency_p99_us", "  latency p99", "µs", "ratio<=", 0.3),
    ("roundtrip", "server_cpu_us_per_job", "  server CPU per job", "µs", None, None),
    ("roundtrip-1k", "roundtrip_jobs_per_s", "round trip, 1 KiB payload and result", "jobs/s", None, None),
    ("roundtrip-1k", "latency_p99_us", "  latency p99", "µs", None, None),
    ("roundtrip-64k", "roundtrip_jobs_per_s", "round trip, 64 KiB payload and result", "jobs/s", None, None),
    ("roundtrip-64k", "latency_p99_us", "  latency p99", "µs", None, None),
    ("unloaded", "latency_p50_us", "unloaded single round trip p50", "µs", "pingpong3", None),
    ("unloaded", "latency_p99_us", "  p99", "µs", None, None),
    ("pingpong", "three_rtt_p50_us", "baseline: 3 x loopback TCP RTT p50 (pingpong)", "µs", None, None),
    ("submit", "submit_jobs_per_s", "background submit, pipelined", "jobs/s", "ratio>=", 1.5),
    ("submit", "submit_server_cpu_us_per_job", "  server CPU per job", "µs", None, None),
    ("memory", "bytes_per_queued_job", "RSS per queued {payload_bytes}-byte job ({jobs} queued)", "B", "mem", None),
    ("memory", "retained_after_drain_bytes", "  RSS kept after the {jobs} drain", "bytes", None, None),
    ("connections", "roundtrip_jobs_per_s", "round trip with {connections} idle connections held", "jobs/s", None, None),
    ("connections", "latency_p99_us", "  latency p99", "µs", None, None),
    ("connections", "server_bytes_per_connection", "  server RSS per idle connection", "B", None, None),
    ("shallow", "drain_jobs_per_s", "drain rate, {jobs} queued", "jobs/s", None, None),
    ("shallow", "drain_server_cpu_us_per_job", "  server CPU per job", "µs", None, None),
    ("deep", "drain_jobs_per_s", "drain rate, {jobs} queued (first {drain_jobs})", "jobs/s", "depth", None),
    ("deep", "drain_server_cpu_us_per_job", "  server CPU per job", "µs", "depth-cpu", None),
    ("deep", "bytes_per_queued_job", "  RSS per queued job at {jobs}", "B", None, None),
    ("drained", "retained_after_drain_bytes", "RSS kept after a {jobs} queue drains", "bytes", None, None),
    ("drained", "returned_fraction", "  share of the growth returned", "frac", None, None),
    ("drained", "drain_jobs_per_s", "  drain rate, all {jobs}", "jobs/s", None, None),
    ("huge", "rss_full_bytes", "RSS with {jobs} queued {payload_bytes}-byte jobs", "bytes", "abs<", 4 * GiB),
    ("huge", "bytes_per_queued_job", "  RSS per queued job at {jobs}", "B", None, None),
    ("huge", "drain_jobs_per_s", "  drain rate, all {jobs}", "jobs/s", None, None),
]

def check(id_, key, kind, target, ours, theirs):
    if kind is None or ours is None:
        return "", ""
    if kind == "ratio>=":
        return f"≥ {target}×", ("" if theirs is None else ("yes" if ours / theirs >= target else "no"))
    if kind == "ratio<=":
        return f"≤ {target}×", ("" if theirs is None else ("yes" if ours / theirs <= target else "no"))
    if kind == "abs<":
        return f"< {fmt(target, 'bytes')}", "yes" if ours < target else "no"
    if kind == "mem":
        ok = ours <= 365 and (theirs is None or ours / theirs <= 0.4)
        return "≤ 0.4× and ≤ 365 B", "yes" if ok else "no"
    if kind == "pingpong3":
        p = med("pingpong", "none", "three_rtt_p50_us")
        if p is None:
            return "≤ 1.2 x 3 RTT, ≤ gearmand", ""
        ok = ours <= 1.2 * p and (theirs is None or ours <= theirs)
        return f"≤ 1.2 x 3 RTT ({1.2 * p:.0f} µs), ≤ gearmand", "yes" if ok else "no"
    if kind == "floor":
        # How close each server's drain comes to its own request/reply floor (same pattern:
        # one packet each way per job on each of 64 connections).
        d_o, d_t = med("drain", "ours", "drain_jobs_per_s"), med("drain", "gearmand", "drain_jobs_per_s")
        parts = []
        if d_o and ours:
            parts.append(f"ours {d_o / ours:.2f}")
        if d_t and theirs:
            parts.append(f"gearmand {d_t / theirs:.2f}")
        return ("drain / floor: " + ", ".join(parts)) if parts else "", ""
    if kind == "depth-cpu":
        s = med("shallow", "ours", "drain_server_cpu_us_per_job")
        if s is None or s <= 0:
            return "≤ 1.25 x 10k CPU/job", ""
        return f"≤ 1.25 x 10k CPU/job ({ours / s:.2f})", "yes" if ours <= 1.25 * s else "no"
    if kind == "depth":
        s = med("shallow", "ours", "drain_jobs_per_s")
        if s is None:
            return "≥ 0.8 x 10k rate", ""
        return f"≥ 0.8 x 10k rate ({ours / s:.2f})", "yes" if ours >= 0.8 * s else "no"
    return "", ""

def short(n):
    if isinstance(n, int) and n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if isinstance(n, int) and n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)

def label_for(id_, template, t):
    reps = runs.get((id_, "ours", t)) or runs.get((id_, "gearmand", t)) or runs.get((id_, "none", t)) or []
    params = {k: short(v) for k, v in (reps[0].get("params", {}) if reps else {}).items()}
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template

def table(t):
    lines = ["| Scenario | Gearbox | gearmand 1.1.20 | ours/gearmand | Target | Met |",
             "|---|---:|---:|---:|---|---|"]
    rows = []
    for id_, key, label, unit, kind, target in ROWS:
        if id_ == "pingpong":
            ours, theirs = med(id_, "none", key, t), None
        else:
            ours, theirs = med(id_, "ours", key, t), med(id_, "gearmand", key, t)
        nf_o, nf_t = failed(id_, "ours", t), failed(id_, "gearmand", t)
        if ours is None and theirs is None and not (nf_o or nf_t):
            continue
        ratio = ours / theirs if ours is not None and theirs not in (None, 0) else None
        label = label_for(id_, label, t)
        tgt, met = check(id_, key, kind, target, ours, theirs)
        o = fmt(ours, unit) + (f" ({nf_o} failed)" if nf_o else "")
        g = fmt(theirs, unit) + (f" ({nf_t} failed)" if nf_t else "")
        if id_ == "pingpong":
            g = "(same machine)"
        elif not runs.get((id_, "gearmand", t)):
            g = "not run"
        s_all = spread(id_, "ours" if id_ != "pingpong" else "none", key, t)
        if s_all and s_all[2] == 1 and int(machine.get("rounds", "1")) > 1:
            label += " (1 run)"
        lines.append(f"| {label} | {o} | {g} | {'—' if ratio is None else f'{ratio:.2f}×'} | {tgt} | {met} |")
        s_o, s_t = spread(id_, "ours" if id_ != "pingpong" else "none", key, t), spread(id_, "gearmand", key, t)
        rows.append({"scenario": id_, "metric": key, "label": label.strip(), "unit": unit,
                     "ours": ours, "gearmand": theirs, "ratio": ratio, "target": tgt, "met": met,
                     "ours_min_max_n": s_o, "gearmand_min_max_n": s_t,
                     "ours_failed": nf_o, "gearmand_failed": nf_t})
    return lines, rows

engines = sorted({r.get("io_engine") for reps in runs.values() for r in reps
                  if r.get("io_engine") not in (None, "", "blocking")})
gap = next((r["params"]["gap_us"] for (i, _, _), reps in runs.items() if i == "unloaded"
            for r in reps if r.get("params", {}).get("gap_us")), None)
md = [f"# Gearbox vs gearmand 1.1.20 — {machine.get('date', '')}", "",
      f"Machine: {machine.get('cpu')}, {machine.get('nproc')} CPUs, {machine.get('mem')} RAM, "
      f"Linux {machine.get('kernel')}. Gearbox {machine.get('commit')}; {machine.get('gearmand')}.",
      f"Both servers `-t {main_t}`, started fresh for every run; medians of {machine.get('rounds')} "
      f"rounds (rows marked (1 run): a single run; gearmand's 1M-deep drain runs once). Command: `{machine.get('command')}`.",
      f"Load tool: gearbox-load, I/O engine {', '.join(engines) or 'unknown'}"
      + (f"; the unloaded round trip is paced ({gap} µs pause after each result)." if gap else "."), ""]
lines, rows = table(main_t)
md += lines
summary = {"machine": machine, "threads": main_t, "load_engines": engines, "unloaded_gap_us": gap,
           "rows": rows, "scaling": {}}
if scaling:
    md += ["", "## Thread scaling (-t for both servers)", "",
           "| Scenario | -t | Gearbox | gearmand 1.1.20 | ours/gearmand |", "|---|---:|---:|---:|---:|"]
    for id_, key, label, unit in (("drain", "drain_jobs_per_s", "drain {jobs}", "jobs/s"),
                                  ("roundtrip", "roundtrip_jobs_per_s", "round trip {clients}x{window}", "jobs/s"),
                                  ("roundtrip", "latency_p99_us", "  latency p99", "µs"),
                                  ("roundtrip", "server_cpu_us_per_job", "  server CPU per job", "µs"),
                                  ("submit", "submit_jobs_per_s", "background submit", "jobs/s")):
        label = label_for(id_, label, main_t)
        for t in sorted({int(x) for x in scaling.split(",")} | {main_t}):
            o, g = med(id_, "ours", key, t), med(id_, "gearmand", key, t)
            r = o / g if o is not None and g else None
            md.append(f"| {label} | {t} | {fmt(o, unit)} | {fmt(g, unit)} | {'—' if r is None else f'{r:.2f}×'} |")
            summary["scaling"].setdefault(f"{id_}.{key}", {})[t] = {"ours": o, "gearmand": g, "ratio": r}
fails = os.path.join(out, "failures.txt")
if os.path.exists(fails):
    md += ["", "## Failed runs", "", "```", open(fails).read().rstrip(), "```"]
text = "\n".join(md) + "\n"
open(os.path.join(out, "summary.md"), "w").write(text)
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)
print(text)
PYEOF
}

if [ -n "$SUMMARIZE" ]; then
  THREADS=$(sed -n 's/^threads=//p' "$SUMMARIZE/machine.txt")
  SCALING=$(sed -n 's/^scaling=//p' "$SUMMARIZE/machine.txt")
  summarize "$SUMMARIZE" "${THREADS:-1}" "$SCALING"
  exit 0
fi
mkdir -p "$RAW"

# --- build --------------------------------------------------------------------------------------
if [ "$SKIP_BUILD" = 0 ]; then
  log "building the release preset (gearmand, gearbox-load)"
  (cd "$ROOT" && cmake --preset release >/dev/null &&
     cmake --build build/release -j"$(nproc)" --target gearmand gearbox-load >/dev/null)
fi
for b in "$OURS" "$LOAD"; do
  [ -x "$b" ] || { echo "bench/run.sh: $b is missing (build first, or drop --skip-build)" >&2; exit 1; }
done

# --- the reference server ------------------------------------------------------------------------
if [ ! -x "$THEIRS" ] && [ "$INSTALL" = 1 ]; then
  log "installing gearman-job-server"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    gearman-job-server >/dev/null
fi
[ -x "$THEIRS" ] || { echo "bench/run.sh: $THEIRS is missing (apt-get install gearman-job-server)" >&2; exit 1; }
# Debian's package starts a service on 4730; it would share the CPUs with the benchmark.
if command -v service >/dev/null 2>&1; then
  service gearman-job-server stop >/dev/null 2>&1 || true
fi
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop gearman-job-server >/dev/null 2>&1 || true
fi

# 10,000 idle connections need more than 10,000 descriptors on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10300 ]; then
  log "warning: only $(ulimit -n) file descriptors; the 10,000-connection scenario will fail"
fi

# --- scenarios ----------------------------------------------------------------------------------
# id | servers (both, ours, none) | when | gearbox-load arguments
# when: rounds = every round; once = round 1 only; ours-rounds = both in round 1, then ours only
# (for runs where gearmand alone takes minutes).
SCEN=()
scenario() { SCEN+=("$1|$2|$3|$4"); }
if [ "$QUICK" = 0 ]; then
  scenario drain         both rounds "drain -n 300000 -c 4 -w 64 -k 64 -g 1"
  scenario echo          both rounds "echo -n 300000 -c 64 -w 1"
  scenario drain-pipelined both rounds "drain -n 300000 -c 4 -w 64 -k 4 -g 8"
  scenario roundtrip     both rounds "roundtrip -n 200000 -c 4 -w 16 -k 4 -g 1"
  scenario roundtrip-1k  both rounds "roundtrip -n 100000 -c 4 -w 16 -k 4 -g 1 --payload 1K --result-size 1K"
  scenario roundtrip-64k both rounds "roundtrip -n 10000 -c 4 -w 16 -k 4 -g 1 --payload 64K --result-size 64K"
  scenario unloaded      both rounds "roundtrip -n 5000 -c 1 -w 1 -k 1 -g 1 --warmup 500 --gap-us $UNLOADED_GAP_US"
  scenario pingpong      none rounds "pingpong -n 20000"
  scenario submit        both rounds "submit-bg -n 300000 -c 4 -w 64 --no-cleanup"
  scenario memory        both rounds "memory -n 200000 --payload 100 -k 64 -g 1"
  scenario connections   both rounds "connections --connections 10000 --with-roundtrip -n 100000 -c 4 -w 16 -k 4 -g 1"
  scenario shallow       both rounds "drain -n 10000 --repeat 5 -c 4 -w 64 -k 64 -g 1"
  scenario deep          both ours-rounds "memory -n 1000000 --payload 100 --drain-jobs 100000 -k 64 -g 1 --timeout 120"
  if [ "$FULL" = 1 ]; then
    scenario drained     both once   "memory -n 1000000 --payload 100 -k 64 -g 1 --timeout 300"
    scenario huge        ours once   "memory -n 10000000 --payload 100 -k 64 -g 1 --timeout 300"
  else
    scenario drained     ours once   "memory -n 1000000 --payload 100 -k 64 -g 1 --timeout 120"
    scenario huge        ours once   "memory -n 10000000 --payload 100 -k 64 -g 1 --timeout 120"
  fi
else
  scenario drain         both rounds "drain -n 30000 -c 4 -w 64 -k 64 -g 1"
  scenario echo          both rounds "echo -n 30000 -c 64 -w 1"
  scenario drain-pipelined both rounds "drain -n 30000 -c 4 -w 64 -k 4 -g 8"
  scenario roundtrip     both rounds "roundtrip -n 30000 -c 4 -w 16 -k 4 -g 1"
  scenario roundtrip-1k  both rounds "roundtrip -n 10000 -c 4 -w 16 -k 4 -g 1 --payload 1K --result-size 1K"
  scenario roundtrip-64k both rounds "roundtrip -n 1000 -c 4 -w 16 -k 4 -g 1 --payload 64K --result-size 64K"
  scenario unloaded      both rounds "roundtrip -n 1000 -c 1 -w 1 -k 1 -g 1 --warmup 100 --gap-us $UNLOADED_GAP_US"
  scenario pingpong      none rounds "pingpong -n 5000"
  scenario submit        both rounds "submit-bg -n 50000 -c 4 -w 64 --no-cleanup"
  scenario memory        both rounds "memory -n 50000 --payload 100 -k 64 -g 1 --settle-ms 200"
  scenario connections   both rounds "connections --connections 2000 --with-roundtrip -n 20000 -c 4 -w 16 -k 4 -g 1"
  scenario shallow       both once   "drain -n 10000 --repeat 3 -c 4 -w 64 -k 64 -g 1"
fi

selected() {
  [ -z "$ONLY" ] && return 0
  case ",$ONLY," in *",$1,"*) return 0 ;; esac
  return 1
}

free_port() {
  python3 -c 'import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p != 4730: print(p); break'
}

SERVER_PID=""
start_server() {  # binary threads logfile [extra args] -> sets SERVER_PID, SERVER_PORT
  local bin=$1 threads=$2 logfile=$3
  local extra=${4:-}
  for _ in 1 2 3; do
    SERVER_PORT=$(free_port)
    # shellcheck disable=SC2086  # extra is a word list on purpose
    "$bin" -L 127.0.0.1 -p "$SERVER_PORT" -t "$threads" -l none $extra </dev/null >"$logfile" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
      if (exec 3<>"/dev/tcp/127.0.0.1/$SERVER_PORT" && printf 'version\n' >&3 &&
          read -r -t 2 reply <&3 && [ "${reply#OK}" != "$reply" ]) 2>/dev/null; then
        return 0
      fi
      sleep 0.05
    done
    stop_server
  done
  echo "bench/run.sh: $bin did not start (see $logfile)" >&2
  return 1
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

FAILED=0
# run_one id server(ours|gearmand|none) threads round args...
run_one() {
  local id=$1 who=$2 threads=$3 round=$4
  shift 4
  local base="$RAW/$id.$who.t$threads.r$round"
  local bin="" rc=0 extra=""
  case "$who" in ours) bin=$OURS; extra=$OURS_ARGS ;; gearmand) bin=$THEIRS ;; esac
  if [ -n "$bin" ]; then
    if ! start_server "$bin" "$threads" "$base.server.log" "$extra"; then
      printf '{"scenario":"%s","ok":false,"errors":["server did not start"]}\n' "$id" >"$base.json"
      FAILED=1
      return
    fi
    set -- "$@" -p "$SERVER_PORT"
  fi
  if [ -n "$LOAD_ENGINE" ]; then set -- "$@" --io-engine "$LOAD_ENGINE"; fi
  "$LOAD" "$@" --label "$who" --json "$base.json" >"$base.txt" || rc=$?
  if [ -n "$bin" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "server $who died during $id (round $round): see $base.txt and $base.server.log" | tee -a "$OUT/failures.txt" >&2
    rc=1
  fi
  stop_server
  [ -s "$base.server.log" ] || rm -f "$base.server.log"
  if [ "$rc" != 0 ]; then
    FAILED=1
    echo "$id $who -t $threads round $round: exit $rc" >>"$OUT/failures.txt"
    sed -n 's/^  check: FAILED: /    /p' "$base.txt" >>"$OUT/failures.txt"
    log "$id $who round $round FAILED (exit $rc), see $base.txt"
  else
    local what
    case "$id" in
      unloaded) what="latency p50" ;;
      pingpong) what="RTT p50" ;;
      echo) what="echo rate" ;;
      submit) what="submit rate" ;;
      memory|deep|drained|huge) what="RSS per queued job" ;;
      connections) what="throughput (held)" ;;
      roundtrip*) what="throughput" ;;
      *) what="drain rate" ;;
    esac
    log "$id $who -t $threads round $round: $(grep -m1 "^  $what  " "$base.txt" | tr -s ' ')"
  fi
}

run_scenarios() {  # threads, then the ids allowed ("" = all)
  local threads=$1 allowed=$2 round entry id who when args
  for round in $(seq 1 "$ROUNDS"); do
    for entry in "${SCEN[@]}"; do
      IFS='|' read -r id who when args <<<"$entry"
      selected "$id" || continue
      if [ -n "$allowed" ]; then case " $allowed " in *" $id "*) ;; *) continue ;; esac; fi
      [ "$when" = once ] && [ "$round" != 1 ] && continue
      [ "$when" = ours-rounds ] && [ "$round" != 1 ] && who=ours
      # shellcheck disable=SC2086
      case "$who" in
        both) run_one "$id" ours "$threads" "$round" $args
              run_one "$id" gearmand "$threads" "$round" $args ;;
        ours) run_one "$id" ours "$threads" "$round" $args ;;
        none) run_one "$id" none "$threads" "$round" $args ;;
      esac
    done
  done
}

# --- machine -------------------------------------------------------------------------------------
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "nproc=$(nproc)"
  echo "mem=$(free -h | awk '/^Mem:/ {print $2}')"
  echo "kernel=$(uname -r)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty src')"
  echo "gearmand=$("$THEIRS" --version 2>&1 | grep -m1 . || true)"
  echo "rounds=$ROUNDS"
  echo "threads=$THREADS"
  echo "ours_args=$OURS_ARGS"
  echo "scaling=$SCALING"
  echo "quick=$QUICK"
  echo "load_engine=${LOAD_ENGINE:-auto}"
  echo "unloaded_gap_us=$UNLOADED_GAP_US"
  echo "command=bench/run.sh${ARGS:+ $ARGS}"
} >"$OUT/machine.txt"

log "results in $OUT ($ROUNDS rounds, -t $THREADS)"
START=$(date +%s)
run_scenarios "$THREADS" ""
if [ -n "$SCALING" ]; then
  for t in ${SCALING//,/ }; do
    [ "$t" = "$THREADS" ] && continue
    run_scenarios "$t" "drain roundtrip submit"
  done
fi
log "done in $(( $(date +%s) - START )) s"
summarize "$OUT" "$THREADS" "$SCALING"


if [ "$(dirname "$OUT")" = "$ROOT/bench/results" ]; then
  cp "$OUT/summary.md" "$ROOT/bench/results/latest.md"
  cp "$OUT/summary.json" "$ROOT/bench/results/latest.json"
  log "summary: $OUT/summary.md (copied to bench/results/latest.md)"
else
  log "summary: $OUT/summary.md"
fi
exit "$FAILED"
