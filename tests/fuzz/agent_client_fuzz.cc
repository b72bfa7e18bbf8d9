// libFuzzer target for the host's agent client (runtime/sandbox/agent_client.h)
// as the monitor's relay uses it: a real gRPC channel on one end of a
// socketpair, whatever the input says written by the "agent" on the other.
//
// The first byte chooses the call (Health, GetGuestDetails, ListInterfaces,
// ListRoutes, WaitProcess through call_agent and parse_wait) and whether the
// agent's bytes start with a valid server preface (an empty SETTINGS frame),
// so the fuzzer also reaches the frames after the handshake; the rest are
// the agent's bytes, after which it closes its end. A call must end (in its
// deadline, or at once on EOF) with a reply its check accepted or an Error,
// never crash, hang or return a value the check should have refused.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent.grpc.pb.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/agent_reply.h"

namespace {

using namespace hull::sandbox;
namespace agent = hull::agent;
using std::chrono::milliseconds;

constexpr milliseconds kCallTimeout{200};

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Writes what fits without blocking (the socket buffer holds far more than
// libFuzzer's inputs), then ends the agent's side.
void agent_writes(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) break;
    data += n;
    size -= static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  hull::UniqueFd peer(sv[0]);
  if (mode & 0x80) {
    static const uint8_t kSettings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    (void)::send(peer.get(), kSettings, sizeof kSettings, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  agent_writes(peer.get(), data, size);
  AgentClient client = AgentClient::from_fd(hull::UniqueFd(sv[1]));
  switch (mode & 0x7) {
    case 0:
      (void)client.health(kCallTimeout);
      break;
    case 1:
      (void)client.guest_details(kCallTimeout);
      break;
    case 2:
      (void)client.list_interfaces(kCallTimeout);
      break;
    case 3:
      (void)client.list_routes(kCallTimeout);
      break;
    default: {
      agent::ProcessRequest req;
      req.set_container_id("c");
      auto reply = call_agent(client.stub(), &agent::Agent::Stub::WaitProcess, "WaitProcess", req,
                              kCallTimeout);
      if (!reply) break;
      auto e = parse_wait(*reply);
      if (e) require(e->code >= 0 && e->code <= 255);
      break;
    }
  }
  return 0;
}
