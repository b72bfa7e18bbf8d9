// The shim's command line, as containerd 1.6 writes it (Go `flag` syntax):
//
//   containerd-shim-hull-v2 -namespace NS -address GRPC -publish-binary BIN
//       -id ID [-debug] start
//   containerd-shim-hull-v2 -namespace NS -address GRPC -publish-binary BIN
//       -id ID -bundle DIR delete
//   containerd-shim-hull-v2 -namespace NS -id ID -address GRPC -socket ADDR [-debug]
//       (no action: the daemon `start` re-executes, serving ADDR on fd 3)
//
// A flag is "-name" or "--name"; its value follows as "-name=value" or as the
// next argument; boolean flags take no argument ("-debug", or "-debug=false").
// The first argument that is not a flag is the action. An unknown flag is
// skipped (as a boolean, or with its "=value"), so a newer containerd's extra
// flags do not break the shim.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/error.h"

namespace hull::shim {

struct ShimFlags {
  std::string ns;                    // -namespace
  std::string id;                    // -id: the task id
  std::string address;               // -address: containerd's gRPC socket
  std::string publish_binary;        // -publish-binary: containerd's own binary
  std::string bundle;                // -bundle (delete; the others run in the bundle)
  std::string socket;                // -socket: the address the daemon serves
  bool debug = false;                // -debug
  bool version = false;              // -v, --version
  std::string action;                // "start", "delete", or "" (the daemon)
  std::vector<std::string> unknown;  // flags skipped, for a debug line
};

// Pure. Errc::Invalid names the flag or argument that is wrong: a value flag
// at the end of the line, a bad boolean, an unknown action, more than one
// action.
Result<ShimFlags> parse_flags(std::span<const std::string> args);

}  // namespace hull::shim
