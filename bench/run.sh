#!/usr/bin/env bash
# bmcwall against Aerleon on the same generated policies: compile time and peak
# memory, size of the output, rules per packet, nft load time, check latency, and
# (bench/throughput.sh) forwarding through a gateway. Prints Markdown tables.
#
#   bench/run.sh                  # full run (about 10 minutes on 2 CPUs)
#   QUICK=1 bench/run.sh          # 100x10 and 1000x100, short throughput run
#   SIZES="1000x100 5000x500" THROUGHPUT=0 bench/run.sh
#
# From a clean clone it builds target/release/bmcwall and creates bench/.venv with
# the Aerleon pinned in bench/requirements-aerleon.txt (see bench/setup.sh). Needs
# python3 (with venv), cargo, /usr/bin/time, and for the kernel parts root, ip and
# nft (loads happen in namespaces named bwb<pid>..., deleted on exit); hyperfine is
# used for the check latency when installed.
#
# Environment:
#   SIZES       BMCSxRULES[:nolog] ... (default: 100x10 1000x100 5000x500 10000x1000
#               10000x2000 10000x1000:nolog; :nolog writes the final deny without `log`
#               on both sides)
#   QUICK=1     SIZES=100x10 1000x100, REPEAT=1, throughput on 1000x1000 for 2 s x 1
#   REPEAT      runs per compile (fastest time, largest peak shown; default 3); a
#               command is not repeated once its runs took BUDGET seconds (default 60)
#   TIMEOUT     seconds per command before it is killed (default 600)
#   LOAD=0      skip the nft load times; THROUGHPUT=0 skip bench/throughput.sh
#   THROUGHPUT_SIZE, DURATION, THROUGHPUT_REPEAT   passed to throughput.sh as SIZE,
#               DURATION, REPEAT (defaults 10000x1000, 5, 3)
#   CHECK_SIZE  policy for the check latency (default 2000x120: a 311-line policy
#               with a 2,000-entry inventory)
#   GEN_ARGS    more generate.py options for every policy, e.g. "--ipv6-share 0.5
#               --admin-groups 20" (also passed on to throughput.sh)
#   SEED, TODAY, BMCWALL, ACLGEN, KEEP=1   as in bench/compile.sh and bench/setup.sh
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/setup.sh
source "$here/setup.sh"

if [[ "${QUICK:-0}" == 1 ]]; then
    SIZES=${SIZES:-"100x10 1000x100"}
    REPEAT=${REPEAT:-1}
    THROUGHPUT_SIZE=${THROUGHPUT_SIZE:-1000x1000}
    DURATION=${DURATION:-2}
    THROUGHPUT_REPEAT=${THROUGHPUT_REPEAT:-1}
fi
SIZES=${SIZES:-"100x10 1000x100 5000x500 10000x1000 10000x2000 10000x1000:nolog"}
REPEAT=${REPEAT:-3}
BUDGET=${BUDGET:-60}
TIMEOUT=${TIMEOUT:-600}
SEED=${SEED:-1}
TODAY=${TODAY:-2026-11-21}
read -r -a gen_args <<<"${GEN_ARGS:-}"
CHECK_SIZE=${CHECK_SIZE:-2000x120}
THROUGHPUT_SIZE=${THROUGHPUT_SIZE:-10000x1000}
DURATION=${DURATION:-5}
THROUGHPUT_REPEAT=${THROUGHPUT_REPEAT:-3}

kernel=1
if [[ $(id -u) != 0 ]] || ! command -v nft >/dev/null || ! command -v ip >/dev/null; then
    echo "not root or no nft/ip: skipping nft load times and throughput" >&2
    kernel=0
fi
[[ "${LOAD:-1}" == 0 ]] && load=0 || load=$kernel

