#!/usr/bin/env bash
# bmcwall as a CI pipeline meets it: each run right after another large process.
#
#   bench/pipeline.sh                  # the pipeline shape (bench/pipeline.py) and a 2,000-BMC check
#   ROUNDS=20 bench/pipeline.sh
#   KERNEL=0 bench/pipeline.sh         # without plan and apply (they need root and nft)
#
# In each of ROUNDS rounds, in turn: Aerleon's aclgen on the pipeline shape's
# twin, then `bmcwall compile` of the same policy right after it; aclgen again,
# then `bmcwall check` of a 311-line policy with 2,000 BMCs (bench/generate.py
# --bmcs 2000 --rules 120) right after; then the two bmcwall commands once more,
# each right after itself (warm). The table gives medians, and the ratio to
# Aerleon as the median of the per-round ratios. With KERNEL=1 (the default
# when root and nft are there) it also times, in a network namespace of its
# own, `apply` of the compiled table to an empty gateway, `plan` against it (no
# changes) and `apply` of the same table again (in place), with their peak
# memory, REPEAT times each (the median).
#
# Environment: ROUNDS (10), REPEAT (3), SEED (1), TODAY (2026-11-21), KERNEL,
# BMCWALL and ACLGEN (binaries instead of building / bench/.venv), KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/setup.sh
source "$here/setup.sh"
ROUNDS=${ROUNDS:-10}
REPEAT=${REPEAT:-3}
SEED=${SEED:-1}
TODAY=${TODAY:-2026-11-21}
if [[ -z "${KERNEL:-}" ]]; then
    KERNEL=0
    [[ $(id -u) == 0 ]] && command -v nft >/dev/null && KERNEL=1
fi
bench_setup
work=$(mktemp -d "${TMPDIR:-/tmp}/bmcwall-pipeline.XXXXXX")
trap 'bench_netns_cleanup; [[ "${KEEP:-0}" == 1 ]] || rm -rf "$work"' EXIT
[[ "${KEEP:-0}" == 1 ]] && echo "work directory: $work" >&2

python3 "$here/pipeline.py" --seed "$SEED" --aerleon --out "$work/flat" >&2
python3 "$here/generate.py" --bmcs 2000 --rules 120 --seed "$SEED" --out "$work/check" >&2
bench_aclgen_cmd "$work/flat" "$work/aerleon-out"
compile=("$BMCWALL" compile "$work/flat/policy.wall" -o "$work/flat.nft" --today "$TODAY")
check=("$BMCWALL" check "$work/check/policy.wall" --today "$TODAY")

# run NAME CMD...: one measured run; appends "SECONDS PEAK_KIB" to $work/NAME.
run() {
    local name=$1 line seconds kib rc
    shift
    line=$(python3 "$here/measure.py" --stderr "$work/$name.stderr" -- "$@")
    read -r seconds kib rc <<<"$line"
    [[ "$rc" == 0 ]] || { echo "$name exited $rc:" >&2; cat "$work/$name.stderr" >&2; exit 1; }
    echo "$seconds $kib" >>"$work/$name"
}

for round in $(seq "$ROUNDS"); do
    bench_log "round $round of $ROUNDS"
    run aclgen "${ACLGEN_CMD[@]}"
    run compile-after "${compile[@]}"
    run aclgen2 "${ACLGEN_CMD[@]}"
    run check-after "${check[@]}"
    run compile-warm "${compile[@]}"
    run check-warm "${check[@]}"
done

if [[ "$KERNEL" == 1 ]]; then
    ns="bwp$$"
    for _ in $(seq "$REPEAT"); do
        bench_netns "$ns"
        run apply-empty "$BMCWALL" apply "$work/flat/policy.wall" --netns "$ns" --today "$TODAY"
        run plan "$BMCWALL" plan "$work/flat/policy.wall" --netns "$ns" --today "$TODAY"
        run apply-again "$BMCWALL" apply "$work/flat/policy.wall" --netns "$ns" --today "$TODAY"
        bench_netns_del "$ns"
    done
fi

python3 - "$work" "$KERNEL" "$AERLEON_VERSION" <<'PY'
import os, statistics, sys

work, kernel, version = sys.argv[1], sys.argv[2] == "1", sys.argv[3]

def runs(name):
    with open(os.path.join(work, name)) as f:
        return [(float(s), int(k)) for s, k in (line.split() for line in f)]

def row(label, name, versus=None):
    r = runs(name)
    seconds = statistics.median(s for s, _ in r)
    peak = max(k for _, k in r) / 1024
    ratio = ""
    if versus:
        pairs = [a / b for (a, _), (b, _) in zip(runs(versus), r)]
        ratio = f"{statistics.median(pairs):.1f}x"
    print(f"| {label} | {seconds * 1000:.1f} ms | {peak:.0f} MiB | {len(r)} | {ratio} |")

print(f"| pipeline shape (bench/pipeline.py) | median | peak | runs | Aerleon {version} / bmcwall, median of pairs |")
print("|---|---:|---:|---:|---:|")
row("Aerleon `aclgen`", "aclgen")
row("`compile`, right after Aerleon", "compile-after", "aclgen")
row("`compile`, right after itself", "compile-warm")
row("`check` of 2000x120, right after Aerleon", "check-after")
row("`check` of 2000x120, right after itself", "check-warm")
if kernel:
    row("`apply` to an empty gateway", "apply-empty")
    row("`plan`, no changes", "plan")
    row("`apply` of the table in place", "apply-again")
PY
