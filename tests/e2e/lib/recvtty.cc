// hull-e2e-recvtty: the receiving end of `--console-socket`, like runc's
// contrib/cmd/recvtty, for the e2e suites.
//
//   hull-e2e-recvtty [--mode single|null] [--pid-file FILE] [--name-file FILE] SOCKET
//
// Listens on the unix socket SOCKET, accepts one connection, receives the pty
// master by SCM_RIGHTS (the message bytes are the pty's name, which
// --name-file records), then
//   single: relays stdin -> master and master -> stdout until the container
//           side of the pty closes (EIO/EOF on the master);
//   null:   reads and discards the master's output until it closes.
// The pid file is written once the socket listens, so a test can wait for it.
// The socket file is removed before exiting. Exit status 0, or 1 with a message.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace {

using hull::UniqueFd;

[[noreturn]] void die(const std::string& what, int err = 0) {
  std::string msg = "recvtty: " + what;
  if (err != 0) msg += std::string(": ") + strerror(err);
  fprintf(stderr, "%s\n", msg.c_str());
  _exit(1);
}

struct Options {
  std::string mode = "single";
  std::string pid_file;
  std::string name_file;
  std::string socket;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) die("missing value for " + std::string(a));
      out = argv[++i];
    };
    if (a == "--mode" || a == "-m") {
      value(o.mode);
    } else if (a == "--pid-file") {
      value(o.pid_file);
    } else if (a == "--name-file") {
      value(o.name_file);
    } else if (!a.empty() && a[0] == '-') {
      die("unknown option " + std::string(a));
    } else if (o.socket.empty()) {
      o.socket = a;
    } else {
      die("more than one socket path given");
    }
  }
  if (o.socket.empty()) {
    die("usage: hull-e2e-recvtty [--mode single|null] [--pid-file FILE] [--name-file FILE] SOCKET");
  }
  if (o.mode != "single" && o.mode != "null") die("unknown mode " + o.mode);
  return o;
}

void write_text(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) die("creating " + tmp, errno);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    die("writing " + tmp, errno);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) die("renaming " + tmp, errno);
}

UniqueFd listen_on(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) die("socket path too long: " + path);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) die("socket", errno);
  // reinterpret_cast: the sockets API takes sockaddr_un through its generic header.
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    die("binding " + path, errno);
  }
  if (::listen(s.get(), 1) != 0) die("listen", errno);
  return s;
}

// Receives one descriptor (and the sender's message bytes) from `conn`.
UniqueFd receive_fd(int conn, std::string& name) {
  char data[4096];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) die("recvmsg", errno);
  if (msg.msg_flags & MSG_CTRUNC) die("control message truncated (more than 4 descriptors?)");
  UniqueFd fd;
  int count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfds; ++i) {
      int got;
      // memcpy: CMSG_DATA is not aligned for int in general.
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (count++ == 0) {
        fd.reset(got);
      } else {
        ::close(got);
      }
    }
  }
  if (count != 1) die("expected exactly one descriptor, got " + std::to_string(count));
  name.assign(data, static_cast<size_t>(n));
  return fd;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Relays until the container side of the pty closes.
void relay(int master, bool single) {
  bool stdin_open = single;
  char buf[8192];
  for (;;) {
    pollfd p[2] = {{master, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll", errno);
    }
    if (p[0].revents != 0) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // EIO: every slave descriptor is closed
      if (single && !write_all(1, buf, static_cast<size_t>(n))) die("writing stdout", errno);
    }
    if (stdin_open && p[1].revents != 0) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        stdin_open = false;
      } else if (!write_all(master, buf, static_cast<size_t>(n))) {
        die("writing to the pty", errno);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  UniqueFd listener = listen_on(o.socket);
  if (!o.pid_file.empty()) write_text(o.pid_file, std::to_string(::getpid()) + "\n");
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) die("accept", errno);
  std::string name;
  UniqueFd master = receive_fd(conn.get(), name);
  conn.reset();
  listener.reset();
  ::unlink(o.socket.c_str());
  if (!::isatty(master.get())) die("the received descriptor is not a terminal");
  if (!o.name_file.empty()) write_text(o.name_file, name + "\n");
  relay(master.get(), o.mode == "single");
  return 0;
}
