#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DNNCAS_FUZZ=ON, in BUILD-fuzz) and runs
# each for a bounded time on a copy of its seed corpus tests/fuzz/<target>/
# (every input that ever crashed a target is kept there, so the corpus run is
# also the regression test). Fails if a target crashes, leaks or hits a
# sanitizer; prints per target the number of inputs tried.
#
#   tests/fuzz.sh [BUILD_DIR]      (default: $NNCAS_BUILD or build/)
#
# NNCAS_FUZZ_SECONDS (20) is each target's time. fuzz_checkpoint_bytes (raw
# bytes of a checkpoint) and fuzz_h5data (raw bytes of a -data_format h5
# file), mostly libhdf5's parser, run only when listed in NNCAS_FUZZ_TARGETS,
# e.g. NNCAS_FUZZ_TARGETS="checkpoint_bytes h5data".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-${NNCAS_BUILD:-$here/build}}
fuzz=${build}-fuzz
seconds=${NNCAS_FUZZ_SECONDS:-20}
targets=${NNCAS_FUZZ_TARGETS:-idx cifar layers checkpoint onnx}

echo "nncas fuzz: building the libFuzzer targets ($fuzz)"
CC=clang cmake -S "$here" -B "$fuzz" -DCMAKE_BUILD_TYPE=Debug -DNNCAS_FUZZ=ON >/dev/null
cmake --build "$fuzz" -j "$(nproc)" >"$fuzz/build.log" 2>&1 || { tail -n 30 "$fuzz/build.log"; exit 1; }

export OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
work=$(mktemp -d "${TMPDIR:-/tmp}/nncas-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
for t in $targets; do
  corpus=$work/$t
  mkdir -p "$corpus" "$work/crashes"
  cp -r "$here/tests/fuzz/$t/." "$corpus/" 2>/dev/null || true
  dict=()
  [ -f "$here/tests/fuzz/$t.dict" ] && dict=(-dict="$here/tests/fuzz/$t.dict")
  log=$fuzz/fuzz_$t.log
  if "$fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/crashes/$t-" "${dict[@]}" "$corpus" >"$log" 2>&1; then
    tried=$(awk '$2 == "DONE" { n = substr($1, 2) } END { print n + 0 }' "$log")
    echo "nncas fuzz: fuzz_$t: #$tried DONE: $tried inputs tried in ${seconds} s, no crash (corpus $(ls "$corpus" | wc -l) inputs)"
  else
    failed=1
    echo "nncas fuzz: fuzz_$t FAILED (log: $log):" >&2
    grep -a -E "ERROR|SUMMARY|invariant|#[0-9]+ +(DONE|INITED)" "$log" | head -n 20 >&2 || tail -n 40 "$log" >&2
    for c in "$work"/crashes/"$t"-*; do
      [ -e "$c" ] || continue
      mkdir -p "$fuzz/crashes" && cp "$c" "$fuzz/crashes/"
      echo "nncas fuzz:   crashing input kept as $fuzz/crashes/$(basename "$c") (add it to tests/fuzz/$t/)" >&2
    done
  fi
done
exit $failed
