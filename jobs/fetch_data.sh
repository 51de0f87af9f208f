#!/usr/bin/env bash
# Downloads MNIST, Fashion-MNIST or CIFAR-10 (binary version), checks each
# archive against published checksums, and installs the files in DIR in the
# layout nncas reads with -data_dir DIR:
#
#   jobs/fetch_data.sh mnist         data/mnist                 # -data_format idx
#   jobs/fetch_data.sh fashion-mnist data/fashion-mnist         # -data_format idx
#   jobs/fetch_data.sh cifar10       data/cifar-10-batches-bin  # -data_format cifar10
#
# Layout. idx: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, the files
# as published (nncas reads gzip directly, src/data/images.c). cifar10:
# DIR/data_batch_{1..5}.bin, DIR/test_batch.bin, batches.meta.txt, readme.html:
# the archive's cifar-10-batches-bin/ directory; the archive is not kept.
#
# Checks. Every archive must have the published size, MD5 and SHA-256 (the
# table below; docs/data.md says where each number comes from). The
# publishers give MD5 (Fashion-MNIST, CIFAR-10) or only the size (MNIST);
# the SHA-256 are TensorFlow Datasets' records of the same files.
#
# Never half there. Everything is downloaded and unpacked in a staging
# directory beside DIR (.NAME.partial.XXXXXX, removed on failure or signal),
# which gets DIR/.nncas-fetched (what came from where, and the SHA-256 of every
# installed file) and only then is renamed to DIR in one rename(2): DIR either
# does not exist or is complete. A second call re-hashes the installed files
# against .nncas-fetched (about 1 s for CIFAR-10's 180 MB; that is cheap, and it
# catches a file damaged since) and says the data set is already there; it
# needs no network. A DIR that exists, is not empty and has no .nncas-fetched
# is left alone (it is not ours).
#
# Errors: one line "fetch_data: error: FILE: PROBLEM" on stderr, exit status 1.
#
# Environment:
#   NNCAS_DATA_URL        base URL(s), space-separated, tried in order instead of
#                         the official ones and their mirrors (a local mirror)
#   NNCAS_DATA_CHECKSUMS  a file that replaces the checksum table below, in its
#                         format; for tests only (it makes fake archives pass)
set -eEuo pipefail

prog=fetch_data
die() {
  echo "$prog: error: $*" >&2
  exit 1
}
note() { echo "$prog: $*"; }
trap 'die "unexpected failure of \"$BASH_COMMAND\" (line $LINENO of $0)"' ERR

# dataset file bytes md5 sha256, one archive a line. Sources (docs/data.md):
#   mnist: bytes from yann.lecun.com/exdb/mnist (which gives no checksum); MD5
#     from torchvision/datasets/mnist.py (the MNIST class's resources);
#     SHA-256 from tensorflow/datasets url_checksums/mnist.txt.
#   fashion-mnist: MD5 from zalandoresearch/fashion-mnist README.md ("Get the
#     Data"); bytes and SHA-256 from tensorflow/datasets url_checksums/fashion_mnist.txt.
#   cifar10: MD5 from www.cs.toronto.edu/~kriz/cifar.html ("CIFAR-10 binary
#     version"); bytes and SHA-256 from tensorflow/datasets url_checksums/cifar10.txt.
builtin_checksums() {
  cat <<'EOF'
mnist train-images-idx3-ubyte.gz 9912422 f68b3c2dcbeaaa9fbdd348bbdeb94873 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
mnist train-labels-idx1-ubyte.gz 28881 d53e105ee54ea40749a09fcbcd1e9432 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
mnist t10k-images-idx3-ubyte.gz 1648877 9fb629c4189551a2d022fa330f9573f3 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
mnist t10k-labels-idx1-ubyte.gz 4542 ec29112dd5afa0611ce80d1b7f02629c f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
fashion-mnist train-images-idx3-ubyte.gz 26421880 8d4fb7e6c68d591d4c3dfef9ec88bf0d 3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84
fashion-mnist train-labels-idx1-ubyte.gz 29515 25c81989df183df01b3e8a0aad5dffbe a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845
fashion-mnist t10k-images-idx3-ubyte.gz 4422102 bef4ecab320f06d8554ea6380940ec79 346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073
fashion-mnist t10k-labels-idx1-ubyte.gz 5148 bb300cfdad3c16e7a12a480ee83cd310 67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5
cifar10 cifar-10-binary.tar.gz 170052171 c32a1d4ab5d03f1284b67883e8d87530 c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd
EOF
}

