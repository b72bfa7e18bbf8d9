// Test helpers: a temp dir, and a ttrpc peer written by hand on a raw socket,
// so tests can send what hull's own client never would (split frames, lies).
#pragma once

#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ttrpc/frame.h"
#include "ttrpc/ttrpc.pb.h"

namespace hull::ttrpc::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hull-ttrpc.XXXXXX");
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string request_body(const std::string& service, const std::string& method,
                                const std::string& payload, int64_t timeout_nano = 0) {
  ::ttrpc::Request req;
  req.set_service(service);
  req.set_method(method);
  req.set_payload(payload);
  req.set_timeout_nano(timeout_nano);
  return req.SerializeAsString();
}

// A frame's bytes; `length` overrides the header's length (to lie).
inline std::string raw_frame(uint32_t stream_id, uint8_t type, const std::string& body,
                             std::optional<uint32_t> length = std::nullopt) {
  auto head = encode_header({.length = length.value_or(static_cast<uint32_t>(body.size())),
                             .stream_id = stream_id,
                             .type = type});
  return std::string(reinterpret_cast<const char*>(head.data()), head.size()) + body;  // bytes
}

inline bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly n bytes; false on EOF, error or timeout.
inline bool read_exact(int fd, char* out, size_t n, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  size_t got = 0;
  while (got < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t r = ::read(fd, out + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

struct RawFrame {
  FrameHeader header;
  std::string body;
};

inline std::optional<RawFrame> read_frame(
    int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::array<std::byte, kHeaderSize> head{};
  if (!read_exact(fd, reinterpret_cast<char*>(head.data()), head.size(), timeout)) {
    return std::nullopt;
  }
  Parsed p = parse_frame(head, UINT32_MAX);
  RawFrame f{p.header, std::string(p.header.length, '\0')};
  if (!read_exact(fd, f.body.data(), f.body.size(), timeout)) return std::nullopt;
  return f;
}

inline std::optional<::ttrpc::Response> read_response(int fd, uint32_t* stream_id = nullptr) {
  auto f = read_frame(fd);
  if (!f || f->header.type != 2) return std::nullopt;
  if (stream_id != nullptr) *stream_id = f->header.stream_id;
  ::ttrpc::Response resp;
  if (!resp.ParseFromString(f->body)) return std::nullopt;
  return resp;
}

// Whether the peer closes the connection within `timeout` (read() sees EOF
// or a reset), having sent nothing more.
inline bool sees_eof(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  return ::read(fd, &c, 1) <= 0;
}

}  // namespace hull::ttrpc::test
