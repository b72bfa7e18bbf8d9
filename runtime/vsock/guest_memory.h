// GuestMemory: the only way hull-vsock touches guest RAM (docs/development.md "Code facing the
// guest").
//
// A non-owning view of up to limits::kMaxMemRegions regions, each a guest
// physical range [gpa, gpa+size) that the front end also knows at user
// address [uaddr, uaddr+size) and that we see at host pointer `host`. The
// mappings themselves are owned by the vhost-user server (or by a test), so
// this class does no I/O and is safe to build over a plain buffer.
//
// Every access is checked: the whole [gpa, gpa+len) must lie in ONE region
// (a range spanning two adjacent regions is refused, as QEMU may map them
// apart). Guest RAM is shared with a running guest: callers copy what they
// read once, then check the copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/vsock/fault.h"

namespace hull::vsock {

struct MemoryRegion {
  uint64_t gpa = 0;           // guest physical start
  uint64_t size = 0;          // bytes
  uint64_t uaddr = 0;         // the front end's virtual address of gpa
  std::byte* host = nullptr;  // our view of gpa
};

class GuestMemory {
 public:
  GuestMemory() = default;

  // Validates and adds a region: size > 0, no wrap, no overlap (in guest
  // physical or front-end user space), at most kMaxMemRegions.
  CheckedStatus add_region(const MemoryRegion& r);
  void clear() { regions_.clear(); }
  bool empty() const { return regions_.empty(); }
  const std::vector<MemoryRegion>& regions() const { return regions_; }

  // Host view of [gpa, gpa+len), all inside one region. len 0 yields an empty span.
  Checked<std::span<std::byte>> slice(uint64_t gpa, uint64_t len) const;

  // Front-end user address -> guest physical address, [uaddr, uaddr+len) in one region.
  Checked<uint64_t> uaddr_to_gpa(uint64_t uaddr, uint64_t len) const;

  // Copies between guest memory and host buffers (checked as slice()).
  CheckedStatus read(uint64_t gpa, std::span<std::byte> out) const;
  CheckedStatus write(uint64_t gpa, std::span<const std::byte> in) const;

 private:
  std::vector<MemoryRegion> regions_;
};

}  // namespace hull::vsock
