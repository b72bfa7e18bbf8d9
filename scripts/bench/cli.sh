#!/usr/bin/env bash
# scripts/bench/cli.sh [--build DIR] [--runs N]
#
# The runc-mode CLI as a caller sees it, hull against Debian's runc on the same busybox
# bundle (process /bin/true), median over N runs (default 10):
#   run_s        `hull run` / `runc run` from the command to the container's exit
#   create_s     `hull create` (host work + VM boot + container create in the guest)
#   guest_boot_s the guest's own uptime at the agent's ready line (console.log): guest work
#   host_s       create_s - guest_boot_s: host-side work (dirs, mounts, backends, QEMU
#                start, agent handshake, container create RPC)
#   start_s      `hull start`
#   start_exit_s from running `hull start` to the monitor's exit: start, /bin/true in the
#                guest, its status back to the host and the VM's teardown (the process may
#                end before `hull start` has returned)
#   delete_s     `hull delete` of the stopped container
#   exec_s       `hull exec ID /bin/true` in a running container (and `runc exec`)
# and the host PSS of one idle container: the monitor (the container pid) and everything
# under it (QEMU, virtiofsd, hull-vsock), from /proc/<pid>/smaps_rollup.
# Prints a table and writes DIR/bench/cli.json. Needs root.
# Runs under the build tree's guest image and hull-vsock unless HULL_CONFIG / HULL_VSOCK
# say otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
runs=10
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    *) echo "usage: $0 [--build DIR] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
runc=$(command -v runc || echo /usr/sbin/runc)
[ -x "$runc" ] || { echo "cli.sh: no runc: apt-get install runc" >&2; exit 1; }
bench_hull cli.sh cli bench-idle bench-exec
runc_root=$work/runc-root
cleanup() {
  "$runc" --root "$runc_root" delete -f bench-runc-exec >/dev/null 2>&1 || true
  bench_cleanup
}
trap cleanup EXIT

bundle=$work/bundle
make_bench_bundle "$bundle" "$hull" /bin/true
# A second bundle whose process stays up, for exec and the idle PSS.
sleeper=$work/sleeper
mkdir -p "$sleeper"
python3 - "$bundle/config.json" "$sleeper/config.json" "$bundle/rootfs" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/sleep", "1000"]
c["root"]["path"] = sys.argv[3]
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.4f}')" "$1" "$(now)"; }

# Waits for process $1 to end (a pidfd: it need not be our child) and prints
# the time it did; "ready" first, once the pidfd is open.
exit_waiter() {
  python3 -c '
import os, select, sys, time
fd = os.pidfd_open(int(sys.argv[1]))
print("ready", flush=True)
select.select([fd], [], [])
print(f"{time.time():.6f}", flush=True)' "$1"
}

