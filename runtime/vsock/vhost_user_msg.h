// vhost-user wire format (docs/vsock.md "vhost-user messages"): pure parsers for what the
// front end sends and a builder for our replies. No I/O; the server in
// vhost_user.{h,cc} does the socket work.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/vsock/fault.h"

namespace hull::vsock::vhost {

enum Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kGetConfig = 24,
  kSetConfig = 25,
  kResetDevice = 34,
};
const char* request_name(uint32_t request);

inline constexpr uint32_t kFlagVersion = 1;
inline constexpr uint32_t kFlagVersionMask = 3;
inline constexpr uint32_t kFlagReply = 4;
inline constexpr uint32_t kFlagNeedReply = 8;
inline constexpr uint64_t kVringFileNoFd = 1U << 8;
inline constexpr uint64_t kVringFileIndexMask = 0xff;

// Feature bits (docs/vsock.md "Feature bits").
inline constexpr uint64_t kFeatureIndirectDesc = 1ULL << 28;
inline constexpr uint64_t kFeatureEventIdx = 1ULL << 29;
inline constexpr uint64_t kFeatureProtocolFeatures = 1ULL << 30;
inline constexpr uint64_t kFeatureVersion1 = 1ULL << 32;
inline constexpr uint64_t kProtocolMq = 1ULL << 0;
inline constexpr uint64_t kProtocolReplyAck = 1ULL << 3;
inline constexpr uint64_t kProtocolConfig = 1ULL << 9;

inline constexpr uint64_t kOfferedFeatures =
    kFeatureVersion1 | kFeatureProtocolFeatures | kFeatureEventIdx | kFeatureIndirectDesc;
inline constexpr uint64_t kOfferedProtocolFeatures =
    kProtocolConfig | kProtocolMq | kProtocolReplyAck;

struct MsgHeader {
  uint32_t request = 0;
  uint32_t flags = 0;
  uint32_t size = 0;
  bool need_reply() const { return (flags & kFlagNeedReply) != 0; }
};

// Version 1, REPLY clear, size <= limits::kMaxVhostUserPayload.
Checked<MsgHeader> parse_header(std::span<const std::byte> bytes);

struct VringState {
  uint32_t index = 0;
  uint32_t num = 0;
};
struct VringAddr {
  uint32_t index = 0;
  uint32_t flags = 0;
  uint64_t desc = 0;  // front-end user addresses
  uint64_t used = 0;
  uint64_t avail = 0;
  uint64_t log = 0;
};
struct VringFile {
  uint32_t index = 0;
  bool has_fd = false;
};
struct RegionDesc {
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t uaddr = 0;
  uint64_t mmap_offset = 0;
};
struct ConfigRequest {
  uint32_t offset = 0;
  uint32_t size = 0;
  uint32_t flags = 0;
};

// Each parser checks the payload size for `request`, the ring index against
// `num_rings`, and the fd count it received.
Checked<uint64_t> parse_u64(uint32_t request, std::span<const std::byte> payload);
Checked<VringState> parse_vring_state(uint32_t request, std::span<const std::byte> payload,
                                      uint32_t num_rings);
Checked<VringAddr> parse_vring_addr(std::span<const std::byte> payload, uint32_t num_rings);
Checked<VringFile> parse_vring_file(uint32_t request, std::span<const std::byte> payload,
                                    size_t num_fds, uint32_t num_rings);
Checked<std::vector<RegionDesc>> parse_mem_table(std::span<const std::byte> payload,
                                                 size_t num_fds);
Checked<ConfigRequest> parse_config(std::span<const std::byte> payload);

// header (request, flags 0x5 = version 1 | REPLY, size) + payload.
std::vector<std::byte> build_reply(uint32_t request, std::span<const std::byte> payload);
std::vector<std::byte> build_u64_reply(uint32_t request, uint64_t value);

}  // namespace hull::vsock::vhost
