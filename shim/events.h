// Events to containerd: the shim is a ttrpc client of containerd's
// TTRPC_ADDRESS and forwards each event with
// containerd.services.events.ttrpc.v1.Events/Forward, as the Go shim
// library's publisher does.
//
//   publish(topic, msg) -> queue (in call order) -> one worker thread ->
//   Forward(Envelope{timestamp, namespace, topic, Any{bare type name, msg}})
//
// publish() never blocks a task call: it queues. The worker keeps one
// connection, reconnects when it breaks and tries an event up to
// kForwardAttempts times (backing off) before it drops it with a warning.
// Events leave in the order they were published, so a task call that
// publishes under the lock that orders its state changes gets containerd's
// order (create, start, exit, delete).
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "ttrpc/client.h"

namespace hull::shim {

inline constexpr std::string_view kEventsService = "containerd.services.events.ttrpc.v1.Events";
inline constexpr std::string_view kNamespaceKey = "containerd-namespace-ttrpc";

inline constexpr std::string_view kTopicCreate = "/tasks/create";
inline constexpr std::string_view kTopicStart = "/tasks/start";
inline constexpr std::string_view kTopicExit = "/tasks/exit";
inline constexpr std::string_view kTopicDelete = "/tasks/delete";
inline constexpr std::string_view kTopicExecAdded = "/tasks/exec-added";
inline constexpr std::string_view kTopicExecStarted = "/tasks/exec-started";
inline constexpr std::string_view kTopicOom = "/tasks/oom";
inline constexpr std::string_view kTopicPaused = "/tasks/paused";
inline constexpr std::string_view kTopicResumed = "/tasks/resumed";

inline constexpr int kForwardAttempts = 5;
inline constexpr std::chrono::seconds kForwardTimeout{5};

// Pure: a time as a protobuf Timestamp.
google::protobuf::Timestamp to_timestamp(std::chrono::system_clock::time_point t);

struct Event {
  std::string topic;
  std::string type_url;  // the bare message name: "containerd.events.TaskExit"
  std::string value;     // the serialized message
  std::chrono::system_clock::time_point when;
};

// Pure: what Forward carries for `e` in namespace `ns`.
containerd::services::events::ttrpc::v1::ForwardRequest forward_request(std::string_view ns,
                                                                        const Event& e);

class Publisher {
 public:
  // `address`: containerd's ttrpc socket ("unix:///run/containerd/containerd.sock.ttrpc").
  Publisher(std::string address, std::string ns);
  ~Publisher();  // stops the worker; what is still queued is dropped (flush() first)
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void publish(std::string_view topic, const google::protobuf::Message& msg);

  // Waits until every event published so far has been forwarded (or
  // dropped), at most `timeout`. False when some are still queued.
  bool flush(std::chrono::milliseconds timeout);

 private:
  void run();
  bool forward(const Event& e);

  const std::string address_;
  const std::string ns_;
  std::unique_ptr<ttrpc::Client> client_;  // the worker's only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;  // guarded by mu_
  bool busy_ = false;        // guarded by mu_: the worker holds an event
  bool stopping_ = false;    // guarded by mu_
  std::thread worker_;
};

}  // namespace hull::shim
