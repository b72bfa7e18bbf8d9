// containerd-shim-hull-v2 as containerd 1.6 drives it: `start` in a bundle,
// the containerd.task.v2.Task calls over ttrpc, events to a stand-in for
// containerd's Events service, Shutdown, and `delete` after a dead shim.
// Without containerd in between, each answer's status code and each event is
// checked as runc's shim gives them. The test runs in a mount namespace of
// its own with a tmpfs on /run (the shim's sockets go to /run/containerd/s,
// its pods to /run/hull/shim), so nothing reaches the host's /run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "common/oci/spec.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim/address.h"
#include "shim/metrics.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

namespace hull::shim {
namespace {

namespace fs = std::filesystem;
namespace task = containerd::task::v2;
namespace evapi = containerd::services::events::ttrpc::v1;
using namespace std::chrono_literals;
using TaskStatus = containerd::v1::types::Status;

constexpr const char* kNs = "it";
const std::string kShim = std::string(HULL_BINARY_DIR) + "/shim/containerd-shim-hull-v2";

// Why the suite cannot run, or "" (then the private /run is in place).
std::string prepare() {
  if (::geteuid() != 0) return "needs root (mounts, VMs)";
  for (std::string f :
       {kShim, std::string(HULL_BINARY_DIR) + "/guest/vmlinux",
        std::string(HULL_BINARY_DIR) + "/hull-config.json", std::string("/bin/busybox")}) {
    if (::access(f.c_str(), R_OK) != 0)
      return f + " is missing (build it / install busybox-static)";
  }
  // Single-threaded still: a mount namespace of this process's own.
  if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare: ") + std::strerror(errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) {
    return std::string("a private /run: ") + std::strerror(errno);
  }
  ::setenv("HULL_CONFIG", (std::string(HULL_BINARY_DIR) + "/hull-config.json").c_str(), 1);
  return "";
}

const std::string& skip_reason() {
  static const std::string why = prepare();
  return why;
}

bool make_rootfs(const std::string& dir) {
  std::error_code ec;
  for (const char* d : {"bin", "proc", "sys", "dev", "etc", "tmp", "root"}) {
    fs::create_directories(dir + "/" + d, ec);
  }
  fs::copy_file("/bin/busybox", dir + "/bin/busybox", ec);
  if (ec) return false;
  for (const char* a : {"sh", "sleep", "cat", "echo", "true"}) {
    fs::create_symlink("busybox", dir + "/bin/" + a, ec);
  }
  return true;
}

// Runs the shim with `args` in `cwd`; its stdout (binary-safe), and its status.
std::pair<std::string, int> run_shim(const std::string& cwd, const std::string& args) {
  std::string cmd = "cd " + cwd + " && exec " + kShim + " " + args + " </dev/null 2>>" + cwd +
                    "/../shim-stderr.log";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {"", -1};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return {out, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)};
}

// containerd's Events service, recording what the shim forwards.
struct Events {
  std::mutex mu;
  std::vector<evapi::Envelope> seen;
  std::unique_ptr<ttrpc::Server> server;

  ttrpc::ServiceMap services() {
    ttrpc::ServiceMap m;
    m.add_typed<evapi::ForwardRequest, google::protobuf::Empty>(
        "containerd.services.events.ttrpc.v1.Events", "Forward",
        [this](const ttrpc::CallContext&, const evapi::ForwardRequest& r)
            -> std::expected<google::protobuf::Empty, ttrpc::RpcError> {
          std::lock_guard lk(mu);
          seen.push_back(r.envelope());
          return google::protobuf::Empty();
        });
    return m;
  }
  // The topics seen for container `id`, in order.
  std::vector<std::string> topics() {
    std::lock_guard lk(mu);
    std::vector<std::string> t;
    for (const auto& e : seen) t.push_back(e.topic());
    return t;
  }
};

