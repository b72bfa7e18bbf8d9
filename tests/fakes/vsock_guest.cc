#include "tests/fakes/vsock_guest.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>

#include "runtime/vsock/virtq.h"

namespace hull::vsock::testing {
namespace {

void die(const char* what) {
  std::perror(what);
  std::abort();
}

template <typename T>
void store(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

FakeGuestRam::FakeGuestRam(uint64_t region1_size) : total_(kRegion1Gpa + region1_size) {
  fd_.reset(::memfd_create("fake-guest-ram", MFD_CLOEXEC));
  if (!fd_) die("memfd_create");
  if (::ftruncate(fd_.get(), static_cast<off_t>(total_)) < 0) die("ftruncate");
  void* p = ::mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (p == MAP_FAILED) die("mmap");
  base_ = static_cast<std::byte*>(p);
}

FakeGuestRam::~FakeGuestRam() {
  ::munmap(base_, total_);
}

std::vector<vhost::RegionDesc> FakeGuestRam::regions() const {
  return {vhost::RegionDesc{0, kRegion0Size, uaddr(0), 0},
          vhost::RegionDesc{kRegion1Gpa, total_ - kRegion1Gpa, uaddr(kRegion1Gpa), kRegion1Gpa}};
}

GuestMemory FakeGuestRam::memory() const {
  GuestMemory m;
  for (const auto& r : regions()) {
    if (!m.add_region(MemoryRegion{r.gpa, r.size, r.uaddr, host(r.gpa)})) std::abort();
  }
  return m;
}

uint64_t FakeGuestRam::alloc(uint64_t len, uint64_t align) {
  next_ = (next_ + align - 1) / align * align;
  const uint64_t gpa = next_;
  next_ += len;
  if (next_ > total_) die("fake guest RAM exhausted");
  return gpa;
}

void FakeGuestRam::write(uint64_t gpa, std::span<const std::byte> bytes) const {
  std::memcpy(host(gpa), bytes.data(), bytes.size());
}

std::vector<std::byte> FakeGuestRam::read(uint64_t gpa, size_t len) const {
  std::vector<std::byte> out(len);
  std::memcpy(out.data(), host(gpa), len);
  return out;
}

FakeDriver::FakeDriver(FakeGuestRam& ram, uint16_t size)
    : ram_(ram), size_(size), buf_of_head_(size, 0) {
  desc_ = ram.alloc(16ULL * size, 16);
  avail_ = ram.alloc(6 + 2ULL * size, 2);
  used_ = ram.alloc(6 + 8ULL * size, 4);
  std::memset(ram.host(desc_), 0, 16ULL * size);
  std::memset(ram.host(avail_), 0, 6 + 2ULL * size);
  std::memset(ram.host(used_), 0, 6 + 8ULL * size);
}

void FakeDriver::set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  std::byte* d = ram_.host(desc_ + 16ULL * i);
  store(d, addr);
  store(d + 8, len);
  store(d + 12, flags);
  store(d + 14, next);
}

uint64_t FakeDriver::make_table(const std::vector<std::array<uint64_t, 4>>& entries) {
  const uint64_t gpa = ram_.alloc(16 * entries.size(), 16);
  for (size_t i = 0; i < entries.size(); ++i) {
    std::byte* d = ram_.host(gpa + 16 * i);
    store(d, entries[i][0]);
    store(d + 8, static_cast<uint32_t>(entries[i][1]));
    store(d + 12, static_cast<uint16_t>(entries[i][2]));
    store(d + 14, static_cast<uint16_t>(entries[i][3]));
  }
  return gpa;
}

void FakeDriver::make_avail(uint16_t head) {
  store(ram_.host(avail_ + 4 + 2ULL * (avail_idx_ % size_)), head);
  ++avail_idx_;
  store(ram_.host(avail_ + 2), avail_idx_);
}

void FakeDriver::set_avail_idx(uint16_t idx) {
  avail_idx_ = idx;
  store(ram_.host(avail_ + 2), idx);
}

void FakeDriver::set_avail_flags(uint16_t f) {
  store(ram_.host(avail_), f);
}
void FakeDriver::set_used_event(uint16_t v) {
  store(ram_.host(avail_ + 4 + 2ULL * size_), v);
}
uint16_t FakeDriver::avail_event() const {
  return load<uint16_t>(ram_.host(used_ + 4 + 8ULL * size_));
}
uint16_t FakeDriver::used_idx() const {
  return load<uint16_t>(ram_.host(used_ + 2));
}

std::pair<uint32_t, uint32_t> FakeDriver::used_elem(uint16_t i) const {
  const std::byte* e = ram_.host(used_ + 4 + 8ULL * (i % size_));
  return {load<uint32_t>(e), load<uint32_t>(e + 4)};
}

uint16_t FakeDriver::alloc_desc() {
  const uint16_t d = next_desc_;
  next_desc_ = static_cast<uint16_t>((next_desc_ + 1) % size_);
  return d;
}

uint16_t FakeDriver::post_rx(uint32_t len) {
  const uint64_t buf = ram_.alloc(len, 8);
  const uint16_t d = alloc_desc();
  set_desc(d, buf, len, virtq::kDescWrite, 0);
  buf_of_head_[d] = buf;
  make_avail(d);
  return d;
}

uint16_t FakeDriver::post_tx(const packet::Header& h, std::span<const std::byte> payload,
                             uint32_t split) {
  std::vector<std::byte> all(packet::kHeaderSize + payload.size());
  const auto raw = packet::encode(h);
  std::memcpy(all.data(), raw.data(), raw.size());
  if (!payload.empty()) std::memcpy(all.data() + raw.size(), payload.data(), payload.size());
  uint16_t head = 0;
  uint16_t prev = 0;
  bool first = true;
  for (size_t off = 0; off < all.size(); off += split) {
    const size_t n = std::min<size_t>(split, all.size() - off);
    const uint64_t gpa = ram_.alloc(n, 8);
    ram_.write(gpa, std::span(all).subspan(off, n));
    const uint16_t d = alloc_desc();
    set_desc(d, gpa, static_cast<uint32_t>(n), 0, 0);
    if (first) {
      head = d;
      first = false;
    } else {
      set_desc(prev, load<uint64_t>(ram_.host(desc_ + 16ULL * prev)),
               load<uint32_t>(ram_.host(desc_ + 16ULL * prev + 8)), virtq::kDescNext, d);
    }
    prev = d;
  }
  make_avail(head);
  return head;
}

std::optional<std::pair<packet::Header, std::vector<std::byte>>> FakeDriver::next_rx() {
  if (seen_used_ == used_idx()) return std::nullopt;
  const auto [id, len] = used_elem(seen_used_++);
  if (len < packet::kHeaderSize) return std::make_pair(packet::Header{}, std::vector<std::byte>{});
  const auto bytes = ram_.read(buf_of_head_[id], len);
  const packet::Header h = packet::decode(
      std::span<const std::byte, packet::kHeaderSize>(bytes.data(), packet::kHeaderSize));
  return std::make_pair(h,
                        std::vector<std::byte>(bytes.begin() + packet::kHeaderSize, bytes.end()));
}

std::optional<FakeFrontEnd> FakeFrontEnd::connect(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return std::nullopt;
  return FakeFrontEnd(std::move(fd));
}

bool FakeFrontEnd::send(uint32_t request, std::span<const std::byte> payload, std::vector<int> fds,
                        uint32_t extra_flags) {
  std::vector<std::byte> msg(12 + payload.size());
  store<uint32_t>(msg.data(), request);
  store<uint32_t>(msg.data() + 4, vhost::kFlagVersion | extra_flags);
  store<uint32_t>(msg.data() + 8, static_cast<uint32_t>(payload.size()));
  if (!payload.empty()) std::memcpy(msg.data() + 12, payload.data(), payload.size());
  iovec iov{msg.data(), msg.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<size_t>(fds.size(), 1)));
  if (!fds.empty()) {
    mh.msg_control = control.data();
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(conn_.get(), &mh, MSG_NOSIGNAL) == static_cast<ssize_t>(msg.size());
}

bool FakeFrontEnd::send_u64(uint32_t request, uint64_t v, uint32_t extra_flags) {
  std::byte b[8];
  std::memcpy(b, &v, 8);
  return send(request, b, {}, extra_flags);
}

bool FakeFrontEnd::send_state(uint32_t request, uint32_t index, uint32_t num) {
  std::byte b[8];
  store(b, index);
  store(b + 4, num);
  return send(request, b);
}

bool FakeFrontEnd::send_addr(uint32_t index, uint64_t desc, uint64_t used, uint64_t avail) {
  std::byte b[40] = {};
  store(b, index);
  store(b + 8, desc);
  store(b + 16, used);
  store(b + 24, avail);
  return send(vhost::kSetVringAddr, b);
}

bool FakeFrontEnd::send_file(uint32_t request, uint32_t index, int fd) {
  const uint64_t v = index | (fd < 0 ? vhost::kVringFileNoFd : 0);
  std::byte b[8];
  std::memcpy(b, &v, 8);
  return send(request, b, fd < 0 ? std::vector<int>{} : std::vector<int>{fd});
}

bool FakeFrontEnd::send_mem_table(const FakeGuestRam& ram, uint32_t extra_flags) {
  const auto regions = ram.regions();
  std::vector<std::byte> b(8 + 32 * 8);  // QEMU always sends all 8 slots
  store<uint32_t>(b.data(), static_cast<uint32_t>(regions.size()));
  std::vector<int> fds;
  for (size_t i = 0; i < regions.size(); ++i) {
    store(b.data() + 8 + 32 * i, regions[i].gpa);
    store(b.data() + 16 + 32 * i, regions[i].size);
    store(b.data() + 24 + 32 * i, regions[i].uaddr);
    store(b.data() + 32 + 32 * i, regions[i].mmap_offset);
    fds.push_back(ram.fd());
  }
  return send(vhost::kSetMemTable, b, fds, extra_flags);
}

bool FakeFrontEnd::readable(int timeout_ms) const {
  pollfd p{conn_.get(), POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

std::optional<std::pair<vhost::MsgHeader, std::vector<std::byte>>> FakeFrontEnd::read_reply() {
  std::byte h[12];
  if (::recv(conn_.get(), h, sizeof h, MSG_WAITALL) != 12) return std::nullopt;
  vhost::MsgHeader hdr{load<uint32_t>(h), load<uint32_t>(h + 4), load<uint32_t>(h + 8)};
  std::vector<std::byte> payload(hdr.size);
  if (hdr.size > 0 && ::recv(conn_.get(), payload.data(), payload.size(), MSG_WAITALL) !=
                          static_cast<ssize_t>(payload.size()))
    return std::nullopt;
  return std::make_pair(hdr, payload);
}

}  // namespace hull::vsock::testing
