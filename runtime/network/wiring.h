// Wiring a container's network namespace to its VM (Kata's "tcfilter"
// model), in the calling thread's namespace:
//
//   eth0 (veth: the address, MAC M, MTU U)     hulltap0 (tap, MTU U)      guest
//     ingress qdisc ffff:                        ingress qdisc ffff:
//     u32 match-all -> mirred egress  --------->  (to the tap's reader:
//       redirect hulltap0                          QEMU's virtio-net, MAC M)
//     <---------------------------------------- u32 match-all -> mirred
//                                                  egress redirect eth0
//
// Per NicPlan: a tap (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) with the interface's
// MTU, up; an ingress qdisc on both; one redirect filter each way. The tap's
// fd (and /dev/vhost-net's when the host has it) go to QEMU; the interface
// keeps its address and MAC, which the guest NIC takes over.
//
// Wiring owns what it made: remove() (and the destructor) deletes the ingress
// qdisc it added to each interface (its filters go along) and the taps; a
// failed create() undoes its own steps. Nothing is done when the calling
// thread is in the host's network namespace.
//
// An interface can vanish between the scan and the wiring, or while the VM
// boots (a hook or the network's owner deletes it): create() and
// check_links() then fail with Errc::NotFound and an error naming the
// interface and the namespace and saying what to do (vanished_error).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "runtime/network/netlink.h"
#include "runtime/network/plan.h"

namespace hull::network {

struct TapNic {
  std::string id;    // QEMU's netdev id: "net0", "net1", ...
  std::string link;  // the interface it serves
  int link_index = 0;
  std::string tap;
  std::string mac;
  uint32_t mtu = 0;
  UniqueFd tap_fd;
  UniqueFd vhost_fd;        // /dev/vhost-net, when the host has it
  std::string vhost_note;   // why not, when not (for the log)
  bool vhost_warn = false;  // the note deserves a warning, not a debug line
};

// vhost-net moves a NIC's packets in the host kernel instead of QEMU's main
// loop. Pure: what the errno of opening `path` (/dev/vhost-net; 0: it opened)
// means for a NIC. Opened: vhost=on with that fd. Absent (ENOENT, ENODEV,
// ENXIO: the kernel has no vhost_net, or the module is not loaded): vhost=off,
// quietly. Refused (EACCES, EPERM: a device cgroup, an LSM) or any other
// error: vhost=off with a warning, since the host has vhost-net but hull
// cannot use it.
struct VhostChoice {
  bool use = false;
  bool warn = false;
  std::string note;  // "" when used
};
VhostChoice vhost_choice(int open_errno, const std::string& path);

// Opens `path` for one NIC as vhost_choice says: the fd when it is used,
// else an invalid fd and the note (and whether to warn) in `nic`.
void open_vhost_net(const std::string& path, TapNic& nic);

inline constexpr const char* kVhostNetPath = "/dev/vhost-net";

class Wiring {
 public:
  // `netns` names the calling thread's namespace in errors ("/run/netns/x",
  // "net:[4026532000], which hull made for the container").
  static Result<std::unique_ptr<Wiring>> create(const Plan& plan, const std::string& netns);
  ~Wiring();
  Wiring(const Wiring&) = delete;
  Wiring& operator=(const Wiring&) = delete;

  std::vector<TapNic>& nics() { return nics_; }
  // Every interface it wired is still there (same index, same name):
  // vanished_error for the first that is not.
  Status check_links() const;
  // Deletes the ingress qdiscs and the taps (idempotent); the first failure
  // is returned, the other steps still run. Interfaces that vanished (docker
  // removed the veth) are not an error.
  Status remove();

 private:
  Wiring(NetlinkSocket nl, std::string netns) : nl_(std::move(nl)), netns_(std::move(netns)) {}
  Status wire_one(const NicPlan& n, size_t i);

  NetlinkSocket nl_;
  std::string netns_;
  std::vector<int> ingress_on_;  // link indexes that have our ingress qdisc
  std::vector<int> taps_;        // tap indexes
  std::vector<TapNic> nics_;
  bool removed_ = false;
};

// Pure: the error for interface `link` (index `index`) gone from namespace
// `netns` `when` ("before it was wired", "while the VM booted").
Error vanished_error(const std::string& link, int index, const std::string& netns,
                     std::string_view when);

// Whether the calling thread's namespace has link `index` named `name`.
bool link_exists(int index, const std::string& name);

// What a dead monitor may have left in a namespace (hull delete): deletes
// every tap named hulltap* and the ingress qdisc of each of `links`. In the
// calling thread's namespace; never in the host's.
Status remove_leftovers(const std::vector<std::string>& links);

}  // namespace hull::network
