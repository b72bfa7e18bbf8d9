#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "common/spawn.h"
#include "common/unique_fd.h"

namespace hull {

Result<CommandOutput> run_capture(const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout, size_t max_output) {
  if (argv.empty()) return fail(Errc::Internal, "run_capture: empty argv");
  HULL_ASSIGN(path, wrap(find_program(argv[0]), "running " + argv[0]));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd rd(fds[0]), wr(fds[1]);
  SpawnOptions o;
  o.path = path;
  o.argv = argv;
  o.fds = {{wr.get(), 1}, {wr.get(), 2}};
  o.group = ProcessGroup::Inherit;
  HULL_ASSIGN(child, spawn(argv[0], o));
  wr.reset();

  CommandOutput out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };
  auto timed_out = [&] {
    child.kill_and_reap();
    return fail(Errc::Timeout,
                argv[0] + " did not finish within " + std::to_string(timeout.count()) + " ms");
  };
  char buf[4096];
  for (;;) {
    if (left().count() <= 0) return timed_out();
    pollfd p{rd.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left().count()));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return timed_out();
    ssize_t r = ::read(rd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    size_t room = max_output - std::min(max_output, out.output.size());
    out.output.append(buf, std::min(room, static_cast<size_t>(r)));
  }
  auto st = child.wait_for(std::max(left(), std::chrono::milliseconds(0)));
  if (!st) {
    if (st.error().code == Errc::Timeout) return timed_out();
    return fail(std::move(st.error()));
  }
  out.exit_status = st->code;
  return out;
}

}  // namespace hull
