#!/usr/bin/env bash
# The paper's experiments, reduced to fit a 2-core machine in a few hours
# (about 2 h 50 min in all on 2026-12-01; several runs have changed since and
# the whole has not been timed again). docs/reproduction.md says what is
# reduced and what each run answers:
#
#   lenet           Fig. 1b/c at full scale: the paper's LeNet (preset
#                   lenet_paper, inputs/lenet_mnist.opts) on binary MNIST, or
#                   Fashion-MNIST when MNIST is absent, 10 epochs, spectra
#                   every epoch, Algorithm 1 at epochs 0 and 10
#   quickstart      the quick-start LeNet (inputs/quickstart.opts): spectra and
#                   Algorithm 1 at epochs 0, 5, 10
#   vggbn           Fig. 1f's claim with batch normalization at a size that
#                   fits: preset vgg_small on Fashion-MNIST, 10 epochs,
#                   Algorithm 1 at epochs 0 and 10, spectra at 0, 5, 10
#   initscale       Fig. 3a/b at initialisation (c = 1/2, 1, 2; gradient norms
#                   over 20 initialisations, spectra) and Fig. 3c/d's c = 2 run
#                   with the dynamic step: vgg_small_nobn with vgg12's dropout
#                   pattern, bias-free, plain gradient descent (Sec. 5.2)
#   initscale_c1, initscale_chalf, initscale_c2_constant, initscale_bn
#                   the other runs of Fig. 3c/d (inputs/initscale_*.opts)
#   nscaling        not in the default list (estimated 3 hours of one core): Fig.
#                   1f's N^{3/2}, N^3, N^{9/2} tested by varying N: an MLP with
#                   BN (inputs/nscaling.opts) at widths 16 ... 1024 (N = 12,849
#                   ... 1,854,465), seeds 1 and 2, Algorithm 1 (B = 5) at epochs
#                   0 and 10; the runs nscaling_wW_sS one by one, seed 1 with the
#                   first draw's whole correlation matrix (800 MB an epoch, for
#                   the geometry split); then postprocess/nscaling.py
#                   (docs/reproduction.md, "N-scaling")
#
# Every run uses its paper option file, then the overrides listed in
# experiment() below (data, net, sizes).
#
#   jobs/reproduce.sh [-n NP] [-o OUT] [EXPERIMENT ...]   default: all, 2 ranks, runs/reproduce
#   jobs/reproduce.sh -l [-o OUT]                         the experiments and their state
#
# Resumable: each experiment is one nncas run in OUT/NAME with -restart auto,
# and OUT/NAME/DONE marks a finished one (with its exit status: 4 is the
# expected end of a run that diverges), which a second call skips. A run
# stopped at any point (Ctrl-C, kill, the end of a session) continues from its
# checkpoint and loses at most the epoch in progress; a spectrum or coupling
# stage stopped by a signal keeps its finished parts (docs/files.md).
#
# Environment: NNCAS_BUILD (default build/), NNCAS_MNIST (default data/mnist),
# NNCAS_FASHION (default /usr/share/datasets/fashion-mnist, Debian's
# dataset-fashion-mnist, which jobs/setup.sh installs), NNCAS_REPRODUCE_EXTRA
# (nncas options added to every run, last, e.g. to try the script at a tiny
# size: "-data_train_size 256 -train_epochs 1").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${NNCAS_BUILD:-$here/build}
np=2 out=runs/reproduce list=
all=(lenet quickstart vggbn initscale initscale_c1 initscale_chalf initscale_c2_constant initscale_bn)
# the N-scaling runs, in the order they run: the widths up to 512 at both
# seeds first (a fit over 1.7 decades of N), the largest width last
nscaling_widths=(16 32 64 128 256 512)
nscaling=()
for s in 1 2; do for w in "${nscaling_widths[@]}"; do nscaling+=("nscaling_w${w}_s$s"); done; done
nscaling+=(nscaling_w1024_s1 nscaling_w1024_s2)
usage() { echo "usage: $0 [-n NP] [-o OUT] [-l] [EXPERIMENT ...]   (${all[*]})" >&2; exit 2; }
while getopts "n:o:l" opt; do
  case $opt in
    n) np=$OPTARG ;;
    o) out=$OPTARG ;;
    l) list=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
todo=()
for e in "$@"; do
  if [ "$e" = nscaling ]; then todo+=("${nscaling[@]}"); else todo+=("$e"); fi