class ShimTask : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!skip_reason().empty()) GTEST_SKIP() << skip_reason();
    char tmpl[] = "/tmp/hull-shim-it.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto server = ttrpc::Server::listen(dir_ + "/events.sock", events_.services());
    ASSERT_TRUE(server) << server.error().what();
    events_.server = std::move(*server);
    ::setenv("TTRPC_ADDRESS", ("unix://" + dir_ + "/events.sock").c_str(), 1);
  }

  void TearDown() override {
    client_.reset();
    if (dir_.empty()) return;
    std::ifstream err(dir_ + "/shim-stderr.log");
    std::string line;
    while (std::getline(err, line)) std::cerr << "shim stderr: " << line << "\n";
    // Whatever a failed test left: the shim's own cleanup.
    for (const auto& id : ids_) (void)run_shim(dir_ + "/" + id, delete_args(id));
    events_.server.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string delete_args(const std::string& id) {
    return std::string("-namespace ") + kNs + " -address " + dir_ + "/containerd.sock -id " + id +
           " -bundle " + dir_ + "/" + id + " delete";
  }

  // A bundle for task `id` running `args` (rootfs in place: no rootfs mounts).
  std::string bundle(const std::string& id, std::vector<std::string> args,
                     const std::string& pod = "") {
    const std::string b = dir_ + "/" + id;
    EXPECT_TRUE(make_rootfs(b + "/rootfs"));
    oci::Spec s = oci::default_spec();
    s.process->terminal = false;
    s.process->args = std::move(args);
    s.process->env = std::vector<std::string>{"PATH=/bin"};
    if (!pod.empty()) s.annotations = oci::StringMap{{std::string(kSandboxIdAnnotation), pod}};
    std::ofstream(b + "/config.json") << oci::to_json(s).dump();
    ids_.push_back(id);
    return b;
  }

  // `start` in the bundle, then a connection to the address it printed.
  std::string start(const std::string& id) {
    auto [out, status] =
        run_shim(dir_ + "/" + id, std::string("-namespace ") + kNs + " -address " + dir_ +
                                      "/containerd.sock -id " + id + " start");
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out.rfind("unix:///run/containerd/s/", 0), 0u) << out;
    std::ifstream f(dir_ + "/" + id + "/address");
    std::string written((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(written, out);
    auto c = ttrpc::Client::connect(out);
    EXPECT_TRUE(c) << (c ? "" : c.error().what());
    if (c) client_ = std::move(*c);
    return out;
  }

  template <typename Req, typename Resp = google::protobuf::Empty>
  std::expected<Resp, ttrpc::RpcError> call(const char* method, const Req& req) {
    ttrpc::CallOptions o;
    o.metadata.emplace_back("containerd-namespace-ttrpc", kNs);
    return client_->call<Req, Resp>("containerd.task.v2.Task", method, req, o);
  }

  task::CreateTaskResponse create(const std::string& id) {
    task::CreateTaskRequest r;
    r.set_id(id);
    r.set_bundle(dir_ + "/" + id);
    auto resp = call<task::CreateTaskRequest, task::CreateTaskResponse>("Create", r);
    EXPECT_TRUE(resp) << resp.error().what();
    return resp.value_or(task::CreateTaskResponse());
  }

  std::expected<task::StateResponse, ttrpc::RpcError> state(const std::string& id,
                                                            const std::string& exec = "") {
    task::StateRequest r;
    r.set_id(id);
    r.set_exec_id(exec);
    return call<task::StateRequest, task::StateResponse>("State", r);
  }

  // Wait on its own thread (it blocks until the exit).
  std::future<std::expected<task::WaitResponse, ttrpc::RpcError>> wait(
      const std::string& id, const std::string& exec = "") {
    return std::async(std::launch::async, [this, id, exec] {
      task::WaitRequest r;
      r.set_id(id);
      r.set_exec_id(exec);
      return call<task::WaitRequest, task::WaitResponse>("Wait", r);
    });
  }

  std::expected<google::protobuf::Empty, ttrpc::RpcError> kill(const std::string& id, int sig,
                                                               const std::string& exec = "") {
    task::KillRequest r;
    r.set_id(id);
    r.set_exec_id(exec);
    r.set_signal(static_cast<uint32_t>(sig));
    return call<task::KillRequest>("Kill", r);
  }

  // Shutdown, then the daemon exits and removes its socket.
  void shutdown_and_check_gone(const std::string& id, const std::string& address) {
    task::ShutdownRequest r;
    r.set_id(id);
    (void)call<task::ShutdownRequest>("Shutdown", r);
    const std::string sock = socket_path_of(address);
    for (int i = 0; i < 100 && fs::exists(sock); ++i) std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(fs::exists(sock)) << "the shim's socket is still there";
    client_.reset();
    expect_nothing_left();
  }

  // No VM (sandbox directory) left, and with `shim_gone` no pod record either.
  void expect_nothing_left(bool shim_gone = true) {
    for (const char* d : {"/run/hull/shim/it/sandboxes", "/run/hull/shim/it/pods"}) {
      if (!shim_gone && std::string(d).ends_with("/pods")) continue;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(d, ec)) ADD_FAILURE() << "left: " << e.path();
    }
  }

  std::string dir_;
  std::vector<std::string> ids_;
  Events events_;
  std::unique_ptr<ttrpc::Client> client_;
};

