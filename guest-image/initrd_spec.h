// The input of hull-mkinitrd: a text list of entries, one per line, in the spirit of the
// kernel's usr/gen_init_cpio:
//
//   # comment
//   dir   /proc 0755
//   file  /init 0755 /path/on/the/host/hull-agent
//   slink /bin/sh busybox
//   nod   /dev/console 0600 c 5 1
//
// Fields are separated by blanks. A backslash escapes the next character; "\n", "\t" and
// "\xHH" stand for a newline, a tab and any byte, so every name can be written. Names may
// start with "/" (dropped: archive names are relative). Modes are octal.
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"
#include "guest-image/cpio_writer.h"

namespace hull::guest_image {

// Most entries one spec may hold (an initrd is a handful of files; busybox adds ~400 links).
inline constexpr size_t kSpecMaxEntries = 100000;

// Parses a spec. Pure: no I/O (File sources are only named, not opened). Errors name the line.
Result<std::vector<CpioEntry>> parse_initrd_spec(std::string_view text);

}  // namespace hull::guest_image
