// Interpreting the agent's replies: every message the host gets from
// hull-agent goes through one of these pure functions before any of its values
// reaches hull (the CLI's JSON and tables, exit codes, signals, error text).
//
// The guest is untrusted, so a reply an honest agent cannot send is refused
// with Errc::GuestProtocol and a message naming the call, the field and the
// value: "agent reply WaitProcess: exit_status 70000 out of range (0-255)".
// The bounds are what the guest kernel and agent/rpc can produce: exit codes
// 0-255, signals 1-64, pids up to the kernel's PID_MAX_LIMIT, strings that are
// UTF-8 without NUL (protobuf checks UTF-8 too; checking again keeps that from
// being the only guard), and counts far above any real container's.
//
// No I/O and no gRPC calls here. The parsers live in agent_reply.cc (process
// exits, stdio, stats, guest details), agent_reply_processes.cc (ListProcesses)
// and agent_reply_network.cc (interfaces, routes); the unit tests of the same
// names in tests/unit/runtime/sandbox cover each function and
// tests/fuzz/agent_reply_fuzz.cc feeds them arbitrary messages.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent.pb.h"
#include "common/child_process.h"
#include "common/error.h"

namespace hull::sandbox {

// The largest pid a 64-bit Linux kernel hands out (PID_MAX_LIMIT); pids.max
// and pids.current cannot exceed it either.
inline constexpr uint64_t kMaxGuestPid = 4 * 1024 * 1024;
// Most processes one ListProcesses reply may name.
inline constexpr size_t kMaxReplyProcesses = 65536;
// Most bytes of one process's args, each counted with its separator (the
// agent reads at most 64 KiB of /proc/<pid>/cmdline).
inline constexpr size_t kMaxCmdlineBytes = 128 * 1024;
// A process name: the kernel keeps 15 bytes; a little slack for the future.
inline constexpr size_t kMaxCommBytes = 64;
// uname fields and the agent's version strings in GetGuestDetails.
inline constexpr size_t kMaxDetailBytes = 256;
// The most vCPUs a guest kernel can bring online (x86 NR_CPUS maximum).
inline constexpr uint32_t kMaxGuestCpus = 8192;
// How much of the agent's error text an Error carries.
inline constexpr size_t kMaxAgentErrorBytes = 512;
// Cgroup CPU times arrive in microseconds and are printed in nanoseconds.
inline constexpr uint64_t kMaxCpuUsec = std::numeric_limits<uint64_t>::max() / 1000;
// Memory counters: the kernel's page counters stop below 2^63 bytes.
inline constexpr uint64_t kMaxMemoryBytes = std::numeric_limits<int64_t>::max();
// A process's CPU time and age: a thousand years, in milliseconds.
inline constexpr uint64_t kMaxProcessTimeMs = 1000ULL * 365 * 24 * 3600 * 1000;
// The state letters /proc/<pid>/stat shows ('?' when the agent could not read it).
inline constexpr const char* kProcessStates = "RSDZTtWXxKPI?";
// memory.stat has about 50 keys of at most 30 bytes today; room for more.
inline constexpr size_t kMaxMemoryStatKeys = 256;
inline constexpr size_t kMaxMemoryStatKeyBytes = 64;
// Block devices one io.stat may list, and the kernel's device number bounds.
inline constexpr size_t kMaxIoDevices = 1024;
inline constexpr uint32_t kMaxDeviceMajor = (1U << 12) - 1;
inline constexpr uint32_t kMaxDeviceMinor = (1U << 20) - 1;
// ps(1)'s other columns (ListProcesses fields 19 and up): a kernel symbol
// (KSYM_NAME_LEN), a user or group name, supplementary groups (NGROUPS_MAX),
// the environment (the agent sends at most 64 KiB), a path or label
// (PATH_MAX), /proc/<pid>/cgroup lines, scheduling policy and priority.
inline constexpr size_t kMaxWchanBytes = 512;
inline constexpr size_t kMaxIdNameBytes = 256;
inline constexpr uint64_t kMaxGroups = 65536;
inline constexpr size_t kMaxEnvironBytes = 128 * 1024;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr uint64_t kMaxCgroupLines = 64;
inline constexpr uint64_t kMaxSchedPolicy = 7;
inline constexpr uint64_t kMaxRtPriority = 99;
inline constexpr size_t kMaxReplyIdNames = 4096;
// A container id as hull accepts one (common/oci/state.h: validate_id).
inline constexpr size_t kMaxContainerIdBytes = 255;

// Network replies: most addresses one interface and most routes one reply
// may carry, and an interface name's length (IFNAMSIZ - 1).
inline constexpr size_t kMaxReplyAddresses = 256;
inline constexpr size_t kMaxReplyRoutes = 4096;
inline constexpr size_t kMaxInterfaceNameBytes = 15;

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool valid_utf8(std::string_view s);

// `s` made safe to print: control characters (C0, DEL, C1) and bytes that are
// not UTF-8 become '?', as ps(1) shows them; longer than `max_bytes`, it is cut
// at a character boundary and ends in "...".
std::string printable(std::string_view s, size_t max_bytes = std::numeric_limits<size_t>::max());

// A failed call's status as hull's Error: the Errc the agent named in the
// details (else by gRPC code, agent/proto/error_codec.h) and the agent's text,
// printable and cut at kMaxAgentErrorBytes.
Error agent_error(const grpc::Status& st, std::string_view call);

// WaitProcess: exit_status 0-255 (ExitStatus::code); signaled means signal
// 1-64 and exit_status 128 + signal; not signaled means signal 0.
Result<ExitStatus> parse_wait(const agent::WaitProcessResponse& r);

// WriteStdin: how many of the `sent` bytes the agent took.
Result<size_t> parse_written(const agent::WriteStdinResponse& r, size_t sent);

// ReadStdout / ReadStderr: a chunk of at most kMaxIoChunkBytes.
Status check_io_chunk(const agent::IoChunk& c, std::string_view call);

// ListProcesses: at most kMaxReplyProcesses, each with a distinct pid in
// 1..kMaxGuestPid, a ppid in 0..kMaxGuestPid, a uid and gid other than
// (uid_t)-1, and comm and args that are UTF-8 without NUL within kMaxCommBytes
// and kMaxCmdlineBytes; its ps(1) columns: a state letter of kProcessStates
// (or none), pgid and sid in 0..kMaxGuestPid, priority -100..139, nice
// -20..19, processor below kMaxGuestCpus, threads at most kMaxGuestPid, times
// at most kMaxProcessTimeMs, sizes and mem_total_kib at most kMaxMemoryBytes. Control characters in
// comm and args come back as '?' (a container process chooses its own argv; it must not drive the
// terminal of whoever runs `hull ps`). The other columns (fields 19 and up):
// tpgid -1..kMaxGuestPid, ids other than (uid_t)-1, at most kMaxGroups groups
// with a name for each or none, names within kMaxIdNameBytes, wchan within
// kMaxWchanBytes, sizes at most kMaxMemoryBytes, an environment within
// kMaxEnvironBytes, threads with a tid in 1..kMaxGuestPid and the process's
// bounds, label, cgroup lines (at most kMaxCgroupLines) and exe within
// kMaxPathBytes, policy at most kMaxSchedPolicy, rt_priority at most
// kMaxRtPriority, oom_score 0..2000, oom_score_adj -1000..1000; every string
// printable the same way.
Result<std::vector<agent::ProcessInfo>> parse_processes(agent::ListProcessesResponse r);

// The rest of a ListProcesses reply: the guest's MemTotal, whether it left
// details out, and the container's user and group names (each table at most
// kMaxReplyIdNames entries with an id other than (uid_t)-1 and a name of
// 1..kMaxIdNameBytes printable bytes).
struct ProcessListExtras {
  uint64_t mem_total_kib = 0;
  bool truncated = false;
  std::vector<std::pair<uint32_t, std::string>> users;
  std::vector<std::pair<uint32_t, std::string>> groups;
};
Result<ProcessListExtras> parse_process_list_extras(const agent::ListProcessesResponse& r);

// StatsContainer: the cgroup message present, CPU times at most kMaxCpuUsec,
// memory counters at most kMaxMemoryBytes, pid counts at most kMaxGuestPid,
// at most kMaxMemoryStatKeys memory.stat names of [a-z0-9_] within
// kMaxMemoryStatKeyBytes, at most kMaxIoDevices io devices with device
// numbers the kernel can make.
Result<agent::CgroupStats> parse_stats(const agent::StatsContainerResponse& r);

// OomEvent: the id of a container, as hull's ids go (1-255 bytes of letters,
// digits and _ + - ., not "." or "..").
Result<std::string> parse_oom_event(const agent::OomEvent& e);

// Health: SERVING, else Errc::NotRunning.
Status check_health(const agent::HealthResponse& r);

// GetGuestDetails: printable strings of at most kMaxDetailBytes, boot times in
// order (start <= ready <= now; ready 0 while the service is coming up),
// mem_available <= mem_total, online_cpus at most kMaxGuestCpus.
Result<agent::GuestDetailsResponse> parse_guest_details(agent::GuestDetailsResponse r);

// UpdateInterface / ListInterfaces entry: a name of 1-15 printable bytes, a
// MAC "aa:bb:cc:dd:ee:ff" (or empty), an MTU of at most 65535, at most
// kMaxReplyAddresses addresses, each an IPv4 or IPv6 address with a prefix
// length its family allows.
Result<agent::Interface> parse_interface(agent::Interface r, std::string_view call);
// UpdateInterface: a well-formed interface that is the one asked for (same
// name and MAC, letter case aside) with the MTU asked for.
Result<agent::Interface> parse_updated_interface(agent::Interface r, const agent::Interface& asked);
// UpdateRoutes / ListRoutes: at most kMaxReplyRoutes routes, each with a
// destination "default", "::/0" or "<address>/<len>", a gateway and source
// that are addresses (or empty), a device name as for interfaces (or empty),
// a scope below 256, a family 0, 4 or 6, an MTU of at most 65535.
Result<agent::Routes> parse_routes(agent::Routes r, std::string_view call);

// ReadSharedFile: at most `max_bytes` of data, and a file size no smaller.
Result<agent::ReadSharedFileResponse> parse_shared_file(agent::ReadSharedFileResponse r,
                                                        uint32_t max_bytes);

}  // namespace hull::sandbox
