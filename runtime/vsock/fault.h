// Fault: what a guest (or the vhost-user front end) did wrong, with its numbers
// (one value per lie: docs/development.md "Code facing the guest").
// Checked<T> is std::expected<T, Fault>: the pure core (guest memory,
// virtqueue, packet and vhost-user message parsers) keeps the numbers as data,
// and the I/O layers turn a Fault into hull::Error with Errc::GuestProtocol and
// describe(fault) as the message. The fuzz targets, built by a clang that
// cannot use libstdc++'s <expected>, get it from tests/fuzz/expected_compat.h.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace hull::vsock {

enum class FaultKind : uint8_t {
  // guest memory (a = address, b = length unless noted)
  RangeOverflow,     // gpa + len wraps around 2^64
  NotInGuestMemory,  // [a, a+b) is not inside one region
  UaddrNotMapped,    // front-end user address a (len b) is in no region
  TooManyRegions,    // a regions, max b
  RegionEmpty,       // region at gpa a has size 0
  RegionOverlap,     // region at gpa a overlaps region at gpa b
  // virtqueue
  QueueSizeInvalid,       // a = size (not a power of two in [1, max])
  RingMisaligned,         // ring at gpa a needs alignment b
  AvailIdxJump,           // avail.idx a is more than the queue size ahead of last_avail b
  HeadOutOfRange,         // head index a >= queue size b
  DescOutOfRange,         // next index a >= table size b
  DescriptorLoop,         // descriptor a visited twice in one chain
  ChainTooLong,           // more than b descriptors (a = count so far)
  ChainLengthOverflow,    // summed length passes 2^32
  IndirectNotNegotiated,  // descriptor a has INDIRECT without the feature
  IndirectWithNext,       // descriptor a has INDIRECT and NEXT
  IndirectInIndirect,     // entry a of an indirect table is itself INDIRECT
  IndirectTableSize,      // table length a is 0, not a multiple of 16, or above b*16
  ReadableAfterWritable,  // descriptor a is device-readable after a writable one
  // vsock packets
  ChainTooShort,         // have a bytes, need b
  TxWritableDescriptor,  // tx chain has a device-writable descriptor (a = bytes)
  RxReadableDescriptor,  // rx chain has a device-readable descriptor (a = bytes)
  PayloadTooLarge,       // header len a above b
  PayloadOnControlOp,    // op a carries len b
  BadSrcCid,             // src_cid a, guest cid is b
  BadDstCid,             // dst_cid a, host cid is b
  BadType,               // type a
  BadOp,                 // op a
  CreditViolation,       // peer sent a bytes with only b credit left
  UnexpectedOp,          // op a is not allowed in connection state b (ConnState)
  // vhost-user messages
  MsgBadFlags,      // flags a (version must be 1, REPLY clear)
  MsgTooLarge,      // size a above b
  MsgTooManyFds,    // a fds, max b
  MsgSizeMismatch,  // request a: payload size b is wrong
  MsgFdCount,       // request a: got b fds
  MsgBadRing,       // ring index a, we have b rings
  // CONNECT line
  ConnectLineTooLong,  // a bytes without newline, max b
  ConnectLineSyntax,   // not "CONNECT <port>"
  ConnectBadPort,      // port word not a u32
};

struct Fault {
  FaultKind kind = FaultKind::ConnectLineSyntax;
  uint64_t a = 0;
  uint64_t b = 0;
};

// The error value for a function returning Checked<T>.
inline std::unexpected<Fault> fault(FaultKind k, uint64_t a = 0, uint64_t b = 0) {
  return std::unexpected(Fault{k, a, b});
}

// "descriptor chain too short: have 20 bytes, need 44"
std::string describe(const Fault& f);
const char* fault_name(FaultKind k);

template <typename T>
using Checked = std::expected<T, Fault>;
using CheckedStatus = std::expected<void, Fault>;

}  // namespace hull::vsock
