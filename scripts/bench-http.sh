#!/usr/bin/env bash
# Side-by-side HTTP benchmark: Hanse's own HTTP/1.1 server against a minimal Hummingbird 2 server
# (Benchmarks/HummingbirdHello), both answering `GET /healthz` with `{"status":"ok"}`.
#
# Builds both in release mode (one after the other), starts them on loopback, loads each with wrk
# in alternating rounds, prints a table with medians and a PASS/FAIL verdict, and writes the same
# result into docs/benchmarks.md between the markers `<!-- http-bench:start -->` and
# `<!-- http-bench:end -->` (a new section with the markers is appended if they are missing).
#
# Target: median hanse req/s >= 1.2 x median hummingbird req/s, median hanse p99 <= median
# hummingbird p99, and no errors (non-2xx/3xx responses or socket errors) from hanse.
#
# Environment:
#   ROUNDS=3          measured rounds per server
#   DURATION=10       seconds per measured wrk run
#   WARMUP=3          seconds of warm-up per server before the rounds
#   THREADS=2         wrk threads
#   CONNECTIONS=64    wrk connections
#   HANSE_BENCH_PORT=18081  HUMMINGBIRD_BENCH_PORT=18082
#   SKIP_BUILD=1      use the binaries already built
#   WRITE_DOC=0       print only, leave docs/benchmarks.md alone
#   HANSE_EVENT_LOOPS=N  event loops of hanse (default: its own, half the cores)
#   HB_THREADS=N      event-loop threads of Hummingbird (default: its own, one per core)
#
# Sends traffic to 127.0.0.1 only; every run is bounded by DURATION.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
HANSE_BENCH_PORT="${HANSE_BENCH_PORT:-18081}"
HB_BENCH_PORT="${HUMMINGBIRD_BENCH_PORT:-18082}"
SKIP_BUILD="${SKIP_BUILD:-0}"
WRITE_DOC="${WRITE_DOC:-1}"
READY_TIMEOUT=120
STOP_TIMEOUT=60
DATA_DIR=/tmp/hanse-bench-data
SCRATCH="$ROOT/.build-bench"
HANSE_BIN="$ROOT/.build/release/hanse"
HB_BIN="$SCRATCH/release/HummingbirdHello"
DOC="$ROOT/docs/benchmarks.md"

for setting in ROUNDS DURATION WARMUP THREADS CONNECTIONS HANSE_BENCH_PORT HB_BENCH_PORT; do
  value="${!setting}"
  if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
    echo "bench-http: $setting must be a positive integer, not '$value'" >&2
    exit 2
  fi
done

log() { echo "bench-http: $*" >&2; }

# --- wrk -------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q wrk
fi
command -v curl >/dev/null 2>&1 || { log "curl is needed"; exit 1; }
command -v python3 >/dev/null 2>&1 || { log "python3 is needed"; exit 1; }

# --- build (sequential: the machine has 2 cores) ---------------------------------------------
if [ "$SKIP_BUILD" != "1" ]; then
  log "building hanse (release)"
  swift build -c release --product hanse
  log "building Benchmarks/HummingbirdHello (release)"
  swift build -c release --package-path Benchmarks/HummingbirdHello --scratch-path "$SCRATCH"
fi
for binary in "$HANSE_BIN" "$HB_BIN"; do
  [ -x "$binary" ] || { log "missing $binary (run without SKIP_BUILD=1)"; exit 1; }
done

# --- servers ---------------------------------------------------------------------------------
RESULTS="$(mktemp -d /tmp/hanse-bench-http.XXXXXX)"
HANSE_LOG="$RESULTS/hanse.log"
HB_LOG="$RESULTS/hummingbird.log"
HANSE_PID=""
HB_PID=""

