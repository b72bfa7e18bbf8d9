// The unix-socket side of ttrpc: addresses, listening, connecting, peer
// credentials, and writing one whole frame.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"
#include "ttrpc/frame.h"

namespace hull::ttrpc {

// "unix:///run/x.sock" or "/run/x.sock" -> "/run/x.sock". Errc::Invalid for
// another scheme, an empty path, or one longer than a sockaddr_un holds.
Result<std::string> socket_path(std::string_view address);

// A listening stream socket at `path` (which must not exist), mode 0600.
Result<UniqueFd> listen_unix(const std::string& path);

// A connection to `address` (see socket_path()).
Result<UniqueFd> connect_unix(std::string_view address);

// Bounds every send on `fd` by kSendTimeout: a peer that stops reading loses
// its connection instead of blocking the sender for ever.
Status set_send_timeout(int fd);

struct PeerCred {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// SO_PEERCRED: who connected (as of connect()).
Result<PeerCred> peer_cred(int fd);

// Writes header + body in full (looping over short writes; no SIGPIPE).
// The caller serializes frames on one socket (a write lock).
Status send_frame(int fd, const FrameHeader& header, std::string_view body);

}  // namespace hull::ttrpc
