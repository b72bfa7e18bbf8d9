#include "runtime/vsock/guest_memory.h"

#include <cstring>

#include "runtime/vsock/limits.h"

namespace hull::vsock {
namespace {

// True if [a, a+alen) and [b, b+blen) share a byte; both ranges are known not to wrap.
bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a < b + blen && b < a + alen;
}

bool wraps(uint64_t start, uint64_t len) {
  return len > UINT64_MAX - start;
}

}  // namespace

CheckedStatus GuestMemory::add_region(const MemoryRegion& r) {
  if (regions_.size() >= limits::kMaxMemRegions)
    return fault(FaultKind::TooManyRegions, regions_.size() + 1, limits::kMaxMemRegions);
  if (r.size == 0) return fault(FaultKind::RegionEmpty, r.gpa);
  if (wraps(r.gpa, r.size)) return fault(FaultKind::RangeOverflow, r.gpa, r.size);
  if (wraps(r.uaddr, r.size)) return fault(FaultKind::RangeOverflow, r.uaddr, r.size);
  for (const MemoryRegion& o : regions_) {
    if (overlaps(r.gpa, r.size, o.gpa, o.size) || overlaps(r.uaddr, r.size, o.uaddr, o.size))
      return fault(FaultKind::RegionOverlap, r.gpa, o.gpa);
  }
  regions_.push_back(r);
  return {};
}

Checked<std::span<std::byte>> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
  if (len == 0) return std::span<std::byte>();
  if (wraps(gpa, len)) return fault(FaultKind::RangeOverflow, gpa, len);
  for (const MemoryRegion& r : regions_) {
    if (gpa >= r.gpa && gpa - r.gpa < r.size) {
      const uint64_t off = gpa - r.gpa;
      if (len > r.size - off) break;  // runs past this region: refused even if another follows
      return std::span<std::byte>(r.host + off, static_cast<size_t>(len));
    }
  }
  return fault(FaultKind::NotInGuestMemory, gpa, len);
}

Checked<uint64_t> GuestMemory::uaddr_to_gpa(uint64_t uaddr, uint64_t len) const {
  if (wraps(uaddr, len)) return fault(FaultKind::RangeOverflow, uaddr, len);
  for (const MemoryRegion& r : regions_) {
    if (uaddr >= r.uaddr && uaddr - r.uaddr < r.size) {
      const uint64_t off = uaddr - r.uaddr;
      if (len > r.size - off) break;
      return r.gpa + off;
    }
  }
  return fault(FaultKind::UaddrNotMapped, uaddr, len);
}

CheckedStatus GuestMemory::read(uint64_t gpa, std::span<std::byte> out) const {
  auto s = slice(gpa, out.size());
  if (!s) return std::unexpected(s.error());
  // memcpy of guest bytes: copy-once into host memory; the range was checked just above.
  if (!out.empty()) std::memcpy(out.data(), s->data(), out.size());
  return {};
}

CheckedStatus GuestMemory::write(uint64_t gpa, std::span<const std::byte> in) const {
  auto s = slice(gpa, in.size());
  if (!s) return std::unexpected(s.error());
  // memcpy into guest memory: the destination range was checked just above.
  if (!in.empty()) std::memcpy(s->data(), in.data(), in.size());
  return {};
}

}  // namespace hull::vsock