stop_server() { # name pid
  local name="$1" pid="$2" waited=0
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$STOP_TIMEOUT" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_server hummingbird "$HB_PID"
  stop_server hanse "$HANSE_PID"
  log "logs and raw wrk output kept in $RESULTS"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { # port
  ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null
}

wait_ready() { # name pid port logfile
  local name="$1" pid="$2" port="$3" logfile="$4" start=$SECONDS
  while ! curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before it answered /healthz; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      exit 1
    fi
    if [ $((SECONDS - start)) -ge "$READY_TIMEOUT" ]; then
      log "$name did not answer http://127.0.0.1:$port/healthz within ${READY_TIMEOUT}s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  log "$name ready on port $port after $((SECONDS - start))s"
}

for port in "$HANSE_BENCH_PORT" "$HB_BENCH_PORT"; do
  port_free "$port" || { log "something already listens on 127.0.0.1:$port"; exit 1; }
done

# The embedded PostgreSQL runs as the postgres user when we are root: its parents must be traversable.
mkdir -p "$DATA_DIR"
chmod 0755 "$DATA_DIR"

log "starting hanse on 127.0.0.1:$HANSE_BENCH_PORT (data dir $DATA_DIR)"
# stdout carries the one-time operator token banner: not wanted in the logs of a benchmark.
env -u HANSE_DATABASE_URL HANSE_ADDRESS=127.0.0.1 HANSE_PORT="$HANSE_BENCH_PORT" \
  HANSE_DATA_DIR="$DATA_DIR" HANSE_LOG_LEVEL=warning ${HANSE_EVENT_LOOPS:+HANSE_EVENT_LOOPS="$HANSE_EVENT_LOOPS"} \
  "$HANSE_BIN" serve >/dev/null 2>"$HANSE_LOG" &
HANSE_PID=$!

log "starting HummingbirdHello on 127.0.0.1:$HB_BENCH_PORT"
# HB_THREADS sizes Hummingbird's event-loop group; unset keeps its default (one thread per core).
LOG_LEVEL=warning "$HB_BIN" "$HB_BENCH_PORT" ${HB_THREADS:+"$HB_THREADS"} >"$HB_LOG" 2>&1 &
HB_PID=$!

wait_ready hanse "$HANSE_PID" "$HANSE_BENCH_PORT" "$HANSE_LOG"
wait_ready hummingbird "$HB_PID" "$HB_BENCH_PORT" "$HB_LOG"

# Both must answer the same bytes, or the comparison is not like for like.
for pair in "hanse:$HANSE_BENCH_PORT" "hummingbird:$HB_BENCH_PORT"; do
  name="${pair%%:*}"
  port="${pair##*:}"
  body="$(curl -fsS --max-time 5 "http://127.0.0.1:$port/healthz")"
  ctype="$(curl -fsS --max-time 5 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port/healthz")"
  if [ "$body" != '{"status":"ok"}' ] || [[ "$ctype" != application/json* ]]; then
    log "warning: $name /healthz answered body '$body' with Content-Type '$ctype' (expected {\"status\":\"ok\"}, application/json)"
  fi
done

# --- load --------------------------------------------------------------------------------------
WRK_ARGS=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency http://127.0.0.1:PORT/healthz"

check_alive() { # name pid logfile
  if ! kill -0 "$2" 2>/dev/null; then
    log "$1 died during the benchmark; last lines of $3:"
    tail -n 30 "$3" >&2 || true
    exit 1
  fi
}

log "warm-up: ${WARMUP}s per server"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$HANSE_BENCH_PORT/healthz" >/dev/null
check_alive hanse "$HANSE_PID" "$HANSE_LOG"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$HB_BENCH_PORT/healthz" >/dev/null
check_alive hummingbird "$HB_PID" "$HB_LOG"

run_one() { # name port round
  local name="$1" port="$2" round="$3"
  local out="$RESULTS/wrk-$name-$round.txt"
  log "round $round/$ROUNDS: $name (${DURATION}s)"
  wrk "${WRK_ARGS[@]}" "http://127.0.0.1:$port/healthz" >"$out"
  if [ "$name" = hanse ]; then
    check_alive hanse "$HANSE_PID" "$HANSE_LOG"
  else
    check_alive hummingbird "$HB_PID" "$HB_LOG"
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  # Alternate which server goes first, so that a drift of the machine favours neither.
  if [ $((round % 2)) -eq 1 ]; then
    run_one hanse "$HANSE_BENCH_PORT" "$round"
    run_one hummingbird "$HB_BENCH_PORT" "$round"
  else
    run_one hummingbird "$HB_BENCH_PORT" "$round"
    run_one hanse "$HANSE_BENCH_PORT" "$round"
  fi
done

# --- report ------------------------------------------------------------------------------------
CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1 || true)"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT (with uncommitted changes)"; fi

