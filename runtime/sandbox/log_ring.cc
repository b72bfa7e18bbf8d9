#include "runtime/sandbox/log_ring.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "runtime/vm/log_tail.h"

namespace hull::sandbox {

namespace {

// One read from a pipe; the pump reads at most kReadBudget from one stream before it
// looks at the others, so a flooding console cannot starve a helper's log.
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kReadBudget = 4 * kReadChunk;
// A round that read less than kTrickle waits kCoalesce before the next poll: QEMU writes the
// serial console one byte per write(2), and waking for each byte cost more CPU than the
// guest spent writing it. Logs may lag by that much; drain() reads at once.
constexpr size_t kTrickle = 4096;
constexpr timespec kCoalesce{0, 5'000'000};
// drain() reads at most this much of one stream: a writer that keeps writing cannot hold it.
constexpr size_t kDrainBudget = 64 * kReadChunk;

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_errno("writing the log " + path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

UniqueFd open_half(const std::string& path, int extra) {
  return UniqueFd(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | extra, 0600));
}

}  // namespace

LogRing::LogRing(uint64_t cap_bytes, std::unique_ptr<RingFiles> files)
    : half_(std::max<uint64_t>(1, cap_bytes / 2)), files_(std::move(files)) {}

Status LogRing::write(std::string_view data) {
  while (!data.empty()) {
    if (current_ >= half_) {
      HULL_TRY(files_->rotate());
      current_ = 0;
      ++rotations_;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), half_ - current_));
    auto st = files_->append(data.substr(0, n));
    current_ += n;  // a failed append may have written part: count it as written
    if (!st) return st;
    data.remove_prefix(n);
  }
  return {};
}

bool StreamMatcher::feed(std::string_view data) {
  if (found_) return true;
  if (needle_.empty()) return false;
  const size_t keep = needle_.size() - 1;
  // The carry plus the head of data covers a needle split between pieces.
  std::string joint = carry_;
  joint.append(data.substr(0, std::min(data.size(), keep)));
  if (joint.find(needle_) != std::string::npos || data.find(needle_) != std::string_view::npos) {
    found_ = true;
    carry_.clear();
    return true;
  }
  if (data.size() >= keep) {
    carry_.assign(data.substr(data.size() - keep));
  } else {
    carry_.append(data);
    if (carry_.size() > keep) carry_.erase(0, carry_.size() - keep);
  }
  return false;
}

Result<std::unique_ptr<FdRingFiles>> FdRingFiles::open(const std::string& path) {
  UniqueFd current = open_half(path, O_APPEND);
  if (!current) return fail_errno("opening the log " + path);
  const std::string older_path = path + std::string(kRotatedSuffix);
  UniqueFd older = open_half(older_path, 0);
  if (!older) return fail_errno("opening the log " + older_path);
  return std::unique_ptr<FdRingFiles>(new FdRingFiles(path, std::move(current), std::move(older)));
}

Status FdRingFiles::append(std::string_view data) {
  return write_all(current_.get(), data, path_);
}

Status FdRingFiles::rotate() {
  const std::string older_path = path_ + std::string(kRotatedSuffix);
  if (::ftruncate(older_.get(), 0) != 0) return fail_errno("truncating the log " + older_path);
  if (::lseek(older_.get(), 0, SEEK_SET) < 0) return fail_errno("seeking in " + older_path);
  char buf[kReadChunk];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(current_.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("reading the log " + path_);
    if (n == 0) break;
    HULL_TRY(write_all(older_.get(), {buf, static_cast<size_t>(n)}, older_path));
    at += n;
  }
  // O_APPEND: the next write lands at the new end, 0.
  if (::ftruncate(current_.get(), 0) != 0) return fail_errno("truncating the log " + path_);
  return {};
}

