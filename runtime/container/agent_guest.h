// AgentGuest: Guest over the sandbox library's ContainerClient (typed agent
// calls with deadlines, bounded replies, the agent's Errc carried back).
#pragma once

#include <memory>

#include "runtime/container/guest.h"
#include "runtime/sandbox/agent_client.h"
#include "runtime/sandbox/container_client.h"

namespace hull::container {

class AgentGuest final : public Guest {
 public:
  explicit AgentGuest(sandbox::AgentClient& client) : client_(client) {}

  Status create_container(const std::string& id, const std::string& spec_json, StdioMode stdio,
                          const std::string& bundle) override;
  Status start_container(const std::string& id, std::chrono::milliseconds timeout) override;
  Status remove_container(const std::string& id, uint32_t timeout_s) override;
  Status exec_process(const ProcessRef& p, const std::string& process_json, StdioMode stdio,
                      const std::string& sub_cgroup) override;
  Status signal(const ProcessRef& p, int sig, bool all) override;
  Result<ExitStatus> wait(const ProcessRef& p) override;
  Result<size_t> write_stdin(const ProcessRef& p, std::string_view data) override;
  Status close_stdin(const ProcessRef& p) override;
  Status read_output(const ProcessRef& p, Stream s, const ChunkSink& sink) override;
  Status resize(const ProcessRef& p, uint32_t rows, uint32_t cols) override;
  Result<GuestProcessList> list_processes(const std::string& id) override;
  Status pause(const std::string& id) override;
  Status resume(const std::string& id) override;
  Status update(const std::string& id, const std::string& resources_json) override;
  Result<GuestStats> stats(const std::string& id) override;

 private:
  sandbox::ContainerClient client_;
};

}  // namespace hull::container
