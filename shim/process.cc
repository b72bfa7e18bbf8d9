#include "shim/process.h"

#include <algorithm>

#include "common/log.h"

namespace hull::shim {

std::string_view state_name(ProcState s) {
  switch (s) {
    case ProcState::Created:
      return "created";
    case ProcState::Running:
      return "running";
    case ProcState::Stopped:
      return "stopped";
  }
  return "unknown";
}

Process::Process(std::string container_id, std::string exec_id, StdioPaths stdio,
                 std::unique_ptr<IoRelay> io, std::string process_json, OnExit on_exit)
    : container_id_(std::move(container_id)),
      exec_id_(std::move(exec_id)),
      stdio_(std::move(stdio)),
      process_json_(std::move(process_json)),
      on_exit_(std::move(on_exit)),
      io_(std::move(io)) {}

Process::~Process() {
  stop();
}

ProcState Process::state() const {
  std::lock_guard lk(mu_);
  return state_;
}

std::optional<ExitRecord> Process::exit() const {
  std::lock_guard lk(mu_);
  return exit_;
}

void Process::attach_io(sandbox::ContainerClient& client) {
  io_->start(client, container_id_, exec_id_);
}

Status Process::start(sandbox::ContainerClient& client, const std::function<Status()>& in_guest,
                      const std::function<void()>& started) {
  {
    std::lock_guard lk(mu_);
    if (state_ != ProcState::Created || starting_) {
      return fail(Errc::InvalidState, "process " + id() + " of container " + container_id_ +
                                          " cannot start: it is " +
                                          std::string(starting_ ? "starting" : state_name(state_)));
    }
    starting_ = true;
  }
  Status st = in_guest();
  {
    std::lock_guard lk(mu_);
    starting_ = false;
    if (!st) return st;
    if (state_ != ProcState::Created) {
      // Deleted while it was starting.
      return fail(Errc::InvalidState, "process " + id() + " was removed while it started");
    }
    state_ = ProcState::Running;
    started();
  }
  watch(client);
  return {};
}

void Process::watch(sandbox::ContainerClient& client) {
  std::lock_guard stopping(stop_mu_);
  if (stopped_) {
    std::lock_guard lk(mu_);
    set_exited(ExitRecord{kKilledStatus, std::chrono::system_clock::now()});
    return;
  }
  waiter_ = std::thread([this, &client] {
    ExitRecord e{kKilledStatus, {}};
    auto r = client.wait(container_id_, exec_id_, sandbox::kWaitForever, &calls_);
    if (r) {
      e.status = static_cast<uint32_t>(r->code);
    } else if (!calls_.cancelled()) {
      log::warn("container " + container_id_ + ": waiting for process " + id() + ": " +
                r.error().what() + "; reporting it as killed");
    }
    e.at = std::chrono::system_clock::now();
    // The output before the exit (io.h, kExitOutputWait), then the rest of
    // the drain for a child that keeps the streams open.
    const auto t0 = std::chrono::steady_clock::now();
    (void)io_->wait_outputs(kExitOutputWait);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    {
      std::lock_guard lk(mu_);
      set_exited(e);
    }
    io_->finish(std::max(kOutputDrain - waited, std::chrono::milliseconds{0}));
  });
}

void Process::set_exited(const ExitRecord& e) {
  if (state_ == ProcState::Stopped) return;
  state_ = ProcState::Stopped;
  exit_ = e;
  if (on_exit_) on_exit_(*this, e);
  cv_.notify_all();
}

std::optional<ExitRecord> Process::wait(std::stop_token stop) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, stop, [&] { return exit_.has_value(); });
  return exit_;
}

void Process::stop_unstarted(uint32_t status) {
  std::lock_guard lk(mu_);
  if (state_ != ProcState::Created) return;
  set_exited(ExitRecord{status, std::chrono::system_clock::now()});
}

void Process::set_pending_size(uint32_t rows, uint32_t cols) {
  std::lock_guard lk(mu_);
  pending_size_ = std::pair{rows, cols};
}

std::optional<std::pair<uint32_t, uint32_t>> Process::take_pending_size() {
  std::lock_guard lk(mu_);
  return std::exchange(pending_size_, std::nullopt);
}

void Process::stop() {
  std::lock_guard stopping(stop_mu_);
  stopped_ = true;
  calls_.cancel();
  io_->stop();
  if (waiter_.joinable() && waiter_.get_id() != std::this_thread::get_id()) waiter_.join();
}

}  // namespace hull::shim
