#include "ttrpc/client.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <system_error>
#include <vector>

#include "ttrpc/frame.h"
#include "ttrpc/limits.h"
#include "ttrpc/socket.h"
#include "ttrpc/ttrpc.pb.h"

namespace hull::ttrpc {

Result<std::unique_ptr<Client>> Client::connect(std::string_view address) {
  HULL_ASSIGN(fd, connect_unix(address));
  return adopt(std::move(fd), std::string(address));
}

Result<std::unique_ptr<Client>> Client::adopt(UniqueFd fd, std::string name) {
  HULL_TRY(set_send_timeout(fd.get()));
  std::unique_ptr<Client> client(new Client(std::move(fd), std::move(name)));
  HULL_TRY(client->start());
  return client;
}

Client::Client(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

Client::~Client() {
  close();
}

Status Client::start() {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return fail_errno("creating the wake-up eventfd of a ttrpc client");
  try {
    reader_ = std::thread([this] { read_loop(); });
  } catch (const std::system_error& e) {
    return fail(Errc::System,
                std::string("starting the reader thread of a ttrpc client: ") + e.what());
  }
  return {};
}

void Client::close() {
  std::call_once(close_once_, [this] {
    fail_all("ttrpc: connection to " + name_ + " closed by this side");
    if (wake_) {
      const uint64_t one = 1;
      (void)!::write(wake_.get(), &one, sizeof(one));
    }
    ::shutdown(fd_.get(), SHUT_RDWR);  // a sender blocked on a full socket returns
    if (reader_.joinable()) reader_.join();
  });
}

bool Client::closed() {
  std::lock_guard lock(mu_);
  return closed_.has_value();
}

CallResult Client::call(std::string_view service, std::string_view method, std::string_view payload,
                        const CallOptions& options) {
  auto pending = std::make_shared<Pending>();
  auto id = send(service, method, payload, options, pending);
  if (!id) return std::unexpected(std::move(id.error()));
  std::unique_lock lock(mu_);
  const auto ready = [&] { return pending->result.has_value(); };
  if (options.timeout.count() > 0) {
    if (!pending->cv.wait_for(lock, options.timeout, ready)) {
      pending_.erase(*id);  // a late answer is dropped
      return rpc_fail(
          Code::DeadlineExceeded,
          "ttrpc: " + std::string(service) + "/" + std::string(method) + " on " + name_ +
              " got no answer within " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout).count()) +
              " ms");
    }
  } else {
    pending->cv.wait(lock, ready);
  }
  return std::move(*pending->result);
}

std::expected<uint32_t, RpcError> Client::send(std::string_view service, std::string_view method,
                                               std::string_view payload, const CallOptions& options,
                                               const std::shared_ptr<Pending>& pending) {
  const std::string what = std::string(service) + "/" + std::string(method);
  ::ttrpc::Request req;
  req.set_service(std::string(service));
  req.set_method(std::string(method));
  req.set_payload(std::string(payload));
  req.set_timeout_nano(options.timeout.count());
  for (const auto& [k, v] : options.metadata) {
    auto* kv = req.add_metadata();
    kv->set_key(k);
    kv->set_value(v);
  }
  const std::string body = req.SerializeAsString();
  if (body.size() > kMaxMessageLength) {
    return rpc_fail(Code::ResourceExhausted,
                    "ttrpc: the request of " + what + " is " + std::to_string(body.size()) +
                        " bytes, more than the " + std::to_string(kMaxMessageLength) +
                        " a message may carry");
  }
  uint32_t id;
  {
    std::lock_guard lock(mu_);
    if (closed_) return rpc_fail(Code::Unavailable, *closed_);
    if (next_id_ > UINT32_MAX) {
      return rpc_fail(Code::Unavailable, "ttrpc: every stream id of the connection to " + name_ +
                                             " is used up: connect again");
    }
    id = static_cast<uint32_t>(next_id_);
    next_id_ += 2;
    pending_[id] = pending;  // before sending: the answer may come at once
  }
  Status sent;
  {
    std::lock_guard lock(write_mu_);
    sent = send_frame(fd_.get(),
                      FrameHeader{.length = static_cast<uint32_t>(body.size()),
                                  .stream_id = id,
                                  .type = static_cast<uint8_t>(FrameType::Request)},
                      body);
  }
  if (!sent) {
    ::shutdown(fd_.get(), SHUT_RDWR);  // the reader ends the connection
    std::lock_guard lock(mu_);
    pending_.erase(id);
    return rpc_fail(Code::Unavailable,
                    "ttrpc: sending " + what + " to " + name_ + " failed: " + sent.error().what());
  }
  return id;
}

void Client::read_loop() {
  FrameReader reader;
  std::vector<std::byte> chunk(kReadChunk);
  std::string reason;
  for (;;) {
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      reason = std::string("failed: poll: ") + strerror(errno);
      break;
    }
    if (fds[1].revents != 0) {
      reason = "closed by this side";
      break;
    }
    const ssize_t got = ::read(fd_.get(), chunk.data(), chunk.size());
    if (got < 0 && errno == EINTR) continue;
    if (got == 0) {
      reason =
          reader.mid_frame() ? "closed by the peer in the middle of a frame" : "closed by the peer";
      break;
    }
    if (got < 0) {
      reason = std::string("failed: read: ") + strerror(errno);
      break;
    }
    reader.feed(std::span(chunk.data(), static_cast<size_t>(got)));
    for (Parsed p = reader.next(); p.kind != ParseKind::NeedMore; p = reader.next()) {
      const uint32_t id = p.header.stream_id;
      if (p.kind == ParseKind::TooLong) {
        deliver(id, rpc_fail(Code::ResourceExhausted,
                             "ttrpc: the answer on stream " + std::to_string(id) + " is " +
                                 std::to_string(p.header.length) + " bytes, more than the " +
                                 std::to_string(kMaxMessageLength) + " a message may carry"));
        continue;
      }
      if (p.header.type != static_cast<uint8_t>(FrameType::Response)) {
        deliver(id, rpc_fail(Code::Internal, "ttrpc: the peer sent a frame of type " +
                                                 std::to_string(p.header.type) + " on stream " +
                                                 std::to_string(id) + " instead of a response"));
        continue;
      }
      ::ttrpc::Response resp;
      if (!resp.ParseFromArray(p.body.data(), static_cast<int>(p.body.size()))) {
        deliver(id, rpc_fail(Code::Internal, "ttrpc: the " + std::to_string(p.body.size()) +
                                                 "-byte answer on stream " + std::to_string(id) +
                                                 " is not a ttrpc Response"));
        continue;
      }
      if (resp.has_status() && resp.status().code() != 0) {
        deliver(id, std::unexpected(RpcError{static_cast<Code>(resp.status().code()),
                                             resp.status().message()}));
        continue;
      }
      deliver(id, std::move(*resp.mutable_payload()));
    }
  }
  fail_all("ttrpc: connection to " + name_ + " " + reason);
}

void Client::deliver(uint32_t stream_id, CallResult result) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(stream_id);
  if (it == pending_.end()) return;  // no such call, or it timed out already
  it->second->result = std::move(result);
  it->second->cv.notify_one();
  pending_.erase(it);
}

void Client::fail_all(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!closed_) closed_ = reason;
  for (auto& [id, p] : pending_) {
    p->result = std::unexpected(RpcError{Code::Unavailable, *closed_});
    p->cv.notify_one();
  }
  pending_.clear();
}

}  // namespace hull::ttrpc