TEST_F(ShimTask, LifecycleStatusesAndEventsAsRuncsShim) {
  bundle("t1", {"sh", "-c", "exit 3"});
  const std::string address = start("t1");
  ASSERT_TRUE(client_);
  auto created = create("t1");
  EXPECT_GT(created.pid(), 0u);

  auto st = state("t1");
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->status(), TaskStatus::CREATED);
  EXPECT_EQ(st->pid(), created.pid());
  EXPECT_EQ(st->bundle(), dir_ + "/t1");

  task::ConnectRequest cr;
  cr.set_id("t1");
  auto conn = call<task::ConnectRequest, task::ConnectResponse>("Connect", cr);
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->task_pid(), created.pid());
  EXPECT_GT(conn->shim_pid(), 0u);

  auto waited = wait("t1");  // before Start, as ctr run does
  task::StartRequest sr;
  sr.set_id("t1");
  auto started = call<task::StartRequest, task::StartResponse>("Start", sr);
  ASSERT_TRUE(started) << started.error().what();
  EXPECT_EQ(started->pid(), created.pid());
  auto w = waited.get();
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->exit_status(), 3u);
  EXPECT_GT(w->exited_at().seconds(), 0);

  st = state("t1");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status(), TaskStatus::STOPPED);
  EXPECT_EQ(st->exit_status(), 3u);
  auto again = call<task::StartRequest, task::StartResponse>("Start", sr);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ttrpc::Code::FailedPrecondition);
  auto k = kill("t1", SIGTERM);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, ttrpc::Code::NotFound);  // "process already finished"
  auto none = state("t1", "nope");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ttrpc::Code::NotFound);

  task::DeleteRequest dr;
  dr.set_id("t1");
  auto del = call<task::DeleteRequest, task::DeleteResponse>("Delete", dr);
  ASSERT_TRUE(del) << del.error().what();
  EXPECT_EQ(del->exit_status(), 3u);
  EXPECT_EQ(del->pid(), created.pid());
  auto gone = state("t1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ttrpc::Code::NotFound);
  shutdown_and_check_gone("t1", address);

  EXPECT_EQ(events_.topics(), (std::vector<std::string>{"/tasks/create", "/tasks/start",
                                                        "/tasks/exit", "/tasks/delete"}));
  std::lock_guard lk(events_.mu);
  ASSERT_EQ(events_.seen.size(), 4u);
  EXPECT_EQ(events_.seen[2].event().type_url(), "containerd.events.TaskExit");
  EXPECT_EQ(events_.seen[2].namespace_(), kNs);
  containerd::events::TaskExit exit;
  ASSERT_TRUE(exit.ParseFromString(events_.seen[2].event().value()));
  EXPECT_EQ(exit.container_id(), "t1");
  EXPECT_EQ(exit.id(), "t1");
  EXPECT_EQ(exit.exit_status(), 3u);
  EXPECT_EQ(exit.pid(), created.pid());
}

