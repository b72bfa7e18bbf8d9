// Bounded logs of a sandbox: the guest's serial console and the output of its host
// processes (QEMU, hull-vsock, virtiofsd) go through pipes to LogPump, a thread of the
// process that owns the Sandbox (the monitor with `hull create`, the shim with containerd),
// which keeps the newest output of each in two files, each at most half its cap:
//
//   console.log     the newest bytes (at most cap/2)
//   console.log.1   the half before them (at most cap/2)
//
// When the current file would pass cap/2 its content moves to <name>.1 (the older half is
// dropped) and the current file starts empty again. Rotation works on descriptors opened
// at start (copy, then ftruncate): no path is opened, renamed or created after start, so
// the writer needs no right on the directory.
//
// A writer never waits for the pump for long: QEMU sets its console descriptor O_NONBLOCK
// and its serial device retries a byte when the pipe has room again (the guest waits, not
// QEMU); if the pump is gone, QEMU's writes fail with EPIPE (QEMU ignores SIGPIPE) and the
// console's bytes are dropped. A file write that fails (a full file system) drops that data;
// the pump always keeps reading.
//
// The console stream also counts every byte (the boot's progress marker, which keeps
// growing across rotations) and looks for the agent's ready line in the stream itself, so
// a line split between two reads or two files is still found (boot_progress.h).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::sandbox {

// The cap of the console log by default (config vm.console_log_mib).
inline constexpr uint64_t kDefaultConsoleLogBytes = 1ull << 20;
// The cap of each host process's log (qemu.log, hull-vsock.log, virtiofsd.log).
inline constexpr uint64_t kHelperLogBytes = 1ull << 20;
// The suffix of the older half.
inline constexpr std::string_view kRotatedSuffix = ".1";

// Where a ring keeps its two halves. FdRingFiles is the real one; tests use memory.
class RingFiles {
 public:
  virtual ~RingFiles() = default;
  // Appends to the current half.
  virtual Status append(std::string_view data) = 0;
  // The current half becomes the older one (the older one's content is dropped) and the
  // current half is empty again.
  virtual Status rotate() = 0;
};

// The rotation logic, pure over RingFiles: write() appends, rotating whenever the current
// half would pass half the cap, so both halves together never hold more than `cap_bytes`.
class LogRing {
 public:
  LogRing(uint64_t cap_bytes, std::unique_ptr<RingFiles> files);
  // Appends data; the first failure of the files is returned (the rest of data is dropped).
  Status write(std::string_view data);
  uint64_t half() const { return half_; }
  uint64_t current_size() const { return current_; }
  uint64_t rotations() const { return rotations_; }

 private:
  uint64_t half_;
  uint64_t current_ = 0;
  uint64_t rotations_ = 0;
  std::unique_ptr<RingFiles> files_;
};

// Finds `needle` in a stream fed in pieces, also when it is split between pieces.
class StreamMatcher {
 public:
  explicit StreamMatcher(std::string needle) : needle_(std::move(needle)) {}
  // True once the needle has been seen in everything fed so far.
  bool feed(std::string_view data);
  bool found() const { return found_; }

 private:
  std::string needle_;
  std::string carry_;  // the last needle.size() - 1 bytes fed
  bool found_ = false;
};

// <path> and <path>.1, opened (created, truncated, O_NOFOLLOW, 0600) at construction.
class FdRingFiles : public RingFiles {
 public:
  static Result<std::unique_ptr<FdRingFiles>> open(const std::string& path);
  Status append(std::string_view data) override;
  Status rotate() override;

 private:
  FdRingFiles(std::string path, UniqueFd current, UniqueFd older)
      : path_(std::move(path)), current_(std::move(current)), older_(std::move(older)) {}
  std::string path_;
  UniqueFd current_;  // O_APPEND
  UniqueFd older_;
};

struct LogStreamSpec {
  std::string path;        // the current half; the older one is path + ".1"
  uint64_t cap_bytes = 0;  // both halves together
  std::string marker;      // looked for in the stream (StreamMatcher); empty: none
};

// The thread that empties one pipe per stream into its ring. Construct it before the
// processes that write (their pipes' write ends are take_writer()), destroy it after them.
class LogPump {
 public:
  static Result<std::unique_ptr<LogPump>> start(std::vector<LogStreamSpec> streams);
  ~LogPump();
  LogPump(const LogPump&) = delete;
  LogPump& operator=(const LogPump&) = delete;

  // Stream i's pipe's write end, for the process that writes it (once; the caller closes
  // its copy after the spawn).
  UniqueFd take_writer(size_t i);
  // Reads what the pipes hold now into the files (a process that just ended wrote its
  // last words before its pipe's end closed): call before reading a log's tail.
  void drain();
  // Bytes stream i has received so far (grows across rotations).
  uint64_t bytes(size_t i) const;
  // Stream i's marker has been seen.
  bool marker_seen(size_t i) const;
  // Waits up to `timeout` for stream i's marker; true once it has been seen.
  bool wait_marker(size_t i, std::chrono::milliseconds timeout);
  // drain(), then the newest max_bytes of stream i's two files.
  std::string tail(size_t i, size_t max_bytes = 4096);
  // Drains what is left and ends the thread (idempotent; the destructor does it too).
  void stop();

 private:
  struct Stream {
    LogStreamSpec spec;
    UniqueFd reader;  // O_NONBLOCK
    UniqueFd writer;  // until take_writer()
    std::unique_ptr<LogRing> ring;
    std::unique_ptr<StreamMatcher> matcher;
    std::atomic<uint64_t> bytes{0};
    std::atomic<bool> marker{false};
    bool open = true;  // until EOF
    bool warned = false;
  };
  LogPump() = default;
  void run();
  // Reads stream s until its pipe is empty (or at most `budget` bytes); lock held.
  // Returns the bytes read.
  size_t pump_one(Stream& s, size_t budget);

  std::vector<std::unique_ptr<Stream>> streams_;
  UniqueFd wake_;  // eventfd: stop()
  std::mutex mu_;
  std::condition_variable marker_cv_;  // a marker was seen (under mu_)
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace hull::sandbox
