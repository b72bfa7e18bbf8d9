#include "agent/rpc/oom.h"

#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <deque>

#include "agent/rpc/stats.h"
#include "common/file.h"
#include "common/log.h"

namespace hull::agent::rpc {

class OomStream;

struct OomSubscriber {
  std::recursive_mutex mu;
  OomStream* reactor = nullptr;
  std::deque<std::string> queue;
  OomEvent msg;
  uint64_t dropped = 0;
  bool writing = false;
  bool finished = false;
  bool closing = false;  // finish once the write in flight is done
  grpc::Status closing_status;
};

class OomStream final : public StreamReactor<OomEvent> {
 public:
  OomStream(OomMonitor& m) : monitor_(m), sub_(std::make_shared<OomSubscriber>()) {
    sub_->reactor = this;
    std::lock_guard lock(m.mu_);
    m.subscribers_.insert(sub_);
  }

  // Under sub->mu.
  static void push(OomSubscriber& s, const std::string& container_id) {
    if (s.finished || s.closing || !s.reactor) return;
    if (s.queue.size() >= kMaxQueuedOomEvents) {
      s.queue.pop_front();
      if (s.dropped++ % 100 == 0)
        log::warn("OomEvents: the host reads too slowly, dropping events");
    }
    s.queue.push_back(container_id);
    if (!s.writing) write_next(s);
  }

  static void close(OomSubscriber& s, const grpc::Status& st) {
    if (s.finished || !s.reactor) return;
    if (s.writing) {
      s.closing = true;
      s.closing_status = st;
      return;
    }
    s.finished = true;
    s.reactor->Finish(st);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(sub_->mu);
    sub_->writing = false;
    if (!ok) sub_->closing = true, sub_->closing_status = grpc::Status::CANCELLED;
    if (sub_->closing) {
      close(*sub_, sub_->closing_status);
      return;
    }
    if (!sub_->queue.empty()) write_next(*sub_);
  }

  void OnCancel() override {
    std::lock_guard lock(sub_->mu);
    close(*sub_, grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(sub_->mu);
      sub_->reactor = nullptr;
    }
    {
      std::lock_guard lock(monitor_.mu_);
      monitor_.subscribers_.erase(sub_);
    }
    delete this;
  }

 private:
  static void write_next(OomSubscriber& s) {
    s.msg.set_container_id(s.queue.front());
    s.queue.pop_front();
    s.writing = true;
    s.reactor->StartWrite(&s.msg);
  }

  OomMonitor& monitor_;
  std::shared_ptr<OomSubscriber> sub_;
};

Result<std::unique_ptr<OomMonitor>> OomMonitor::start(IoLoop& loop) {
  std::unique_ptr<OomMonitor> m(new OomMonitor(loop));
  m->inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!m->inotify_) return fail_errno("inotify_init1 for OOM events");
  OomMonitor* self = m.get();
  HULL_ASSIGN(token,
              loop.add(m->inotify_.get(), EPOLLIN, [self](uint32_t) { self->on_readable(); }));
  m->token_ = token;
  return m;
}

OomMonitor::~OomMonitor() {
  loop_.remove(token_);
  close_streams();
}

Status OomMonitor::watch(const std::string& container_id, const std::string& memory_events) {
  int wd = ::inotify_add_watch(inotify_.get(), memory_events.c_str(), IN_MODIFY);
  if (wd < 0) return fail_errno("watching " + memory_events + " for OOM kills");
  uint64_t now = 0;
  if (auto text = read_file(memory_events, 4096)) {
    now = flat_keyed_value(*text, "oom_kill").value_or(0);
  }
  std::lock_guard lock(mu_);
  watched_[wd] = Watched{container_id, memory_events, now};
  return {};
}

void OomMonitor::unwatch(const std::string& container_id) {
  std::lock_guard lock(mu_);
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (it->second.container_id == container_id) {
      (void)::inotify_rm_watch(inotify_.get(), it->first);
      it = watched_.erase(it);
    } else {
      ++it;
    }
  }
}

void OomMonitor::on_readable() {
  alignas(inotify_event) char buf[4096];
  std::set<int> changed;
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      // The kernel writes whole inotify_event records into buf.
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      changed.insert(ev->wd);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  std::vector<std::pair<std::string, uint64_t>> events;
  {
    std::lock_guard lock(mu_);
    for (int wd : changed) {
      auto it = watched_.find(wd);
      if (it == watched_.end()) continue;
      auto text = read_file(it->second.path, 4096);
      if (!text) continue;
      uint64_t kills = flat_keyed_value(*text, "oom_kill").value_or(0);
      if (kills > it->second.oom_kills) {
        events.emplace_back(it->second.container_id, kills - it->second.oom_kills);
        it->second.oom_kills = kills;
      }
    }
  }
  for (auto& [id, count] : events) publish(id, count);
  (void)loop_.rearm(token_, EPOLLIN);
}

void OomMonitor::publish(const std::string& container_id, uint64_t count) {
  log::info("container " + container_id + ": OOM kill");
  std::set<std::shared_ptr<OomSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    subs = subscribers_;
  }
  for (const auto& s : subs) {
    std::lock_guard lock(s->mu);
    for (uint64_t i = 0; i < count && i < kMaxQueuedOomEvents; ++i)
      OomStream::push(*s, container_id);
  }
}

StreamReactor<OomEvent>* OomMonitor::subscribe() {
  return new OomStream(*this);
}

void OomMonitor::close_streams() {
  std::set<std::shared_ptr<OomSubscriber>> subs;
  {
    std::lock_guard lock(mu_);
    subs = subscribers_;
  }
  for (const auto& s : subs) {
    std::lock_guard lock(s->mu);
    OomStream::close(*s, grpc::Status::OK);
  }
}

}  // namespace hull::agent::rpc
