#!/usr/bin/env bash
# Forwarding through a gateway namespace under each ruleset, for one generated
# policy: no ruleset, a minimal stateful ruleset (connection tracking only),
# bmcwall's `sets` and `rules` layouts (and `sets` with `--no-record`), and
# Aerleon's output for the same policy.
#
#   bench/throughput.sh                   # 10000 BMCs x 1000 rules
#   SIZE=1000x1000 DURATION=3 REPEAT=1 bench/throughput.sh
#
# Each ruleset gets its own three namespaces (source -> gateway -> destination,
# joined by veth pairs, as in tests/it/harness), loaded once; the measurements then
# take turns across the rulesets, REPEAT rounds, and the table shows medians:
#
#   * iperf3: one TCP stream for DURATION seconds, Gbit/s at the receiver. After the
#     first packet the gateway accepts the stream as established, so this mostly
#     measures connection tracking, not the rule list;
#   * connections/s: short TCP connections (bench/connrate.c, THREADS client
#     threads, each connection reset as soon as it is open). Every SYN is a new
#     flow and walks the ruleset;
#   * denied SYNs/s: a flood of SYNs to a denied port from the probe's source
#     (bench/connrate.c flood, a new source port each), counted at the gateway by
#     the table's `no_rule_matched` counter (bmcwall tables only): the cost of
#     dropping and recording them.
#
# The probe flow comes from the generated model (DIR/late-flow.txt): a partner
# network to a BMC on tcp 443, allowed by the partner rule that follows every
# generated allow, so in Aerleon's output it meets nearly every term's chain.
# `bmcwall explain` confirms the decision before anything is measured, and each
# gateway must drop the same source on tcp 22 (not allowed).
#
# Environment: SIZE (BMCSxRULES, default 10000x1000), DURATION (seconds per
# measurement, default 5), REPEAT (rounds, default 3), THREADS (client threads,
# default 2), SEED (default 1), TODAY (default 2026-11-21), CONFIGS (the rulesets,
# default "none conntrack sets sets-norecord rules aerleon"), GEN_ARGS (more
# generate.py options), BMCWALL, ACLGEN (see
# bench/setup.sh), KEEP=1 keeps the work directory. Needs root, ip, nft, iperf3
# (`apt-get install -y iperf3`) and a C compiler. Everything runs in namespaces
# named bwb<pid>...; they are deleted on exit, also on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/setup.sh
source "$here/setup.sh"

SIZE=${SIZE:-10000x1000}
DURATION=${DURATION:-5}
REPEAT=${REPEAT:-3}
THREADS=${THREADS:-2}
SEED=${SEED:-1}
TODAY=${TODAY:-2026-11-21}
read -r -a gen_args <<<"${GEN_ARGS:-}"
read -r -a configs <<<"${CONFIGS:-none conntrack sets sets-norecord rules aerleon}"
[[ " ${configs[*]} " == *" aerleon "* ]] || export BENCH_ACLGEN=0

