#!/usr/bin/env bash
# Side by side on this machine: fleetsim's healthy full rollout of scenarios/scale-1m.toml
# (1 M devices, 30 days, both defect probabilities set to 0, one thread) against the SimPy
# loop in simple_loop.py (10 k devices, 7 days), run alternately ROUNDS times (default 3), with
# the median wall time of each and their ratio. The issue's target is fleetsim ≤ 0.2 × SimPy.
#
#   bash benches/simpy/compare.sh [ROUNDS]
#
# Installs SimPy (pinned) into target/simpy-venv on first use and builds fleetsim in release.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
venv=target/simpy-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import simpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'simpy==4.1.2'
fi
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for r in $(seq "$rounds"); do
    "$venv/bin/python" benches/simpy/simple_loop.py --devices 10000 --days 7 > "$tmp/simpy.json"
    s=$(sed 's/.*"wall_s": \([0-9.]*\).*/\1/' "$tmp/simpy.json")
    rm -rf "$tmp/out"
    start=$(date +%s.%N)
    target/release/fleetsim run scenarios/scale-1m.toml --threads 1 \
        --set 'release[2].defect[0].probability=0' --set 'release[2].defect[1].probability=0' \
        --no-report --quiet --out "$tmp/out" > /dev/null
    end=$(date +%s.%N)
    f=$(python3 -c "print(round($end - $start, 3))")
    echo "round $r: simpy ${s}s, fleetsim ${f}s ($(grep -o '"events": [0-9]*' "$tmp/out/perf.json"))"
    echo "$s" >> "$tmp/s"
    echo "$f" >> "$tmp/f"
done
ms=$(median < "$tmp/s")
mf=$(median < "$tmp/f")
printf 'median: simpy 10k x 7d %.2f s, fleetsim healthy 1M x 30d %.2f s, ratio %.2f (target <= 0.20)\n' \
    "$ms" "$mf" "$(python3 -c "print($mf / $ms)")"