BENCH_RESULTS="$RESULTS" BENCH_ROUNDS="$ROUNDS" BENCH_DOC="$DOC" BENCH_WRITE_DOC="$WRITE_DOC" \
BENCH_WRK_CMD="$WRK_CMD" BENCH_HANSE_PORT="$HANSE_BENCH_PORT" BENCH_HB_PORT="$HB_BENCH_PORT" \
BENCH_WARMUP="$WARMUP" BENCH_NPROC="$(nproc)" BENCH_CPU="${CPU_MODEL:-unknown}" BENCH_COMMIT="$COMMIT" \
BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')" BENCH_HANSE_LOOPS="${HANSE_EVENT_LOOPS:-}" BENCH_HB_THREADS="${HB_THREADS:-}" \
python3 - <<'PY'
import os
import re
import statistics
import sys

results = os.environ["BENCH_RESULTS"]
rounds = int(os.environ["BENCH_ROUNDS"])
servers = ["hanse", "hummingbird"]
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unknown latency value {text!r}")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse(path):
    text = open(path).read()
    m = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    if not m:
        sys.exit(f"bench-http: no 'Requests/sec:' line in {path}:\n{text}")
    row = {"rps": float(m.group(1))}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s*{pct}(?:\.000)?%\s+(\S+)", text, re.M)
        if not m:
            sys.exit(f"bench-http: no {pct}% line in the Latency Distribution of {path}:\n{text}")
        row["p" + pct] = to_ms(m.group(1))
    errors = []
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()))) if m else {}
    errors += [f"{k} {v}" for k, v in socket.items() if v]
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    if non2xx:
        errors.insert(0, f"non-2xx/3xx {non2xx}")
    row["error_count"] = non2xx + sum(socket.values())
    row["errors"] = ", ".join(errors) if errors else "0"
    return row


rows = []
for rnd in range(1, rounds + 1):
    for name in servers:
        row = parse(os.path.join(results, f"wrk-{name}-{rnd}.txt"))
        row.update(server=name, round=rnd)
        rows.append(row)

med = {}
for name in servers:
    mine = [r for r in rows if r["server"] == name]
    med[name] = {
        "rps": statistics.median(r["rps"] for r in mine),
        "p99": statistics.median(r["p99"] for r in mine),
        "errors": sum(r["error_count"] for r in mine),
    }
ratio = med["hanse"]["rps"] / med["hummingbird"]["rps"]
rps_ok = ratio >= 1.2
p99_ok = med["hanse"]["p99"] <= med["hummingbird"]["p99"]
clean = med["hanse"]["errors"] == 0
verdict = "PASS" if (rps_ok and p99_ok and clean) else "FAIL"
reasons = [
    f"req/s ratio {ratio:.2f} {'>=' if rps_ok else '<'} 1.20",
    f"p99 {med['hanse']['p99']:.3f} ms {'<=' if p99_ok else '>'} {med['hummingbird']['p99']:.3f} ms",
    "no errors from hanse" if clean else f"{med['hanse']['errors']} errors from hanse",
]
verdict_line = f"{verdict}: hanse req/s >= 1.2 x hummingbird and hanse p99 <= hummingbird p99 ({'; '.join(reasons)})"

headers = ["server", "round", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors"]
cells = [[r["server"], str(r["round"]), f"{r['rps']:,.0f}", f"{r['p50']:.3f}", f"{r['p90']:.3f}",
          f"{r['p99']:.3f}", r["errors"]] for r in rows]
right = [False, True, True, True, True, True, False]

# Terminal table.
widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
fmt = lambda vals: "  ".join(v.rjust(w) if right[i] else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))
print()
print(fmt(headers))
print("  ".join("-" * w for w in widths))
for c in cells:
    print(fmt(c))
