#include "runtime/vsock/vhost_user_msg.h"

#include <cstring>

#include "runtime/vsock/limits.h"

namespace hull::vsock::vhost {
namespace {

template <typename T>
T get(std::span<const std::byte> b, size_t off) {
  T v;
  // memcpy of front-end bytes: a fixed-size field; callers checked the payload size.
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

template <typename T>
void put(std::vector<std::byte>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

constexpr size_t kMemTableHeader = 8;
constexpr size_t kRegionSize = 32;

}  // namespace

const char* request_name(uint32_t r) {
  switch (r) {
    case kGetFeatures:
      return "GET_FEATURES";
    case kSetFeatures:
      return "SET_FEATURES";
    case kSetOwner:
      return "SET_OWNER";
    case kResetOwner:
      return "RESET_OWNER";
    case kSetMemTable:
      return "SET_MEM_TABLE";
    case kSetLogBase:
      return "SET_LOG_BASE";
    case kSetLogFd:
      return "SET_LOG_FD";
    case kSetVringNum:
      return "SET_VRING_NUM";
    case kSetVringAddr:
      return "SET_VRING_ADDR";
    case kSetVringBase:
      return "SET_VRING_BASE";
    case kGetVringBase:
      return "GET_VRING_BASE";
    case kSetVringKick:
      return "SET_VRING_KICK";
    case kSetVringCall:
      return "SET_VRING_CALL";
    case kSetVringErr:
      return "SET_VRING_ERR";
    case kGetProtocolFeatures:
      return "GET_PROTOCOL_FEATURES";
    case kSetProtocolFeatures:
      return "SET_PROTOCOL_FEATURES";
    case kGetQueueNum:
      return "GET_QUEUE_NUM";
    case kSetVringEnable:
      return "SET_VRING_ENABLE";
    case kGetConfig:
      return "GET_CONFIG";
    case kSetConfig:
      return "SET_CONFIG";
    case kResetDevice:
      return "RESET_DEVICE";
    default:
      return "UNKNOWN";
  }
}

Checked<MsgHeader> parse_header(std::span<const std::byte> b) {
  if (b.size() != limits::kVhostUserHeaderSize)
    return fault(FaultKind::MsgSizeMismatch, 0, b.size());
  MsgHeader h{get<uint32_t>(b, 0), get<uint32_t>(b, 4), get<uint32_t>(b, 8)};
  if ((h.flags & kFlagVersionMask) != kFlagVersion || (h.flags & kFlagReply) != 0)
    return fault(FaultKind::MsgBadFlags, h.flags);
  if (h.size > limits::kMaxVhostUserPayload)
    return fault(FaultKind::MsgTooLarge, h.size, limits::kMaxVhostUserPayload);
  return h;
}

Checked<uint64_t> parse_u64(uint32_t request, std::span<const std::byte> p) {
  if (p.size() != 8) return fault(FaultKind::MsgSizeMismatch, request, p.size());
  return get<uint64_t>(p, 0);
}

Checked<VringState> parse_vring_state(uint32_t request, std::span<const std::byte> p,
                                      uint32_t num_rings) {
  if (p.size() != 8) return fault(FaultKind::MsgSizeMismatch, request, p.size());
  VringState s{get<uint32_t>(p, 0), get<uint32_t>(p, 4)};
  if (s.index >= num_rings) return fault(FaultKind::MsgBadRing, s.index, num_rings);
  return s;
}

Checked<VringAddr> parse_vring_addr(std::span<const std::byte> p, uint32_t num_rings) {
  if (p.size() != 40) return fault(FaultKind::MsgSizeMismatch, kSetVringAddr, p.size());
  VringAddr a;
  a.index = get<uint32_t>(p, 0);
  a.flags = get<uint32_t>(p, 4);
  a.desc = get<uint64_t>(p, 8);
  a.used = get<uint64_t>(p, 16);
  a.avail = get<uint64_t>(p, 24);
  a.log = get<uint64_t>(p, 32);
  if (a.index >= num_rings) return fault(FaultKind::MsgBadRing, a.index, num_rings);
  return a;
}

Checked<VringFile> parse_vring_file(uint32_t request, std::span<const std::byte> p, size_t num_fds,
                                    uint32_t num_rings) {
  if (p.size() != 8) return fault(FaultKind::MsgSizeMismatch, request, p.size());
  const uint64_t v = get<uint64_t>(p, 0);
  VringFile f{static_cast<uint32_t>(v & kVringFileIndexMask), (v & kVringFileNoFd) == 0};
  if (f.index >= num_rings) return fault(FaultKind::MsgBadRing, f.index, num_rings);
  if (num_fds != (f.has_fd ? 1U : 0U)) return fault(FaultKind::MsgFdCount, request, num_fds);
  return f;
}

Checked<std::vector<RegionDesc>> parse_mem_table(std::span<const std::byte> p, size_t num_fds) {
  if (p.size() < kMemTableHeader) return fault(FaultKind::MsgSizeMismatch, kSetMemTable, p.size());
  const uint32_t n = get<uint32_t>(p, 0);
  if (n == 0 || n > limits::kMaxMemRegions)
    return fault(FaultKind::TooManyRegions, n, limits::kMaxMemRegions);
  // QEMU always sends the full 8-slot array; accept any size that holds n regions.
  if (p.size() < kMemTableHeader + n * kRegionSize)
    return fault(FaultKind::MsgSizeMismatch, kSetMemTable, p.size());
  if (num_fds != n) return fault(FaultKind::MsgFdCount, kSetMemTable, num_fds);
  std::vector<RegionDesc> out(n);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t off = kMemTableHeader + i * kRegionSize;
    out[i] = RegionDesc{get<uint64_t>(p, off), get<uint64_t>(p, off + 8),
                        get<uint64_t>(p, off + 16), get<uint64_t>(p, off + 24)};
  }
  return out;
}

Checked<ConfigRequest> parse_config(std::span<const std::byte> p) {
  if (p.size() < 12) return fault(FaultKind::MsgSizeMismatch, kGetConfig, p.size());
  ConfigRequest c{get<uint32_t>(p, 0), get<uint32_t>(p, 4), get<uint32_t>(p, 8)};
  if (p.size() != 12 + uint64_t{c.size})
    return fault(FaultKind::MsgSizeMismatch, kGetConfig, p.size());
  return c;
}

std::vector<std::byte> build_reply(uint32_t request, std::span<const std::byte> payload) {
  std::vector<std::byte> out(limits::kVhostUserHeaderSize + payload.size());
  put<uint32_t>(out, 0, request);
  put<uint32_t>(out, 4, kFlagVersion | kFlagReply);
  put<uint32_t>(out, 8, static_cast<uint32_t>(payload.size()));
  if (!payload.empty())
    std::memcpy(out.data() + limits::kVhostUserHeaderSize, payload.data(), payload.size());
  return out;
}

std::vector<std::byte> build_u64_reply(uint32_t request, uint64_t value) {
  std::byte raw[8];
  std::memcpy(raw, &value, 8);
  return build_reply(request, raw);
}

}  // namespace hull::vsock::vhost
