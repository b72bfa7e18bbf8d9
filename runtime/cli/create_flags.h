// The flags `create` and `run` share (runc's createFlags), in one struct.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "runtime/container/container.h"

namespace hull::cli {

struct CreateFlags {
  std::string id;
  std::string bundle;
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;

  void add_to(CLI::App& sub) {
    sub.add_option("id", id, "the container's id (unique on this host)")->required();
    sub.add_option("-b,--bundle", bundle,
                   "path to the root of the bundle directory, defaults to the current directory");
    sub.add_option("--pid-file", pid_file, "specify the file to write the process id to");
    sub.add_option("--console-socket", console_socket,
                   "path to an AF_UNIX socket which will receive a file descriptor referencing "
                   "the master end of the console's pseudoterminal");
    sub.add_flag("--no-pivot", no_pivot,
                 "accepted for compatibility: the guest always pivots into the rootfs");
    sub.add_flag("--no-new-keyring", no_new_keyring,
                 "accepted for compatibility: the container's keyring is its VM's own");
    sub.add_option("--preserve-fds", preserve_fds,
                   "pass N additional file descriptors to the container (hull: only 0)");
  }

  container::CreateOptions options() const {
    container::CreateOptions o;
    o.id = id;
    o.bundle = bundle.empty() ? "." : bundle;
    o.pid_file = pid_file;
    o.console_socket = console_socket;
    o.no_pivot = no_pivot;
    o.no_new_keyring = no_new_keyring;
    o.preserve_fds = preserve_fds;
    return o;
  }
};

}  // namespace hull::cli
