#include "runtime/vsock/packet.h"

#include <algorithm>
#include <cstring>

#include "runtime/vsock/limits.h"

namespace hull::vsock::packet {
namespace {

template <typename T>
T get(std::span<const std::byte, kHeaderSize> b, size_t off) {
  T v;
  // memcpy of guest bytes: a fixed-size field of a header already copied to host memory.
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;  // x86-64 is little-endian, as the wire format
}

template <typename T>
void put(std::array<std::byte, kHeaderSize>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

// Copies `out.size()` bytes starting at byte `skip` of the chain's readable
// buffers. The caller checked readable_len >= skip + out.size().
void gather(const virtq::Chain& chain, size_t skip, std::span<std::byte> out) {
  size_t done = 0;
  for (const virtq::Segment& s : chain.segments) {
    if (done == out.size() || s.writable) break;
    if (skip >= s.mem.size()) {
      skip -= s.mem.size();
      continue;
    }
    const size_t n = std::min(s.mem.size() - skip, out.size() - done);
    // memcpy of guest bytes: copy-once of a range checked by the chain walk.
    std::memcpy(out.data() + done, s.mem.data() + skip, n);
    done += n;
    skip = 0;
  }
}

// Copies `in` into the chain's writable buffers starting at byte `skip`. The
// caller checked writable_len >= skip + in.size().
void scatter(const virtq::Chain& chain, size_t skip, std::span<const std::byte> in) {
  size_t done = 0;
  for (const virtq::Segment& s : chain.segments) {
    if (done == in.size()) break;
    if (!s.writable) continue;
    if (skip >= s.mem.size()) {
      skip -= s.mem.size();
      continue;
    }
    const size_t n = std::min(s.mem.size() - skip, in.size() - done);
    // memcpy into guest memory: the segment range was checked by the chain walk.
    std::memcpy(s.mem.data() + skip, in.data() + done, n);
    done += n;
    skip = 0;
  }
}

}  // namespace

Header decode(std::span<const std::byte, kHeaderSize> b) {
  Header h;
  h.src_cid = get<uint64_t>(b, 0);
  h.dst_cid = get<uint64_t>(b, 8);
  h.src_port = get<uint32_t>(b, 16);
  h.dst_port = get<uint32_t>(b, 20);
  h.len = get<uint32_t>(b, 24);
  h.type = get<uint16_t>(b, 28);
  h.op = get<uint16_t>(b, 30);
  h.flags = get<uint32_t>(b, 32);
  h.buf_alloc = get<uint32_t>(b, 36);
  h.fwd_cnt = get<uint32_t>(b, 40);
  return h;
}

std::array<std::byte, kHeaderSize> encode(const Header& h) {
  std::array<std::byte, kHeaderSize> b{};
  put(b, 0, h.src_cid);
  put(b, 8, h.dst_cid);
  put(b, 16, h.src_port);
  put(b, 20, h.dst_port);
  put(b, 24, h.len);
  put(b, 28, h.type);
  put(b, 30, h.op);
  put(b, 32, h.flags);
  put(b, 36, h.buf_alloc);
  put(b, 40, h.fwd_cnt);
  return b;
}

const char* op_name(uint16_t op) {
  switch (op) {
    case kOpInvalid:
      return "INVALID";
    case kOpRequest:
      return "REQUEST";
    case kOpResponse:
      return "RESPONSE";
    case kOpRst:
      return "RST";
    case kOpShutdown:
      return "SHUTDOWN";
    case kOpRw:
      return "RW";
    case kOpCreditUpdate:
      return "CREDIT_UPDATE";
    case kOpCreditRequest:
      return "CREDIT_REQUEST";
    default:
      return "UNKNOWN";
  }
}

CheckedStatus validate_tx(const Header& h, uint64_t guest_cid) {
  if (h.src_cid != guest_cid) return fault(FaultKind::BadSrcCid, h.src_cid, guest_cid);
  if (h.dst_cid != limits::kHostCid)
    return fault(FaultKind::BadDstCid, h.dst_cid, limits::kHostCid);
  if (h.type != kTypeStream) return fault(FaultKind::BadType, h.type);
  if (h.op == kOpInvalid || h.op > kOpCreditRequest) return fault(FaultKind::BadOp, h.op);
  if (h.op != kOpRw && h.len != 0) return fault(FaultKind::PayloadOnControlOp, h.op, h.len);
  if (h.len > limits::kMaxPacketPayload)
    return fault(FaultKind::PayloadTooLarge, h.len, limits::kMaxPacketPayload);
  return {};
}

Checked<Header> read_tx(const virtq::Chain& chain, std::vector<std::byte>& payload) {
  payload.clear();
  if (chain.writable_len > 0) return fault(FaultKind::TxWritableDescriptor, chain.writable_len);
  if (chain.readable_len < kHeaderSize)
    return fault(FaultKind::ChainTooShort, chain.readable_len, kHeaderSize);
  std::array<std::byte, kHeaderSize> raw;
  gather(chain, 0, raw);
  const Header h = decode(raw);
  if (h.len > limits::kMaxPacketPayload)
    return fault(FaultKind::PayloadTooLarge, h.len, limits::kMaxPacketPayload);
  const uint64_t need = kHeaderSize + uint64_t{h.len};
  if (chain.readable_len < need) return fault(FaultKind::ChainTooShort, chain.readable_len, need);
  payload.resize(h.len);
  gather(chain, kHeaderSize, payload);
  return h;
}

Checked<uint32_t> rx_payload_room(const virtq::Chain& chain) {
  if (chain.readable_len > 0) return fault(FaultKind::RxReadableDescriptor, chain.readable_len);
  if (chain.writable_len < kHeaderSize)
    return fault(FaultKind::ChainTooShort, chain.writable_len, kHeaderSize);
  return std::min<uint32_t>(chain.writable_len - static_cast<uint32_t>(kHeaderSize),
                            limits::kMaxPacketPayload);
}

std::vector<std::span<std::byte>> rx_payload_spans(const virtq::Chain& chain, uint32_t max) {
  std::vector<std::span<std::byte>> out;
  size_t skip = kHeaderSize;
  size_t left = max;
  for (const virtq::Segment& s : chain.segments) {
    if (left == 0) break;
    if (!s.writable) continue;
    if (skip >= s.mem.size()) {
      skip -= s.mem.size();
      continue;
    }
    const size_t n = std::min(s.mem.size() - skip, left);
    out.push_back(s.mem.subspan(skip, n));
    left -= n;
    skip = 0;
  }
  return out;
}

Checked<uint32_t> write_rx_header(const virtq::Chain& chain, const Header& h) {
  auto room = rx_payload_room(chain);
  if (!room) return std::unexpected(room.error());
  if (h.len > *room)
    return fault(FaultKind::ChainTooShort, chain.writable_len, kHeaderSize + uint64_t{h.len});
  const auto raw = encode(h);
  scatter(chain, 0, raw);
  return static_cast<uint32_t>(kHeaderSize + h.len);
}

Checked<uint32_t> write_rx(const virtq::Chain& chain, const Header& h,
                           std::span<const std::byte> payload) {
  Header with_len = h;
  with_len.len = static_cast<uint32_t>(payload.size());
  if (payload.size() > limits::kMaxPacketPayload)
    return fault(FaultKind::PayloadTooLarge, payload.size(), limits::kMaxPacketPayload);
  auto used = write_rx_header(chain, with_len);
  if (!used) return std::unexpected(used.error());
  scatter(chain, kHeaderSize, payload);
  return *used;
}

}  // namespace hull::vsock::packet
