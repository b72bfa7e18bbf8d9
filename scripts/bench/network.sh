#!/usr/bin/env bash
# scripts/bench/network.sh [--build DIR] [--runs N] [--mib N] [--repeat N]
#
# Container networking, hull against Debian's runc on the same veth setup: inside two
# network namespaces this script creates (a "peer" at 10.240.0.1 and the container's at
# 10.240.0.2, joined by a veth pair; config.json names the container's by path, as
# podman and CNI do), with no traffic anywhere else:
#   tcp_out_mibs  TCP throughput container -> peer: `dd | nc` in the container (busybox),
#                 a receiver on the peer timing N MiB (default 32) from the first byte
#   tcp_in_mibs   TCP throughput peer -> container: a sender on the peer, `nc -l` in the
#                 container, timed from connect to the container's close after N MiB
#   rtt_ms        ping RTT peer -> container (20 pings, 0.2 s apart), average
#   (each transfer repeated --repeat times, default 3: the median)
# and the time networking adds to `hull run` (/bin/true, median of --runs, default 10):
# a namespace with one veth (one NIC wired: tap, filters, guest configuration) against
# a new empty namespace (loopback only, no NIC); runc's the same way for reference.
# Prints a table and writes DIR/bench/network.json. Needs root; removes everything
# it made (containers, namespaces, temp dir) on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
runs=10
mib=32
repeat=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --mib) mib=${2:?}; shift ;;
    --repeat) repeat=${2:?}; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--build DIR] [--runs N] [--mib N] [--repeat N]" >&2; exit 2 ;;
  esac
  shift