Result<std::unique_ptr<LogPump>> LogPump::start(std::vector<LogStreamSpec> streams) {
  std::unique_ptr<LogPump> p(new LogPump());
  for (auto& spec : streams) {
    auto s = std::make_unique<Stream>();
    HULL_ASSIGN(files, FdRingFiles::open(spec.path));
    s->ring = std::make_unique<LogRing>(spec.cap_bytes, std::move(files));
    if (!spec.marker.empty()) s->matcher = std::make_unique<StreamMatcher>(spec.marker);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("making a pipe for the log " + spec.path);
    s->reader.reset(fds[0]);
    s->writer.reset(fds[1]);
    if (::fcntl(s->reader.get(), F_SETFL, O_NONBLOCK) != 0) {
      return fail_errno("making the pipe of the log " + spec.path + " non-blocking");
    }
    s->spec = std::move(spec);
    p->streams_.push_back(std::move(s));
  }
  p->wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!p->wake_) return fail_errno("eventfd for the log pump");
  // The thread takes no signal: the owner's signal handling (signalfd) stays as it is.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    p->thread_ = std::thread([raw = p.get()] { raw->run(); });
  } catch (const std::system_error& e) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return fail(Errc::Internal, std::string("starting the log pump thread: ") + e.what());
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return p;
}

LogPump::~LogPump() {
  stop();
}

UniqueFd LogPump::take_writer(size_t i) {
  return std::move(streams_.at(i)->writer);
}

size_t LogPump::pump_one(Stream& s, size_t budget) {
  char buf[kReadChunk];
  size_t taken = 0;
  while (s.open && taken < budget) {
    ssize_t n = ::read(s.reader.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno != EAGAIN) s.open = false;
      break;
    }
    if (n == 0) {  // every writer is gone
      s.open = false;
      break;
    }
    std::string_view data(buf, static_cast<size_t>(n));
    taken += data.size();
    s.bytes.fetch_add(data.size(), std::memory_order_relaxed);
    if (s.matcher && !s.marker.load(std::memory_order_relaxed) && s.matcher->feed(data)) {
      s.marker.store(true);
      marker_cv_.notify_all();  // pump_one runs under mu_
    }
    if (auto st = s.ring->write(data); !st && !s.warned) {
      s.warned = true;  // once: a full /run must not fill the owner's log instead
      log::warn(st.error().what() + "; dropping output until it can be written");
    }
  }
  return taken;
}

void LogPump::run() {
  std::vector<pollfd> pfds;
  std::vector<Stream*> who;
  for (;;) {
    pfds.assign(1, pollfd{wake_.get(), POLLIN, 0});
    who.clear();
    {
      std::lock_guard lock(mu_);
      for (auto& s : streams_) {
        if (!s->open) continue;
        pfds.push_back({s->reader.get(), POLLIN, 0});
        who.push_back(s.get());
      }
    }
    if (who.empty()) return;
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log::warn(std::string("log pump: poll: ") + std::strerror(errno));
      return;
    }
    if (pfds[0].revents) return;  // stop(): it drains what is left itself
    size_t got = 0;
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < who.size(); ++i) {
        if (pfds[i + 1].revents) got += pump_one(*who[i], kReadBudget);
      }
    }
    if (got < kTrickle) ::nanosleep(&kCoalesce, nullptr);
  }
}

void LogPump::drain() {
  std::lock_guard lock(mu_);
  for (auto& s : streams_) pump_one(*s, kDrainBudget);
}

uint64_t LogPump::bytes(size_t i) const {
  return streams_.at(i)->bytes.load();
}

bool LogPump::marker_seen(size_t i) const {
  return streams_.at(i)->marker.load();
}

bool LogPump::wait_marker(size_t i, std::chrono::milliseconds timeout) {
  Stream& s = *streams_.at(i);
  std::unique_lock lock(mu_);
  return marker_cv_.wait_for(lock, timeout, [&s] { return s.marker.load(); });
}

std::string LogPump::tail(size_t i, size_t max_bytes) {
  drain();
  std::lock_guard lock(mu_);
  return vm::ring_tail_bytes(streams_.at(i)->spec.path, max_bytes);
}

void LogPump::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    thread_.join();
  }
  drain();
}

}  // namespace hull::sandbox
