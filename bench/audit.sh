#!/usr/bin/env bash
# Audit benchmark: the table of a policy of BMCS BMCs (bench/generate.py)
# loaded in a network namespace of its own, its BMC egress set filled to its
# size (65,536 elements: BMCs calling DNS servers on the internet) and listed
# with `nft -j list table`; then `bmcwall audit --live` and `bmcwall usage
# --live` of that listing, the fastest of REPEAT runs with peak memory.
#
#   sudo bench/audit.sh                  # 10,000 BMCs, 100 rules
#   BMCS=2000 RULES=50 sudo bench/audit.sh
#
# Environment: BMCS, RULES, SEED (1), REPEAT (5), ELEMENTS (65536), BMCWALL
# (a binary instead of building target/release/bmcwall), TODAY (2026-11-21),
# KEEP=1 (keep the work directory).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
BMCS=${BMCS:-10000}
RULES=${RULES:-100}
SEED=${SEED:-1}
REPEAT=${REPEAT:-5}
ELEMENTS=${ELEMENTS:-65536}
TODAY=${TODAY:-2026-11-21}
if [[ -z "${BMCWALL:-}" ]]; then
    (cd "$root" && cargo build --release --quiet)
    BMCWALL="$root/target/release/bmcwall"
fi
work=$(mktemp -d)
ns="bwaudit$$"
cleanup() {
    ip netns delete "$ns" 2>/dev/null || true
    if [[ -z "${KEEP:-}" ]]; then rm -rf "$work"; else echo "work directory: $work" >&2; fi
}
trap cleanup EXIT
ip netns add "$ns"

python3 "$here/generate.py" --bmcs "$BMCS" --rules "$RULES" --seed "$SEED" \
    --out "$work/site" >&2
policy="$work/site/policy.wall"
"$BMCWALL" compile "$policy" -o "$work/table.nft" --today "$TODAY"
ip netns exec "$ns" nft -f "$work/table.nft"
# ELEMENTS flows from the BMCs' IPv4 addresses (cycled) to as many internet
# addresses, each with its counter, as the packet path would add them.
python3 - "$work/table.nft" "$ELEMENTS" >"$work/fill.nft" <<'PY'
import ipaddress, re, sys
text = open(sys.argv[1]).read()
block = re.search(r"set recorded_bmcs_v4 \{.*?elements = \{(.*?)\}", text, re.S).group(1)
bmcs = []
for item in block.replace("\n", " ").split(","):
    item = item.strip()
    if "-" in item:
        lo, hi = (ipaddress.ip_address(x.strip()) for x in item.split("-"))
        bmcs.extend(ipaddress.ip_address(a) for a in range(int(lo), int(hi) + 1))
    elif "/" in item:
        bmcs.extend(ipaddress.ip_network(item).hosts())
    elif item:
        bmcs.append(ipaddress.ip_address(item))
count = int(sys.argv[2])
base = int(ipaddress.ip_address("198.18.0.0"))
print("add element inet bmcwall denied_from_bmcs_ports_v4 {")
print(",\n".join(
    f"  {bmcs[i % len(bmcs)]} . {ipaddress.ip_address(base + i)} . udp . 53 counter packets 1 bytes 60 expires 3600s"
    for i in range(count)))
print("}")
PY
ip netns exec "$ns" nft -f "$work/fill.nft"
ip netns exec "$ns" nft -j list table inet bmcwall >"$work/live.json"
echo "listing: $(du -h "$work/live.json" | cut -f1), $ELEMENTS recorded elements" >&2
for command in audit usage; do
    best=""
    for _ in $(seq "$REPEAT"); do
        run=$(python3 "$here/measure.py" -- "$BMCWALL" "$command" "$policy" \
            --live "$work/live.json" --format json --today "$TODAY")
        read -r seconds peak status <<<"$run"
        [[ "$status" == 0 || "$status" == 1 ]] || { echo "$command exited $status" >&2; exit 1; }
        if [[ -z "$best" ]] || python3 -c "import sys; sys.exit(not $seconds < ${best%% *})"; then
            best="$seconds $peak"
        fi
    done
    read -r seconds peak <<<"$best"
    echo "$command: ${seconds} s, peak $((peak / 1024)) MiB (fastest of $REPEAT)"
done