work=$(mktemp -d "${TMPDIR:-/tmp}/bmcwall-run.XXXXXX")
cleanup() {
    bench_netns_cleanup
    if [[ "${KEEP:-0}" == 1 ]]; then echo "work directory: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
bench_setup || exit 1

# measure NAME OUTDIR CMD...: runs CMD up to REPEAT times (not again once BUDGET
# seconds are spent), emptying OUTDIR before each run; sets M_SEC (fastest), M_KIB
# (largest peak RSS) and M_RC (exit code of the last run, "timeout" or signalN).
measure() {
    local name=$1 outdir=$2; shift 2
    local best="" peak=0 spent=0 i sec kib rc
    for ((i = 1; i <= REPEAT; i++)); do
        if [[ -n "$outdir" ]]; then rm -rf "$outdir"; mkdir -p "$outdir"; fi
        read -r sec kib rc < <(python3 "$here/measure.py" --timeout "$TIMEOUT" \
            --stdout "$work/$name.stdout" --stderr "$work/$name.stderr" -- "$@")
        M_RC=$rc
        if [[ -z "$best" ]] || awk "BEGIN{exit !($sec < $best)}"; then best=$sec; fi
        ((kib > peak)) && peak=$kib
        [[ "$rc" == 0 ]] || break
        spent=$(awk "BEGIN{print $spent + $sec}")
        awk "BEGIN{exit !($spent >= $BUDGET)}" && break
    done
    M_SEC=$best; M_KIB=$peak
}

# cell: "1.23 s, 45 MiB" for the last measure, or what went wrong.
cell() {
    local mib
    mib=$(awk "BEGIN{printf \"%.0f\", $M_KIB / 1024}")
    case "$M_RC" in
        0) printf '%s s, %s MiB' "$M_SEC" "$mib" ;;
        timeout) printf '> %s s (timeout)' "$TIMEOUT" ;;
        *) printf 'exit %s after %s s' "$M_RC" "$M_SEC" ;;
    esac
}

# ratio A B: "12.3x", or "-" unless both are plain positive numbers.
ratio() {
    [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] || { echo "-"; return; }
    awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1fx", a / b; else print "-" }'
}
human() { awk -v b="$1" 'BEGIN{ if (b >= 1048576) printf "%.1f MiB", b/1048576; else if (b >= 1024) printf "%.0f KiB", b/1024; else printf "%d B", b }'; }
field() { sed -nE "s/.*$1=([0-9]+).*/\1/p" <<<"$2"; }

# load FILE: seconds for `nft -f FILE` in a fresh namespace, or what went wrong.
nsid=0
load_time() {
    local file=$1 ns="bwb$$l$((nsid++))" sec kib rc
    bench_netns "$ns" || { echo "netns failed"; return; }
    read -r sec kib rc < <(python3 "$here/measure.py" --timeout "$TIMEOUT" \
        --stderr "$work/load.stderr" -- ip netns exec "$ns" nft -f "$file")
    bench_netns_del "$ns"
    case "$rc" in
        0) echo "$sec" ;;
        timeout) echo "> $TIMEOUT" ;;
        *) echo "failed: $(head -c 120 "$work/load.stderr" | tr '\n' ' ')" ;;
    esac
}

machine="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), \
$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r), \
$(nft --version 2>/dev/null || echo 'no nft'), $("$BMCWALL" --version), Aerleon $AERLEON_VERSION \
(Python $("$(dirname "$ACLGEN")/python" -c 'import platform; print(platform.python_version())'))"
bench_log "$machine"

