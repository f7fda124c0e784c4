#!/usr/bin/env bash
# Scale benchmark: generate policies of growing size, time `bmcwall check` and
# `bmcwall compile` (nft text and JSON), and print a Markdown table.
#
#   bench/compile.sh                      # default sizes
#   SIZES="1000x100 5000x500" bench/compile.sh
#   SIZES="10000x1000:nolog" bench/compile.sh   # final deny without `log`
#
# Environment:
#   SIZES      BMCSxRULES[:nolog] ...   (default: 100x10 1000x100 2000x200 5000x500 10000x1000
#              10000x2000 10000x1000:nolog; 2000x200 is the size of the `check` target in
#              DESIGN.md, :nolog writes the final deny without `log`)
#   SEED       generator seed (default 1)
#   REPEAT     runs per command; the table shows the fastest run and the largest peak (default 2)
#   TIMEOUT    seconds per command before it is killed (default 150)
#   MEM_KIB    address-space limit per command, KiB (default 16 GiB); 0 for none
#   BMCWALL    use this binary instead of building target/release/bmcwall
#   KEEP=1     keep the work directory (policies and outputs) and print its path
#   TODAY      --today passed to bmcwall (default 2026-11-21)
#
# Every size checks: the policy checks clean (exit 0); the generator is deterministic
# (two runs with the same seed give identical trees); all REPEAT compiles of a format
# give byte-identical output. A failed check is reported in the table, not fatal.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
SIZES=${SIZES:-"100x10 1000x100 2000x200 5000x500 10000x1000 10000x2000 10000x1000:nolog"}
SEED=${SEED:-1}
REPEAT=${REPEAT:-2}
TIMEOUT=${TIMEOUT:-150}
MEM_KIB=${MEM_KIB:-16777216}
TODAY=${TODAY:-2026-11-21}

if [[ -z "${BMCWALL:-}" ]]; then
    echo "building release binary..." >&2
    (cd "$root" && cargo build --release --quiet) || { echo "cargo build --release failed" >&2; exit 1; }
    BMCWALL="$root/target/release/bmcwall"
fi
[[ -x "$BMCWALL" ]] || { echo "no binary at $BMCWALL" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bmcwall-bench.XXXXXX")
if [[ "${KEEP:-0}" != 1 ]]; then
    trap 'rm -rf "$work"' EXIT
else
    echo "work directory: $work" >&2
fi

# measure NAME OUTFILE CMD...: runs CMD REPEAT times; sets M_SEC (fastest), M_MIB (largest
# peak), M_RC (exit code of the last run, or timeout/signalN) and M_SAME (yes when every
# run wrote byte-identical OUTFILE; "-" when OUTFILE is empty).
measure() {
    local name=$1 out=$2; shift 2
    M_SEC=""; M_MIB=""; M_RC=""; M_SAME="-"
    local best="" peak=0 i line sec kib rc first=""
    for ((i = 1; i <= REPEAT; i++)); do
        [[ -n "$out" ]] && rm -f "$out"
        line=$(
            if [[ "$MEM_KIB" != 0 ]]; then ulimit -v "$MEM_KIB"; fi
            python3 "$here/measure.py" --timeout "$TIMEOUT" \
                --stdout "$work/$name.stdout" --stderr "$work/$name.stderr" -- "$@"
        )
        read -r sec kib rc <<<"$line"
        M_RC=$rc
        if [[ -z "$best" ]] || awk "BEGIN{exit !($sec < $best)}"; then best=$sec; fi
        ((kib > peak)) && peak=$kib
        if [[ "$rc" != 0 ]]; then break; fi
        if [[ -n "$out" ]]; then
            if [[ -z "$first" ]]; then
                first="$out.first"; mv "$out" "$first"; M_SAME=yes
            elif ! cmp -s "$first" "$out"; then
                M_SAME=NO
            fi
        fi
    done
    [[ -n "$first" && -f "$first" && ! -f "$out" ]] && mv "$first" "$out"
    rm -f "$out.first"
    M_SEC=$best
    M_MIB=$(awk "BEGIN{printf \"%.0f\", $peak / 1024}")
}

# cell SEC MIB RC: "1.23 s, 45 MiB", or what went wrong.
cell() {
    if [[ "$3" == 0 ]]; then printf '%s s, %s MiB' "$1" "$2"
    elif [[ "$3" == timeout ]]; then printf 'timeout >%s s (%s MiB)' "$TIMEOUT" "$2"
    else printf 'exit %s after %s s (%s MiB)' "$3" "$1" "$2"
    fi
}

human() { awk -v b="$1" 'BEGIN{ if (b >= 1048576) printf "%.1f MiB", b/1048576; else if (b >= 1024) printf "%.0f KiB", b/1024; else printf "%d B", b }'; }

echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))," \
     "$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM; $("$BMCWALL" --version)"
