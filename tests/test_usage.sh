#!/usr/bin/env bash
# What the nncas program says about itself, and the options it refuses, on 2
# ranks: -help, -h and --help list nncas's own options by component (every
# option the sources register, with its default) and every preset, and exit 0
# creating nothing; -version names the libraries; an option nothing reads,
# with any prefix, is one error line naming the nearest option before any
# output; PETSc's and SLEPc's options read later (-log_view, -eps_view,
# -options_left) and every options file of inputs/ pass the check.
# Usage: test_usage.sh NNCAS_BINARY SCRATCH_DIR SOURCE_DIR
set -uo pipefail
nncas=$(realpath "$1")
dir=$2
src=$(realpath "$3")
rm -rf "$dir" && mkdir -p "$dir"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
# run NAME nncas-options...: in a fresh, empty working directory $dir/NAME
run() {
  local name=$1; shift
  mkdir -p "$dir/$name"
  (cd "$dir/$name" && timeout 120 mpiexec -q -n 2 --oversubscribe "$nncas" "$@" >"$dir/$name.out" 2>"$dir/$name.err")
}
# created NAME: what a run left in its working directory
created() { ls -A "$dir/$1"; }

# The options the sources register (PetscOptionsInt("-name", ...) and the
# like), and the presets the binary knows (from its unknown-preset message).
mapfile -t registered < <(grep -rhoE 'PetscOptions(Bounded|Ranged)?(Int|Real|Bool|String|Enum|EList|RealArray|IntArray|StringArray)\("-[a-z0-9_]+"' \
  "$src/src" | sed -E 's/.*\("-//; s/"$//' | sort -u)
run presets -net_preset none -output_dir out
mapfile -t presets < <(sed -n 's/.*(known: \(.*\))$/\1/p' "$dir/presets.err" | tr -d ' ' | tr ',' '\n')
[ "${#registered[@]}" -gt 80 ] && [ "${#presets[@]}" -gt 5 ] ||
  fail "found ${#registered[@]} registered options and ${#presets[@]} presets: $(cat "$dir/presets.err")"

# -help all: PETSc's long help, with every registered option (read while
# the components are configured, before any work).
run help_all -help all
for o in "${registered[@]}"; do
  grep -q -- "^ *-$o[ :<]" "$dir/help_all.out" || fail "help_all: -$o is registered but not read at configuration"
done
grep -q "Options for all PETSc programs" "$dir/help_all.out" || fail "help_all: not PETSc's long help"

