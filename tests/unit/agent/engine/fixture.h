// Shared helpers of the engine tests: a private mount namespace for the test
// process, temp dirs, a busybox rootfs, a base spec, and running a container
// to completion with its output collected.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/engine/container.h"
#include "common/error.h"
#include "common/oci/spec.h"

namespace hull::engine::test {

// Root only: unshare(CLONE_NEWNS) + MS_REC|MS_PRIVATE so nothing a test does
// can reach the host's mount table.
void enter_private_mount_namespace();
bool running_as_root();

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// /bin/busybox (Debian's busybox-static) with every applet linked in /bin,
// the usual empty mount points, /etc/passwd with root and tester (1000).
class BusyboxRootfs {
 public:
  BusyboxRootfs();
  const std::string& path() const { return rootfs_; }
  bool ok() const { return ok_; }

 private:
  TempDir dir_;
  std::string rootfs_;
  bool ok_ = false;
};

// runc's default spec for `rootfs`, pipes mode, hostname "hull-test", a
// tmpfs on /tmp, running `sh -c script`.
oci::Spec base_spec(const std::string& rootfs, const std::string& script);

// Owns a container: destroy() and reap on scope exit, also when a test fails.
class ContainerGuard {
 public:
  explicit ContainerGuard(std::unique_ptr<Container> c) : c_(std::move(c)) {}
  ~ContainerGuard();
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;
  Container* operator->() { return c_.get(); }
  Container& operator*() { return *c_; }

 private:
  std::unique_ptr<Container> c_;
};

struct Output {
  int status = -1;
  std::string out;  // stdout and stderr
};

// create, start, read all output, wait, destroy.
Result<Output> run(const oci::Spec& spec, const std::string& id);

// Reads until EOF.
std::string read_all(int fd);

}  // namespace hull::engine::test
