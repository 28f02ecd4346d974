#!/usr/bin/env bash
# Compile time: a crate with N `#[defstate]` statics against ones with N `LazyLock`,
# `lazy_static!` and `static_init` `#[dynamic(drop)]` statics (the peers a user would pick
# instead, at pinned versions from the package registry), and the macro crate's own build. Run from the repository root:
#
#     bash benches/compile_time.sh [N] [RUNS]      # defaults: 1000 statics, 5 runs
#
# Dependencies are built once first, so each timed build compiles only the generated crate.
# Prints the median wall time of RUNS builds of each crate (debug profile) and their ratio.
set -euo pipefail
shopt -s inherit_errexit # a failed build inside $(...) stops the script
n=${1:-1000}
runs=${2:-5}
root=$(pwd)
work="$root/target/compile-bench"
mkdir -p "$work"
export CARGO_TARGET_DIR="$work/target"

make_crate() { # name, item generator, dependency line
    local dir="$work/$1"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$3

[workspace]
TOML
    {
        echo "#![allow(dead_code)]"
        for i in $(seq 0 $((n - 1))); do "$2" "$i"; done
    } > "$dir/src/lib.rs"
}

defstate_item() { echo "#[lifecycle::defstate] pub static S$1: u64 = $1;"; }
lazylock_item() { echo "pub static S$1: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| $1);"; }

lazystatic_item() { echo "lazy_static::lazy_static! { pub static ref S$1: u64 = $1; }"; }
staticinit_item() { echo "#[static_init::dynamic(drop)] pub static mut S$1: u64 = $1;"; }

make_crate bench_defstate defstate_item "lifecycle = { path = \"$root\" }"
make_crate bench_lazylock lazylock_item ""
make_crate bench_lazystatic lazystatic_item 'lazy_static = "=1.5.1"'
# static_init needs its `debug_order` feature (parking_lot) to build in the debug profile, and
# a lazy static it drops at exit must be `static mut`.
make_crate bench_staticinit staticinit_item 'static_init = { version = "=1.0.3", features = ["debug_order"] }'

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

time_build() { # crate dir
    local dir="$work/$1" times=()
    # Dependencies and a first build, untimed; the registry is asked only while a crate has no
    # lock file yet, so later runs work offline.
    local offline=()
    [ -f "$dir/Cargo.lock" ] && offline=(--offline)
    (cd "$dir" && cargo build -q "${offline[@]}")
    for _ in $(seq "$runs"); do
        touch "$dir/src/lib.rs"
        local began ended
        began=$(date +%s.%N)
        (cd "$dir" && cargo build -q "${offline[@]}")
        ended=$(date +%s.%N)
        times+=("$(echo "$ended - $began" | bc)")
    done
    printf '%s\n' "${times[@]}" | median
}

defstate=$(time_build bench_defstate)
lazylock=$(time_build bench_lazylock)
lazystatic=$(time_build bench_lazystatic)
staticinit=$(time_build bench_staticinit)
ratio() { echo "$1 / $2" | bc -l; }
printf 'statics: %s, runs: %s (median wall time, debug build of the generated crate only)\n' "$n" "$runs"
printf '  %-36s %8.2f s\n' "$n x #[defstate]" "$defstate" "$n x LazyLock" "$lazylock" \
    "$n x lazy_static!" "$lazystatic" "$n x static_init #[dynamic(drop)]" "$staticinit"
printf '  ratio defstate / LazyLock:    %.2f (target <= 2)\n' "$(ratio "$defstate" "$lazylock")"
printf '  ratio defstate / lazy_static: %.2f (target <= 1)\n' "$(ratio "$defstate" "$lazystatic")"
printf '  ratio defstate / static_init: %.2f (target <= 1)\n' "$(ratio "$defstate" "$staticinit")"

# The macro crate's own build (clean build of lifecycle-macros and its dependencies).
macros_target="$work/macros-target"
rm -rf "$macros_target"
began=$(date +%s.%N)
CARGO_TARGET_DIR="$macros_target" cargo build -q -p lifecycle-macros --manifest-path "$root/Cargo.toml"
ended=$(date +%s.%N)
printf '  clean build of lifecycle-macros with its dependencies: %.2f s\n' "$(echo "$ended - $began" | bc)"