# -help, -h, --help: short, nncas's options first, grouped, with defaults.
for flag in -help -h --help; do
  name=help${flag//-/_}
  run "$name" "$flag" -output_dir out
  rc=$?
  out=$dir/$name.out
  bad=()
  [ "$rc" = 0 ] || bad+=("exit status $rc")
  [ -s "$dir/$name.err" ] && bad+=("stderr: $(head -c 200 "$dir/$name.err")")
  [ -z "$(created "$name")" ] || bad+=("created $(created "$name")")
  [ "$(grep -c '^nncas ' "$out")" = 1 ] || bad+=("not printed once (by rank 0)")
  grep -q "PETSc Release\|Options for all PETSc" "$out" && bad+=("prints PETSc's help")
  [ "$(wc -l <"$out")" -lt 150 ] || bad+=("$(wc -l <"$out") lines")
  titles=$(grep -E '^[A-Z].*:$' "$out" | cut -d' ' -f1 | tr '\n' ' ')
  [ "$titles" = "Options Data Network Training Output, Rank Hessian Spectrum Coupling-set Initialisation-scaling Presets " ] ||
    bad+=("groups: $titles")
  grep -q -- '^  -train_epochs <10> *number of epochs$' "$out" || bad+=("no '-train_epochs <10>  number of epochs'")
  grep -q -- '^  -initscale_c <0.5,1,2> ' "$out" && grep -q -- '^  -synth_shape <1,28,28> ' "$out" ||
    bad+=("a list option's default not whole (-initscale_c <0.5,1,2>, -synth_shape <1,28,28>)")
  for o in "${registered[@]}"; do
    grep -q -- "^  -$o[ <]" "$out" || grep -q -- "^ *-$o[ :<].*testing:" "$dir/help_all.out" || bad+=("lacks -$o")
  done
  for p in "${presets[@]}"; do grep -q "^  $p " "$out" || bad+=("lacks preset $p"); done
  tail -n 1 "$out" | grep -q -- "-help all$" || bad+=("last line: $(tail -n 1 "$out")")
  if [ ${#bad[@]} = 0 ]; then ok "$flag lists ${#registered[@]} options and ${#presets[@]} presets, creates nothing"; else fail "$flag: ${bad[*]}"; fi
done

# -version, --version: the libraries, printed once, nothing created.
for flag in -version --version; do
  name=version${flag//-/_}
  run "$name" "$flag"
  rc=$?
  want="^nncas [0-9.]* \\(git [0-9a-z]+\\)$|^PETSc 3\.[0-9]*\.[0-9]*$|^SLEPc 3\.[0-9]*\.[0-9]*$|^HDF5 1\.|^MPI: .+|^BLAS: .+; kernels .+"
  if [ "$rc" = 0 ] && [ ! -s "$dir/$name.err" ] && [ -z "$(created "$name")" ] && [ "$(grep -cE "$want" "$dir/$name.out")" = 6 ] &&
    [ "$(wc -l <"$dir/$name.out")" = 6 ]; then
    ok "$flag: $(tr '\n' ';' <"$dir/$name.out" | cut -c1-150)"
  else
    fail "$flag: status $rc"; cat "$dir/$name.out" "$dir/$name.err"
  fi
done

# An option nothing reads: one line naming the nearest option, status 1,
# nothing printed and no output directory.
printf -- '-train_epochs 1\n-trian_epochs 3\n' >"$dir/typo.opts"
# typo NAME OPTION NEAREST nncas-options... (NEAREST "?": any option)
typo() {
  local name=$1 option=$2 nearest=$3; shift 3
  run "$name" "$@" -output_dir out
  local rc=$? err; err=$(cat "$dir/$name.err")
  local want="nncas: error: unknown option -$option (did you mean -$nearest? nncas -help lists the options)"
  [ "$nearest" = "?" ] && [[ $err =~ ^"nncas: error: unknown option -$option (did you mean -"[a-z0-9_]+"? nncas -help lists the options)"$ ]] && want=$err
  if [ "$rc" = 1 ] && [ "$err" = "$want" ] && [ ! -s "$dir/$name.out" ] && [ -z "$(created "$name")" ]; then
    ok "$name: $err"
  else
    fail "$name: status $rc, created \"$(created "$name")\", stdout $(wc -l <"$dir/$name.out") lines, stderr: $err"
  fi
}
typo own_prefix trian_epochs train_epochs -trian_epochs 3
typo no_prefix lr train_lr -lr 0.1
typo petsc_option log_veiw log_view -log_veiw
typo foreign_prefix foo_bar "?" -foo_bar 1
typo output_dir ouput_dir output_dir -ouput_dir elsewhere
typo in_options_file trian_epochs train_epochs -options_file "$dir/typo.opts"

# Options read later (by PetscFinalize, by SLEPc's solver in the spectrum
# stage) pass, and do their work.
run late -data_format mixture -synth_train 200 -synth_val 100 -synth_shape 1,8,8 -net_layers dense:16,relu,dense:1 \
  -train_epochs 1 -train_batch 50 -spectrum_every 1 -hessian_samples 20 -spectrum_m 10 -spectrum_m0 10 -spectrum_k 64 \
  -log_view -eps_view -options_left -output_dir out
rc=$?
if [ "$rc" = 0 ] && grep -q "PETSc Performance Summary" "$dir/late.out" && grep -q "NnForward" "$dir/late.out" &&
  grep -q "EPS Object" "$dir/late.out" && grep -q "There are no unused options" "$dir/late.out" && [ ! -s "$dir/late.err" ]; then
  ok "-log_view, -eps_view and -options_left pass and work"
else
  fail "late options: status $rc"; tail -n 5 "$dir/late.out"; cat "$dir/late.err"
fi

# Every options file of inputs/ passes the check: the run stops at the data
# (a directory that does not exist), and -help lists the options.
for f in "$src"/inputs/*.opts; do
  name=inputs_$(basename "$f" .opts)
  run "$name" -options_file "$f" -data_dir "$dir/no_data" -output_dir out
  rc=$?
  err=$(cat "$dir/$name.err")
  run "${name}_help" -options_file "$f" -help
  hrc=$?
  if [ "$rc" = 1 ] && [[ $err == "nncas: error: data file $dir/no_data/"*"cannot open"* ]] && [ -z "$(created "$name")" ] && [ "$hrc" = 0 ] &&
    [ ! -s "$dir/${name}_help.err" ]; then
    ok "$(basename "$f") passes the check"
  else
    fail "$(basename "$f"): status $rc, $err; -help status $hrc $(cat "$dir/${name}_help.err")"
  fi
done

[ "$failures" = 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all usage cases passed"