for tool in ip nft iperf3 cc python3; do
    command -v "$tool" >/dev/null || { echo "throughput.sh needs $tool${tool/iperf3/ (apt-get install -y iperf3)}" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "throughput.sh needs root (network namespaces)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bmcwall-throughput.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    bench_netns_cleanup
    if [[ "${KEEP:-0}" == 1 ]]; then echo "work directory: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_setup

bmcs=${SIZE%x*}; rules=${SIZE#*x}
dir="$work/policy"
bench_log "generating $SIZE"
python3 "$here/generate.py" --bmcs "$bmcs" --rules "$rules" --seed "$SEED" "${gen_args[@]}" --aerleon --out "$dir" 2>"$work/gen.log" \
    || { cat "$work/gen.log" >&2; exit 1; }
read -r SRC DST PROTO PORT RULE <"$dir/late-flow.txt"

explain=$("$BMCWALL" explain "$dir/policy.wall" --today "$TODAY" --from "$SRC" --to "$DST" --proto "$PROTO" --port "$PORT")
grep -q "decision: allow by rule $RULE\$" <<<"$explain" \
    || { echo "the probe flow is not allowed by rule $RULE:" >&2; echo "$explain" >&2; exit 1; }
where=$(grep -o -m1 'policy\.wall:[0-9]*:' <<<"$explain")   # the deciding rule's location
# explain exits 1 for a denied flow.
denied=$("$BMCWALL" explain "$dir/policy.wall" --today "$TODAY" --from "$SRC" --to "$DST" --proto tcp --port 22) || true
grep -q "decision: deny" <<<"$denied" || { echo "tcp 22 is not denied:" >&2; echo "$denied" >&2; exit 1; }

bench_log "compiling (${configs[*]})"
"$BMCWALL" compile "$dir/policy.wall" --today "$TODAY" --layout sets -o "$work/sets.nft"
"$BMCWALL" compile "$dir/policy.wall" --today "$TODAY" --layout sets --no-record -o "$work/sets-norecord.nft"
"$BMCWALL" compile "$dir/policy.wall" --today "$TODAY" --layout rules -o "$work/rules.nft"
if [[ "${BENCH_ACLGEN:-1}" != 0 ]]; then
    bench_aclgen_cmd "$dir" "$work/aerleon"
    "${ACLGEN_CMD[@]}" >"$work/aclgen.log" 2>&1 || { tail -20 "$work/aclgen.log" >&2; exit 1; }
    cp "$work/aerleon/policy.nft" "$work/aerleon.nft"
fi
cat >"$work/conntrack.nft" <<'EOF'
table inet conntrack_only {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		ct state invalid drop
		accept
	}
}
EOF
: >"$work/none.nft"

cc -O2 -pthread -o "$work/connrate" "$here/connrate.c"

declare -A label=([none]="no ruleset" [conntrack]="connection tracking only"
                  [sets]="bmcwall --layout sets" [sets-norecord]="bmcwall --layout sets --no-record"
                  [rules]="bmcwall --layout rules" [aerleon]="Aerleon ${AERLEON_VERSION:-}")

# lab I CONFIG: namespaces bwb<pid>c<I>{s,g,d}; the ruleset goes into the gateway.
lab() {
    local i=$1 cfg=$2 p="bwb$$c$1"
    local s="${p}s" g="${p}g" d="${p}d"
    bench_netns "$s"; bench_netns "$g"; bench_netns "$d"
    ip -n "$g" link add gs type veth peer name sg netns "$s"
    ip -n "$g" link add gd type veth peer name dg netns "$d"
    ip netns exec "$g" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0
    ip -n "$s" addr add 169.254.1.1/30 dev sg
    ip -n "$g" addr add 169.254.1.2/30 dev gs
    ip -n "$g" addr add 169.254.2.1/30 dev gd
    ip -n "$d" addr add 169.254.2.2/30 dev dg
    ip -n "$s" addr add "$SRC/32" dev lo
    ip -n "$d" addr add "$DST/32" dev lo
    local ns dev
    for ns_dev in "$s:sg" "$g:gs" "$g:gd" "$d:dg"; do
        ns=${ns_dev%%:*}; dev=${ns_dev#*:}
        ip -n "$ns" link set "$dev" up
    done
    ip -n "$s" route add default via 169.254.1.2 dev sg src "$SRC"
    ip -n "$d" route add default via 169.254.2.1 dev dg src "$DST"
    ip -n "$g" route add "$SRC/32" via 169.254.1.1 dev gs
    ip -n "$g" route add "$DST/32" via 169.254.2.2 dev gd
    local start end
    start=$(date +%s.%N)
    ip netns exec "$g" nft -f "$work/$cfg.nft"
    end=$(date +%s.%N)
    bench_log "  ${label[$cfg]}: loaded in $(awk "BEGIN{printf \"%.2f\", $end - $start}") s"
}

# reachable NS PORT: 0 when a TCP connection to DST:PORT opens within 2 s (or is
# refused: the gateway forwarded it), 1 when it times out (dropped).
reachable() {
    local out
    out=$(ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$DST/$2" 2>&1) && return 0
    [[ "$out" == *"refused"* ]]
}

bench_log "setting up ${#configs[@]} labs (source, gateway, destination)"
for i in "${!configs[@]}"; do lab "$i" "${configs[$i]}"; done

# counted NS: the packets of every named counter of bmcwall's table.
counted() {
    ip netns exec "$1" nft -j list counters table inet bmcwall \
        | python3 -c 'import json,sys; print(sum(o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o))'
}

declare -A gbits conns dropped flooded
for i in "${!configs[@]}"; do
    cfg=${configs[$i]}; p="bwb$$c$i"
    reachable "${p}s" "$PORT" \
        || { echo "${label[$cfg]}: the probe flow $SRC -> $DST tcp $PORT is not forwarded" >&2; exit 1; }
    if [[ "$cfg" != none && "$cfg" != conntrack ]]; then
        ! reachable "${p}s" 22 || { echo "${label[$cfg]}: tcp 22 is forwarded" >&2; exit 1; }
    fi
    gbits[$cfg]=""; conns[$cfg]=""; dropped[$cfg]=""; flooded[$cfg]=""
done

for ((round = 1; round <= REPEAT; round++)); do
    for i in "${!configs[@]}"; do
        cfg=${configs[$i]}; p="bwb$$c$i"
        bench_log "round $round/$REPEAT: ${label[$cfg]}"
        ip netns exec "${p}d" iperf3 -s -1 -B "$DST" -p "$PORT" >/dev/null 2>&1 &
        pids+=($!)
        for _ in $(seq 50); do
            ip netns exec "${p}d" ss -Hltn "sport = :$PORT" | grep -q . && break
            sleep 0.1
        done
        ip netns exec "${p}s" iperf3 -c "$DST" -B "$SRC" -p "$PORT" -t "$DURATION" -J >"$work/iperf.json" \
            || { echo "iperf3 failed under ${label[$cfg]}" >&2; exit 1; }
        wait "${pids[-1]}" 2>/dev/null || true
        unset 'pids[-1]'
        g=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$work/iperf.json")
        gbits[$cfg]+="$g "

        ip netns exec "${p}d" "$work/connrate" serve "$DST" "$PORT" &
        pids+=($!)
        sleep 0.3
        read -r n secs failed < <(ip netns exec "${p}s" "$work/connrate" connect "$SRC" "$DST" "$PORT" "$DURATION" "$THREADS")
        kill "${pids[-1]}" 2>/dev/null || true
        wait "${pids[-1]}" 2>/dev/null || true
        unset 'pids[-1]'
        c=$(awk "BEGIN{printf \"%.0f\", $n / $secs}")
        conns[$cfg]+="$c "
        bench_log "  $g Gbit/s, $c connections/s ($failed failed)"
        if [[ "$cfg" == sets* || "$cfg" == rules ]]; then
            before=$(counted "${p}g")
            read -r sent fsecs < <(ip netns exec "${p}s" "$work/connrate" flood "$SRC" "$DST" 22 "$DURATION")
            after=$(counted "${p}g")
            d=$(awk "BEGIN{printf \"%.0f\", ($after - $before) / $fsecs}")
            f=$(awk "BEGIN{printf \"%.0f\", $sent / $fsecs}")
            dropped[$cfg]+="$d "; flooded[$cfg]+="$f "
            bench_log "  $d denied SYNs/s counted of $f/s sent"
        fi
    done
done

median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{v[NR]=$1} END{ if (NR % 2) print v[(NR+1)/2]; else printf "%.6g\n", (v[NR/2]+v[NR/2+1])/2 }'; }
range() { tr ' ' '\n' | { grep . || true; } | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END { if (NR > 1) printf " (%s-%s)", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }'; }

base_g=$(median <<<"${gbits[none]:-}"); base_c=$(median <<<"${conns[none]:-}")
echo
echo "Forwarding, policy $SIZE (${rules} rules), probe flow $SRC -> $DST $PROTO $PORT decided by rule $RULE of $rules;"
echo "medians of $REPEAT rounds of ${DURATION} s (lowest-highest in brackets); $(nproc) CPUs shared by sender, gateway and receiver."
echo
echo "| ruleset | nft rules | rules the probe's SYN meets | rules met by an unmatched new packet | iperf3 TCP (Gbit/s) | vs no ruleset | new connections/s | vs no ruleset | denied SYNs/s (sent/s) |"
echo "|---|---|---|---|---|---|---|---|---|"
# The rule that accepts the probe's SYN in each ruleset (an IPv4 flow: both tools
# write a rule's IPv4 match before its IPv6 one).
declare -A accepts=([conntrack]='^accept$' [sets]='ip [sd]addr vmap @(sources|destinations)_v4'
                    [sets-norecord]='ip [sd]addr vmap @(sources|destinations)_v4'
                    [rules]="${where//./\\.}" [aerleon]="^jump rule$RULE(-tcp)?\$")
for cfg in "${configs[@]}"; do
    if [[ "$cfg" == none ]]; then nrules=0; worst=0; met=0
    else
        stats=$(python3 "$here/nftstats.py" "$work/$cfg.nft" --until "${accepts[$cfg]}") \
            || stats=$(python3 "$here/nftstats.py" "$work/$cfg.nft")
        nrules=$(sed -E 's/.*rules=([0-9]+).*/\1/' <<<"$stats"); worst=$(sed -E 's/.*worst=([0-9]+).*/\1/' <<<"$stats")
        met=$(sed -nE 's/.*until=([0-9]+).*/\1/p' <<<"$stats")
    fi
    g=$(median <<<"${gbits[$cfg]}"); c=$(median <<<"${conns[$cfg]}")
    if [[ -n "${dropped[$cfg]}" ]]; then
        flood="$(median <<<"${dropped[$cfg]}")$(range <<<"${dropped[$cfg]}") ($(median <<<"${flooded[$cfg]}"))"
    else flood="-"; fi
    echo "| ${label[$cfg]} | $nrules | ${met:--} | $worst | $g$(range <<<"${gbits[$cfg]}") | $(ratio "$g" "$base_g") | $c$(range <<<"${conns[$cfg]}") | $(ratio "$c" "$base_c") | $flood |"
done
