#!/usr/bin/env bash
# jobs/fetch_data.sh offline: small fake archives (valid IDX gzip files, a
# CIFAR-10 tar.gz) served by a local HTTP server, with NNCAS_DATA_URL pointing
# at it and NNCAS_DATA_CHECKSUMS holding their checksums. Checks that a fetch
# installs the layout nncas reads (with curl, and with wget), that a second
# call does nothing and needs no network, that mirrors are tried in order;
# and that a wrong checksum, a truncated file, an HTTP error, a missing
# downloader or checksum tool, a foreign DIR and a file damaged after the
# fetch each give one "fetch_data: error:" line naming the file and the
# problem, a non-zero status and no directory that looks complete, as does
# SIGTERM in mid-download. Then, if the nncas binary is given, trains one
# epoch on the fetched MNIST-like and CIFAR-like data. A few seconds.
# Usage: test_fetch_data.sh SCRATCH_DIR [NNCAS_BINARY]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fetch=$here/jobs/fetch_data.sh
scratch=$1
nncas=${2:-}
py=/usr/bin/python3
rm -rf "$scratch" && mkdir -p "$scratch"
have() { command -v "$1" >/dev/null 2>&1; }
have curl || have wget || { echo "SKIP: neither curl nor wget is installed"; exit 77; }
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }

# --- Fake archives: www/good/ as published, www/<case>/ broken copies. -------
www=$scratch/www
"$py" - "$www/good" <<'EOF'
import gzip, io, os, struct, sys, tarfile
out = sys.argv[1]
os.makedirs(out)
def idx(name, magic, dims, data):
    raw = struct.pack(">I" + "I" * len(dims), magic, *dims) + bytes(data)
    with gzip.open(os.path.join(out, name), "wb") as f:
        f.write(raw)
for split, n in (("train", 60), ("t10k", 30)):  # classes 0..9 in turn
    idx(f"{split}-images-idx3-ubyte.gz", 0x803, (n, 28, 28), ((7 * i) % 256 for i in range(n * 784)))
    idx(f"{split}-labels-idx1-ubyte.gz", 0x801, (n,), (i % 10 for i in range(n)))
def batch(n, seed):  # label byte + 3072 pixel bytes a record
    return b"".join(bytes([i % 10]) + bytes((seed + i + k) % 256 for k in range(3072)) for i in range(n))
with tarfile.open(os.path.join(out, "cifar-10-binary.tar.gz"), "w:gz") as tar:
    files = {f"data_batch_{b}.bin": batch(20, b) for b in range(1, 6)}
    files["test_batch.bin"] = batch(20, 9)
    files["batches.meta.txt"] = b"airplane\nautomobile\n"
    for name, data in files.items():
        info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
EOF
sums=$scratch/checksums.txt
for d in mnist fashion-mnist; do
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    g=$www/good/$f
    echo "$d $f $(wc -c <"$g") $(md5sum <"$g" | cut -d' ' -f1) $(sha256sum <"$g" | cut -d' ' -f1)"
  done
done >"$sums"
g=$www/good/cifar-10-binary.tar.gz
echo "cifar10 cifar-10-binary.tar.gz $(wc -c <"$g") $(md5sum <"$g" | cut -d' ' -f1) $(sha256sum <"$g" | cut -d' ' -f1)" >>"$sums"

cp -r "$www/good" "$www/corrupt" # one byte changed, same size
printf '\x42' | dd of="$www/corrupt/train-labels-idx1-ubyte.gz" bs=1 seek=20 conv=notrunc status=none
printf '\x42' | dd of="$www/corrupt/cifar-10-binary.tar.gz" bs=1 seek=200 conv=notrunc status=none
cp -r "$www/good" "$www/truncated" # the file ends early
head -c $(($(wc -c <"$www/good/t10k-images-idx3-ubyte.gz") / 2)) "$www/good/t10k-images-idx3-ubyte.gz" >"$www/truncated/t10k-images-idx3-ubyte.gz"
cp -r "$www/good" "$www/http404"
rm "$www/http404/t10k-labels-idx1-ubyte.gz"

