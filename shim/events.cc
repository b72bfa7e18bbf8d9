#include "shim/events.h"

#include <google/protobuf/empty.pb.h>

#include "common/log.h"

namespace hull::shim {

namespace evapi = containerd::services::events::ttrpc::v1;

google::protobuf::Timestamp to_timestamp(std::chrono::system_clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return ts;
}

evapi::ForwardRequest forward_request(std::string_view ns, const Event& e) {
  evapi::ForwardRequest req;
  evapi::Envelope* env = req.mutable_envelope();
  *env->mutable_timestamp() = to_timestamp(e.when);
  env->set_namespace_(std::string(ns));
  env->set_topic(e.topic);
  env->mutable_event()->set_type_url(e.type_url);  // bare, as containerd 1.6's typeurl
  env->mutable_event()->set_value(e.value);
  return req;
}

Publisher::Publisher(std::string address, std::string ns)
    : address_(std::move(address)), ns_(std::move(ns)) {
  worker_ = std::thread([this] { run(); });
}

Publisher::~Publisher() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Publisher::publish(std::string_view topic, const google::protobuf::Message& msg) {
  Event e{std::string(topic), msg.GetTypeName(), msg.SerializeAsString(),
          std::chrono::system_clock::now()};
  log::debug("event " + e.topic + " (" + e.type_url + ")");
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(e));
  }
  cv_.notify_all();
}

bool Publisher::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return queue_.empty() && !busy_; });
}

bool Publisher::forward(const Event& e) {
  const evapi::ForwardRequest req = forward_request(ns_, e);
  ttrpc::CallOptions o;
  o.timeout = kForwardTimeout;
  o.metadata.emplace_back(std::string(kNamespaceKey), ns_);
  std::string last;
  std::chrono::milliseconds backoff{100};
  for (int attempt = 1; attempt <= kForwardAttempts; ++attempt) {
    if (!client_ || client_->closed()) {
      auto c = ttrpc::Client::connect(address_);
      if (c) {
        client_ = std::move(*c);
      } else {
        client_.reset();
        last = c.error().what();
      }
    }
    if (client_) {
      auto r = client_->call<evapi::ForwardRequest, google::protobuf::Empty>(kEventsService,
                                                                             "Forward", req, o);
      if (r) return true;
      last = r.error().what();
      // containerd refused the event itself: trying again would not help.
      if (r.error().code == ttrpc::Code::InvalidArgument) break;
    }
    std::unique_lock lk(mu_);
    if (cv_.wait_for(lk, backoff, [&] { return stopping_; })) break;
    backoff *= 2;
  }
  log::warn("event " + e.topic + " not delivered to containerd at " + address_ + ": " + last);
  return false;
}

void Publisher::run() {
  for (;;) {
    Event e;
    {
      std::unique_lock lk(mu_);
      busy_ = false;
      cv_.notify_all();
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      e = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    (void)forward(e);
  }
}

}  // namespace hull::shim
