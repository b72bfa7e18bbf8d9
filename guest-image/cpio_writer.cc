#include "guest-image/cpio_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

#include "common/io.h"
#include "common/unique_fd.h"

namespace hull::guest_image {
namespace {

constexpr size_t kBufferSize = 1 << 16;

// Buffers output to an fd; every write error is reported once, by flush().
class Output {
 public:
  explicit Output(int fd) : fd_(fd) { buf_.reserve(kBufferSize); }

  Status append(std::string_view bytes) {
    if (buf_.size() + bytes.size() > kBufferSize) HULL_TRY(flush());
    if (bytes.size() >= kBufferSize) return write_out(bytes);
    buf_.append(bytes);
    return {};
  }

  Status pad_to(size_t alignment) {
    size_t rem = static_cast<size_t>(offset() % alignment);
    if (rem == 0) return {};
    return append(std::string(alignment - rem, '\0'));
  }

  uint64_t offset() const { return written_ + buf_.size(); }

  Status flush() {
    std::string pending = std::move(buf_);
    buf_.clear();
    return write_out(pending);
  }

 private:
  Status write_out(std::string_view bytes) {
    HULL_TRY(wrap(write_all(fd_, bytes), "writing the cpio archive"));
    written_ += bytes.size();
    return {};
  }

  int fd_;
  std::string buf_;
  uint64_t written_ = 0;
};

struct Header {
  uint32_t ino = 0;
  uint32_t mode = 0;
  uint32_t nlink = 1;
  uint32_t filesize = 0;
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
};

Status write_header(Output& out, const Header& h, const std::string& name) {
  // uid, gid, mtime, dev major/minor and check are always 0.
  std::array<uint32_t, 13> fields = {h.ino,
                                     h.mode,
                                     0,
                                     0,
                                     h.nlink,
                                     0,
                                     h.filesize,
                                     0,
                                     0,
                                     h.rdev_major,
                                     h.rdev_minor,
                                     static_cast<uint32_t>(name.size() + 1),
                                     0};
  std::string header = "070701";
  char hex[9];
  for (uint32_t f : fields) {
    std::snprintf(hex, sizeof hex, "%08X", f);
    header.append(hex, 8);
  }
  HULL_TRY(out.append(header));
  HULL_TRY(out.append(name));
  HULL_TRY(out.append(std::string_view("\0", 1)));
  return out.pad_to(4);
}

Status write_file_data(Output& out, const CpioEntry& e, uint32_t ino) {
  UniqueFd fd(::open(e.source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(e.name + ": opening " + e.source);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(e.name + ": stat " + e.source);
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::Invalid, e.name + ": " + e.source + " is not a regular file");
  }
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > kCpioMaxFileSize) {
    return fail(Errc::Invalid, e.name + ": " + e.source + " is " + std::to_string(size) +
                                   " bytes; the cpio newc format stores files of at most " +
                                   std::to_string(kCpioMaxFileSize) + " bytes (4 GiB - 1)");
  }
  Header h{.ino = ino, .mode = S_IFREG | e.mode, .filesize = static_cast<uint32_t>(size)};
  HULL_TRY(write_header(out, h, e.name));
  uint64_t left = size;
  std::string buf(kBufferSize, '\0');
  while (left > 0) {
    ssize_t n = ::read(fd.get(), buf.data(), std::min<uint64_t>(left, buf.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(e.name + ": reading " + e.source);
    }
    if (n == 0) {
      return fail(Errc::Invalid, e.name + ": " + e.source + " shrank while it was read");
    }
    HULL_TRY(out.append(std::string_view(buf.data(), static_cast<size_t>(n))));
    left -= static_cast<uint64_t>(n);
  }
  char extra;
  ssize_t n = ::read(fd.get(), &extra, 1);
  if (n > 0) return fail(Errc::Invalid, e.name + ": " + e.source + " grew while it was read");
  return out.pad_to(4);
}

Status write_entry(Output& out, const CpioEntry& e, uint32_t ino) {
  switch (e.type) {
    case CpioType::Directory:
      return write_header(out, {.ino = ino, .mode = S_IFDIR | e.mode, .nlink = 2}, e.name);
    case CpioType::CharDevice:
      return write_header(out,
                          {.ino = ino,
                           .mode = S_IFCHR | e.mode,
                           .rdev_major = e.rdev_major,
                           .rdev_minor = e.rdev_minor},
                          e.name);
    case CpioType::Symlink: {
      Header h{
          .ino = ino, .mode = S_IFLNK | 0777, .filesize = static_cast<uint32_t>(e.target.size())};
      HULL_TRY(write_header(out, h, e.name));
      HULL_TRY(out.append(e.target));
      return out.pad_to(4);
    }
    case CpioType::File:
      return write_file_data(out, e, ino);
  }
  return fail(Errc::Internal, e.name + ": unknown entry type");
}

Status validate_entry(const CpioEntry& e) {
  HULL_TRY(validate_cpio_name(e.name));
  if ((e.mode & ~07777u) != 0) {
    return fail(Errc::Invalid, e.name + ": mode " + std::to_string(e.mode) +
                                   " has bits outside the permission bits 07777");
  }
  switch (e.type) {
    case CpioType::File:
      if (e.source.empty()) return fail(Errc::Invalid, e.name + ": a file needs a source path");
      break;
    case CpioType::Symlink:
      if (e.target.empty() || e.target.size() > kCpioMaxNameLength ||
          e.target.find('\0') != std::string::npos) {
        return fail(Errc::Invalid, e.name + ": bad symlink target");
      }
      break;
    case CpioType::Directory:
    case CpioType::CharDevice:
      break;
  }
  return {};
}

}  // namespace

Status validate_cpio_name(const std::string& name) {
  if (name.empty()) return fail(Errc::Invalid, "empty name in the archive");
  if (name.size() > kCpioMaxNameLength) {
    return fail(Errc::Invalid, "name of " + std::to_string(name.size()) +
                                   " bytes is longer than the limit of " +
                                   std::to_string(kCpioMaxNameLength));
  }
  if (name.find('\0') != std::string::npos) return fail(Errc::Invalid, "name contains a NUL byte");
  if (name.front() == '/') {
    return fail(Errc::Invalid,
                "\"" + name + "\": names in the archive are relative (no leading /)");
  }
  std::string_view rest = name;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") {
      return fail(Errc::Invalid, "\"" + name + "\": empty, \".\" or \"..\" path component");
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return {};
}

Status write_cpio(int fd, std::vector<CpioEntry> entries) {
  for (const CpioEntry& e : entries) HULL_TRY(validate_entry(e));
  // A parent's name is a prefix of its children's, so byte order puts every directory before
  // what it contains, as the kernel's unpacker needs.
  std::sort(entries.begin(), entries.end(),
            [](const CpioEntry& a, const CpioEntry& b) { return a.name < b.name; });
  auto dup =
      std::adjacent_find(entries.begin(), entries.end(),
                         [](const CpioEntry& a, const CpioEntry& b) { return a.name == b.name; });
  if (dup != entries.end()) return fail(Errc::Exists, "\"" + dup->name + "\" appears twice");

  Output out(fd);
  uint32_t ino = 1;
  for (const CpioEntry& e : entries) HULL_TRY(write_entry(out, e, ino++));
  HULL_TRY(write_header(out, {.ino = 0, .mode = 0, .nlink = 1}, "TRAILER!!!"));
  HULL_TRY(out.pad_to(512));
  return out.flush();
}

}  // namespace hull::guest_image
