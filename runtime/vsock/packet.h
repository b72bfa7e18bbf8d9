// virtio-vsock packets: the 44-byte header (docs/vsock.md "Packet header") and
// its placement on tx and rx descriptor chains. Pure: no I/O, no logging.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/vsock/fault.h"
#include "runtime/vsock/virtq.h"

namespace hull::vsock::packet {

inline constexpr size_t kHeaderSize = 44;

enum Type : uint16_t { kTypeStream = 1, kTypeSeqpacket = 2 };

enum Op : uint16_t {
  kOpInvalid = 0,
  kOpRequest = 1,
  kOpResponse = 2,
  kOpRst = 3,
  kOpShutdown = 4,
  kOpRw = 5,
  kOpCreditUpdate = 6,
  kOpCreditRequest = 7,
};

inline constexpr uint32_t kShutdownRcv = 1;   // sender will receive no more
inline constexpr uint32_t kShutdownSend = 2;  // sender will send no more

struct Header {
  uint64_t src_cid = 0;
  uint64_t dst_cid = 0;
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t len = 0;
  uint16_t type = kTypeStream;
  uint16_t op = kOpInvalid;
  uint32_t flags = 0;
  uint32_t buf_alloc = 0;
  uint32_t fwd_cnt = 0;
  bool operator==(const Header&) const = default;
};

// Byte-exact little-endian codec.
Header decode(std::span<const std::byte, kHeaderSize> bytes);
std::array<std::byte, kHeaderSize> encode(const Header& h);

const char* op_name(uint16_t op);

// Checks a guest->host header against the device's rules, in this order:
// BadSrcCid, BadDstCid (drop silently), then BadType, BadOp (answer RST),
// PayloadOnControlOp, PayloadTooLarge.
CheckedStatus validate_tx(const Header& h, uint64_t guest_cid);

// Reads a tx packet from a chain: the header from the first 44 readable bytes
// (which may span descriptors), then exactly h.len payload bytes into
// `payload` (resized). Faults: TxWritableDescriptor, ChainTooShort{have, need},
// PayloadTooLarge. Header fields other than len are not judged here.
Checked<Header> read_tx(const virtq::Chain& chain, std::vector<std::byte>& payload);

// Payload room of an rx chain (writable bytes after the header), or a Fault
// if the chain cannot hold a header or has readable buffers.
Checked<uint32_t> rx_payload_room(const virtq::Chain& chain);

// Writes header + payload contiguously across the writable buffers of an rx
// chain; the written header carries len = payload.size(). Returns the used
// length (44 + len).
Checked<uint32_t> write_rx(const virtq::Chain& chain, const Header& h,
                           std::span<const std::byte> payload);

// Writes only the header (h.len payload bytes are already in place, e.g. read
// from a host socket into rx_payload_spans). Returns the used length 44 + len.
Checked<uint32_t> write_rx_header(const virtq::Chain& chain, const Header& h);

// The writable buffers of an rx chain past the header: where a host socket's
// bytes can be read straight into guest memory. At most `max` bytes.
std::vector<std::span<std::byte>> rx_payload_spans(const virtq::Chain& chain, uint32_t max);

}  // namespace hull::vsock::packet
