#!/usr/bin/env bash
# Runs binarytree in several configurations, alternating: one run of each per round, the order
# rotating from round to round; prints every run, then per configuration the median and the
# fastest elapsed time and the ratio of medians to the first configuration, and the median of
# the per-round ratios (each run against the first configuration's run in the same round).
#
#   swift build -c release
#   Benchmarks/Tools/binarytree-rounds.sh 21 5 region malloc     # regions against malloc
#   Benchmarks/Tools/binarytree-rounds.sh 18 21 malloc ground    # the interposer outside regions
#
# Configurations: region (`binarytree N --mode region`), malloc (`binarytree N --mode malloc`,
# Regions linked) and ground (`binarytree-ground N`: the same source built without Regions).
# Elapsed is the program's own figure (standard error); user and system seconds come from
# /usr/bin/time. On a shared machine, wrap the whole run in `flock /work/bench.lock …`.
set -euo pipefail
cd "$(dirname "$0")/../.."
depth=${1:?depth}
rounds=${2:?rounds}
shift 2
configs=("$@")
(( ${#configs[@]} >= 1 )) || { echo "name at least one configuration" >&2; exit 2; }

command_for() {
  case $1 in
    region) echo ".build/release/binarytree $depth --mode region" ;;
    malloc) echo ".build/release/binarytree $depth --mode malloc" ;;
    ground) echo ".build/release/binarytree-ground $depth --mode malloc" ;;
    *) echo "unknown configuration $1 (region, malloc, ground)" >&2; exit 2 ;;
  esac
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
count=${#configs[@]}
echo "round configuration elapsed user system maxrss_kb"
for round in $(seq "$rounds"); do
  for step in $(seq 0 $((count - 1))); do
    config=${configs[$(((step + round) % count))]}
    output=$({ /usr/bin/time -f "TIME %U %S %M" $(command_for "$config") > /dev/null; } 2>&1)
    elapsed=$(sed -n 's/^elapsed \([0-9.]*\) s.*/\1/p' <<< "$output")
    times=$(sed -n 's/^TIME //p' <<< "$output")
    echo "$round $config $elapsed $times" | tee -a "$results"
  done
done

echo
awk -v first="${configs[0]}" -v order="${configs[*]}" '
  function median(list, n,   i, j, t, a) {
    split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { runs[$2] = runs[$2] " " $3; n[$2]++; at[$1, $2] = $3
    if (!($2 in best) || $3 < best[$2]) best[$2] = $3; maxround = $1 }
  END {
    base = median(runs[first], n[first])
    printf "%-8s %5s %10s %10s %16s %16s\n", "config", "runs", "median s", "fastest s", "÷ " first " (med)", "per-round ratio"
    split(order, names, " ")
    for (k = 1; k in names; k++) {
      c = names[k]; m = median(runs[c], n[c]); ratios = ""; r = 0
      for (i = 1; i <= maxround; i++) if ((i, c) in at && (i, first) in at) { ratios = ratios " " at[i, c] / at[i, first]; r++ }
      printf "%-8s %5d %10.3f %10.3f %16.3f %16.3f\n", c, n[c], m, best[c], m / base, median(ratios, r)
    }
  }' "$results"
