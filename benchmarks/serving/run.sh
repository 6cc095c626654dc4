#!/usr/bin/env bash
# The serving benchmark: the real portal (Release) on 127.0.0.1 with its own temporary data folder, a
# small tabular MLP trained, registered and promoted through its API, against the same network (its
# PyTorch state-dict export) served by FastAPI + uvicorn + PyTorch from Debian, both loaded by wrk on
# loopback in the same run. Prints one markdown table. `--quick` is a smoke run (1 round x 3 s).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
here=benchmarks/serving
python=/usr/bin/python3   # Debian's: a pyenv python3 earlier on PATH has no torch
rounds=3 seconds=8 connections=64 epochs=5 rows=2000 workers=1
for a in "$@"; do
    case "$a" in
        --quick) rounds=1 seconds=3 epochs=2 ;;
        --help|-h) sed -n 2,5p "$0"; exit 0 ;;
        *) echo "unknown option $a (--quick, --help)" >&2; exit 2 ;;
    esac
done

# Install what is missing, as scripts/setup.sh does.
packages=(wrk python3-fastapi python3-uvicorn python3-torch)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "[bench] installing ${missing[*]}"
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
             && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi
"$python" -c 'import torch, fastapi, uvicorn' || { echo "[bench] $python cannot import torch, fastapi and uvicorn" >&2; exit 1; }
command -v wrk >/dev/null || { echo "[bench] wrk is missing" >&2; exit 1; }

echo "[bench] building the portal (Release)"
dotnet build src/Portal/ModelOps.Portal.csproj -c Release -nologo -v quiet -clp:ErrorsOnly -clp:NoSummary
portal_exe=src/Portal/bin/Release/net10.0/linux-x64/ModelOps.Portal

