#include "guest-image/initrd_spec.h"

#include <charconv>
#include <string>

#include "common/text.h"

namespace hull::guest_image {
namespace {

// Splits one line into fields, resolving escapes.
Result<std::vector<std::string>> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  std::string cur;
  bool in_field = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t') {
      if (in_field) fields.push_back(std::move(cur));
      cur.clear();
      in_field = false;
      continue;
    }
    in_field = true;
    if (c != '\\') {
      cur += c;
      continue;
    }
    if (++i == line.size()) return fail(Errc::Invalid, "a backslash ends the line");
    switch (char e = line[i]) {
      case 'n':
        cur += '\n';
        break;
      case 't':
        cur += '\t';
        break;
      case 'x': {
        int hi = i + 1 < line.size() ? hex_digit(line[i + 1]) : -1;
        int lo = i + 2 < line.size() ? hex_digit(line[i + 2]) : -1;
        if (hi < 0 || lo < 0) return fail(Errc::Invalid, "\\x needs two hex digits");
        cur += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        cur += e;
    }
  }
  if (in_field) fields.push_back(std::move(cur));
  return fields;
}

Result<uint32_t> parse_number(const std::string& s, int base, uint32_t max, std::string_view what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) {
    return fail(Errc::Invalid, "bad " + std::string(what) + " \"" + s + "\"");
  }
  return v;
}

std::string archive_name(const std::string& s) {
  size_t start = s.find_first_not_of('/');
  return start == std::string::npos ? std::string() : s.substr(start);
}

Result<CpioEntry> parse_entry(const std::vector<std::string>& f) {
  const std::string& kind = f[0];
  auto want = [&](size_t n) -> Status {
    if (f.size() != n) {
      return fail(Errc::Invalid, "\"" + kind + "\" takes " + std::to_string(n - 1) +
                                     " fields, found " + std::to_string(f.size() - 1));
    }
    return {};
  };
  CpioEntry e;
  if (kind == "dir") {
    HULL_TRY(want(3));
    e.type = CpioType::Directory;
  } else if (kind == "file") {
    HULL_TRY(want(4));
    e.type = CpioType::File;
    e.source = f[3];
  } else if (kind == "slink") {
    HULL_TRY(want(3));
    e.type = CpioType::Symlink;
    e.target = f[2];
    e.mode = 0777;
  } else if (kind == "nod") {
    HULL_TRY(want(6));
    if (f[3] != "c") return fail(Errc::Invalid, "only character devices (\"c\") are supported");
    e.type = CpioType::CharDevice;
    HULL_ASSIGN(major, parse_number(f[4], 10, 0xfff, "major number"));
    HULL_ASSIGN(minor, parse_number(f[5], 10, 0xfffff, "minor number"));
    e.rdev_major = major;
    e.rdev_minor = minor;
  } else {
    return fail(Errc::Invalid, "unknown entry type \"" + kind + "\" (dir, file, slink, nod)");
  }
  e.name = archive_name(f[1]);
  if (e.type != CpioType::Symlink) {
    HULL_ASSIGN(mode, parse_number(f[2], 8, 07777, "mode"));
    e.mode = mode;
  }
  HULL_TRY(validate_cpio_name(e.name));
  return e;
}

}  // namespace

Result<std::vector<CpioEntry>> parse_initrd_spec(std::string_view text) {
  std::vector<CpioEntry> entries;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    auto where = [&](Error e) { return std::move(e).wrap("line " + std::to_string(line_no)); };
    auto fields = split_fields(line);
    if (!fields) return fail(where(std::move(fields.error())));
    if (fields->empty() || fields->front().starts_with('#')) continue;
    auto entry = parse_entry(*fields);
    if (!entry) return fail(where(std::move(entry.error())));
    if (entries.size() == kSpecMaxEntries) {
      return fail(Errc::Invalid,
                  "more than " + std::to_string(kSpecMaxEntries) + " entries in the spec");
    }
    entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace hull::guest_image
