// A task's process and its stdio against the fake ContainerClient
// (tests/fakes): fifos on one side, the agent's streams on the other, the
// exit as the agent reports it, and everything ending when told to.
#include "shim/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "raw_peer.h"  // TempDir
#include "tests/fakes/fake_container_client.h"

namespace hull::shim {
namespace {

using namespace std::chrono_literals;
using sandbox::OutputStream;

// Reads a fifo to EOF (or `timeout`).
std::string read_to_eof(int fd, std::chrono::milliseconds timeout = 10s) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, 50);
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 && (p.revents & POLLHUP)) {
      return out;
    }
  }
  return out + "<timeout>";
}

class ShimProcess : public ::testing::Test {
 protected:
  void TearDown() override { proc_.reset(); }

  void output(OutputStream s, const std::vector<std::string>& chunks) {
    for (const auto& c : chunks) client_.output(s, c);
  }

  std::string fifo(const std::string& name) {
    std::string p = dir_ / name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
    return p;
  }

  void make(const StdioPaths& paths, const LoggerEnv& logger = {}) {
    auto io = IoRelay::open(paths, logger);
    ASSERT_TRUE(io) << io.error().what();
    proc_ = std::make_unique<Process>("c1", "", paths, std::move(*io), "",
                                      [this](const Process&, const ExitRecord& e) {
                                        std::lock_guard lk(mu_);
                                        log_.push_back("exit " + std::to_string(e.status));
                                      });
  }

  Status start() {
    proc_->attach_io(client_);
    return proc_->start(
        client_, [] { return Status(); },
        [this] {
          std::lock_guard lk(mu_);
          log_.push_back("start");
        });
  }

  std::vector<std::string> log() {
    std::lock_guard lk(mu_);
    return log_;
  }

