# Shared set-up for bench/run.sh and bench/throughput.sh (sourced, not run).
#
# bench_setup: makes sure of
#   BMCWALL   target/release/bmcwall, built here unless BMCWALL names a binary;
#   ACLGEN    Aerleon's aclgen from bench/.venv, a virtual environment created here
#             with the versions pinned in bench/requirements-aerleon.txt (pip, PyPI),
#             unless ACLGEN names one;
#   AERLEON_VERSION  the version ACLGEN's package reports.
#   (ACLGEN and AERLEON_VERSION only when BENCH_ACLGEN is not 0.)
# bench_netns_cleanup: deletes every namespace in BENCH_NETNS (the scripts add the
# namespaces they create to it, and call this from their EXIT trap).

bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_root=$(dirname "$bench_here")
BENCH_NETNS=()

bench_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

bench_setup() {
    if [[ -z "${BMCWALL:-}" ]]; then
        bench_log "building target/release/bmcwall"
        (cd "$bench_root" && cargo build --release --locked --quiet) \
            || { echo "cargo build --release failed" >&2; return 1; }
        BMCWALL="$bench_root/target/release/bmcwall"
    fi
    [[ -x "$BMCWALL" ]] || { echo "no bmcwall binary at $BMCWALL" >&2; return 1; }
    [[ "${BENCH_ACLGEN:-1}" == 0 ]] && return 0
    if [[ -z "${ACLGEN:-}" ]]; then
        local venv="$bench_here/.venv" req="$bench_here/requirements-aerleon.txt"
        if ! cmp -s "$req" "$venv/.installed" 2>/dev/null; then
            bench_log "creating bench/.venv with $(grep -i '^aerleon==' "$req")"
            rm -rf "$venv"
            python3 -m venv "$venv" \
                && "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" \
                && cp "$req" "$venv/.installed" \
                || { echo "could not install Aerleon into bench/.venv" >&2; return 1; }
        fi
        ACLGEN="$venv/bin/aclgen"
    fi
    [[ -x "$ACLGEN" ]] || { echo "no aclgen at $ACLGEN" >&2; return 1; }
    AERLEON_VERSION=$("$(dirname "$ACLGEN")/python" -c \
        'import importlib.metadata as m; print(m.version("aerleon"))' 2>/dev/null || echo "?")
}

# bench_aclgen_cmd DIR OUT: sets ACLGEN_CMD to Aerleon's aclgen on DIR/aerleon
# (written by generate.py --aerleon); it writes the nft text to OUT/policy.nft. OUT
# must be empty: aclgen leaves a file alone that already holds the same text.
bench_aclgen_cmd() {
    local dir=$1 out=$2
    ACLGEN_CMD=("$ACLGEN" "--base_directory=$dir/aerleon/policies"
                "--definitions_directory=$dir/aerleon/def"
                "--policy_file=$dir/aerleon/policies/pol/policy.pol"
                "--output_directory=$out")
}

# bench_netns NAME: creates a namespace (loopback up) and records it for cleanup.
bench_netns() {
    ip netns add "$1" || return 1
    BENCH_NETNS+=("$1")
    ip -n "$1" link set lo up
}

bench_netns_del() {
    ip netns del "$1" 2>/dev/null
    local keep=() ns
    for ns in "${BENCH_NETNS[@]}"; do [[ "$ns" == "$1" ]] || keep+=("$ns"); done
    BENCH_NETNS=("${keep[@]}")
}

bench_netns_cleanup() {
    local ns
    for ns in "${BENCH_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    BENCH_NETNS=()
}