TEST_F(ShimTask, ARunningTaskExecUpdateStatsPauseAndRefusals) {
  bundle("t2", {"sleep", "1000"});
  const std::string address = start("t2");
  ASSERT_TRUE(client_);
  create("t2");
  auto init_wait = wait("t2");
  task::StartRequest sr;
  sr.set_id("t2");
  ASSERT_TRUE((call<task::StartRequest, task::StartResponse>("Start", sr)));

  // A Wait is pending on this connection: State and Kill still answer.
  task::DeleteRequest dr;
  dr.set_id("t2");
  auto refused = call<task::DeleteRequest, task::DeleteResponse>("Delete", dr);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ttrpc::Code::FailedPrecondition);

  // Exec: a second id refused, exit status through Wait, then Delete.
  task::ExecProcessRequest er;
  er.set_id("t2");
  er.set_exec_id("x1");
  er.mutable_spec()->set_type_url("types.containerd.io/opencontainers/runtime-spec/1/Process");
  er.mutable_spec()->set_value(
      R"({"args":["sh","-c","kill -TERM $$"],"cwd":"/","env":["PATH=/bin"],)"
      R"("user":{"uid":0,"gid":0}})");
  ASSERT_TRUE(call<task::ExecProcessRequest>("Exec", er));
  auto dup = call<task::ExecProcessRequest>("Exec", er);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ttrpc::Code::AlreadyExists);
  auto est = state("t2", "x1");
  ASSERT_TRUE(est);
  EXPECT_EQ(est->status(), TaskStatus::CREATED);
  auto exec_wait = wait("t2", "x1");
  task::StartRequest xs;
  xs.set_id("t2");
  xs.set_exec_id("x1");
  ASSERT_TRUE((call<task::StartRequest, task::StartResponse>("Start", xs)));
  auto ew = exec_wait.get();
  ASSERT_TRUE(ew) << ew.error().what();
  EXPECT_EQ(ew->exit_status(), 128u + SIGTERM);
  task::DeleteRequest xd;
  xd.set_id("t2");
  xd.set_exec_id("x1");
  auto xdel = call<task::DeleteRequest, task::DeleteResponse>("Delete", xd);
  ASSERT_TRUE(xdel) << xdel.error().what();
  EXPECT_EQ(xdel->exit_status(), 128u + SIGTERM);

  // Update, then the limit shows in the cgroup v2 metrics.
  task::UpdateTaskRequest ur;
  ur.set_id("t2");
  ur.mutable_resources()->set_type_url(
      "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources");
  ur.mutable_resources()->set_value(R"({"memory":{"limit":67108864},"pids":{"limit":100}})");
  auto upd = call<task::UpdateTaskRequest>("Update", ur);
  ASSERT_TRUE(upd) << upd.error().what();
  task::StatsRequest str;
  str.set_id("t2");
  auto stats = call<task::StatsRequest, task::StatsResponse>("Stats", str);
  ASSERT_TRUE(stats) << stats.error().what();
  EXPECT_EQ(stats->stats().type_url(), kMetricsTypeUrl);
  io::containerd::cgroups::v2::Metrics m;
  ASSERT_TRUE(m.ParseFromString(stats->stats().value()));
  EXPECT_EQ(m.memory().usage_limit(), 67108864u);
  EXPECT_EQ(m.pids().limit(), 100u);
  EXPECT_GT(m.memory().usage(), 0u);
  EXPECT_GE(m.pids().current(), 1u);

  task::PidsRequest pr;
  pr.set_id("t2");
  auto pids = call<task::PidsRequest, task::PidsResponse>("Pids", pr);
  ASSERT_TRUE(pids);
  EXPECT_GE(pids->processes_size(), 1);

  task::CheckpointTaskRequest ck;
  ck.set_id("t2");
  auto cp = call<task::CheckpointTaskRequest>("Checkpoint", ck);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().code, ttrpc::Code::Unimplemented);

  // Shutdown while a task remains: ignored.
  task::ShutdownRequest sd;
  sd.set_id("t2");
  ASSERT_TRUE(call<task::ShutdownRequest>("Shutdown", sd));
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(state("t2"));

  task::PauseRequest pa;
  pa.set_id("t2");
  ASSERT_TRUE(call<task::PauseRequest>("Pause", pa));
  EXPECT_EQ(state("t2")->status(), TaskStatus::PAUSED);
  task::ResumeRequest re;
  re.set_id("t2");
  ASSERT_TRUE(call<task::ResumeRequest>("Resume", re));
  EXPECT_EQ(state("t2")->status(), TaskStatus::RUNNING);

  ASSERT_TRUE(kill("t2", SIGKILL));
  auto iw = init_wait.get();
  ASSERT_TRUE(iw) << iw.error().what();
  EXPECT_EQ(iw->exit_status(), 137u);
  ASSERT_TRUE((call<task::DeleteRequest, task::DeleteResponse>("Delete", dr)));
  shutdown_and_check_gone("t2", address);

  EXPECT_EQ(events_.topics(),
            (std::vector<std::string>{"/tasks/create", "/tasks/start", "/tasks/exec-added",
                                      "/tasks/exec-started", "/tasks/exit", "/tasks/paused",
                                      "/tasks/resumed", "/tasks/exit", "/tasks/delete"}));
}

