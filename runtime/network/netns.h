// Network namespace identity and the one rule hull never breaks: nothing is
// ever created or changed in the host's own network namespace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "common/error.h"

namespace hull::network {

struct NsId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const NsId&) const = default;
};

// The namespace a path names (/proc/<pid>/ns/net, a bind mount under
// /run/netns, ...): Errc::NotFound when there is no such file, Errc::Invalid
// when it is no network namespace.
Result<NsId> netns_id(const std::string& path);
// The calling thread's network namespace.
Result<NsId> current_netns();
// The host's: init's (/proc/1/ns/net).
Result<NsId> host_netns();

// The inode number nsfs gives the initial network namespace on kernels that
// fix one (PROC_NET_INIT_INO); older kernels number every namespace from
// 0xF0000000 up, so no other namespace ever has it.
inline constexpr uint64_t kInitNetnsIno = 0xEFFFFFF9U;

// Pure: whether `ns` is the host's, given init's namespace when it could be
// read (`init` null when /proc/1/ns/net is closed to us, as under some
// sandboxes): equal to init's, or carrying the initial namespace's inode.
bool is_host_netns(const NsId& ns, const NsId* init);

// Errc::Unsupported when the calling thread is in the host's network
// namespace (is_host_netns): every function of this module that changes a
// namespace calls it first.
Status refuse_host_netns(std::string_view what);

// Runs `fn` on a new thread that has joined the namespace at `path` (setns
// changes the calling thread only), and returns its result. Refuses the
// host's namespace.
Status in_netns(const std::string& path, const std::function<Status()>& fn);

}  // namespace hull::network
