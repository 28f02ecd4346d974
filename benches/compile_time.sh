#!/usr/bin/env bash
# Compile time: a crate with N `#[defstate]` statics against one with N `LazyLock` statics,
# and the macro crate's own build. Run from the repository root:
#
#     bash benches/compile_time.sh [N] [RUNS]      # defaults: 1000 statics, 5 runs
#
# Dependencies are built once first, so each timed build compiles only the generated crate.
# Prints the median wall time of RUNS builds of each crate (debug profile) and their ratio.
set -euo pipefail
n=${1:-1000}
runs=${2:-5}
root=$(pwd)
work="$root/target/compile-bench"
mkdir -p "$work"
export CARGO_TARGET_DIR="$work/target"

make_crate() { # name, item generator
    local dir="$work/$1"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
lifecycle = { path = "$root" }

[workspace]
TOML
    {
        echo "#![allow(dead_code)]"
        for i in $(seq 0 $((n - 1))); do "$2" "$i"; done
    } > "$dir/src/lib.rs"
}

defstate_item() { echo "#[lifecycle::defstate] pub static S$1: u64 = $1;"; }
lazylock_item() { echo "pub static S$1: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| $1);"; }

make_crate bench_defstate defstate_item
make_crate bench_lazylock lazylock_item

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

time_build() { # crate dir
    local dir="$work/$1" times=()
    (cd "$dir" && cargo build -q) # dependencies and a first build, untimed
    for _ in $(seq "$runs"); do
        touch "$dir/src/lib.rs"
        local began ended
        began=$(date +%s.%N)
        (cd "$dir" && cargo build -q)
        ended=$(date +%s.%N)
        times+=("$(echo "$ended - $began" | bc)")
    done
    printf '%s\n' "${times[@]}" | median
}

defstate=$(time_build bench_defstate)
lazylock=$(time_build bench_lazylock)
printf 'statics: %s, runs: %s (median wall time, debug build of the generated crate only)\n' "$n" "$runs"
printf '  %-28s %8.2f s\n' "$n x #[defstate]" "$defstate" "$n x LazyLock" "$lazylock"
printf '  ratio defstate / LazyLock: %.2f (target <= 2)\n' "$(echo "$defstate / $lazylock" | bc -l)"

# The macro crate's own build (clean build of lifecycle-macros and its dependencies).
macros_target="$work/macros-target"
rm -rf "$macros_target"
began=$(date +%s.%N)
CARGO_TARGET_DIR="$macros_target" cargo build -q -p lifecycle-macros --manifest-path "$root/Cargo.toml"
ended=$(date +%s.%N)
printf '  clean build of lifecycle-macros with its dependencies: %.2f s\n' "$(echo "$ended - $began" | bc)"