work=$(mktemp -d -t modelops-serving-XXXXXX)
pids=()
cleanup() { for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load_start=$(cut -d' ' -f1 /proc/loadavg)

portal_pid=""
start_portal() { # $1: monitoring true|false
    port=$(free_port)
    "$portal_exe" --urls="http://127.0.0.1:$port" --ModelOps:DataDirectory="$work/data" \
        --ModelOps:Auth:AdminUserName=admin --ModelOps:Auth:AdminPassword=serving-bench-password \
        --ModelOps:SeedDemoData=false --ModelOps:Serving:Monitoring="$1" --Logging:LogLevel:Default=Warning \
        >>"$work/portal.log" 2>&1 &
    portal_pid=$!
    pids+=("$portal_pid")
    portal="http://127.0.0.1:$port"
    for _ in $(seq 1 360); do curl -fs "$portal/healthz" >/dev/null 2>&1 && return 0; sleep 0.25; done
    echo "[bench] the portal did not start:"; tail -40 "$work/portal.log"; exit 1
}
stop_portal() { kill "$portal_pid"; wait "$portal_pid" 2>/dev/null || true; }

# One wrk round: prints "rate p50 p95 p99 errors" (rate in req/s, latencies in ms).
round() { # url body auth connections seconds [rate]
    local out
    out=$(BENCH_BODY="$2" BENCH_AUTH="$3" BENCH_CONNECTIONS="$4" BENCH_RATE="${6:-0}" \
        wrk -t"$(( $4 < 2 ? 1 : 2 ))" -c"$4" -d"$5"s --latency --timeout 5s -s "$here/predict.lua" "$1" 2>&1 | tee "$work/wrk.log" | grep '^BENCH') || { echo "[bench] wrk gave no figures for $1:" >&2; cat "$work/wrk.log" >&2; tail -20 "$work/portal.log" >&2; exit 1; }
    "$python" - "$out" <<'PY'
import sys, re
f = dict(re.findall(r"(\w+)=([\d.]+)", sys.argv[1]))
print(f"{float(f['requests'])/float(f['seconds']):.0f} {f['p50']} {f['p95']} {f['p99']} {int(f['errors'])+int(f['non2xx'])}")
PY
}
# $rounds rounds, one "rate p50 p95 p99 errors" line each.
rounds_of() { # url body auth connections [rate]
    local results=()
    for _ in $(seq 1 "$rounds"); do results+=("$(round "$1" "$2" "$3" "$4" "$seconds" "${5:-0}")"); done
    printf '%s\n' "${results[@]}"
}
# Median of one field (1 rate, 2 p50, 3 p95, 4 p99) of those rounds plus the min-max; "median|min|max|errors".
pick() { # lines field
    printf '%s\n' "$1" | "$python" -c '
import sys, statistics
field = int(sys.argv[1])
rows = [l.split() for l in sys.stdin if l.strip()]
v = [float(r[field - 1]) for r in rows]
print(f"{statistics.median(v):.2f}|{min(v):.2f}|{max(v):.2f}|{sum(int(r[4]) for r in rows)}")' "$2"
}
measure() { # url body auth connections field [rate]
    pick "$(rounds_of "$1" "$2" "$3" "$4" "${6:-0}")" "$5"
}
med() { echo "${1%%|*}"; }

echo "[bench] starting the portal, training and registering the model"
start_portal true
token=$("$python" "$here/portal_setup.py" "$portal" admin serving-bench-password "$work" "$rows" "$epochs" | tail -1)
auth="Bearer $token"
predict="$portal/api/v1/models/serving-bench/predict"
curl -fs -H "Authorization: $auth" -H 'Content-Type: application/json' --data @"$work/one.json" "$predict" >/dev/null

peer_port=$(free_port)
(cd "$here" && exec "$python" peer.py "$work/model.pt" "$work/model.json" "$peer_port" "$workers") >>"$work/peer.log" 2>&1 &
pids+=("$!")
peer="http://127.0.0.1:$peer_port/predict"
for _ in $(seq 1 240); do curl -fs -H 'Content-Type: application/json' --data @"$work/one.json" "$peer" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fs -H 'Content-Type: application/json' --data @"$work/one.json" "$peer" >/dev/null || { echo "[bench] the peer did not start:"; tail -30 "$work/peer.log"; exit 1; }

echo "[bench] warm-up"
round "$predict" "$work/one.json" "$auth" "$connections" 3 >/dev/null
round "$peer" "$work/one.json" "" "$connections" 3 >/dev/null

echo "[bench] (a) single-row throughput, $connections connections, $rounds x ${seconds}s each side"
a_runs=$(rounds_of "$predict" "$work/one.json" "$auth" "$connections")
a_portal=$(pick "$a_runs" 1)
a_portal_lat="$(med "$(pick "$a_runs" 2)") $(med "$(pick "$a_runs" 4)")"
a_peer=$(measure "$peer" "$work/one.json" "" "$connections" 1)
peak=$(med "$a_portal")
half=$("$python" -c "print(int(float('$peak') / 2))")
echo "[bench] (b) latency at 50 % of the portal's peak ($half req/s), 16 connections"
b_runs=$(rounds_of "$predict" "$work/one.json" "$auth" 16 "$half")
b_p50=$(pick "$b_runs" 2)
b_p99=$(pick "$b_runs" 4)
b_rate=$(pick "$b_runs" 1)
peer_peak=$(med "$a_peer")
peer_half=$("$python" -c "print(int(float('$peer_peak') / 2))")
b_peer_p99=$(measure "$peer" "$work/one.json" "" 16 4 "$peer_half")
echo "[bench] (c) batch of 1,000 rows, 1 connection"
c_portal=$(measure "$predict" "$work/batch.json" "$auth" 1 3)
c_peer=$(measure "$peer" "$work/batch.json" "" 1 3)

echo "[bench] (d) monitoring and a 20 % canary: both sides on a fresh process, each after a full untimed round"
# Both sides restart on the same data, so neither has minutes of warm-up the other lacks: first
# monitoring off and no canary, then monitoring on with the canary at 20 %.
restart() { # monitoring true|false
    stop_portal
    start_portal "$1"
    predict="$portal/api/v1/models/serving-bench/predict"
}
warm() { round "$predict" "$work/one.json" "$auth" "$connections" "$seconds" >/dev/null; }
restart false
warm
d_off=$(measure "$predict" "$work/one.json" "$auth" "$connections" 1)
restart true
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: $auth" -H 'Content-Type: application/json' \
    --data '{"version": 2, "percent": 20}' "$portal/api/v1/models/serving-bench/canary")
if [ "$code" = 200 ] || [ "$code" = 204 ]; then
    warm
    d_on=$(measure "$predict" "$work/one.json" "$auth" "$connections" 1)
else
    d_on="n/a (PUT /canary answered $code)"; d_off=""
fi
load_end=$(cut -d' ' -f1 /proc/loadavg)

"$python" - "$a_portal" "$a_peer" "$a_portal_lat" "$b_p50" "$b_p99" "$b_rate" "$b_peer_p99" "$c_portal" "$c_peer" "$d_on" "$d_off" \
    "$rounds" "$seconds" "$connections" "$workers" "$load_start" "$load_end" "$(nproc)" <<'PY'
import sys
a, ap, alat, b50, b99, brate, bp99, c, cp, don, doff, rounds, seconds, conns, workers, l0, l1, cores = sys.argv[1:]
def m(s): return float(s.split("|")[0])
def cell(s, unit=""):
    v = s.split("|")
    return f"{float(v[0]):,.{0 if unit == ' req/s' else 2}f}{unit} ({float(v[1]):,.{0 if unit == ' req/s' else 2}f}-{float(v[2]):,.{0 if unit == ' req/s' else 2}f}, n={rounds}{', errors ' + v[3] if v[3] != '0' else ''})"
ok = lambda b: "met" if b else "**not met**"
lat = alat.split()
ratio = m(a) / m(ap)
print(f"\nServing benchmark: {cores} cores, load average {l0} at the start and {l1} at the end; wrk -t2 on the same cores;")
print(f"medians of {rounds} rounds x {seconds} s (min-max, n). Peer: FastAPI + uvicorn ({workers} worker) + PyTorch, same network and body.\n")
print("| measure | method | portal | peer | ratio | target | met |")
print("| --- | --- | --- | --- | --- | --- | --- |")
print(f"| (a) single-row predict throughput | wrk, {conns} connections, POST one row | {cell(a, ' req/s')} (p50 {float(lat[0]):.2f} ms, p99 {float(lat[1]):.2f} ms, medians) | {cell(ap, ' req/s')} | {ratio:.2f}x | >= 8,000 req/s and >= 6x peer | {ok(m(a) >= 8000 and ratio >= 6)} |")
print(f"| (b) latency at 50 % of the portal's peak | wrk --latency, 16 connections, each waiting 16/rate s between requests (think time, not a fixed schedule) | p50 {cell(b50, ' ms')}, p99 {cell(b99, ' ms')} at {cell(brate, ' req/s')} | p99 {cell(bp99, ' ms')} at 50 % of its own peak | - | p99 <= 5 ms | {ok(m(b99) <= 5)} |")
print(f"| (c) batch of 1,000 rows | wrk --latency, 1 connection, p95 | {cell(c, ' ms')} | {cell(cp, ' ms')} | {m(cp) / m(c):.2f}x | <= 20 ms p95 | {ok(m(c) <= 20)} |")
if doff:
    cost = 1 - m(don) / m(doff)
    print(f"| (d) monitoring + 20 % canary | (a) on a restart with a canary at 20 % and monitoring on, against a restart with ModelOps:Serving:Monitoring=false and no canary (each after an untimed round) | on: {cell(don, ' req/s')}; off: {cell(doff, ' req/s')} | - | cost {cost * 100:.1f} % | < 10 % | {ok(cost < 0.10) if cost >= -0.10 else 'inconclusive (on faster than off by more than 10 %: noise)'} |")
else:
    print(f"| (d) monitoring + 20 % canary | - | {don} | - | - | < 10 % | n/a |")
PY