print()
for name in servers:
    print(f"median {name:<12} {med[name]['rps']:>12,.0f} req/s   p99 {med[name]['p99']:.3f} ms")
print(f"ratio hanse/hummingbird (median req/s): {ratio:.2f}")
print(verdict_line)

if os.environ["BENCH_WRITE_DOC"] != "1":
    sys.exit(0)

# docs/benchmarks.md
md = []
md.append(f"Measured {os.environ['BENCH_DATE']} at commit {os.environ['BENCH_COMMIT']}, on "
          f"{os.environ['BENCH_NPROC']} cores ({os.environ['BENCH_CPU']}).")
md.append("")
md.append("```")
md.append("scripts/bench-http.sh")
md.append(f"# per server: {os.environ['BENCH_WARMUP']} s warm-up, then {rounds} rounds, alternating which goes first:")
md.append(os.environ["BENCH_WRK_CMD"])
loops = os.environ.get("BENCH_HANSE_LOOPS") or "default (half the cores)"
hb_threads = os.environ.get("BENCH_HB_THREADS") or "default (one per core)"
md.append(f"# hanse: PORT={os.environ['BENCH_HANSE_PORT']} (.build/release/hanse serve, embedded PostgreSQL, HANSE_LOG_LEVEL=warning), event loops: {loops}")
md.append(f"# hummingbird: PORT={os.environ['BENCH_HB_PORT']} (Benchmarks/HummingbirdHello, Hummingbird 2, release build), event-loop threads: {hb_threads}")
md.append("```")
md.append("")
md.append("Both servers answer `GET /healthz` with `{\"status\":\"ok\"}` (`Content-Type: application/json`) over "
          "keep-alive HTTP/1.1 on 127.0.0.1. The machine has only "
          f"{os.environ['BENCH_NPROC']} cores, and wrk shares them with the server under test (wrk's "
          "threads and the server's compete for the same CPUs), so the figures measure the server and "
          "the load generator together: compare the two servers with each other, not with figures "
          "from other machines. The other server is idle during a run.")
md.append("")
md.append("| " + " | ".join(headers) + " |")
md.append("| " + " | ".join("---:" if r else "---" for r in right) + " |")
for c in cells:
    md.append("| " + " | ".join(c) + " |")
md.append("")
md.append("| server | median req/s | median p99 ms |")
md.append("| --- | ---: | ---: |")
for name in servers:
    md.append(f"| {name} | {med[name]['rps']:,.0f} | {med[name]['p99']:.3f} |")
md.append("")
md.append(f"Ratio hanse/hummingbird of median req/s: **{ratio:.2f}**.")
md.append("")
md.append(f"Target: hanse req/s >= 1.2 x hummingbird and hanse p99 <= hummingbird p99 (and no errors "
          f"from hanse). **{verdict}** ({'; '.join(reasons)}).")
block = "\n".join(md)

START, END = "<!-- http-bench:start -->", "<!-- http-bench:end -->"
doc_path = os.environ["BENCH_DOC"]
text = open(doc_path).read() if os.path.exists(doc_path) else "# Benchmarks\n"
s, e = text.find(START), text.find(END)
if s != -1 and e != -1 and s < e:
    text = text[: s + len(START)] + "\n" + block + "\n" + text[e:]
else:
    if s != -1 or e != -1:
        sys.exit(f"bench-http: {doc_path} has only one of the markers {START} {END}, or in the wrong order; fix it by hand")
    text = text.rstrip("\n") + "\n\n## HTTP server: Hanse vs Hummingbird 2 (`scripts/bench-http.sh`)\n\n" \
        + START + "\n" + block + "\n" + END + "\n"
with open(doc_path, "w") as f:
    f.write(text)
print(f"\nwrote the result into {os.path.relpath(doc_path)}")
PY