# --- The server, on a free port, stopped on exit. ----------------------------
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null' EXIT
for _ in 1 2 3; do
  port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$py" -m http.server --bind 127.0.0.1 --directory "$www" "$port" >"$scratch/server.log" 2>&1 &
  server=$!
  for _ in $(seq 50); do
    "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "http://127.0.0.1:$port/good/train-labels-idx1-ubyte.gz" 2>/dev/null && break 2
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  kill "$server" 2>/dev/null
  server=""
done
[ -n "$server" ] || { echo "FAIL: the local HTTP server did not start (log: $scratch/server.log)"; exit 1; }
url=http://127.0.0.1:$port
export NNCAS_DATA_CHECKSUMS=$sums

# A PATH directory holding the commands jobs/fetch_data.sh uses, less the named ones.
tools=(env bash cat grep awk sed cut wc head tail sort xargs find ls mkdir mktemp mv rm chmod date
  realpath dirname basename md5sum sha256sum tar gzip curl wget)
path_without() {
  local bin t
  bin=$scratch/path_without_$(IFS=_; echo "$*")
  rm -rf "$bin" && mkdir -p "$bin"
  for t in "${tools[@]}"; do
    [[ " $* " = *" $t "* ]] || ! have "$t" || ln -s "$(command -v "$t")" "$bin/$t"
  done
  echo "$bin"
}

listing() { find "$1" -mindepth 1 -printf '%P\n' | LC_ALL=C sort; }

# No directory that looks complete: DIR absent or without .nncas-fetched, and
# no staging directory left beside it.
not_complete() {
  local dir=$1
  [ ! -e "$dir/.nncas-fetched" ] && [ -z "$(find "$(dirname "$dir")" -maxdepth 1 -name '*.partial.*')" ]
}

# fails NAME WANT1 WANT2 DIR -- command...: non-zero status, one
# "fetch_data: error:" line on stderr holding WANT1 and WANT2, DIR not complete.
fails() {
  local name=$1 want1=$2 want2=$3 dir=$4 rc=0 msg
  shift 5
  "$@" >"$scratch/$name.out" 2>"$scratch/$name.err" || rc=$?
  msg=$(head -n 1 "$scratch/$name.err")
  if [ "$rc" = 0 ]; then
    fail "$name: exit status 0"
  elif [ "$(wc -l <"$scratch/$name.err")" != 1 ] || [ "${msg#fetch_data: error: }" = "$msg" ]; then
    fail "$name: stderr is not one \"fetch_data: error:\" line:"
    cat "$scratch/$name.err"
  elif ! grep -qF -- "$want1" <<<"$msg" || ! grep -qF -- "$want2" <<<"$msg"; then
    fail "$name: message lacks \"$want1\" or \"$want2\": $msg"
  elif ! not_complete "$dir"; then
    fail "$name: left a directory that looks complete, or a staging directory"
  else
    ok "$name (status $rc): $msg"
  fi
}

# --- Success, layout, idempotence. ------------------------------------------
idx_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
mn=$scratch/data/mnist
if NNCAS_DATA_URL=$url/good "$fetch" mnist "$mn" >"$scratch/mnist.out" 2>&1; then
  bad=""
  for f in "${idx_files[@]}"; do cmp -s "$www/good/$f" "$mn/$f" || bad+=" $f"; done
  extra=$(listing "$mn" | grep -vxF -e .nncas-fetched "${idx_files[@]/#/-e}")
  if [ -n "$bad" ] || [ -n "$extra" ]; then
    fail "mnist_layout: differs from the served files:$bad; extra: $extra"
  elif ! (cd "$mn" && sha256sum --status -c .nncas-fetched); then
    fail "mnist_layout: sha256sum -c .nncas-fetched fails"
  elif ! not_complete "$scratch/data/nothing"; then
    fail "mnist_layout: a staging directory was left behind"
  else
    ok "mnist_layout: the four IDX gzip files and .nncas-fetched"
  fi
else
  fail "mnist_fetch:"
  cat "$scratch/mnist.out"
