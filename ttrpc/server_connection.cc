#include "ttrpc/server_connection.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <system_error>
#include <vector>

#include "ttrpc/limits.h"
#include "ttrpc/ttrpc.pb.h"

namespace hull::ttrpc {

ServerConnection::ServerConnection(UniqueFd fd, PeerCred peer, const ServiceMap& services,
                                   std::function<void()> on_finished)
    : fd_(std::move(fd)), peer_(peer), services_(services), on_finished_(std::move(on_finished)) {}

ServerConnection::~ServerConnection() {
  close();
  join();
}

Status ServerConnection::start() {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return fail_errno("creating the wake-up eventfd of a ttrpc connection");
  try {
    reader_ = std::thread([this] { read_loop(); });
  } catch (const std::system_error& e) {
    return fail(Errc::System,
                std::string("starting the reader thread of a ttrpc connection: ") + e.what());
  }
  return {};
}

void ServerConnection::close() {
  if (!closing_.exchange(true)) wake();
}

void ServerConnection::join() {
  if (reader_.joinable()) reader_.join();
}

void ServerConnection::wake() {
  const uint64_t one = 1;
  if (wake_) (void)!::write(wake_.get(), &one, sizeof(one));  // a full counter wakes too
}

void ServerConnection::read_loop() {
  FrameReader reader;
  std::vector<std::byte> chunk(kReadChunk);
  for (;;) {
    reap(false);
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, poll_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      uint64_t count;
      (void)!::read(wake_.get(), &count, sizeof(count));
      if (closing_.load()) break;
    }
    expire_deadlines();
    if (fds[0].revents == 0) continue;
    const ssize_t got = ::read(fd_.get(), chunk.data(), chunk.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF (mid-frame or not: nothing more can be answered) or an error
    reader.feed(std::span(chunk.data(), static_cast<size_t>(got)));
    for (Parsed p = reader.next(); p.kind != ParseKind::NeedMore; p = reader.next()) handle(p);
  }
  stop_calls();
  fd_.reset();
  finished_.store(true);
  if (on_finished_) on_finished_();
}

void ServerConnection::handle(const Parsed& frame) {
  const uint32_t id = frame.header.stream_id;
  if (frame.kind == ParseKind::TooLong) {
    answer(id,
           rpc_fail(Code::ResourceExhausted,
                    "message length " + std::to_string(frame.header.length) +
                        " exceed maximum message size of " + std::to_string(kMaxMessageLength)),
           "");
    return;
  }
  if (frame.header.type != static_cast<uint8_t>(FrameType::Request)) return;  // as ttrpc 1.1
  ::ttrpc::Request req;
  if (!req.ParseFromArray(frame.body.data(), static_cast<int>(frame.body.size()))) {
    answer(id,
           rpc_fail(Code::InvalidArgument,
                    "unmarshal request error: the " + std::to_string(frame.body.size()) +
                        "-byte body on stream " + std::to_string(id) + " is not a ttrpc Request"),
           "");
    return;
  }
  if (id % 2 != 1) {
    answer(id,
           rpc_fail(Code::InvalidArgument,
                    "StreamID must be odd for client initiated streams, got " + std::to_string(id)),
           "");
    return;
  }
  auto handler = services_.find(req.service(), req.method());
  if (!handler) {
    answer(id, std::unexpected(handler.error()), "");
    return;
  }
  start_call(id, req, **handler);
}

void ServerConnection::start_call(uint32_t stream_id, ::ttrpc::Request& req,
                                  const Handler& handler) {
  const std::string what = req.service() + "/" + req.method();
  std::optional<Clock::time_point> deadline;
  if (req.timeout_nano() < 0) {
    answer(stream_id,
           rpc_fail(Code::DeadlineExceeded,
                    "ttrpc: " + what + " arrived with its deadline already passed (timeout_nano " +
                        std::to_string(req.timeout_nano()) + ")"),
           what);
    return;
  }
  if (req.timeout_nano() > 0) {
    const auto timeout = std::min<std::chrono::nanoseconds>(
        std::chrono::nanoseconds(req.timeout_nano()), kMaxTimeout);
    deadline = Clock::now() + timeout;
  }
  std::unique_lock lock(mu_);
  const auto running =
      std::count_if(calls_.begin(), calls_.end(), [](const Call& c) { return !c.done; });
  if (static_cast<size_t>(running) >= kMaxCallsPerConnection) {
    lock.unlock();
    answer(stream_id,
           rpc_fail(Code::ResourceExhausted,
                    "ttrpc: " + what + " refused: " + std::to_string(kMaxCallsPerConnection) +
                        " calls are already running on this connection"),
           what);
    return;
  }
  Call& call = calls_.emplace_back();
  call.stream_id = stream_id;
  call.deadline = deadline;
  try {
    call.thread =
        std::thread([this, &call, &handler, r = std::move(req)] { run_call(call, r, handler); });
  } catch (const std::system_error& e) {
    calls_.pop_back();
    lock.unlock();
    answer(stream_id,
           rpc_fail(Code::ResourceExhausted,
                    "ttrpc: cannot start a thread for " + what + ": " + e.what()),
           what);
  }
}

void ServerConnection::run_call(Call& call, const ::ttrpc::Request& req, const Handler& handler) {
  Metadata metadata;
  metadata.reserve(static_cast<size_t>(req.metadata_size()));
  for (const auto& kv : req.metadata()) metadata.emplace_back(kv.key(), kv.value());
  CallContext ctx{.service = req.service(),
                  .method = req.method(),
                  .metadata = &metadata,
                  .deadline = call.deadline,
                  .stop = call.stop.get_token(),
                  .peer_pid = peer_.pid,
                  .peer_uid = peer_.uid};
  const std::string what = req.service() + "/" + req.method();
  CallResult result;
  try {
    result = handler(ctx, req.payload());
  } catch (const std::exception& e) {  // a thread entry: nothing may escape
    result = rpc_fail(Code::Internal, "ttrpc: the handler of " + what + " failed: " + e.what());
  } catch (...) {
    result = rpc_fail(Code::Internal, "ttrpc: the handler of " + what + " failed");
  }
  if (!call.answered.exchange(true)) answer(call.stream_id, result, what);
  {
    std::lock_guard lock(mu_);
    call.done = true;
  }
  call_done_.notify_all();
  wake();
}

int ServerConnection::poll_timeout_ms() {
  std::optional<Clock::time_point> first;
  {
    std::lock_guard lock(mu_);
    for (const Call& c : calls_) {
      if (c.deadline && !c.answered.load() && (!first || *c.deadline < *first)) first = c.deadline;
    }
  }
  if (!first) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*first - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

void ServerConnection::expire_deadlines() {
  const auto now = Clock::now();
  std::vector<uint32_t> expired;
  {
    std::lock_guard lock(mu_);
    for (Call& c : calls_) {
      if (c.deadline && *c.deadline <= now && !c.answered.exchange(true)) {
        c.stop.request_stop();
        expired.push_back(c.stream_id);
      }
    }
  }
  for (uint32_t id : expired) {
    answer(id, rpc_fail(Code::DeadlineExceeded, "ttrpc: the call's deadline passed"), "");
  }
}

void ServerConnection::reap(bool all) {
  std::list<Call> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = calls_.begin(); it != calls_.end();) {
      auto next = std::next(it);
      if (all || it->done) finished.splice(finished.end(), calls_, it);
      it = next;
    }
  }
  for (Call& c : finished) {
    if (c.thread.joinable()) c.thread.join();
  }
}