echo
echo "| size (BMCs x rules) | BMCs (dual-stack) / sites / racks | policy + inventory | src x dst classes | set elements | nft text | nft JSON | check | compile nft | compile json | deterministic |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"

for spec in $SIZES; do
    size=${spec%%:*}
    bmcs=${size%x*}; rules=${size#*x}
    extra=()
    [[ "$spec" == *:nolog ]] && extra=(--no-final-log)
    d="$work/$spec"; d2="$work/$spec.again"
    python3 "$here/generate.py" --bmcs "$bmcs" --rules "$rules" --seed "$SEED" "${extra[@]}" --out "$d" 2>"$work/gen.log" \
        || { echo "| $spec | generator failed: $(tail -1 "$work/gen.log") |"; continue; }
    python3 "$here/generate.py" --bmcs "$bmcs" --rules "$rules" --seed "$SEED" "${extra[@]}" --out "$d2" 2>/dev/null
    gen_same=yes; diff -r -q "$d" "$d2" >/dev/null || gen_same=NO
    rm -rf "$d2"
    desc=$(sed -E 's/.*: ([0-9]+) BMCs \(([0-9]+) dual-stack\), ([0-9]+) sites, ([0-9]+) racks.*/\1 (\2) \/ \3 \/ \4/' "$work/gen.log")
    in_bytes=$(cat "$d/policy.wall" "$d"/inventory/*.yaml | wc -c)
    in_lines=$(wc -l <"$d/policy.wall")

    measure check "" "$BMCWALL" check "$d/policy.wall" --today "$TODAY" --color never
    check_cell=$(cell "$M_SEC" "$M_MIB" "$M_RC")
    if [[ "$M_RC" == 0 ]]; then
        summary=$(cat "$work/check.stderr" "$work/check.stdout" | grep -o '[0-9]* errors, [0-9]* warnings' | tail -1)
        [[ "$summary" == "0 errors, 0 warnings" ]] || check_cell="$check_cell ($summary)"
    else
        check_cell="$check_cell: $(cat "$work/check.stdout" "$work/check.stderr" | grep -o 'BW[0-9][0-9][0-9]' | sort | uniq -c | awk '{printf "%s%sx%s", sep, $1, $2; sep=" "}')"
    fi

    measure nft "$d/out.nft" "$BMCWALL" compile "$d/policy.wall" --today "$TODAY" -o "$d/out.nft"
    nft_cell=$(cell "$M_SEC" "$M_MIB" "$M_RC"); nft_same=$M_SAME
    if [[ "$M_RC" == 0 ]]; then
        nft_bytes=$(human "$(stat -c %s "$d/out.nft")")
        # Elements are one per line inside `elements = { ... }`; classes are the distinct
        # source and destination intervals that appear in the allow sets.
        read -r elements srcs dsts < <(awk '
            /^\tset /      { name = $2 }
            /elements = \{/ { inel = 1; next }
            inel && /^\t\t\}/ { inel = 0; next }
            inel { n++; if (name ~ /^(log_)?allow/) { split($0, f, " \\. "); gsub(/^[ \t]+/, "", f[1]); s[f[1]]; t[f[2]] } }
            END { ns = 0; for (k in s) ns++; nt = 0; for (k in t) nt++; print n + 0, ns, nt }' "$d/out.nft")
        classes="$srcs x $dsts"
    else
        nft_bytes="-"; elements="-"; classes="-"
    fi
    rm -f "$d/out.nft"

    measure json "$d/out.json" "$BMCWALL" compile "$d/policy.wall" --today "$TODAY" --format json -o "$d/out.json"
    json_cell=$(cell "$M_SEC" "$M_MIB" "$M_RC"); json_same=$M_SAME
    if [[ "$M_RC" == 0 ]]; then json_bytes=$(human "$(stat -c %s "$d/out.json")"); else json_bytes="-"; fi
    rm -f "$d/out.json"

    echo "| $spec | $desc | $in_lines lines, $(human "$in_bytes") | $classes | $elements | $nft_bytes | $json_bytes | $check_cell | $nft_cell | $json_cell | policy $gen_same, nft $nft_same, json $json_same |"
    [[ "${KEEP:-0}" == 1 ]] || rm -rf "$d"
done
