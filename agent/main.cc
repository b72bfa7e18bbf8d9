// hull-agent: PID 1 of the guest. The init part lives in agent/init (see init.h), the RPC
// service in agent/rpc (see server.h). PID 1 must never exit (the guest kernel would panic):
// every end, requested or fatal, powers the VM off.
//
//   bring_up -> kernel features -> reaper and RPC listener on the loop -> ready line -> loop
//   (until DestroySandbox has been answered) -> power off
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "agent/engine/container_init.h"
#include "agent/init/features.h"
#include "agent/init/init.h"
#include "agent/init/power.h"
#include "agent/rpc/guest_info.h"
#include "agent/rpc/server.h"
#include "common/log.h"
#include "common/version.h"

namespace {

namespace init = hull::agent::init;
namespace rpc = hull::agent::rpc;

// init::run_init() with the RPC service on the main loop. Returns why the VM should power off.
hull::Result<std::string> run_agent(uint64_t start_boottime_ns) {
  HULL_ASSIGN(guest, init::bring_up());
  hull::log::info("kernel features: " + init::describe(init::probe_features()));
  if (guest.config.debug_shell) {
    if (auto st = init::start_debug_shell(guest.reaper); !st) {
      hull::log::warn("no debug shell: " + st.error().what());
    }
  }
  init::Reaper& reaper = guest.reaper;
  hull::EventLoop& loop = guest.loop;
  HULL_TRY(loop.add(reaper.fd(), EPOLLIN, [&reaper](uint32_t) { return reaper.on_readable(); }));

  if (auto st = rpc::mount_shared_fs(hull::agent::kGuestSharedDir); !st) {
    hull::log::warn(st.error().what() + " (no shared directory)");
  }
  HULL_ASSIGN(listener, rpc::listen_vsock(guest.config.port));
  HULL_ASSIGN(server, rpc::AgentServer::start(std::move(listener),
                                              {.start_boottime_ns = start_boottime_ns,
                                               .shared_dir = hull::agent::kGuestSharedDir,
                                               .reaper = &reaper}));
  HULL_TRY(loop.add(server->listen_fd(), EPOLLIN, [&server](uint32_t) {
    server->on_listen_ready();
    return hull::Status{};
  }));
  bool destroyed = false;
  HULL_TRY(loop.add(server->destroy_fd(), EPOLLIN, [&](uint32_t) {
    destroyed = true;
    loop.stop();
    return hull::Status{};
  }));

  init::announce_ready();
  if (guest.config.test == init::TestAction::PowerOff) return std::string("hull.test=poweroff");

  HULL_TRY(loop.run());
  server->shutdown();  // the DestroySandbox reply has gone out
  return std::string(destroyed ? "DestroySandbox" : "main loop stopped");
}

}  // namespace

int main(int argc, char** argv) {
  // The container engine re-executes this binary as each container's init
  // (agent/engine/spawn.h): that run ends here, before anything of PID 1's.
  if (auto rc = hull::engine::maybe_run_init(argc, argv)) return *rc;
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("hull-agent %s (%s)\n", hull::kVersion, hull::kGitCommit);
    return 0;
  }
  if (::getpid() != 1) {
    std::fprintf(stderr,
                 "hull-agent: refusing to start: this is pid %d, not 1. hull-agent is the init "
                 "of a hull guest VM (it mounts /proc, /sys, /dev and powers the machine off); "
                 "it is not meant to run on a host.\n",
                 static_cast<int>(::getpid()));
    return 1;
  }
  const uint64_t start_boottime_ns = rpc::boottime_ns();
  try {
    auto reason = run_agent(start_boottime_ns);
    if (!reason) init::power_off_fatal(reason.error().what());
    init::power_off(*reason);
  } catch (const std::exception& e) {
    init::power_off_fatal(std::string("uncaught exception: ") + e.what());
  } catch (...) {
    init::power_off_fatal("uncaught exception of unknown type");
  }
}
