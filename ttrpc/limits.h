// Every limit of hull's ttrpc, in one place (docs/ttrpc.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace hull::ttrpc {

// Frame header: length u32 BE, stream id u32 BE, type u8, flags u8.
inline constexpr size_t kHeaderSize = 10;

// Largest frame body either side accepts or sends (ttrpc-go's messageLengthMax).
// A longer frame is skipped unread and answered RESOURCE_EXHAUSTED.
inline constexpr uint32_t kMaxMessageLength = 4u << 20;

// Calls one connection may have running at once; a call beyond it is answered
// RESOURCE_EXHAUSTED without running. containerd's peak is a few per process.
inline constexpr size_t kMaxCallsPerConnection = 256;

// Connections a server serves at once; containerd opens one per task.
inline constexpr size_t kMaxConnections = 256;

// How much one read() takes from a socket.
inline constexpr size_t kReadChunk = 64 * 1024;

// How long a send may wait for a peer that does not read before the
// connection is given up.
inline constexpr std::chrono::seconds kSendTimeout{30};

// How long closing a connection waits for its running calls to honour their
// stop token before the socket is shut down under them.
inline constexpr std::chrono::seconds kStopGrace{5};

// Longest deadline honoured; a larger timeout_nano is clamped (no overflow).
inline constexpr std::chrono::hours kMaxTimeout{24 * 365};

}  // namespace hull::ttrpc