hull_run=() runc_run=() hull_create=() hull_boot=() hull_start=() hull_exec=() runc_exec=()
hull_start_exit=() hull_delete=()
for i in $(seq "$runs"); do
  t=$(now); "$runc" --root "$runc_root" run --bundle "$bundle" "bench-r$i" </dev/null >/dev/null
  runc_run+=("$(since "$t")")
  t=$(now); "$hull" --root "$hull_root" run --bundle "$bundle" "bench-h$i" </dev/null >/dev/null
  hull_run+=("$(since "$t")")

  # The same run in steps, to split host and guest work.
  t=$(now)
  "$hull" --root "$hull_root" create --bundle "$bundle" --pid-file "$work/pid" "bench-c$i" \
    </dev/null >/dev/null 2>&1
  hull_create+=("$(since "$t")")
  consoles=("$hull_root"/sandboxes/*/console.log)
  console=${consoles[0]}
  boot=$(sed -n 's/.*hull-agent ready \([0-9.]*\).*/\1/p' "$console" | head -1)
  hull_boot+=("${boot:-0}")
  pid=$(cat "$work/pid")
  exit_waiter "$pid" >"$work/exit" &
  waiter=$!
  while [ "$(head -1 "$work/exit" 2>/dev/null)" != ready ]; do sleep 0.01; done
  t=$(now); "$hull" --root "$hull_root" start "bench-c$i"; hull_start+=("$(since "$t")")
  wait "$waiter"
  hull_start_exit+=("$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.4f}')" \
    "$t" "$(sed -n 2p "$work/exit")")")
  t=$(now); "$hull" --root "$hull_root" delete "bench-c$i" >/dev/null; hull_delete+=("$(since "$t")")
done

"$hull" --root "$hull_root" run -d --bundle "$sleeper" bench-exec </dev/null >/dev/null 2>&1
# runc names its host cgroup after the id, as hull does: the ids differ.
"$runc" --root "$runc_root" run -d --bundle "$sleeper" bench-runc-exec </dev/null >/dev/null 2>&1
for i in $(seq "$runs"); do
  t=$(now); "$hull" --root "$hull_root" exec bench-exec /bin/true </dev/null; hull_exec+=("$(since "$t")")
  t=$(now); "$runc" --root "$runc_root" exec bench-runc-exec /bin/true </dev/null; runc_exec+=("$(since "$t")")
done

# Host PSS of the idle container: the monitor and all its descendants.
pss=$(python3 - "$("$hull" --root "$hull_root" state bench-exec | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')" <<'PY'
import os, sys
root = int(sys.argv[1])
children = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(d))
todo, procs = [root], []
while todo:
    p = todo.pop()
    procs.append(p)
    todo += children.get(p, [])
out = {}
for p in procs:
    try:
        name = open(f"/proc/{p}/comm").read().strip()
        kb = {l.split(":")[0]: int(l.split()[1]) for l in open(f"/proc/{p}/smaps_rollup") if l.split(":")[0] in ("Pss", "Pss_Anon", "Pss_Shmem")}
    except OSError:
        continue
    o = out.setdefault(name, {"Pss": 0, "Pss_Anon": 0, "Pss_Shmem": 0, "procs": 0})
    o["procs"] += 1
    for k, v in kb.items():
        o[k] += v
import json
print(json.dumps(out))
PY
)

python3 - "$build/bench/cli.json" "$pss" "$runs" \
  "${hull_run[*]}" "${runc_run[*]}" "${hull_create[*]}" "${hull_boot[*]}" "${hull_start[*]}" \
  "${hull_exec[*]}" "${runc_exec[*]}" "${hull_start_exit[*]}" "${hull_delete[*]}" <<'PY'
import json, os, statistics, sys
out, pss, runs = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
names = ["hull_run", "runc_run", "hull_create", "hull_guest_boot", "hull_start", "hull_exec", "runc_exec",
         "hull_start_exit", "hull_delete"]
vals = {n: [float(x) for x in s.split()] for n, s in zip(names, sys.argv[4:])}
med = {n: statistics.median(v) for n, v in vals.items()}
med["hull_host"] = med["hull_create"] - med["hull_guest_boot"]
print(f"hull vs runc, median of {runs} runs, host load {os.getloadavg()[0]:.2f}")
print(f"{'':34}{'hull':>10}{'runc':>10}{'ratio':>8}")
print(f"{'run /bin/true (to exit)':34}{med['hull_run']:>10.3f}{med['runc_run']:>10.3f}{med['hull_run']/med['runc_run']:>8.1f}")
print(f"{'exec /bin/true':34}{med['hull_exec']:>10.3f}{med['runc_exec']:>10.3f}{med['hull_exec']/med['runc_exec']:>8.1f}")
print(f"{'  create (host + guest)':34}{med['hull_create']:>10.3f}")
print(f"{'    guest: kernel + agent boot':34}{med['hull_guest_boot']:>10.3f}")
print(f"{'    rest: host work + create RPC':34}{med['hull_host']:>10.3f}")
print(f"{'  start':34}{med['hull_start']:>10.3f}")
print(f"{'  start -> monitor exit (teardown)':34}{med['hull_start_exit']:>10.3f}")
print(f"{'  delete (stopped)':34}{med['hull_delete']:>10.3f}")
print("host PSS of one idle container (KiB)")
total = {"Pss": 0, "Pss_Anon": 0, "Pss_Shmem": 0}
for name, o in sorted(pss.items()):
    print(f"  {name + ' x' + str(o['procs']):24}{o['Pss']:>10}{o['Pss_Anon']:>10}{o['Pss_Shmem']:>10}")
    for k in total:
        total[k] += o[k]
print(f"  {'total':24}{total['Pss']:>10}{total['Pss_Anon']:>10}{total['Pss_Shmem']:>10}")
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump({"runs": runs, "seconds": vals, "median": med, "idle_pss_kib": pss,
           "idle_pss_total_kib": total}, open(out, "w"), indent=2)
print(f"written: {out}")
PY
