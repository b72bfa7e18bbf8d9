#include "runtime/vsock/fault.h"

#include <cinttypes>
#include <cstdio>

namespace hull::vsock {

const char* fault_name(FaultKind k) {
  switch (k) {
    case FaultKind::RangeOverflow:
      return "RangeOverflow";
    case FaultKind::NotInGuestMemory:
      return "NotInGuestMemory";
    case FaultKind::UaddrNotMapped:
      return "UaddrNotMapped";
    case FaultKind::TooManyRegions:
      return "TooManyRegions";
    case FaultKind::RegionEmpty:
      return "RegionEmpty";
    case FaultKind::RegionOverlap:
      return "RegionOverlap";
    case FaultKind::QueueSizeInvalid:
      return "QueueSizeInvalid";
    case FaultKind::RingMisaligned:
      return "RingMisaligned";
    case FaultKind::AvailIdxJump:
      return "AvailIdxJump";
    case FaultKind::HeadOutOfRange:
      return "HeadOutOfRange";
    case FaultKind::DescOutOfRange:
      return "DescOutOfRange";
    case FaultKind::DescriptorLoop:
      return "DescriptorLoop";
    case FaultKind::ChainTooLong:
      return "ChainTooLong";
    case FaultKind::ChainLengthOverflow:
      return "ChainLengthOverflow";
    case FaultKind::IndirectNotNegotiated:
      return "IndirectNotNegotiated";
    case FaultKind::IndirectWithNext:
      return "IndirectWithNext";
    case FaultKind::IndirectInIndirect:
      return "IndirectInIndirect";
    case FaultKind::IndirectTableSize:
      return "IndirectTableSize";
    case FaultKind::ReadableAfterWritable:
      return "ReadableAfterWritable";
    case FaultKind::ChainTooShort:
      return "ChainTooShort";
    case FaultKind::TxWritableDescriptor:
      return "TxWritableDescriptor";
    case FaultKind::RxReadableDescriptor:
      return "RxReadableDescriptor";
    case FaultKind::PayloadTooLarge:
      return "PayloadTooLarge";
    case FaultKind::PayloadOnControlOp:
      return "PayloadOnControlOp";
    case FaultKind::BadSrcCid:
      return "BadSrcCid";
    case FaultKind::BadDstCid:
      return "BadDstCid";
    case FaultKind::BadType:
      return "BadType";
    case FaultKind::BadOp:
      return "BadOp";
    case FaultKind::CreditViolation:
      return "CreditViolation";
    case FaultKind::UnexpectedOp:
      return "UnexpectedOp";
    case FaultKind::MsgBadFlags:
      return "MsgBadFlags";
    case FaultKind::MsgTooLarge:
      return "MsgTooLarge";
    case FaultKind::MsgTooManyFds:
      return "MsgTooManyFds";
    case FaultKind::MsgSizeMismatch:
      return "MsgSizeMismatch";
    case FaultKind::MsgFdCount:
      return "MsgFdCount";
    case FaultKind::MsgBadRing:
      return "MsgBadRing";
    case FaultKind::ConnectLineTooLong:
      return "ConnectLineTooLong";
    case FaultKind::ConnectLineSyntax:
      return "ConnectLineSyntax";
    case FaultKind::ConnectBadPort:
      return "ConnectBadPort";
  }
  return "UnknownFault";
}

std::string describe(const Fault& f) {
  char buf[160];
  const uint64_t a = f.a;
  const uint64_t b = f.b;
  switch (f.kind) {
    case FaultKind::RangeOverflow:
      std::snprintf(buf, sizeof buf, "range wraps: gpa 0x%" PRIx64 " len %" PRIu64, a, b);
      break;
    case FaultKind::NotInGuestMemory:
      std::snprintf(buf, sizeof buf,
                    "range not in one guest memory region: gpa 0x%" PRIx64 " len %" PRIu64, a, b);
      break;
    case FaultKind::UaddrNotMapped:
      std::snprintf(buf, sizeof buf,
                    "front-end address 0x%" PRIx64 " len %" PRIu64 " is in no region", a, b);
      break;
    case FaultKind::TooManyRegions:
      std::snprintf(buf, sizeof buf, "%" PRIu64 " memory regions, max %" PRIu64, a, b);
      break;
    case FaultKind::RegionEmpty:
      std::snprintf(buf, sizeof buf, "memory region at gpa 0x%" PRIx64 " has size 0", a);
      break;
    case FaultKind::RegionOverlap:
      std::snprintf(buf, sizeof buf,
                    "memory region at gpa 0x%" PRIx64 " overlaps region at gpa 0x%" PRIx64, a, b);
      break;
    case FaultKind::QueueSizeInvalid:
      std::snprintf(buf, sizeof buf, "queue size %" PRIu64 " is not a power of two <= %" PRIu64, a,
                    b);
      break;
    case FaultKind::RingMisaligned:
      std::snprintf(buf, sizeof buf, "ring at 0x%" PRIx64 " not %" PRIu64 "-byte aligned", a, b);
      break;
    case FaultKind::AvailIdxJump:
      std::snprintf(buf, sizeof buf, "avail.idx %" PRIu64 " is more than a queue ahead of %" PRIu64,
                    a, b);
      break;
    case FaultKind::HeadOutOfRange:
      std::snprintf(buf, sizeof buf, "head index %" PRIu64 " >= queue size %" PRIu64, a, b);
      break;
    case FaultKind::DescOutOfRange:
      std::snprintf(buf, sizeof buf, "next index %" PRIu64 " >= table size %" PRIu64, a, b);
      break;
    case FaultKind::DescriptorLoop:
      std::snprintf(buf, sizeof buf, "descriptor %" PRIu64 " visited twice in one chain", a);
      break;
    case FaultKind::ChainTooLong:
      std::snprintf(buf, sizeof buf, "chain has more than %" PRIu64 " descriptors (%" PRIu64 ")", b,
                    a);
      break;
    case FaultKind::ChainLengthOverflow:
      std::snprintf(buf, sizeof buf, "chain length %" PRIu64 " + %" PRIu64 " passes 2^32", a, b);
      break;
    case FaultKind::IndirectNotNegotiated:
      std::snprintf(buf, sizeof buf, "descriptor %" PRIu64 " is INDIRECT but the feature is off",
                    a);
      break;
    case FaultKind::IndirectWithNext:
      std::snprintf(buf, sizeof buf, "descriptor %" PRIu64 " has both INDIRECT and NEXT", a);
      break;
    case FaultKind::IndirectInIndirect:
      std::snprintf(buf, sizeof buf, "indirect table entry %" PRIu64 " is INDIRECT again", a);
      break;
    case FaultKind::IndirectTableSize:
      std::snprintf(buf, sizeof buf,
                    "indirect table of %" PRIu64 " bytes (max %" PRIu64 " entries of 16)", a, b);
      break;
    case FaultKind::ReadableAfterWritable:
      std::snprintf(buf, sizeof buf, "descriptor %" PRIu64 " is readable after a writable one", a);
      break;
    case FaultKind::ChainTooShort:
      std::snprintf(buf, sizeof buf,
                    "descriptor chain too short: have %" PRIu64 " bytes, need %" PRIu64, a, b);
      break;
    case FaultKind::TxWritableDescriptor:
      std::snprintf(buf, sizeof buf, "tx chain has a device-writable buffer of %" PRIu64 " bytes",
                    a);
      break;
    case FaultKind::RxReadableDescriptor:
      std::snprintf(buf, sizeof buf, "rx chain has a device-readable buffer of %" PRIu64 " bytes",
                    a);
      break;
    case FaultKind::PayloadTooLarge:
      std::snprintf(buf, sizeof buf, "payload of %" PRIu64 " bytes, max %" PRIu64, a, b);
      break;
    case FaultKind::PayloadOnControlOp:
      std::snprintf(buf, sizeof buf, "op %" PRIu64 " carries %" PRIu64 " payload bytes", a, b);
      break;
    case FaultKind::BadSrcCid:
      std::snprintf(buf, sizeof buf, "src_cid %" PRIu64 " is not the guest cid %" PRIu64, a, b);
      break;
    case FaultKind::BadDstCid:
      std::snprintf(buf, sizeof buf, "dst_cid %" PRIu64 " is not the host cid %" PRIu64, a, b);
      break;
    case FaultKind::BadType:
      std::snprintf(buf, sizeof buf, "socket type %" PRIu64 " is not STREAM", a);
      break;
    case FaultKind::BadOp:
      std::snprintf(buf, sizeof buf, "unknown op %" PRIu64, a);
      break;
    case FaultKind::CreditViolation:
      std::snprintf(buf, sizeof buf, "peer sent %" PRIu64 " bytes with %" PRIu64 " credit left", a,
                    b);
      break;
    case FaultKind::UnexpectedOp:
      std::snprintf(buf, sizeof buf, "op %" PRIu64 " not allowed in connection state %" PRIu64, a,
                    b);
      break;
    case FaultKind::MsgBadFlags:
      std::snprintf(buf, sizeof buf, "vhost-user flags 0x%" PRIx64 " (need version 1, no REPLY)",
                    a);
      break;
    case FaultKind::MsgTooLarge:
      std::snprintf(buf, sizeof buf, "vhost-user payload %" PRIu64 " bytes, max %" PRIu64, a, b);
      break;
    case FaultKind::MsgTooManyFds:
      std::snprintf(buf, sizeof buf, "vhost-user message carries %" PRIu64 " fds, max %" PRIu64, a,
                    b);
      break;
    case FaultKind::MsgSizeMismatch:
      std::snprintf(buf, sizeof buf,
                    "vhost-user request %" PRIu64 ": payload size %" PRIu64 " is wrong", a, b);
      break;
    case FaultKind::MsgFdCount:
      std::snprintf(buf, sizeof buf, "vhost-user request %" PRIu64 ": wrong fd count %" PRIu64, a,
                    b);
      break;
    case FaultKind::MsgBadRing:
      std::snprintf(buf, sizeof buf, "vring index %" PRIu64 ", device has %" PRIu64, a, b);
      break;
    case FaultKind::ConnectLineTooLong:
      std::snprintf(buf, sizeof buf,
                    "CONNECT line: %" PRIu64 " bytes without newline, max %" PRIu64, a, b);
      break;
    case FaultKind::ConnectLineSyntax:
      std::snprintf(buf, sizeof buf, "expected \"CONNECT <port>\\n\"");
      break;
    case FaultKind::ConnectBadPort:
      std::snprintf(buf, sizeof buf, "CONNECT port is not a decimal u32");
      break;
  }
  return buf;
}

}  // namespace hull::vsock
