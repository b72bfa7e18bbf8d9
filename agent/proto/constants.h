// Numbers and names both ends of the agent API agree on (host runtime and
// hull-agent). Changing one is a protocol change.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hull::agent {

// The agent listens on this AF_VSOCK port; the host dials it through the
// hybrid-vsock socket ("CONNECT 1024\n").
inline constexpr uint32_t kAgentVsockPort = 1024;

// The host port the agent's DNS relay dials (StartDnsRelay's usual vsock_port): the
// host listens on "<vsock socket>_1053".
inline constexpr uint32_t kDnsRelayVsockPort = 1053;

// gRPC receive limit on both ends. The host's limit is the cap on any agent
// reply (the guest is untrusted); requests are small except stdio chunks.
inline constexpr int kMaxMessageBytes = 4 << 20;

// Largest stdio / file chunk in one message.
inline constexpr size_t kMaxIoChunkBytes = 1 << 20;

// virtio-fs tag of the sandbox's shared/ directory and where the agent mounts it.
inline constexpr const char* kSharedFsTag = "hull-shared";
inline constexpr const char* kGuestSharedDir = "/run/hull/shared";

// The :authority both ends use on fd channels.
inline constexpr const char* kAuthority = "hull-agent";

}  // namespace hull::agent
