// A ttrpc server on a unix socket (docs/ttrpc.md "Server"). It serves from
// the moment it is made until shutdown() or destruction.
//
// Only peers running as the server's effective uid, or as root, are served
// (SO_PEERCRED); other connections are closed at once, as ttrpc-go does.
// Every connection serves its calls concurrently (server_connection.h).
#pragma once

#include <sys/types.h>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "ttrpc/server_connection.h"
#include "ttrpc/service.h"

namespace hull::ttrpc {

class Server {
 public:
  // Creates the socket at `path` (mode 0600; it must not exist) and serves on
  // it; shutdown() removes it.
  static Result<std::unique_ptr<Server>> listen(const std::string& path, ServiceMap services);

  // Serves on a socket that already listens (the shim daemon inherits one);
  // the socket file is left to whoever made it.
  static Result<std::unique_ptr<Server>> serve(UniqueFd listener, ServiceMap services);

  ~Server();  // shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops accepting, asks every running call to stop (stop token), waits for
  // them (up to kStopGrace before their sockets are shut under them, then
  // until they return), closes every connection and the listening socket.
  // Idempotent. Never call it from a handler (it waits for every handler,
  // that one too): let the handler tell another thread to do it (the shim's
  // Task.Shutdown wakes its main thread).
  void shutdown();

  // Connections being served now.
  size_t connection_count();

 private:
  Server(UniqueFd listener, std::string owned_path, ServiceMap services);
  Status start();
  void accept_loop();
  void accept_one();
  void reap_connections();
  void wake();

  ServiceMap services_;
  UniqueFd listener_;
  std::string owned_path_;  // unlinked at shutdown, when listen() made it
  UniqueFd wake_;           // eventfd: shutdown and finished connections
  uid_t uid_;

  std::mutex mu_;
  bool stopped_ = false;                                // guarded by mu_
  std::list<std::unique_ptr<ServerConnection>> conns_;  // guarded by mu_
  std::thread accept_thread_;
};

}  // namespace hull::ttrpc
