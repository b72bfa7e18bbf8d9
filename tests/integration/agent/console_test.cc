// Bounded guest output on the host (docs/security.md, issue 13 item 4): guest root floods
// its serial console, and the host keeps only the console's ring (vm.console_log_mib,
// 1 MiB by default) in the sandbox directory, while the guest goes on answering.
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "agent_fixture.h"
#include "runtime/vm/log_tail.h"

namespace hull::sandbox::testing {
namespace {

using namespace std::chrono_literals;

struct ConsoleTag {
  static constexpr const char* kName = "ia-console";
};
using ConsoleTest = AgentFixture<ConsoleTag>;

// Bytes allocated on disk below dir (st_blocks): the sandbox's own files, not shared/ (the
// containers' rootfs and volumes bound there live elsewhere on the host).
uint64_t disk_usage(const std::string& dir) {
  namespace fs = std::filesystem;
  struct stat top {};
  if (::lstat(dir.c_str(), &top) != 0) return 0;
  uint64_t sum = static_cast<uint64_t>(top.st_blocks) * 512;
  std::error_code ec;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (st.st_dev != top.st_dev || it->path() == std::filesystem::path(dir) / "shared") {
      it.disable_recursion_pending();
      continue;
    }
    sum += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return sum;
}

uint64_t used_bytes(const std::string& path) {
  struct statvfs v {};
  if (::statvfs(path.c_str(), &v) != 0) return 0;
  return (v.f_blocks - v.f_bfree) * v.f_frsize;
}

uint64_t file_size_or_0(const std::string& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

// How much guest root writes to /dev/ttyS0: every byte is a UART register write that
// QEMU emulates, so under TCG this is slow (80-160 KiB/s measured on a loaded host: 1 GiB
// would take hours). 4 MiB is four times the ring's cap and twice the growth allowed,
// about 25-50 s; HULL_IT_CONSOLE_MIB overrides it.
uint64_t flood_mib() {
  const char* v = std::getenv("HULL_IT_CONSOLE_MIB");
  return v && *v ? std::strtoull(v, nullptr, 10) : 4;
}

TEST_F(ConsoleTest, AFloodOnTheSerialConsoleKeepsOnlyTheRing) {
  const std::string dir = sb_->paths().dir;
  const std::string log = sb_->paths().console_log;
  const uint64_t before_dir = disk_usage(dir);
  const uint64_t before_fs = used_bytes(dir);
  const uint64_t mib = flood_mib();
  std::string id = next_id("flood");
  oci::Spec s =
      busybox_spec(id, {"sh", "-c",
                        "yes 'console flood 0123456789abcdefghijklmnopqrstuvwxyz' | head -c " +
                            std::to_string(mib << 20) +
                            " > /dev/ttyS0 && echo console-flood-done > /dev/ttyS0"});
  // Guest root with the guest's serial port (ttyS0: char 4:64) in its /dev.
  s.linux->devices =
      std::vector<oci::Device>{{"c", "/dev/ttyS0", 4, 64, 0620, 0u, 0u, oci::Json::object()}};
  oci::DeviceCgroup tty;
  tty.allow = true;
  tty.type = "c";
  tty.major = 4;
  tty.minor = 64;
  tty.access = "rw";
  if (!s.linux->resources) s.linux->resources.emplace();
  auto rules = s.linux->resources->devices.value_or(std::vector<oci::DeviceCgroup>{});
  rules.push_back(tty);
  s.linux->resources->devices = rules;
  auto c = create(id, s);
  ASSERT_TRUE(c) << c.error().what();
  auto cc = client();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(cc.start(id));
  auto w = cc.wait(id, "", 1800s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->code, 0);
  // The pump has seen every byte (the tty adds a \r to each \n), the files hold at most the cap.
  const uint64_t cap = 1ull << 20;
  for (int i = 0; i < 100 && vm::tail_file(log, 1).find("console-flood-done") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(vm::tail_file(log, 1).find("console-flood-done"), std::string::npos)
      << vm::tail_file(log, 3);
  const uint64_t kept = file_size_or_0(log) + file_size_or_0(log + ".1");
  const uint64_t after_dir = disk_usage(dir);
  const uint64_t after_fs = used_bytes(dir);
  std::printf(
      "console flood: %llu MiB written by the guest in %.1f s (%.2f MiB/s); "
      "console.log %llu + console.log.1 %llu bytes; sandbox directory %+lld bytes on "
      "disk; its file system %+lld bytes (shared with other processes)\n",
      static_cast<unsigned long long>(mib), secs, static_cast<double>(mib) / secs,
      static_cast<unsigned long long>(file_size_or_0(log)),
      static_cast<unsigned long long>(file_size_or_0(log + ".1")),
      static_cast<long long>(after_dir - before_dir), static_cast<long long>(after_fs - before_fs));
  EXPECT_LE(kept, cap);
  EXPECT_LE(file_size_or_0(log), cap / 2);
  EXPECT_LE(file_size_or_0(log + ".1"), cap / 2);
  EXPECT_LE(static_cast<int64_t>(after_dir - before_dir), 2 << 20);
  // The guest still answers.
  EXPECT_TRUE(sb_->agent().health());
}

}  // namespace
}  // namespace hull::sandbox::testing