  ttrpc::test::TempDir dir_;
  hull::testing::FakeContainerClient client_;  // outlives proc_
  std::unique_ptr<Process> proc_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(ShimProcess, OutputReachesTheFifosAndTheExitIsRuncs) {
  const std::string out = fifo("out"), err = fifo("err");
  UniqueFd out_r(::open(out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  UniqueFd err_r(::open(err.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  output(OutputStream::Stdout, {"hello ", "world\n"});
  output(OutputStream::Stderr, {"oops\n"});
  make({"", out, err, false});
  EXPECT_EQ(proc_->state(), ProcState::Created);
  ASSERT_TRUE(start());
  EXPECT_EQ(proc_->state(), ProcState::Running);
  client_.end(ExitStatus{128 + 9, true, 9});
  auto e = proc_->wait(std::stop_token());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 137u);
  EXPECT_EQ(proc_->state(), ProcState::Stopped);
  // The host ends close once the output has ended: the reader sees EOF.
  EXPECT_EQ(read_to_eof(out_r.get()), "hello world\n");
  EXPECT_EQ(read_to_eof(err_r.get()), "oops\n");
  EXPECT_EQ(log(), (std::vector<std::string>{"start", "exit 137"}));
}

// The exit reaches the shim before the output (separate streams): Wait
// answers once the output is in the fifo, as a client deletes the process
// and stops reading when Wait returns.
TEST_F(ShimProcess, TheOutputIsInTheFifoWhenWaitReturns) {
  const std::string out = fifo("out");
  UniqueFd out_r(::open(out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  output(OutputStream::Stdout, {"late output\n"});
  client_.output_delay = 500ms;
  make({"", out, "", true});
  ASSERT_TRUE(start());
  client_.end(ExitStatus{});
  ASSERT_TRUE(proc_->wait(std::stop_token()));
  char buf[64];
  ssize_t n = ::read(out_r.get(), buf, sizeof buf);
  ASSERT_GT(n, 0) << "nothing in the fifo when Wait returned";
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "late output\n");
}

TEST_F(ShimProcess, WaitEndsWithItsStopToken) {
  make({});
  std::stop_source stop;
  std::optional<ExitRecord> got{ExitRecord{}};
  std::thread waiter([&] { got = proc_->wait(stop.get_token()); });
  std::this_thread::sleep_for(50ms);
  stop.request_stop();
  waiter.join();
  EXPECT_FALSE(got);
}

TEST_F(ShimProcess, StdinGoesInAndItsEofClosesIt) {
  const std::string in = fifo("in");
  make({in, "", "", false});
  ASSERT_TRUE(proc_->io().has_stdin());
  ASSERT_TRUE(start());
  {
    UniqueFd w(::open(in.c_str(), O_WRONLY | O_CLOEXEC));  // the relay holds the read side
    ASSERT_TRUE(w);
    ASSERT_EQ(::write(w.get(), "line one\n", 9), 9);
  }
  ASSERT_TRUE(client_.wait_stdin_closed(10s));
  EXPECT_EQ(client_.stdin_data(), "line one\n");
}

// CloseIO with no writer ever: the process's stdin closes all the same.
TEST_F(ShimProcess, CloseIoWithoutAWriterClosesStdin) {
  const std::string in = fifo("in");
  make({in, "", "", false});
  ASSERT_TRUE(start());
  std::this_thread::sleep_for(50ms);
  proc_->io().close_stdin();
  ASSERT_TRUE(client_.wait_stdin_closed(10s));
  EXPECT_EQ(client_.stdin_data(), "");
}

// A child keeps the output open after the process exited: the fifo is closed
// after the drain time anyway, so the client can go on.
TEST_F(ShimProcess, OutputHeldOpenIsCutAfterTheDrain) {
  const std::string out = fifo("out");
  UniqueFd out_r(::open(out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  output(OutputStream::Stdout, {"partial"});
  client_.hold_output = true;
  make({"", out, "", true});
  ASSERT_TRUE(start());
  client_.end(ExitStatus{});
  ASSERT_TRUE(proc_->wait(std::stop_token()));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_to_eof(out_r.get()), "partial");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, kOutputDrain + 3s);
}

// The reader went away (ctr run -d exited): output is dropped, nothing blocks.
TEST_F(ShimProcess, OutputWithoutAReaderDoesNotBlock) {
  const std::string out = fifo("out");
  UniqueFd out_r(::open(out.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  make({"", out, "", true});
  out_r.reset();
  output(OutputStream::Stdout, std::vector<std::string>(100, std::string(4096, 'x')));
  ASSERT_TRUE(start());
  client_.end(ExitStatus{3, false, 0});
  auto e = proc_->wait(std::stop_token());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 3u);
  const auto t0 = std::chrono::steady_clock::now();
  proc_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// Teardown while the process runs: the wait is cancelled (not waited out,
// so stop() returns at once), the process counts as killed, and its exit is
// still reported once.
TEST_F(ShimProcess, StopWhileRunningReportsKilled) {
  client_.hold_output = true;
  make({});
  ASSERT_TRUE(start());
  std::this_thread::sleep_for(50ms);  // the wait and the output are in the agent
  const auto t0 = std::chrono::steady_clock::now();
  proc_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  auto e = proc_->exit();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, kKilledStatus);
  proc_->stop();
  EXPECT_EQ(log(), (std::vector<std::string>{"start", "exit 137"}));
}

// The agent's answer was refused (container_client_test: an exit status out
// of range) or the wait failed: the process counts as killed.
TEST_F(ShimProcess, AFailedWaitCountsAsKilled) {
  client_.failures["wait"] =
      Error{Errc::GuestProtocol, 0, "agent reply WaitProcess: exit_status 70000 out of range"};
  make({});
  ASSERT_TRUE(start());
  client_.end(ExitStatus{});
  auto e = proc_->wait(std::stop_token());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, kKilledStatus);
}

TEST_F(ShimProcess, StartsOnceAndAFailedStartStaysCreated) {
  make({});
  auto failed = proc_->start(
      client_, [] { return Status(fail(Errc::NotFound, "no such file")); }, [] {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(proc_->state(), ProcState::Created);
  ASSERT_TRUE(start());
  auto again = start();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::InvalidState);
  EXPECT_NE(again.error().msg.find("it is running"), std::string::npos);
  client_.end(ExitStatus{});
  ASSERT_TRUE(proc_->wait(std::stop_token()));
}

TEST_F(ShimProcess, DeleteOfAnUnstartedProcess) {
  make({});
  proc_->stop_unstarted(kKilledStatus);
  EXPECT_EQ(proc_->state(), ProcState::Stopped);
  EXPECT_EQ(proc_->wait(std::stop_token())->status, kKilledStatus);
  auto late = start();
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::InvalidState);
}

TEST(ShimStdio, PathsAndSchemes) {
  EXPECT_EQ(parse_stdio_path("")->kind, TargetKind::None);
  auto fifo = parse_stdio_path("/run/containerd/fifo/1/x-stdout");
  ASSERT_TRUE(fifo);
  EXPECT_EQ(fifo->kind, TargetKind::Fifo);
  EXPECT_EQ(fifo->path, "/run/containerd/fifo/1/x-stdout");
  auto file = parse_stdio_path("file:///var/log/x.log?mode=a");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->kind, TargetKind::File);
  EXPECT_EQ(file->path, "/var/log/x.log");
  EXPECT_EQ(parse_stdio_path("binary:///usr/bin/logger")->kind, TargetKind::Binary);
  EXPECT_EQ(parse_stdio_path("http://x/y").error().code, Errc::Invalid);
  EXPECT_EQ(parse_stdio_path("relative/fifo").error().code, Errc::Invalid);
  EXPECT_EQ(parse_stdio_path("file://relative").error().code, Errc::Invalid);
}

// binary://: the logger's path, and the query as containerd passes it (key,
// first value), in the query's order.
TEST(ShimStdio, BinaryUriGivesThePathAndTheQueryAsArgs) {
  auto t = parse_stdio_path("binary:///opt/my%20log?fmt=json&tag&a+b=c%2Fd&fmt=x&=y&&e=#frag");
  ASSERT_TRUE(t) << t.error().what();
  EXPECT_EQ(t->kind, TargetKind::Binary);
  EXPECT_EQ(t->path, "/opt/my log");
  EXPECT_EQ(t->args, (std::vector<std::string>{"fmt", "json", "tag", "", "a b", "c/d", "e", ""}));
  auto bare = parse_stdio_path("binary:///usr/bin/logger");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/usr/bin/logger");
  EXPECT_TRUE(bare->args.empty());
  // A '+' in the path stays one.
  EXPECT_EQ(parse_stdio_path("binary:///a+b")->path, "/a+b");
}

TEST(ShimStdio, BinaryUriErrorsNameTheUri) {
  for (const char* bad :
       {"binary://host/usr/bin/logger", "binary://", "binary:///", "binary://relative",
        "binary:///x?k=%zz", "binary:///x%2", "binary:///x%"}) {
    auto t = parse_stdio_path(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().code, Errc::Invalid) << bad;
    EXPECT_NE(t.error().what().find(bad), std::string::npos) << t.error().what();
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_script(const std::string& path, const std::string& body) {
  {
    std::ofstream f(path);
    f << "#!/bin/sh\n" << body;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
}

// The logger gets its environment and arguments, both streams on fds 3 and
// 4, and is reaped when the process's output has ended.
TEST_F(ShimProcess, BinaryLoggerGetsTheOutput) {
  const std::string logger = dir_ / "logger";
  write_script(logger, "echo \"id=$CONTAINER_ID ns=$CONTAINER_NAMESPACE args=$*\" > " +
                           (dir_ / "env") + "\nexec 5>&-\ncat <&3 > " + (dir_ / "out") +
                           "\ncat <&4 > " + (dir_ / "err") + "\n");
  output(OutputStream::Stdout, {"hello ", "world\n"});
  output(OutputStream::Stderr, {"oops\n"});
  const std::string uri = "binary://" + logger + "?tag=t1&x";
  make({"", uri, uri, false}, LoggerEnv{"c1", "ns1"});
  EXPECT_EQ(slurp(dir_ / "env"), "id=c1 ns=ns1 args=tag t1 x \n");
  ASSERT_TRUE(start());
  client_.end(ExitStatus{});
  ASSERT_TRUE(proc_->wait(std::stop_token()));
  proc_.reset();  // joins the copy, which waited for the logger
  EXPECT_EQ(slurp(dir_ / "out"), "hello world\n");
  EXPECT_EQ(slurp(dir_ / "err"), "oops\n");
}

// With a terminal there is one stream (the pty's): fd 4 is at EOF at once.
TEST_F(ShimProcess, BinaryLoggerWithATerminalGetsOneStream) {
  const std::string logger = dir_ / "logger";
  write_script(logger,
               "exec 5>&-\ncat <&4 > " + (dir_ / "err") + "\ncat <&3 > " + (dir_ / "out") + "\n");
  output(OutputStream::Stdout, {"pty output\r\n"});
  make({"", "binary://" + logger, "", true}, LoggerEnv{"c1", "ns1"});
  ASSERT_TRUE(start());
  client_.end(ExitStatus{});
  ASSERT_TRUE(proc_->wait(std::stop_token()));
  proc_.reset();
  EXPECT_EQ(slurp(dir_ / "out"), "pty output\r\n");
  EXPECT_EQ(slurp(dir_ / "err"), "");
}

TEST_F(ShimProcess, BinaryLoggerThatEndsBeforeItIsReadyFailsTheOpen) {
  const std::string logger = dir_ / "logger";
  write_script(logger, "exit 3\n");
  auto io = IoRelay::open({"", "binary://" + logger, "", false}, LoggerEnv{"c1", "ns1"});
  ASSERT_FALSE(io);
  EXPECT_NE(io.error().what().find(logger), std::string::npos) << io.error().what();
  EXPECT_NE(io.error().what().find("exited with status 3"), std::string::npos) << io.error().what();
  auto missing = IoRelay::open({"", "binary://" + (dir_ / "none"), "", false}, LoggerEnv{});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find(dir_ / "none"), std::string::npos)
      << missing.error().what();
  // A logger that signals with a byte and keeps fd 5: ready all the same.
  write_script(logger, "printf r >&5\ncat <&3 >/dev/null\n");
  EXPECT_TRUE(IoRelay::open({"", "binary://" + logger, "", false}, LoggerEnv{}));
}

}  // namespace
}  // namespace hull::shim