# The base URLs of a data set, tried in order (yann.lecun.com often refuses
# downloads; torchvision's mirror serves the same files).
mirrors() {
  local u
  if [ -n "${NNCAS_DATA_URL:-}" ]; then
    for u in $NNCAS_DATA_URL; do echo "${u%/}"; done
    return
  fi
  case $1 in
    mnist) printf '%s\n' http://yann.lecun.com/exdb/mnist https://ossci-datasets.s3.amazonaws.com/mnist ;;
    fashion-mnist) echo http://fashion-mnist.s3-website.eu-central-1.amazonaws.com ;;
    cifar10) echo https://www.cs.toronto.edu/~kriz ;;
  esac
}

# The files nncas needs in DIR (the CIFAR-10 archive brings two more).
required_files() {
  case $1 in
    mnist | fashion-mnist) archives "$1" ;;
    cifar10) printf '%s\n' data_batch_{1..5}.bin test_batch.bin ;;
  esac
}

checksum_table() {
  if [ -n "${NNCAS_DATA_CHECKSUMS:-}" ]; then
    [ -r "$NNCAS_DATA_CHECKSUMS" ] || die "$NNCAS_DATA_CHECKSUMS: cannot read the checksum table (NNCAS_DATA_CHECKSUMS)"
    grep -v '^[[:space:]]*\(#\|$\)' "$NNCAS_DATA_CHECKSUMS" || true
  else
    builtin_checksums
  fi
}
archives() { checksum_table | awk -v d="$1" '$1 == d { print $2 }'; }
archive_line() { checksum_table | awk -v d="$1" -v f="$2" '$1 == d && $2 == f { print $3, $4, $5 }'; }

human() { if [ "$1" -ge 1000000 ]; then echo "$(($1 / 1000000)) MB"; else echo "$((($1 + 999) / 1000)) kB"; fi; }
have() { command -v "$1" >/dev/null 2>&1; }
need() { have "$1" || die "$1: not found in PATH ($2)"; }

# wait_child PID: its exit status. Waiting in `wait` rather than in the
# foreground lets a signal to this script stop at once (cleanup kills the child).
child=""
wait_child() {
  local rc=0
  child=$1
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# download URL OUT: 0, or 1 with the reason in $why and reached=0 if no
# server answered (name, connection, timeout).
download() {
  local url=$1 out=$2 rc=0 code msg
  reached=1
  if have curl; then
    curl -sS -L -f --connect-timeout 30 --speed-limit 1024 --speed-time 60 --retry 2 \
      -o "$out" -w '%{http_code}' "$url" >"$out.code" 2>"$out.log" &
    wait_child $! || rc=$?
    [ "$rc" = 0 ] && return 0
    code=$(cat "$out.code")
    msg=$(sed -n '1s/^curl: ([0-9]*) //p' "$out.log")
    case $rc in
      22) why="HTTP $code from $url" ;;
      18) why="the download from $url ended early (truncated transfer: $msg)" ;;
      *) why="cannot download $url (curl: ${msg:-exit status $rc})" reached=0 ;;
    esac
  else
    wget -nv --tries=3 --timeout=60 -O "$out" "$url" 2>"$out.log" &
    wait_child $! || rc=$?
    [ "$rc" = 0 ] && return 0
    msg=$(sed -n 's/.*ERROR \([0-9][0-9]*\): *\(.*[^.]\)\.*$/HTTP \1 (\2)/p' "$out.log" | tail -n 1)
    msg=${msg:-$(grep -v '^[[:space:]]*$' "$out.log" | tail -n 1)}
    case $rc in
      8) why="${msg:-HTTP error} from $url" ;;
      4) why="cannot download $url (wget: ${msg:-network failure})" reached=0 ;;
      *) why="cannot download $url (wget: ${msg:-exit status $rc})" ;;
    esac
  fi
  return 1
}

