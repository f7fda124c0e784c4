#!/usr/bin/env bash
# Fleet benchmark: a policy of BMCS BMCs and RULES rules spread over GATEWAYS
# sites, each behind a gateway of its own (bench/generate.py --gateways).
# Times `bmcwall compile --all -o DIR` (the fastest of REPEAT runs, with its
# peak memory) and compares the largest gateway's table with what its own
# share of the policy gives alone: the same policy with only that site's
# inventory and no gateways, compiled as one table.
#
#   bench/fleet.sh                         # 10,000 BMCs, 1,000 rules, 50 gateways
#   BMCS=2000 RULES=200 GATEWAYS=10 bench/fleet.sh
#
# Environment: BMCS, RULES, GATEWAYS, SEED (1), REPEAT (3), BMCWALL (a binary
# instead of building target/release/bmcwall), TODAY (2026-11-21), KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
BMCS=${BMCS:-10000}
RULES=${RULES:-1000}
GATEWAYS=${GATEWAYS:-50}
SEED=${SEED:-1}
REPEAT=${REPEAT:-3}
TODAY=${TODAY:-2026-11-21}
if [[ -z "${BMCWALL:-}" ]]; then
    (cd "$root" && cargo build --release --quiet)
    BMCWALL="$root/target/release/bmcwall"
fi
work=$(mktemp -d)
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$work"' EXIT; else echo "work directory: $work" >&2; fi

python3 "$here/generate.py" --bmcs "$BMCS" --rules "$RULES" --gateways "$GATEWAYS" \
    --seed "$SEED" --out "$work/fleet" >&2
best=""
for _ in $(seq "$REPEAT"); do
    run=$(python3 "$here/measure.py" -- "$BMCWALL" compile "$work/fleet/policy.wall" \
        --all -o "$work/out" --today "$TODAY")
    read -r seconds peak status <<<"$run"
    [[ "$status" == 0 ]] || { echo "compile --all exited $status" >&2; exit 1; }
    if [[ -z "$best" ]] || python3 -c "import sys; sys.exit(not $seconds < ${best%% *})"; then
        best="$seconds $peak"
    fi
done

# The largest gateway's table, and its site's share alone.
read -r largest site elements < <(python3 - "$work/out/manifest.json" <<'PY'
import json, sys
gateways = json.load(open(sys.argv[1]))["gateways"]
g = max(gateways, key=lambda g: (g["elements"], g["gateway"]))
print(g["gateway"], g["gateway"].removeprefix("gw-"), g["elements"])
PY
)
grep -v '^inventory "inventory/\|^gateway ' "$work/fleet/policy.wall" \
    | sed "s|^internal \(.*\);|internal \1;\ninventory \"inventory/$site.yaml\";|" > "$work/fleet/share.wall"
# Alone, the share's selectors of other sites match nothing (BW008), some
# definitions go unused (BW303) and the staff expectations see fewer BMCs.
"$BMCWALL" compile "$work/fleet/share.wall" -o "$work/share.nft" --today "$TODAY" -q \
    --allow BW008 --allow BW303 --allow BW401 2>/dev/null
alone=$(awk '/^\t\t\t/ { n++ } END { print n + 0 }' "$work/share.nft")

read -r seconds peak <<<"$best"
echo "| fleet | compile --all | peak | largest gateway | its elements | its share alone | ratio |"
echo "|---|---:|---:|---|---:|---:|---:|"
python3 -c "print(f'| {$BMCS} BMCs, {$RULES} rules, {$GATEWAYS} gateways | {float($seconds)*1000:.0f} ms | {int($peak)//1024} MiB | $largest | {$elements:,} | {$alone:,} | {$elements/$alone:.2f}x |')"