done
[ ${#todo[@]} -gt 0 ] || todo=("${all[@]}")
for e in "${todo[@]}"; do
  [[ " ${all[*]} ${nscaling[*]} " == *" $e "* ]] || { echo "$0: unknown experiment '$e' (${all[*]} nscaling)" >&2; exit 2; }
done

mnist=${NNCAS_MNIST:-$here/data/mnist}
fashion=${NNCAS_FASHION:-/usr/share/datasets/fashion-mnist}
fm=(-data_format idx -data_dir "$fashion" -data_positive_class 0)
# the small VGG-style nets on Fashion-MNIST in place of the 12-layer VGG on
# CIFAR-10 (10000 training and 2000 validation samples, as App. G.3)
small_vgg=("${fm[@]}" -data_train_size 10000 -data_val_size 2000 -data_augment false)
# Fig. 3's nets at that size: fig3_small, fig3_small_bn
source "$here/jobs/fig3_nets.sh"

# experiment NAME: sets opts (the option file) and extra (its overrides)
experiment() {
  extra=()
  case $1 in
    lenet)
      opts=lenet_mnist
      if [ -f "$mnist/train-images-idx3-ubyte" ] || [ -f "$mnist/train-images-idx3-ubyte.gz" ]; then
        extra=(-data_dir "$mnist")
      else
        extra=("${fm[@]}") # MNIST absent: Fashion-MNIST, same format and size
      fi
      ;;
    quickstart) opts=quickstart ;;
    vggbn)
      opts=vgg_cifar10
      extra=("${small_vgg[@]}" -net_preset vgg_small -train_epochs 10 -train_lr_milestones 7 -spectrum_every 5
        -coupling_every 10) ;;
    initscale)
      opts=initscale
      extra=("${small_vgg[@]}" -net_layers "$fig3_small" -train_epochs 2) ;;
    initscale_c1) opts=initscale_c1_dynamic extra=("${small_vgg[@]}" -net_layers "$fig3_small") ;;
    initscale_chalf) opts=initscale_chalf_dynamic extra=("${small_vgg[@]}" -net_layers "$fig3_small") ;;
    initscale_c2_constant) opts=initscale_c2_constant extra=("${small_vgg[@]}" -net_layers "$fig3_small") ;;
    initscale_bn) opts=initscale_c2_bn_dynamic extra=("${small_vgg[@]}" -net_layers "$fig3_small_bn") ;;
    nscaling_w*_s*)
      local w=${1#nscaling_w} s=${1##*_s}
      w=${w%_s*}
      opts=nscaling
      extra=(-data_dir "$fashion" -net_layers "dense:$w,bn,relu,dense:$w,bn,relu,dense:1"
        -net_seed "$s" -train_seed "$s" -coupling_seed "$s")
      if [ "$s" = 1 ]; then extra+=(-coupling_full_cc); fi ;;
  esac
}

if [ -n "$list" ]; then
  for e in "${todo[@]}"; do
    if [ -f "$out/$e/DONE" ]; then state="done ($(cat "$out/$e/DONE"))"
    elif [ -f "$out/$e/checkpoint.h5" ]; then state="interrupted: continues from its checkpoint"
    else state="not started"; fi
    printf "%-22s %s\n" "$e" "$state"
  done
  exit 0
fi

"$here/jobs/setup.sh" "$build" >/dev/null
[ -d "$fashion" ] || { echo "$0: $fashion: no Fashion-MNIST (jobs/setup.sh installs dataset-fashion-mnist)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1 # one BLAS thread per rank: the ranks fill the cores
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
for e in "${todo[@]}"; do
  dir=$out/$e
  if [ -f "$dir/DONE" ]; then
    echo "reproduce: $e done ($(cat "$dir/DONE")), skipped"
    continue
  fi
  experiment "$e"
  mkdir -p "$dir"
  echo "reproduce: $e: inputs/$opts.opts ${extra[*]}"
  start=$(date +%s)
  status=0
  mpiexec -n "$np" --oversubscribe "$build/nncas" -options_file "$here/inputs/$opts.opts" "${extra[@]}" \
    ${NNCAS_REPRODUCE_EXTRA:-} -output_dir "$dir" -restart auto >> "$dir/log" 2>&1 || status=$?
  case $status in
    0 | 4) echo "exit status $status after $(($(date +%s) - start)) s in the last call" > "$dir/DONE"
       echo "reproduce: $e finished (exit status $status$([ $status = 4 ] && echo ": diverged, as the paper's run"))" ;;
    3) echo "reproduce: $e stopped by a signal; call again to continue"; exit 3 ;;
    *) echo "reproduce: $e failed (exit status $status); see $dir/log" >&2; tail -5 "$dir/log" >&2; exit 1 ;;
  esac
done
# Figures and tables (postprocess/quickstart_figures.py): per experiment, and
# the runs of Fig. 3 together (one colour per run)
figures() { /usr/bin/python3 "$here/postprocess/quickstart_figures.py" "$@" >/dev/null 2>>"$out/figures.log" || true; }
for e in "${todo[@]}"; do
  [[ $e == nscaling_* ]] && continue # their summary is postprocess/nscaling.py's, below
  [ -f "$out/$e/DONE" ] && figures "$out/$e/results.h5" --out "$out/$e/figures"
done
ns=()
for e in "${nscaling[@]}"; do
  [ -f "$out/$e/DONE" ] && ns+=("$out/$e/results.h5")
done
if [ ${#ns[@]} -gt 0 ] && [[ " ${todo[*]} " == *" nscaling_"* ]]; then
  /usr/bin/python3 "$here/postprocess/nscaling.py" "${ns[@]}" --out "$out/nscaling" > "$out/nscaling.txt" 2>>"$out/figures.log" ||
    echo "reproduce: postprocess/nscaling.py failed (see $out/figures.log)" >&2
fi
fig3=()
for e in initscale initscale_c1 initscale_chalf initscale_c2_constant initscale_bn; do
  [ -f "$out/$e/DONE" ] && fig3+=("$out/$e/results.h5")
done
[ ${#fig3[@]} -gt 1 ] && figures "${fig3[@]}" --out "$out/fig3"
echo "reproduce: done; figures and summaries in $out/*/figures and $out/fig3 (messages: $out/figures.log)"
