#include "runtime/vm/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace hull::vm {

std::string last_lines(std::string_view text, size_t max_lines, size_t max_bytes) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  size_t start = text.size();
  for (size_t lines = 0; lines < max_lines && start > 0;) {
    size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string_view::npos) {
      start = 0;
      break;
    }
    start = nl;
    if (++lines == max_lines) {
      ++start;
      break;
    }
  }
  if (start < text.size() && text[start] == '\n') ++start;
  std::string out;
  for (char c : text.substr(start)) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\r') continue;  // serial consoles end lines with \r\n
    out += (u == '\n' || u == '\t' || (u >= 0x20 && u < 0x7f)) ? c : '?';
  }
  return out;
}

namespace {

// The last max_bytes of the regular file at path ("" when it cannot be read).
std::string file_tail(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  const auto size = static_cast<uint64_t>(st.st_size);
  const uint64_t from = size > max_bytes ? size - max_bytes : 0;
  std::string buf(static_cast<size_t>(size - from), '\0');
  ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(from));
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

}  // namespace

std::string ring_tail_bytes(const std::string& path, size_t max_bytes) {
  std::string newest = file_tail(path, max_bytes);
  if (newest.size() >= max_bytes) return newest;
  return file_tail(path + ".1", max_bytes - newest.size()) + newest;
}

std::string tail_file(const std::string& path, size_t max_lines, size_t max_bytes) {
  std::string buf = ring_tail_bytes(path, max_bytes);
  if (buf.empty()) return "";
  return last_lines(buf, max_lines, max_bytes);
}

}  // namespace hull::vm
