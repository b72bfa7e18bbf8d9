// Container lifecycle through the agent in a real VM: create/start/wait,
// exec into a running container, signals, ps, pause/resume, remove, terminal
// mode with resize, and the errors the host gets back (with their Errc).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/proto/constants.h"
#include "agent_fixture.h"

namespace hull::sandbox::testing {
namespace {

using namespace std::chrono_literals;

struct LifecycleTag {
  static constexpr const char* kName = "ia-life";
};
using ContainerTest = AgentFixture<LifecycleTag>;

TEST_F(ContainerTest, CreateStartWaitWithOutputAndExitCode) {
  std::string id = next_id("run");
  auto c =
      create(id, busybox_spec(id, {"sh", "-c", "echo hello; echo oops >&2; hostname; exit 3"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  auto out = read_all(cc, id, "", OutputStream::Stdout);
  auto err = read_all(cc, id, "", OutputStream::Stderr);
  ASSERT_TRUE(out) << out.error().what();
  ASSERT_TRUE(err) << err.error().what();
  EXPECT_EQ(*out, "hello\nbox\n");
  EXPECT_EQ(*err, "oops\n");
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 3);
  EXPECT_FALSE(w->signaled);
  // A second wait gets the same status at once.
  auto again = cc.wait(id, "", 5s);
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(again->code, 3);
  EXPECT_TRUE((*c)->remove());
}

TEST_F(ContainerTest, ExecIntoARunningContainer) {
  std::string id = next_id("exec");
  auto c = create(id, busybox_spec(id, {"sleep", "1000"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  // Same namespaces (hostname, pid 1 is the container's sleep) and cgroup as the init.
  auto ex = cc.exec(id, "e1",
                    process_json(shell_process("hostname; cat /proc/1/comm; cat /proc/self/cgroup; "
                                               "exit 7")),
                    {});
  ASSERT_TRUE(ex) << ex.error().what();
  auto out = read_all(cc, id, "e1", OutputStream::Stdout);
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(out->substr(0, 10), "box\nsleep\n") << *out;
  EXPECT_NE(out->find("0::/"), std::string::npos) << *out;
  auto w = cc.wait(id, "e1", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 7);
  // The exec'd process was in the container's cgroup: ps lists the init only now.
  auto ps = cc.list_processes(id);
  ASSERT_TRUE(ps) << ps.error().what();
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].comm(), "sleep");
  ASSERT_GE((*ps)[0].args_size(), 2);
  EXPECT_EQ((*ps)[0].args(1), "1000");
  // The same exec id again is refused; the init still runs.
  auto dup = cc.exec(id, "e1", process_json(shell_process("true")), {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::Exists) << dup.error().what();
  EXPECT_TRUE((*c)->remove());
}

TEST_F(ContainerTest, SignalsReachTheInitAndExecs) {
  std::string id = next_id("sig");
  auto c = create(id, busybox_spec(id, {"sh", "-c",
                                        "trap 'echo got-term; exit 42' TERM; echo ready; "
                                        "while true; do sleep 0.05; done"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  // Wait for "ready" so the trap is installed.
  std::string seen;
  std::thread reader([&] {
    (void)cc.read_output(id, "", OutputStream::Stdout, [&](std::string_view s) {
      seen.append(s);
      return Status{};
    });
  });
  JoinOnExit join{reader, [&] { (void)(*c)->remove(); }};
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto ps = cc.list_processes(id);
    if (ps && ps->size() >= 2) break;  // sh and its sleep: the trap line has run
    std::this_thread::sleep_for(50ms);
  }
  // An exec'd process gets its own signal; SIGKILL shows as 128+9.
  ASSERT_TRUE(cc.exec(id, "long", process_json(shell_process("exec sleep 1000")), {}));
  ASSERT_TRUE(cc.signal(id, "long", SIGKILL));
  auto we = cc.wait(id, "long", 60s);
  ASSERT_TRUE(we) << we.error().what();
  EXPECT_TRUE(we->signaled);
  EXPECT_EQ(we->signal, SIGKILL);
  EXPECT_EQ(we->code, 137);

  ASSERT_TRUE(cc.signal(id, "", SIGTERM));
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 42);
  reader.join();
  EXPECT_NE(seen.find("got-term"), std::string::npos) << seen;
  // Signalling a stopped container says so.
  auto late = cc.signal(id, "", SIGTERM);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::NotRunning) << late.error().what();
}

TEST_F(ContainerTest, SignalAllKillsEveryProcess) {
  std::string id = next_id("all");
  auto c = create(id, busybox_spec(id, {"sh", "-c", "sleep 1000 & sleep 1000 & wait"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  auto deadline = std::chrono::steady_clock::now() + 60s;
  size_t n = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto ps = cc.list_processes(id);
    ASSERT_TRUE(ps) << ps.error().what();
    n = ps->size();
    if (n == 3) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(n, 3u);
  ASSERT_TRUE(cc.signal(id, "", SIGKILL, true));
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 137);
  auto ps = cc.list_processes(id);
  ASSERT_TRUE(ps) << ps.error().what();
  EXPECT_EQ(ps->size(), 0u);
}

TEST_F(ContainerTest, PauseAndResumeFreezeTheCgroup) {
  std::string id = next_id("pause");
  auto c = create(id, busybox_spec(id, {"sh", "-c", "while :; do :; done"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(cc.pause(id));
  auto a = cc.stats(id);
  std::this_thread::sleep_for(500ms);
  auto b = cc.stats(id);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->cpu_usage_usec(), b->cpu_usage_usec()) << "a frozen cgroup used CPU";
  ASSERT_TRUE(cc.resume(id));
  std::this_thread::sleep_for(500ms);
  auto d = cc.stats(id);
  ASSERT_TRUE(d);
  EXPECT_GT(d->cpu_usage_usec(), b->cpu_usage_usec() + 50000) << "the thawed loop did not run";
  EXPECT_TRUE((*c)->remove());  // kills the busy loop
}

TEST_F(ContainerTest, RemoveKillsWhatIsLeftAndForgetsTheId) {
  std::string id = next_id("rm");
  auto c = create(id, busybox_spec(id, {"sleep", "1000"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  ASSERT_TRUE(cc.exec(id, "x", process_json(shell_process("sleep 1000")), {}));
  // A waiter on the init gets its status when remove kills it.
  std::optional<Result<ExitStatus>> waited;
  std::thread waiter([&] { waited = cc.wait(id, "", 60s); });
  JoinOnExit join{waiter, [&] { (void)(*c)->remove(); }};
  ASSERT_TRUE((*c)->remove());
  waiter.join();
  ASSERT_TRUE(waited && *waited) << (waited ? waited->error().what() : "no wait");
  EXPECT_EQ((*waited)->code, 137);
  auto st = cc.stats(id);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::NotFound) << st.error().what();
  // The id can be used again.
  auto again = create(id, busybox_spec(id, {"true"}));
  ASSERT_TRUE(again) << again.error().what();
  ASSERT_TRUE(cc.start(id));
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 0);
}

TEST_F(ContainerTest, GracefulRemoveSendsSigtermFirst) {
  std::string id = next_id("grace");
  auto c = create(
      id, busybox_spec(id, {"sh", "-c", "trap 'exit 5' TERM; while true; do sleep 0.05; done"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  std::this_thread::sleep_for(300ms);
  std::optional<Result<ExitStatus>> waited;
  std::thread waiter([&] { waited = cc.wait(id, "", 60s); });
  JoinOnExit join{waiter, [&] { (void)(*c)->remove(); }};
  ASSERT_TRUE(cc.remove(id, 10));
  waiter.join();
  ASSERT_TRUE(waited && *waited);
  EXPECT_EQ((*waited)->code, 5);
  (void)(*c)->remove();
}

TEST_F(ContainerTest, TerminalModeWithResize) {
  std::string id = next_id("tty");
  oci::Spec spec = busybox_spec(id, {"sh", "-c", "stty size; tty; echo done"});
  spec.process->terminal = true;
  auto c = create(id, spec, {.terminal = true});
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.resize_tty(id, "", 40, 100));
  ASSERT_TRUE(cc.start(id));
  auto out = read_all(cc, id, "", OutputStream::Stdout);
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_NE(out->find("40 100"), std::string::npos) << *out;
  EXPECT_NE(out->find("/dev/pts/0"), std::string::npos) << *out;  // the container's devpts
  EXPECT_NE(out->find("done"), std::string::npos) << *out;
  auto err = read_all(cc, id, "", OutputStream::Stderr);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "");  // merged into the terminal
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 0);
  // Resizing a pipes-mode process is refused.
  std::string id2 = next_id("notty");
  auto c2 = create(id2, busybox_spec(id2, {"true"}));
  ASSERT_TRUE(c2) << c2.error().what();
  auto r = cc.resize_tty(id2, "", 10, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidState) << r.error().what();
}

TEST_F(ContainerTest, ErrorsComeBackWithTheirErrcAndTheAgentKeepsServing) {
  auto cc = client();
  // The engine's message names the spec field.
  std::string id = next_id("bad");
  oci::Spec spec = busybox_spec(id, {"true"});
  spec.process->cwd = "relative";
  auto c = create(id, spec);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Invalid) << c.error().what();
  EXPECT_NE(c.error().what().find("process.cwd"), std::string::npos) << c.error().what();

  auto nf = cc.start("no-such-container");
  ASSERT_FALSE(nf);
  EXPECT_EQ(nf.error().code, Errc::NotFound) << nf.error().what();

  std::string id2 = next_id("twice");
  auto c2 = create(id2, busybox_spec(id2, {"true"}));
  ASSERT_TRUE(c2) << c2.error().what();
  auto dup = cc.create(id2, oci::serialize_spec(busybox_spec(id2, {"true"})), {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, Errc::Exists) << dup.error().what();
  ASSERT_TRUE(cc.start(id2));
  auto again = cc.start(id2);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::InvalidState) << again.error().what();

  auto badexec = cc.exec(id2, "e", R"({"args":[],"cwd":"/"})", {});
  ASSERT_FALSE(badexec);
  EXPECT_EQ(badexec.error().code, Errc::Invalid) << badexec.error().what();

  // Network calls answer (no NIC in this sandbox: only lo, no main-table route).
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  agent::Routes routes;
  grpc::Status net = sb_->agent().stub().ListRoutes(&ctx, agent::Empty(), &routes);
  EXPECT_TRUE(net.ok()) << net.error_message();
  EXPECT_EQ(routes.routes_size(), 0) << routes.DebugString();
  grpc::ClientContext ictx;
  ictx.set_deadline(std::chrono::system_clock::now() + 5s);
  agent::Interfaces ifs;
  ASSERT_TRUE(sb_->agent().stub().ListInterfaces(&ictx, agent::Empty(), &ifs).ok());
  ASSERT_EQ(ifs.interfaces_size(), 1) << ifs.DebugString();
  EXPECT_EQ(ifs.interfaces(0).name(), "lo");
  EXPECT_TRUE(ifs.interfaces(0).up());
  EXPECT_TRUE(sb_->agent().health());
}

TEST_F(ContainerTest, CreateSandboxSetsHostnameAndSysctls) {
  auto cc = client();
  agent::CreateSandboxRequest req;
  req.set_sandbox_id("ia-life");
  req.set_hostname("guest-host");
  req.add_dns("nameserver 10.0.2.3");
  (*req.mutable_sysctls())["vm.overcommit_memory"] = "1";
  ASSERT_TRUE(cc.create_sandbox(req));
  // A container that shares the guest's UTS namespace sees the hostname.
  std::string id = next_id("uts");
  oci::Spec spec = busybox_spec(id, {"sh", "-c", "hostname; cat /proc/sys/vm/overcommit_memory"});
  std::erase_if(*spec.linux->namespaces, [](const oci::Namespace& ns) { return ns.type == "uts"; });
  spec.hostname.reset();
  auto c = create(id, spec);
  ASSERT_TRUE(c) << c.error().what();
  ASSERT_TRUE(cc.start(id));
  auto out = read_all(cc, id, "", OutputStream::Stdout);
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(*out, "guest-host\n1\n");
  agent::CreateSandboxRequest bad;
  (*bad.mutable_sysctls())["../../etc/passwd"] = "x";
  auto b = cc.create_sandbox(bad);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::Invalid) << b.error().what();
  agent::CreateSandboxRequest other_dir;
  other_dir.set_shared_dir("/elsewhere");
  auto o = cc.create_sandbox(other_dir);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, Errc::Invalid) << o.error().what();
}

TEST_F(ContainerTest, WaitDeadlineDoesNotHoldTheAgent) {
  std::string id = next_id("waits");
  auto c = create(id, busybox_spec(id, {"sleep", "1000"}));
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  // Many waits at once, each with a short deadline: callback-API calls, no thread each.
  std::vector<std::thread> ts;
  std::atomic<int> timeouts{0};
  for (int i = 0; i < 32; ++i) {
    ts.emplace_back([&] {
      auto w = cc.wait(id, "", 1500ms);
      if (!w && w.error().code == Errc::Timeout) ++timeouts;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(timeouts.load(), 32);
  EXPECT_TRUE(sb_->agent().health());
  EXPECT_TRUE((*c)->remove());
}

// Issue 13 item 3: the share's top and the directories hull makes below it are
// read-only to the guest (virtiofsd exports them from a read-only mount);
// only each container's rootfs and writable volumes, mounts of their own, are
// writable. Guest root binds the whole shared dir into a container and tries.
TEST_F(ContainerTest, GuestRootCannotWriteTheShareTop) {
  std::string id = next_id("share");
  std::string script =
      "cd /root || exit 9; touch top && echo wrote-top; mkdir dir && echo made-dir; "
      "touch containers/x && echo wrote-containers; "
      "touch containers/" +
      id +
      "/x && echo wrote-container-dir; "
      "test -x containers/" +
      id + "/rootfs/bin/busybox && echo sees-rootfs; touch /tmp/x && echo tmp-ok";
  oci::Spec spec = busybox_spec(id, {"sh", "-c", script});
  oci::Mount share;
  share.destination = "/root";
  share.type = "bind";
  share.source = agent::kGuestSharedDir;
  share.options = std::vector<std::string>{"rbind", "rw"};
  spec.mounts->push_back(share);
  auto c = create(id, spec);
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  ASSERT_TRUE(cc.start(id));
  auto out = read_all(cc, id, "", OutputStream::Stdout);
  auto err = read_all(cc, id, "", OutputStream::Stderr);
  ASSERT_TRUE(out && err);
  EXPECT_EQ(*out, "sees-rootfs\ntmp-ok\n") << *err;
  EXPECT_NE(err->find("Read-only file system"), std::string::npos) << *err;
  auto w = cc.wait(id, "", 60s);
  ASSERT_TRUE(w) << w.error().what();
  // On the host: nothing new at the top or below containers/.
  const std::string& shared = sb_->paths().shared_dir;
  for (const char* p : {"/top", "/dir", "/containers/x"}) {
    EXPECT_FALSE(std::filesystem::exists(shared + p)) << p;
  }
  EXPECT_FALSE(std::filesystem::exists(shared + "/containers/" + id + "/x"));
  EXPECT_TRUE((*c)->remove());
}

}  // namespace
}  // namespace hull::sandbox::testing