TEST_F(ShimTask, AFailedCreateLeavesNothing) {
  bundle("t3", {"/no/such/binary"});
  const std::string address = start("t3");
  ASSERT_TRUE(client_);
  task::CreateTaskRequest r;
  r.set_id("t3");
  r.set_bundle(dir_ + "/t3");
  auto resp = call<task::CreateTaskRequest, task::CreateTaskResponse>("Create", r);
  ASSERT_FALSE(resp);
  EXPECT_NE(resp.error().message.find("/no/such/binary"), std::string::npos) << resp.error().what();
  expect_nothing_left(false);  // the VM went with the only task
  shutdown_and_check_gone("t3", address);
  EXPECT_TRUE(events_.topics().empty());
}

// A pod's second task: `start` answers the pod's address, Create joins the VM.
TEST_F(ShimTask, ASecondTaskOfThePodJoinsItsShim) {
  bundle("pod", {"sleep", "1000"}, "pod");
  bundle("app", {"sh", "-c", "exit 9"}, "pod");
  const std::string address = start("pod");
  auto pod = create("pod");
  auto [out, status] = run_shim(dir_ + "/app", std::string("-namespace ") + kNs + " -address " +
                                                   dir_ + "/containerd.sock -id app start");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, address);
  auto app = create("app");
  EXPECT_EQ(app.pid(), pod.pid());
  auto aw = wait("app");
  task::StartRequest sr;
  sr.set_id("app");
  ASSERT_TRUE((call<task::StartRequest, task::StartResponse>("Start", sr)));
  EXPECT_EQ(aw.get()->exit_status(), 9u);
  task::DeleteRequest dr;
  dr.set_id("app");
  ASSERT_TRUE((call<task::DeleteRequest, task::DeleteResponse>("Delete", dr)));
  // The pod's VM stays for its other task.
  EXPECT_EQ(::kill(static_cast<pid_t>(pod.pid()), 0), 0);
  dr.set_id("pod");
  ASSERT_TRUE((call<task::DeleteRequest, task::DeleteResponse>("Delete", dr)));
  shutdown_and_check_gone("pod", address);
}

// The shim SIGKILLed: `delete` kills its VM and removes what it left, and
// answers as runc's shim does.
TEST_F(ShimTask, DeleteCleansUpAfterADeadShim) {
  bundle("t4", {"sleep", "1000"});
  const std::string address = start("t4");
  auto created = create("t4");
  task::ConnectRequest cr;
  cr.set_id("t4");
  auto conn = call<task::ConnectRequest, task::ConnectResponse>("Connect", cr);
  ASSERT_TRUE(conn);
  ASSERT_EQ(::kill(static_cast<pid_t>(conn->shim_pid()), SIGKILL), 0);
  client_.reset();
  for (int i = 0; i < 50 && ::kill(static_cast<pid_t>(conn->shim_pid()), 0) == 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  auto [out, status] = run_shim(dir_ + "/t4", delete_args("t4"));
  ASSERT_EQ(status, 0);
  task::DeleteResponse resp;
  ASSERT_TRUE(resp.ParseFromString(out));
  EXPECT_EQ(resp.exit_status(), 137u);
  EXPECT_EQ(resp.pid(), created.pid());
  EXPECT_GT(resp.exited_at().seconds(), 0);
  // QEMU is gone (it was the shim's child: reaped by init, or a zombie of nobody's).
  std::error_code ec;
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(created.pid()) + "/exe", ec));
  EXPECT_FALSE(fs::exists(socket_path_of(address)));
  expect_nothing_left();
  // A second delete finds nothing to do and answers the same way.
  auto [out2, status2] = run_shim(dir_ + "/t4", delete_args("t4"));
  EXPECT_EQ(status2, 0);
}

}  // namespace
}  // namespace hull::shim