fi
stamp() { find "$1" -printf '%P %s %T@\n' | LC_ALL=C sort; }
before=$(stamp "$mn")
# Again, with nothing listening at the URL: no network needed.
if out=$(NNCAS_DATA_URL=http://127.0.0.1:1 "$fetch" mnist "$mn" 2>&1) && grep -q "already" <<<"$out" &&
  [ "$(stamp "$mn")" = "$before" ]; then
  ok "mnist_again_does_nothing: $out"
else
  fail "mnist_again_does_nothing: $out"
fi

# The same with wget when curl is missing (if wget is there), into an existing empty DIR.
fm=$scratch/data/fashion
mkdir -p "$fm"
if out=$(PATH=$(path_without "$(have wget && echo curl)") NNCAS_DATA_URL=$url/good "$fetch" fashion-mnist "$fm" 2>&1) &&
  cmp -s "$www/good/train-images-idx3-ubyte.gz" "$fm/train-images-idx3-ubyte.gz" &&
  grep -qx "# dataset: fashion-mnist" "$fm/.nncas-fetched"; then
  ok "fashion_mnist_into_empty_dir$(have wget && echo _with_wget)"
else
  fail "fashion_mnist_into_empty_dir$(have wget && echo _with_wget): $out"
fi
fails other_dataset "$fm" "fashion-mnist, not mnist" "$scratch/data/none" -- \
  env NNCAS_DATA_URL="$url/good" "$fetch" mnist "$fm"

# Mirrors tried in order: one that cannot be reached (asked once only), one
# that fails for one file, one that serves it.
fb=$scratch/data/fallback
if out=$(NNCAS_DATA_URL="http://127.0.0.1:1 $url/http404 $url/good" "$fetch" mnist "$fb" 2>&1) &&
  [ "$(grep -c "downloading http://127.0.0.1:1/" <<<"$out")" = 1 ] &&
  grep -q "t10k-labels-idx1-ubyte.gz: HTTP 404" <<<"$out" &&
  cmp -s "$www/good/t10k-labels-idx1-ubyte.gz" "$fb/t10k-labels-idx1-ubyte.gz"; then
  ok "next_mirror_after_unreachable_and_http_error"
else
  fail "next_mirror_after_unreachable_and_http_error: $out"
fi

cf=$scratch/data/cifar-10-batches-bin
if out=$(NNCAS_DATA_URL=$url/good "$fetch" cifar10 "$cf" 2>&1) &&
  [ "$(listing "$cf" | tr '\n' ' ')" = ".nncas-fetched batches.meta.txt data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin " ] &&
  (cd "$cf" && sha256sum --status -c .nncas-fetched) && grep -q "cifar-10-binary.tar.gz" "$cf/.nncas-fetched"; then
  ok "cifar10_layout: data_batch_1..5.bin, test_batch.bin, batches.meta.txt, no archive"
else
  fail "cifar10_layout: $out"
  ls -A "$cf"
fi
if out=$(NNCAS_DATA_URL=http://127.0.0.1:1 "$fetch" cifar10 "$cf" 2>&1) && grep -q "already" <<<"$out"; then
  ok "cifar10_again_does_nothing: $out"
else
  fail "cifar10_again_does_nothing: $out"
fi

# --- Failures. ---------------------------------------------------------------
d=$scratch/fail/mnist
fails wrong_checksum train-labels-idx1-ubyte.gz "wrong checksum" "$d" -- \
  env NNCAS_DATA_URL="$url/corrupt" "$fetch" mnist "$d"
fails wrong_checksum_cifar cifar-10-binary.tar.gz "wrong checksum" "$scratch/fail/cifar" -- \
  env NNCAS_DATA_URL="$url/corrupt" "$fetch" cifar10 "$scratch/fail/cifar"
fails truncated_download t10k-images-idx3-ubyte.gz "truncated" "$d" -- \
  env NNCAS_DATA_URL="$url/truncated" "$fetch" mnist "$d"
fails http_error t10k-labels-idx1-ubyte.gz "HTTP 404" "$d" -- \
  env NNCAS_DATA_URL="$url/http404" "$fetch" mnist "$d"
have wget && fails http_error_wget t10k-labels-idx1-ubyte.gz "404" "$d" -- \
  env PATH="$(path_without curl)" NNCAS_DATA_URL="$url/http404" "$fetch" mnist "$d"
fails no_downloader "curl, wget" "neither is in PATH" "$d" -- \
  env PATH="$(path_without curl wget)" NNCAS_DATA_URL="$url/good" "$fetch" mnist "$d"
fails no_sha256sum "sha256sum" "not found" "$d" -- \
  env PATH="$(path_without sha256sum)" NNCAS_DATA_URL="$url/good" "$fetch" mnist "$d"
fails no_tar "tar" "not found" "$scratch/fail/cifar" -- \
  env PATH="$(path_without tar)" NNCAS_DATA_URL="$url/good" "$fetch" cifar10 "$scratch/fail/cifar"
mkdir -p "$scratch/fail/foreign" && echo mine >"$scratch/fail/foreign/notes.txt"
fails foreign_dir_left_alone "foreign" "not made by fetch_data.sh" "$scratch/fail/foreign" -- \
  env NNCAS_DATA_URL="$url/good" "$fetch" mnist "$scratch/fail/foreign"
[ "$(cat "$scratch/fail/foreign/notes.txt")" = mine ] || fail "foreign_dir_left_alone: its file changed"
fails unknown_dataset "svhn" "unknown data set" "$d" -- "$fetch" svhn "$d"
# A file damaged after the fetch is found by the next call.
cp -r "$mn" "$scratch/fail/damaged"
printf '\x00' | dd of="$scratch/fail/damaged/t10k-images-idx3-ubyte.gz" bs=1 seek=30 conv=notrunc status=none
if ! out=$(NNCAS_DATA_URL=http://127.0.0.1:1 "$fetch" mnist "$scratch/fail/damaged" 2>&1 >/dev/null) && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "t10k-images-idx3-ubyte.gz: changed since it was fetched" <<<"$out"; then
  ok "damaged_after_fetch: $out"
else
  fail "damaged_after_fetch: $out"
fi
[ -z "$(find "$scratch/fail" -maxdepth 1 -name '*.partial.*')" ] || fail "a staging directory was left in $scratch/fail"

# SIGTERM in the middle of a download (a server that answers, then stalls):
# the script stops at once, its downloader with it, and leaves nothing.
"$py" - "$scratch/stall.port" <<'EOF2' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\nIDX")
EOF2
staller=$!
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; kill "$staller" 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$scratch/stall.port" ] && break; sleep 0.1; done
d=$scratch/fail/interrupted
NNCAS_DATA_URL=http://127.0.0.1:$(cat "$scratch/stall.port") "$fetch" mnist "$d" >"$scratch/interrupted.out" 2>&1 &
fetcher=$!
for _ in $(seq 50); do grep -qs downloading "$scratch/interrupted.out" && break; sleep 0.1; done
sleep 0.5
kill -TERM "$fetcher"
t0=$SECONDS
wait "$fetcher"
rc=$?
if [ "$rc" = 143 ] && [ $((SECONDS - t0)) -le 2 ] && not_complete "$d" && [ ! -e "$d" ] &&
  ! pgrep -f "127.0.0.1:$(cat "$scratch/stall.port")" >/dev/null; then
  ok "interrupted_fetch_leaves_nothing (status $rc)"
else
  fail "interrupted_fetch_leaves_nothing: status $rc after $((SECONDS - t0)) s; left: $(ls -A "$scratch/fail")"
fi
kill "$staller" 2>/dev/null

# --- nncas reads what was fetched. --------------------------------------------
if [ -n "$nncas" ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
  tiny=(-train_epochs 1 -train_batch 4 -net_layers "conv:2:5,relu,pool:4,dense:1" -output_overwrite)
  for format in idx cifar10; do
    data=$mn
    [ "$format" = idx ] || data=$cf
    if timeout 60 mpiexec -n 1 "$nncas" -data_format "$format" -data_dir "$data" "${tiny[@]}" \
      -output_dir "$scratch/run_$format" >"$scratch/run_$format.log" 2>&1 && [ -s "$scratch/run_$format/results.h5" ]; then
      ok "nncas_reads_fetched_$format: $(grep -m1 "^Data:" "$scratch/run_$format.log")"
    else
      fail "nncas_reads_fetched_$format:"
      tail -n 20 "$scratch/run_$format.log"
    fi
  done
else
  echo "skip nncas_reads_fetched_*: no nncas binary given"
fi

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all fetch_data checks passed (${SECONDS}s)"
