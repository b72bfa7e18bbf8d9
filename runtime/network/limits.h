// Bounds on what hull reads from a network namespace. The namespace's contents
// come from whoever configured it (docker, a CNI plugin, a hook, the user), so
// every count and size is capped before it is used.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hull::network {

// Most objects of each kind one scan accepts (a container's namespace holds a
// handful; a namespace with more is refused instead of scanned for minutes).
inline constexpr size_t kMaxLinks = 1024;
inline constexpr size_t kMaxAddresses = 4096;
inline constexpr size_t kMaxRoutes = 16384;
inline constexpr size_t kMaxNeighbours = 16384;
// Bytes one dump may deliver in total (all datagrams of one request).
inline constexpr size_t kMaxDumpBytes = 32 * 1024 * 1024;
// One datagram read from the netlink socket (the kernel sends at most ~32 KiB).
inline constexpr size_t kNetlinkBufferBytes = 64 * 1024;
// NICs one VM gets: microvm has 24 virtio-mmio transports with ACPI, and
// vsock, virtio-fs and the balloon take three.
inline constexpr size_t kMaxNics = 16;
// MTU range a tap and a virtio-net device accept (IPv4's minimum to
// virtio-net's maximum).
inline constexpr uint32_t kMinMtu = 68;
inline constexpr uint32_t kMaxMtu = 65535;
// How long one netlink request may wait for the kernel's answer.
inline constexpr int kNetlinkTimeoutMs = 5000;

}  // namespace hull::network
