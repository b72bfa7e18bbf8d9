// hull-vsock: the vhost-user-vsock backend, one per sandbox VM.
//
//   hull-vsock --socket <vhost-user socket> --uds <hybrid vsock socket> --cid <guest cid>
//              [--socket-fd N] [--uds-fd N] [--ready-fd N] [--log-level debug|info|warn|error]
//
// --socket-fd / --uds-fd: the two sockets, already bound and listening (the
// launcher makes them: a jailed hull-vsock cannot bind in the directory it
// serves); --socket and --uds then only name them, and --uds stays the
// prefix of "<uds>_<port>", where guest-initiated streams connect.
//
// Readiness: when both sockets listen (and the sandbox is in place), hull-vsock
// writes "ready\n" to fd N and closes it, if --ready-fd was given. A launcher
// passes the write end of a pipe, reads one line, and then starts QEMU. Without
// --ready-fd, the launcher may poll for the vhost-user socket file.
//
// Exit status: 0 when the vhost-user front end (QEMU) closes its connection;
// 1 on a setup error or a broken vhost-user session; 2 on bad usage.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/text.h"
#include "common/version.h"
#include "runtime/vsock/backend.h"
#include "runtime/vsock/sandboxing.h"

namespace {

struct Options {
  hull::vsock::BackendOptions backend;
  int ready_fd = -1;
  hull::log::Level level = hull::log::Level::Info;
};

constexpr const char* kUsage =
    "usage: hull-vsock --socket <vhost-user socket> --uds <hybrid vsock socket> --cid <guest cid>\n"
    "                  [--socket-fd N] [--uds-fd N] [--ready-fd N]\n"
    "                  [--log-level debug|info|warn|error]\n";

bool parse_args(int argc, char** argv, Options* o, std::string* err) {
  bool have_cid = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      *err = "";
      return false;
    }
    if (flag == "--version") {
      *err = std::string("hull-vsock ") + hull::kVersion;
      return false;
    }
    if (i + 1 >= argc) {
      *err = "missing value for " + std::string(flag);
      return false;
    }
    const std::string_view value = argv[++i];
    if (flag == "--socket") {
      o->backend.socket_path = value;
    } else if (flag == "--uds") {
      o->backend.uds_path = value;
    } else if (flag == "--cid") {
      if (!hull::parse_number(value, &o->backend.guest_cid)) {
        *err = "--cid: not a number: " + std::string(value);
        return false;
      }
      have_cid = true;
    } else if (flag == "--socket-fd" || flag == "--uds-fd") {
      int* fd = flag == "--socket-fd" ? &o->backend.socket_fd : &o->backend.uds_fd;
      if (!hull::parse_number(value, fd) || *fd < 3) {
        *err = std::string(flag) + ": not a file descriptor above 2: " + std::string(value);
        return false;
      }
    } else if (flag == "--ready-fd") {
      if (!hull::parse_number(value, &o->ready_fd) || o->ready_fd < 0) {
        *err = "--ready-fd: not a file descriptor: " + std::string(value);
        return false;
      }
    } else if (flag == "--log-level") {
      if (!hull::log::parse_level(value, &o->level)) {
        *err = "--log-level: unknown level " + std::string(value);
        return false;
      }
    } else {
      *err = "unknown option " + std::string(flag);
      return false;
    }
  }
  if (o->backend.socket_path.empty() || o->backend.uds_path.empty() || !have_cid) {
    *err = "--socket, --uds and --cid are required";
    return false;
  }
  return true;
}

int setup_error(const hull::Error& e) {
  std::fprintf(stderr, "hull-vsock: %s\n", e.what().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  std::string err;
  if (!parse_args(argc, argv, &opts, &err)) {
    if (err.rfind("hull-vsock ", 0) == 0) {
      std::printf("%s\n", err.c_str());
      return 0;
    }
    if (!err.empty()) std::fprintf(stderr, "hull-vsock: %s\n", err.c_str());
    std::fputs(kUsage, err.empty() ? stdout : stderr);
    return err.empty() ? 0 : 2;
  }
  hull::log::install(hull::log::Sink{2, hull::log::Format::Text, opts.level,
                                     "[cid=" + std::to_string(opts.backend.guest_cid) + "]",
                                     false});

  auto backend = hull::vsock::Backend::create(opts.backend);
  if (!backend) return setup_error(backend.error());
  if (auto s = hull::vsock::enter_sandbox(); !s) return setup_error(s.error());
  if (opts.ready_fd >= 0) {
    const char ready[] = "ready\n";
    const ssize_t n = ::write(opts.ready_fd, ready, sizeof ready - 1);
    ::close(opts.ready_fd);
    if (n != static_cast<ssize_t>(sizeof ready - 1))
      return setup_error(hull::Error{hull::Errc::System, errno, "writing to --ready-fd"});
  }
  hull::log::info("listening: vhost-user " + opts.backend.socket_path + ", hybrid vsock " +
                  opts.backend.uds_path);

  while (!(*backend)->finished()) {
    if (auto s = (*backend)->step(500); !s) {
      hull::log::error(s.error().what());
      return 1;
    }
  }
  if (const auto& f = (*backend)->failure()) {
    hull::log::error(f->what());
    return 1;
  }
  return 0;
}