void ServerConnection::stop_calls() {
  std::unique_lock lock(mu_);
  for (Call& c : calls_) c.stop.request_stop();
  const bool all_done = call_done_.wait_for(lock, kStopGrace, [this] {
    return std::all_of(calls_.begin(), calls_.end(), [](const Call& c) { return c.done; });
  });
  lock.unlock();
  // Whatever still runs must not stay blocked writing to a peer that is gone.
  if (!all_done) ::shutdown(fd_.get(), SHUT_RDWR);
  reap(true);
}

namespace {

std::string encode_response(const CallResult& result) {
  ::ttrpc::Response resp;
  auto* status = resp.mutable_status();  // present with code 0 on success, as ttrpc-go sends it
  if (result) {
    resp.set_payload(*result);
  } else {
    status->set_code(static_cast<int32_t>(result.error().code));
    status->set_message(result.error().message);
  }
  return resp.SerializeAsString();
}

}  // namespace

void ServerConnection::answer(uint32_t stream_id, const CallResult& result, std::string_view what) {
  std::string body = encode_response(result);
  if (body.size() > kMaxMessageLength) {
    body = encode_response(rpc_fail(
        Code::ResourceExhausted, "ttrpc: the answer of " + std::string(what) + " is " +
                                     std::to_string(body.size()) + " bytes, more than the " +
                                     std::to_string(kMaxMessageLength) + " a message may carry"));
  }
  const FrameHeader header{.length = static_cast<uint32_t>(body.size()),
                           .stream_id = stream_id,
                           .type = static_cast<uint8_t>(FrameType::Response)};
  std::lock_guard lock(write_mu_);
  if (!fd_) return;
  if (!send_frame(fd_.get(), header, body)) {
    // The peer is gone or stopped reading: end the connection (the reader sees it).
    ::shutdown(fd_.get(), SHUT_RDWR);
  }
}

}  // namespace hull::ttrpc