# verify FILE BYTES MD5 SHA256: 0, or 1 with the reason in $why.
verify() {
  local f=$1 bytes=$2 md5=$3 sha=$4 size got
  size=$(wc -c <"$f")
  if [ "$size" -lt "$bytes" ]; then
    why="truncated: only $size of the published $bytes bytes"
    return 1
  elif [ "$size" -gt "$bytes" ]; then
    why="$size bytes, but the published size is $bytes"
    return 1
  fi
  got=$(md5sum <"$f" | cut -d' ' -f1)
  [ "$got" = "$md5" ] || { why="wrong checksum: MD5 $got, published $md5"; return 1; }
  got=$(sha256sum <"$f" | cut -d' ' -f1)
  [ "$got" = "$sha" ] || { why="wrong checksum: SHA-256 $got, published $sha"; return 1; }
}

# fetch_archive DATASET NAME OUT: downloads NAME from the first mirror that
# serves the published bytes; records "NAME BYTES MD5 SHA256 URL" in $fetched.
# A mirror that could not be reached is not asked for the next files.
unreachable=" "
fetch_archive() {
  local dataset=$1 name=$2 out=$3 line bytes md5 sha base bases k
  line=$(archive_line "$dataset" "$name")
  read -r bytes md5 sha <<<"$line"
  [ -n "$sha" ] || die "$name: the checksum table has no complete line for $dataset"
  mapfile -t bases < <(mirrors "$dataset")
  why="no mirror left to try"
  for k in "${!bases[@]}"; do
    base=${bases[k]}
    [[ $unreachable != *" $base "* ]] || continue
    note "downloading $base/$name ($(human "$bytes"))"
    if ! download "$base/$name" "$out"; then
      [ "$reached" = 1 ] || unreachable+="$base "
    elif verify "$out" "$bytes" "$md5" "$sha"; then
      rm -f "$out.log" "$out.code"
      fetched+="# archive: $name $bytes bytes, md5 $md5, sha256 $sha, from $base/$name"$'\n'
      return 0
    fi
    [ "$k" = $((${#bases[@]} - 1)) ] || note "$name: $why; trying the next mirror"
  done
  die "$name: $why"
}

# unpack_cifar STAGE: STAGE/cifar-10-binary.tar.gz -> STAGE/*.bin (the
# archive's cifar-10-batches-bin/), archive removed.
unpack_cifar() {
  local stage=$1 archive=$1/cifar-10-binary.tar.gz f msg
  mkdir "$stage/.unpack"
  tar -xzf "$archive" -C "$stage/.unpack" 2>"$stage/.unpack.log" || {
    msg=$(grep -m 1 -v '^[[:space:]]*$' "$stage/.unpack.log")
    die "cifar-10-binary.tar.gz: cannot unpack (${msg:-tar failed})"
  }
  for f in $(required_files cifar10); do
    [ -f "$stage/.unpack/cifar-10-batches-bin/$f" ] || die "cifar-10-binary.tar.gz: has no cifar-10-batches-bin/$f"
  done
  mv "$stage/.unpack/cifar-10-batches-bin/"* "$stage/"
  rm -rf "$stage/.unpack" "$stage/.unpack.log" "$archive"
}

# check_installed DATASET DIR: every required file of DIR/.nncas-fetched is
# listed there and still has the recorded SHA-256.
check_installed() {
  local dataset=$1 dir=$2 marker=$2/.nncas-fetched f want got
  grep -qx "# dataset: $dataset" "$marker" ||
    die "$dir: holds $(sed -n 's/^# dataset: //p' "$marker" | head -n 1), not $dataset (per .nncas-fetched)"
  for f in $(required_files "$dataset"); do
    grep -q "^[0-9a-f]\{64\}  $f\$" "$marker" || die "$marker: does not list $f; remove $dir and fetch again"
  done
  while read -r want f; do
    [ -f "$dir/$f" ] || die "$dir/$f: missing since it was fetched; remove $dir and fetch again"
    got=$(sha256sum <"$dir/$f" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "$dir/$f: changed since it was fetched (SHA-256 in .nncas-fetched); remove $dir and fetch again"
  done < <(grep "^[0-9a-f]\{64\}  " "$marker")
}

stage=""
cleanup() {
  [ -z "$child" ] || kill "$child" 2>/dev/null || true
  [ -z "$stage" ] || rm -rf "$stage"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ $# = 2 ] || die "usage: jobs/fetch_data.sh mnist|fashion-mnist|cifar10 DIR"
dataset=$1
case $dataset in
  mnist | fashion-mnist | cifar10) ;;
  *) die "$dataset: unknown data set (mnist, fashion-mnist or cifar10)" ;;
esac
[ -n "$2" ] || die "DIR is empty"
need sha256sum "coreutils"
dir=$(realpath -m -- "$2")
[ -n "$(archives "$dataset")" ] || die "$dataset: not in the checksum table${NNCAS_DATA_CHECKSUMS:+ $NNCAS_DATA_CHECKSUMS}"

if [ -f "$dir/.nncas-fetched" ]; then
  check_installed "$dataset" "$dir"
  note "$dataset is already in $dir (its files match .nncas-fetched); nothing to do"
  exit 0
fi
if [ -e "$dir" ] && { [ ! -d "$dir" ] || [ -n "$(ls -A -- "$dir")" ]; }; then
  die "$dir: exists and was not made by fetch_data.sh (no .nncas-fetched): remove it or choose another DIR"
fi

have curl || have wget || die "curl, wget: neither is in PATH (apt-get install curl)"
need md5sum "coreutils"
if [ "$dataset" = cifar10 ]; then
  need tar "apt-get install tar"
  need gzip "apt-get install gzip"
fi

parent=$(dirname -- "$dir")
mkdir -p -- "$parent" 2>/dev/null || die "$parent: cannot create the directory"
stage=$(mktemp -d "$parent/.$(basename -- "$dir").partial.XXXXXX" 2>/dev/null) ||
  die "$parent: cannot create a staging directory there (not writable?)"

fetched=""
for name in $(archives "$dataset"); do
  fetch_archive "$dataset" "$name" "$stage/$name"
done
[ "$dataset" != cifar10 ] || unpack_cifar "$stage"

{
  echo "# nncas jobs/fetch_data.sh: this directory is complete (sha256sum -c .nncas-fetched checks it)."
  echo "# dataset: $dataset"
  echo "# fetched: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '%s' "$fetched"
  (cd "$stage" && find . -maxdepth 1 -type f ! -name '.nncas-fetched*' -printf '%f\n' | LC_ALL=C sort | xargs -r sha256sum --)
} >"$stage/.nncas-fetched.tmp"
mv "$stage/.nncas-fetched.tmp" "$stage/.nncas-fetched"
chmod "$(printf '%o' $((0777 & ~$(umask))))" "$stage" # mktemp made it 0700

if ! mv -T -- "$stage" "$dir" 2>/dev/null; then
  [ -f "$dir/.nncas-fetched" ] || die "$dir: cannot move the complete data set there from $stage"
  note "$dataset: another fetch completed $dir first; keeping it"
  exit 0
fi
stage=""
note "$dataset is in $dir: $(required_files "$dataset" | wc -l) files checked (-data_dir $dir)"
