#!/bin/bash
# A real multi-host data-parallel run on one machine: two "hosts", each a
# network namespace with its own address and host name, joined by a bridge,
# talking TCP only (--mca btl tcp,self). mpirun starts its daemons through
# --mca plm_rsh_agent pointing at a script that enters the namespace instead
# of ssh, with a hostfile naming the two namespace hosts. The 2-host run must
# train and match one process with all 4 columns (losses within 1e-5 relative).
#
#   tests/netns/two_hosts.sh BUILD_DIR
#
# Exit 0: passed; 77: skipped (namespaces not permitted here, reason
# printed); anything else: failed. Namespaces, links and files are removed on
# every exit path.
set -u
BUILD=$(cd "${1:?usage: two_hosts.sh BUILD_DIR}" && pwd)
RNNFLOW=$BUILD/rnnflow
SKIP=77

skip() { echo "SKIP: $*"; exit $SKIP; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (uid $(id -u))"
command -v ip > /dev/null || skip "iproute2 (ip) is not installed"
command -v unshare > /dev/null || skip "util-linux unshare is not installed"
command -v mpirun > /dev/null || fail "mpirun not found"
[ -x "$RNNFLOW" ] || fail "$RNNFLOW not built"

TAG=rf$(($$ % 100000))          # interface names must stay within 15 characters
NET=10.213.$(($$ % 250)).      # a /24 of our own
NS0=${TAG}h0 NS1=${TAG}h1 BR=${TAG}br
WORK=$(mktemp -d /tmp/rnnflow_netns.XXXXXX)

cleanup() {
  set +e
  for ns in "$NS0" "$NS1"; do
    # Processes this test started inside the namespace (orted, rnnflow).
    for pid in $(ip netns pids "$ns" 2> /dev/null); do kill -9 "$pid" 2> /dev/null; done
    ip netns del "$ns" 2> /dev/null
  done
  ip link del "${TAG}v0" 2> /dev/null  # usually gone with its peer
  ip link del "${TAG}v1" 2> /dev/null
  ip link del "$BR" 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! err=$(ip netns add "$NS0" 2>&1); then
  skip "creating a network namespace is not permitted here: $err"
fi
# The network: a bridge in this namespace, one veth pair per host.
setup() {
  set -e
  ip netns add "$NS1"
  ip link add "$BR" type bridge
  ip addr add "${NET}254/24" dev "$BR"
  ip link set "$BR" up
  local i=0 ns
  for ns in "$NS0" "$NS1"; do
    ip link add "${TAG}v$i" type veth peer name eth0 netns "$ns"
    ip link set "${TAG}v$i" master "$BR" up
    ip netns exec "$ns" ip addr add "${NET}$((i + 1))/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    i=$((i + 1))
  done
}
if ! err=$( (setup) 2>&1); then
  skip "network namespaces can be created but not connected here: $err"
fi

# The "ssh" of this cluster: host address -> namespace, own host name.
cat > "$WORK/netns-rsh" << AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in
  ${NET}1) ns=$NS0; name=${TAG}-host0 ;;
  ${NET}2) ns=$NS1; name=${TAG}-host1 ;;
  *) echo "netns-rsh: unknown host \$host" >&2; exit 255 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$name && exec sh -c '\$*'"
AGENT
chmod +x "$WORK/netns-rsh"
printf '%s1 slots=1\n%s2 slots=1\n' "$NET" "$NET" > "$WORK/hosts"

# The tiny LM of the command-line tests (TinyByteLmModel in
# tests/testing/command_line.cc, as tests/mpi_train_test.cc writes it), on a
# small corpus.
for _ in $(seq 2500); do printf 'the cat sat on the mat. '; done > "$WORK/corpus.txt"
cat > "$WORK/model.pbtxt" << 'MODEL'
format_version: 1
name: "tiny"
input { name: "tokens"  dtype: INT32 dim: ["T", "N"] feed: TOKENS }
input { name: "targets" dtype: INT32 dim: ["T", "N"] feed: NEXT_TOKENS }
node { name: "embed" op: "Embedding" input: "tokens"
       attr { key: "vocab" value { i: 256 } } attr { key: "dim" value { i: 8 } } }
node { name: "lstm" op: "LSTM" input: "embed" attr { key: "hidden" value { i: 16 } } }
node { name: "logits" op: "Dense" input: "lstm" attr { key: "units" value { i: 256 } } }
node { name: "loss" op: "SoftmaxCrossEntropy" input: ["logits", "targets"] }
loss: "loss"
training { adam {} learning_rate { base: 0.01 } truncation_steps: 16 streams_per_worker: 2 }
MODEL
TRAIN="$RNNFLOW train $WORK/model.pbtxt --data $WORK/corpus.txt --steps 10 --no-validation"

OMP_NUM_THREADS=1 $TRAIN --streams-per-worker 4 --metrics "$WORK/one.jsonl" > "$WORK/one.log" 2>&1 ||
  { cat "$WORK/one.log"; fail "the single-process run failed"; }

timeout 120 mpirun --allow-run-as-root -np 2 --hostfile "$WORK/hosts" --map-by node --bind-to none \
  --mca plm_rsh_agent "$WORK/netns-rsh" --mca btl tcp,self \
  --mca btl_tcp_if_include "${NET}0/24" --mca oob_tcp_if_include "${NET}0/24" \
  -x OMP_NUM_THREADS=1 \
  $TRAIN --metrics "$WORK/two.jsonl" > "$WORK/two.log" 2>&1
rc=$?
cat "$WORK/two.log"
[ $rc = 0 ] || fail "the 2-host run exited with $rc"
grep -q "data parallel: 2 ranks x 2 streams = 4 columns" "$WORK/two.log" ||
  fail "no data-parallel start-up line"
grep -q "rank 0 on ${TAG}-host0" "$WORK/two.log" && grep -q "rank 1 on ${TAG}-host1" "$WORK/two.log" ||
  fail "the ranks did not run on the two namespace hosts"

losses() { sed -n 's/.*"loss": \([^,}]*\).*/\1/p' "$1"; }
paste <(losses "$WORK/one.jsonl") <(losses "$WORK/two.jsonl") | awk '
  { n++; d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5 * $1) { bad++; print "step " n ": " $1 " vs " $2 } }
  END { if (n != 10 || bad) { print n " steps compared, " bad + 0 " differ"; exit 1 }
        print "2 hosts over TCP == 1 process, 10 steps (losses within 1e-5 relative)" }' ||
  fail "the 2-host losses differ from the single process"
echo PASS
