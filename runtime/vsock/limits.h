// Every limit of hull-vsock, named once. Guest-controlled
// values are checked against these before anything is read or allocated.
//
// This header and the other pure files (fault, guest_memory, virtq, packet,
// vhost_user_msg) compile as C++20 without common/error.h so the libFuzzer
// target can build them with clang 14 (whose libstdc++ 12 <expected> is unusable).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hull::vsock::limits {

// --- vsock packets -------------------------------------------------------------
inline constexpr uint32_t kMaxPacketPayload = 64 * 1024;  // Linux caps one RW payload here
inline constexpr uint64_t kHostCid = 2;                   // the host's CID by convention
inline constexpr uint64_t kMinGuestCid = 3;               // 0, 1, 2 are reserved
inline constexpr uint64_t kMaxGuestCid = 0xfffffffeULL;   // 0xffffffff is reserved

// --- connections ---------------------------------------------------------------
inline constexpr size_t kMaxConnections = 1023;               // Firecracker's limit
inline constexpr uint32_t kConnBufAlloc = 64 * 1024;          // guest->host bytes buffered per conn
inline constexpr uint32_t kCreditUpdateThreshold = 4 * 1024;  // proactive CREDIT_UPDATE below this
inline constexpr size_t kRxBacklog = 256;              // control packets waiting for rx buffers
inline constexpr uint32_t kHostPortFirst = 1U << 30;   // host-initiated local ports:
inline constexpr uint32_t kHostPortEnd = 1U << 31;     //   [2^30, 2^31)
inline constexpr int kConnectRequestTimeoutMs = 2000;  // guest must answer a REQUEST in time
inline constexpr int kShutdownTimeoutMs = 2000;        // guest must RST after our SHUTDOWN
inline constexpr size_t kConnectLineMax = 32;          // "CONNECT <port>\n" incl. newline
inline constexpr size_t kMaxPendingHostStreams = 64;   // accepted streams still sending CONNECT

// --- virtqueues ----------------------------------------------------------------
inline constexpr uint32_t kMaxQueueSize = 32768;  // split-ring maximum (power of two)
inline constexpr uint32_t kQemuQueueSize = 1024;  // what QEMU 7.2 virtio-mmio hands us
inline constexpr uint32_t kNumQueues = 2;         // rx (0) and tx (1); QEMU owns the event queue
inline constexpr uint32_t kRxQueue = 0;
inline constexpr uint32_t kTxQueue = 1;
inline constexpr size_t kMaxIndirectLevels = 1;  // an indirect table may not point to another

// --- vhost-user ----------------------------------------------------------------
inline constexpr size_t kVhostUserHeaderSize = 12;
inline constexpr size_t kMaxVhostUserPayload = 4096;
inline constexpr size_t kMaxVhostUserFds = 8;
inline constexpr size_t kMaxMemRegions = 8;
inline constexpr int kVhostUserRecvTimeoutMs = 5000;  // a message body must follow its header

}  // namespace hull::vsock::limits