declare -a compile_rows output_rows load_rows
for spec in $SIZES; do
    size=${spec%%:*}; bmcs=${size%x*}; rules=${size#*x}
    extra=()
    [[ "$spec" == *:nolog ]] && extra=(--no-final-log)
    d="$work/$spec"
    bench_log "$spec: generating"
    if ! python3 "$here/generate.py" --bmcs "$bmcs" --rules "$rules" --seed "$SEED" "${extra[@]}" \
            "${gen_args[@]}" --aerleon --out "$d" 2>"$work/gen.log"; then
        compile_rows+=("| $spec | generator failed: $(tail -1 "$work/gen.log") |")
        continue
    fi
    terms=$(sed -nE 's/.*, ([0-9]+) Aerleon terms/\1/p' "$work/gen.log")
    lines=$(wc -l <"$d/policy.wall")

    bench_log "$spec: bmcwall compile --layout sets"
    measure sets "" "$BMCWALL" compile "$d/policy.wall" --today "$TODAY" --layout sets -o "$d/sets.nft"
    sets_cell=$(cell); sets_sec=$M_SEC; sets_kib=$M_KIB; sets_rc=$M_RC
    bench_log "$spec: bmcwall compile --layout rules"
    measure rules "" "$BMCWALL" compile "$d/policy.wall" --today "$TODAY" --layout rules -o "$d/rules.nft"
    rules_cell=$(cell); rules_sec=$M_SEC; rules_rc=$M_RC
    bench_log "$spec: aclgen"
    bench_aclgen_cmd "$d" "$d/aerleon-out"
    measure aclgen "$d/aerleon-out" "${ACLGEN_CMD[@]}"
    aer_cell=$(cell); aer_sec=$M_SEC; aer_kib=$M_KIB; aer_rc=$M_RC
    [[ "$aer_rc" == 0 && ! -s "$d/aerleon-out/policy.nft" ]] && { aer_rc=empty; aer_cell="no output: $(tail -1 "$work/aclgen.stderr")"; }
    if [[ "$aer_rc" == timeout ]]; then
        t_ratio="> $(ratio "$TIMEOUT" "$sets_sec")"; m_ratio="-"
    elif [[ "$aer_rc" == 0 && "$sets_rc" == 0 ]]; then
        t_ratio=$(ratio "$aer_sec" "$sets_sec"); m_ratio=$(ratio "$aer_kib" "$sets_kib")
    else
        t_ratio="-"; m_ratio="-"
    fi
    compile_rows+=("| $spec | $lines lines; $rules rules, $terms terms | $sets_cell | $rules_cell | $aer_cell | $t_ratio | $m_ratio |")

    declare -A st=() sz=()
    for out in sets rules aerleon; do
        f="$d/$out.nft"; [[ "$out" == aerleon ]] && f="$d/aerleon-out/policy.nft"
        if [[ -s "$f" ]]; then
            st[$out]=$(python3 "$here/nftstats.py" "$f"); sz[$out]=$(stat -c %s "$f")
        else
            st[$out]=""; sz[$out]=""
        fi
    done
    row="| $spec"
    for what in rules worst elements; do
        a=$(field "$what" "${st[sets]}"); b=$(field "$what" "${st[rules]}"); c=$(field "$what" "${st[aerleon]}")
        row+=" | ${a:--} / ${b:--} / ${c:--}"
        [[ "$what" != elements ]] && row+=" | $(ratio "$c" "$a") / $(ratio "$c" "$b")"
    done
    row+=" | $(human "${sz[sets]:-0}") / $(human "${sz[rules]:-0}") / $(human "${sz[aerleon]:-0}") |"
    output_rows+=("$row")

    if [[ "$load" == 1 ]]; then
        bench_log "$spec: nft -f in fresh namespaces"
        ls_=$( [[ -s "$d/sets.nft" ]] && load_time "$d/sets.nft" || echo -)
        lr_=$( [[ -s "$d/rules.nft" ]] && load_time "$d/rules.nft" || echo -)
        la_=$( [[ -s "$d/aerleon-out/policy.nft" ]] && load_time "$d/aerleon-out/policy.nft" || echo -)
        load_rows+=("| $spec | $ls_ s | $lr_ s | $la_ s | $(ratio "$la_" "$ls_") / $(ratio "$la_" "$lr_") |")
    fi
    [[ "${KEEP:-0}" == 1 ]] || rm -rf "$d"
done

# check latency: process start included, as a pre-commit hook sees it.
cbmcs=${CHECK_SIZE%x*}; crules=${CHECK_SIZE#*x}
cdir="$work/check-$CHECK_SIZE"
python3 "$here/generate.py" --bmcs "$cbmcs" --rules "$crules" --seed "$SEED" "${gen_args[@]}" --out "$cdir" 2>/dev/null
clines=$(wc -l <"$cdir/policy.wall")
centries=$(grep -c '^  - name:' "$cdir"/inventory/*.yaml | awk -F: '{s += $2} END {print s}')
"$BMCWALL" check "$cdir/policy.wall" --today "$TODAY" --color never >/dev/null 2>"$work/check.err"
check_rc=$?
bench_log "check latency ($clines lines, $centries inventory entries)"
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 5 --runs 50 --export-json "$work/check.json" \
        "$BMCWALL check $cdir/policy.wall --today $TODAY --color never" >/dev/null 2>&1
    check_line=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(r["times"])
print("| %.1f ms | %.1f ms | %.1f ms | %.1f ms | hyperfine, %d runs |" % (
    r["mean"] * 1e3, r["stddev"] * 1e3, r["median"] * 1e3, t[0] * 1e3, len(t)))' "$work/check.json")
else
    check_line=$(for _ in $(seq 30); do
        python3 "$here/measure.py" -- "$BMCWALL" check "$cdir/policy.wall" --today "$TODAY" --color never
    done | awk '{print $1 * 1000}' | sort -g | awk '{v[NR]=$1; s+=$1} END {
        m = s / NR; for (i = 1; i <= NR; i++) d += (v[i] - m)^2;
        printf "| %.1f ms | %.1f ms | %.1f ms | %.1f ms | loop, %d runs |\n", m, sqrt(d / NR), v[int((NR+1)/2)], v[1], NR }')
fi

throughput=""
if [[ "$kernel" == 1 && "${THROUGHPUT:-1}" != 0 ]]; then
    bench_log "throughput ($THROUGHPUT_SIZE)"
    throughput=$(SIZE=$THROUGHPUT_SIZE DURATION=$DURATION REPEAT=$THROUGHPUT_REPEAT SEED=$SEED TODAY=$TODAY \
        GEN_ARGS=${GEN_ARGS:-} \
        BMCWALL=$BMCWALL ACLGEN=$ACLGEN "$here/throughput.sh") \
        || throughput="throughput.sh failed (exit $?)"
fi

echo
echo "Machine: $machine."
echo "Run: $(date -u +%Y-%m-%d), $(cd "$bench_root" && git rev-parse --short HEAD 2>/dev/null || echo '?');" \
     "seed $SEED, --today $TODAY;${GEN_ARGS:+ generate.py $GEN_ARGS;} $(( $(date +%s) - started )) s in all."
echo
echo "### Compile: time and peak memory (fastest of up to $REPEAT runs)"
echo
echo "| size (BMCs x rules) | policy | bmcwall --layout sets | bmcwall --layout rules | Aerleon aclgen | time Aerleon / sets | memory Aerleon / sets |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${compile_rows[@]}"
echo
echo "### Output: sets / rules / Aerleon"
echo
echo "| size | nft rules | ratio Aerleon / sets, / rules | rules met by an unmatched new packet | ratio Aerleon / sets, / rules | set elements | file size |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${output_rows[@]}"
if [[ "$load" == 1 ]]; then
    echo
    echo "### nft -f load time (fresh namespace each)"
    echo
    echo "| size | bmcwall sets | bmcwall rules | Aerleon | ratio Aerleon / sets, / rules |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${load_rows[@]}"
fi
echo
echo "### check latency, process start included ($CHECK_SIZE: $clines-line policy, $centries inventory entries; exit $check_rc)"
echo
echo "| mean | stddev | median | min | how |"
echo "|---|---|---|---|---|"
echo "$check_line"
if [[ -n "$throughput" ]]; then
    echo
    echo "### Forwarding (bench/throughput.sh)"
    echo "$throughput"
fi