done
hull=$build/runtime/cli/hull
runc=$(command -v runc || echo /usr/sbin/runc)
[ "$(id -u)" -eq 0 ] || { echo "network.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x "$hull" ] || { echo "no hull at $hull: cmake --build $build --target hull hull-vsock guest-image" >&2; exit 1; }
[ -x "$runc" ] || { echo "no runc: apt-get install runc" >&2; exit 1; }

work=$(mktemp -d /tmp/hull-bench-net.XXXXXX)
hull_root=$work/hull-root
runc_root=$work/runc-root
peer=hull-bench-net-peer-$$
ctr=hull-bench-net-ctr-$$
helper_pid=''
cleanup() {
  "$hull" --root "$hull_root" delete -f bench-net >/dev/null 2>&1 || true
  "$runc" --root "$runc_root" delete -f bench-net >/dev/null 2>&1 || true
  if [ -n "$helper_pid" ]; then kill "$helper_pid" 2>/dev/null || true; fi
  ip netns del "$ctr" 2>/dev/null || true
  ip netns del "$peer" 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# The namespaces: the peer's end at 10.240.0.1, the container's eth0 at 10.240.0.2
# with a default route through the peer.
ip netns add "$peer"
ip netns add "$ctr"
ip -n "$peer" link set lo up
ip -n "$ctr" link set lo up
ip link add "bnc$$" netns "$ctr" type veth peer name "bnp$$" netns "$peer"
ip -n "$ctr" link set "bnc$$" name eth0
ip -n "$ctr" addr add 10.240.0.2/24 dev eth0
ip -n "$ctr" link set eth0 up
ip -n "$ctr" route add default via 10.240.0.1
ip -n "$peer" addr add 10.240.0.1/24 dev "bnp$$"
ip -n "$peer" link set "bnp$$" up
in_peer() { nsenter --net="/run/netns/$peer" "$@"; }

# Bundles: `sleep` in the container's namespace (for the transfers), and /bin/true
# with a NIC (the namespace's path) and without (a new, empty namespace).
"$root/tests/e2e/lib/busybox-rootfs.sh" "$work/rootfs" >/dev/null
(cd "$work" && "$hull" spec)
python3 - "$work" "/run/netns/$ctr" <<'PY'
import json, os, sys
work, netns = sys.argv[1], sys.argv[2]
base = json.load(open(f"{work}/config.json"))
base["process"]["terminal"] = False
base["root"]["path"] = f"{work}/rootfs"
def bundle(name, args, path):
    c = json.loads(json.dumps(base))
    c["process"]["args"] = args
    for ns in c["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns.pop("path", None)
            if path:
                ns["path"] = path
    os.makedirs(f"{work}/{name}", exist_ok=True)
    json.dump(c, open(f"{work}/{name}/config.json", "w"), indent=1)
bundle("sleeper", ["/bin/sleep", "100000"], netns)
bundle("true-nic", ["/bin/true"], netns)
bundle("true-lo", ["/bin/true"], None)
PY

# The peer's end of a transfer, on the peer: "recv PORT BYTES" times BYTES from the
# first byte; "send HOST PORT BYTES" times connect to the receiver's close. Prints
# MiB/s; writes "ready" to $3/$4's file once it listens (recv).
cat >"$work/peer.py" <<'PY'
import socket, sys, time
mode = sys.argv[1]
if mode == "recv":
    port, total, ready = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.240.0.1", port))
    s.listen(1)
    s.settimeout(300)
    open(ready, "w").write("ready\n")
    c, _ = s.accept()
    c.settimeout(300)
    got, t0 = 0, None
    while got < total:
        b = c.recv(1 << 20)
        if not b:
            break
        if t0 is None:
            t0 = time.monotonic()
        got += len(b)
    t = time.monotonic() - t0
    c.close()
    if got < total:
        sys.exit(f"received {got} of {total} bytes")
    print(f"{total / t / (1 << 20):.2f}")
else:
    host, port, total = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    deadline = time.monotonic() + 60
    while True:
        try:
            c = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    c.settimeout(300)
    t0 = time.monotonic()
    chunk = bytes(1 << 16)
    sent = 0
    while sent < total:
        sent += c.send(chunk[: min(len(chunk), total - sent)])
    c.shutdown(socket.SHUT_WR)
    while c.recv(1 << 16):
        pass
    t = time.monotonic() - t0
    print(f"{total / t / (1 << 20):.2f}")
PY

bytes=$((mib * 1024 * 1024))

# tcp_out RUNTIME ROOT: container -> peer, MiB/s.
tcp_out() {
  local rt=$1 rtroot=$2 port=$((5100 + RANDOM % 100))
  rm -f "$work/ready"
  in_peer python3 "$work/peer.py" recv "$port" "$bytes" "$work/ready" >"$work/out" &
  helper_pid=$!
  while [ ! -s "$work/ready" ]; do sleep 0.05; done
  "$rt" --root "$rtroot" exec bench-net sh -c \
    "dd if=/dev/zero bs=65536 count=$((bytes / 65536)) 2>/dev/null | nc 10.240.0.1 $port" </dev/null
  wait "$helper_pid"
  helper_pid=''
  cat "$work/out"
}

# tcp_in RUNTIME ROOT: peer -> container, MiB/s.
tcp_in() {
  local rt=$1 rtroot=$2 port=$((5200 + RANDOM % 100)) ncpid
  "$rt" --root "$rtroot" exec bench-net sh -c "nc -l -p $port >/dev/null" </dev/null &
  ncpid=$!
  in_peer python3 "$work/peer.py" send 10.240.0.2 "$port" "$bytes"
  wait "$ncpid"
}

# rtt RUNTIME: average ping RTT peer -> container, ms.
rtt() {
  in_peer busybox ping -q -c 20 -i 0.2 -W 10 10.240.0.2 |
    sed -n 's|.*round-trip min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

median() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

declare -A res
for rt in runc hull; do
  if [ "$rt" = hull ]; then bin=$hull rtroot=$hull_root; else bin=$runc rtroot=$runc_root; fi
  "$bin" --root "$rtroot" run -d --bundle "$work/sleeper" bench-net </dev/null >/dev/null 2>&1
  # the first transfer also waits for the guest to answer on the network
  in_peer busybox ping -q -c 1 -W 60 10.240.0.2 >/dev/null
  outs=() ins=()
  for _ in $(seq "$repeat"); do
    outs+=("$(tcp_out "$bin" "$rtroot")")
    ins+=("$(tcp_in "$bin" "$rtroot")")
  done
  res[$rt.tcp_out]="${outs[*]}"
  res[$rt.tcp_in]="${ins[*]}"
  res[$rt.rtt]=$(rtt)
  "$bin" --root "$rtroot" delete -f bench-net >/dev/null
  echo "$rt: out ${outs[*]} MiB/s, in ${ins[*]} MiB/s, rtt ${res[$rt.rtt]} ms" >&2
done

# `run /bin/true` with one NIC and with none.
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.4f}')" "$1" "$(now)"; }
for rt in runc hull; do
  if [ "$rt" = hull ]; then bin=$hull rtroot=$hull_root; else bin=$runc rtroot=$runc_root; fi
  nic=() lo=()
  for i in $(seq "$runs"); do
    t=$(now); "$bin" --root "$rtroot" run --bundle "$work/true-lo" "bench-lo$i" </dev/null >/dev/null
    lo+=("$(since "$t")")
    t=$(now); "$bin" --root "$rtroot" run --bundle "$work/true-nic" "bench-nic$i" </dev/null >/dev/null
    nic+=("$(since "$t")")
  done
  res[$rt.run_lo]="${lo[*]}"
  res[$rt.run_nic]="${nic[*]}"
done

# The namespace is as it was: no tap, no qdisc left by the runs.
if ip -n "$ctr" -o link show | grep -q hulltap || tc -n "$ctr" qdisc show | grep -q ingress; then
  echo "network.sh: a tap or an ingress qdisc was left in $ctr" >&2
  exit 1
fi

mkdir -p "$build/bench"
python3 - "$build/bench/network.json" "$runs" "$mib" "$repeat" \
  "${res[runc.tcp_out]}" "${res[hull.tcp_out]}" "${res[runc.tcp_in]}" "${res[hull.tcp_in]}" \
  "${res[runc.rtt]}" "${res[hull.rtt]}" \
  "${res[runc.run_lo]}" "${res[hull.run_lo]}" "${res[runc.run_nic]}" "${res[hull.run_nic]}" \
  "$(test -e /dev/vhost-net && echo on || echo off)" <<'PY'
import json, os, statistics, sys
out, runs, mib, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
names = ["runc_tcp_out", "hull_tcp_out", "runc_tcp_in", "hull_tcp_in", "runc_rtt", "hull_rtt",
         "runc_run_lo", "hull_run_lo", "runc_run_nic", "hull_run_nic"]
vals = {n: [float(x) for x in s.split()] for n, s in zip(names, sys.argv[5:15])}
vhost = sys.argv[15]
med = {n: statistics.median(v) for n, v in vals.items()}
print(f"network: hull vs runc on one veth pair, {mib} MiB per transfer (median of {repeat}), "
      f"run median of {runs}; vhost-net {vhost}; host load {os.getloadavg()[0]:.2f}")
print(f"{'':40}{'hull':>10}{'runc':>10}{'hull/runc':>11}")
def row(label, h, r, fmt=".2f"):
    print(f"{label:40}{h:>10{fmt}}{r:>10{fmt}}{h / r:>11.3f}")
row("TCP container -> peer (MiB/s)", med["hull_tcp_out"], med["runc_tcp_out"])
row("TCP peer -> container (MiB/s)", med["hull_tcp_in"], med["runc_tcp_in"])
row("ping RTT peer -> container (ms)", med["hull_rtt"], med["runc_rtt"], ".3f")
row("run /bin/true, no NIC (s)", med["hull_run_lo"], med["runc_run_lo"], ".3f")
row("run /bin/true, one NIC (s)", med["hull_run_nic"], med["runc_run_nic"], ".3f")
added = {rt: med[f"{rt}_run_nic"] - med[f"{rt}_run_lo"] for rt in ("hull", "runc")}
print(f"{'time one NIC adds to run (s)':40}{added['hull']:>10.3f}{added['runc']:>10.3f}")
quart = {n: statistics.quantiles(vals[n], n=4) if len(vals[n]) > 1 else [vals[n][0]] * 3
         for n in ("hull_run_lo", "hull_run_nic")}
print(f"  (hull run spread, p25-p75: no NIC {quart['hull_run_lo'][0]:.3f}-{quart['hull_run_lo'][2]:.3f}, "
      f"one NIC {quart['hull_run_nic'][0]:.3f}-{quart['hull_run_nic'][2]:.3f})")
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump({"bench": "network", "runs": runs, "mib": mib, "repeat": repeat, "vhost_net": vhost,
           "values": vals, "median": med, "run_added_by_nic_s": added, "hull_run_quartiles": quart,
           "ratio_hull_runc": {k: med[f"hull_{k}"] / med[f"runc_{k}"]
                               for k in ("tcp_out", "tcp_in", "rtt", "run_lo", "run_nic")}},
          open(out, "w"), indent=2)
print(f"written: {out}")
PY
