// Writes cpio archives in the "newc" format (the one the Linux initramfs unpacker reads),
// reproducibly: entries sorted by name, inode numbers assigned in that order from 1, every
// mtime 0 and every owner 0:0. Two archives built from the same entries and file contents are
// byte-identical, whatever the host files' times, owners or inode numbers are.
//
// Format (the kernel's initramfs buffer format): per entry a 110-byte
// ASCII header "070701" + 13 fields of 8 hex digits, the NUL-terminated name padded to 4 bytes,
// the data padded to 4 bytes; then the "TRAILER!!!" entry. c_filesize is 32 bits, so a file
// of 4 GiB or more cannot be stored and is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace hull::guest_image {

// newc's c_filesize holds 8 hex digits.
inline constexpr uint64_t kCpioMaxFileSize = 0xffffffffULL;
// Longest name accepted (Linux's PATH_MAX, with the terminating NUL).
inline constexpr size_t kCpioMaxNameLength = 4095;

enum class CpioType { Directory, File, Symlink, CharDevice };

struct CpioEntry {
  CpioType type = CpioType::File;
  // Path inside the archive, relative, without a leading "/": "init", "bin/busybox".
  // Any byte but NUL is allowed (spaces, newlines, quotes, UTF-8); "." and ".." components and
  // empty components are not.
  std::string name;
  uint32_t mode = 0;        // permission bits only (07777); the type bits come from `type`
  std::string source;       // File: the host file whose content is stored
  std::string target;       // Symlink: the link target
  uint32_t rdev_major = 0;  // CharDevice
  uint32_t rdev_minor = 0;  // CharDevice
};

// Checks a name for the archive (see CpioEntry::name). Pure.
Status validate_cpio_name(const std::string& name);

// Writes `entries` as one newc archive to `fd` (not owned; a file or a pipe), then the
// trailer, padded to a multiple of 512 bytes as cpio(1) does. Refuses duplicate names, bad
// names, a File whose source is not a regular file or is 4 GiB or larger, and a source that
// changes size while it is read. On error the output is incomplete and must be discarded.
Status write_cpio(int fd, std::vector<CpioEntry> entries);

}  // namespace hull::guest_image
