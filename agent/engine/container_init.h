// The container init entry hook. Every binary that links hull_engine calls it
// first thing in main():
//
//   int main(int argc, char** argv) {
//     if (auto rc = hull::engine::maybe_run_init(argc, argv)) return *rc;
//     ...
//   }
//
// When the engine re-executes the binary as a container init
// ("/proc/self/exe __hull_init", see spawn.h and sync.h) this runs the init
// and returns its exit code (it normally never returns: it execs the user's
// process). Otherwise it returns nullopt at once and touches nothing.
#pragma once

#include <optional>

namespace hull::engine {

std::optional<int> maybe_run_init(int argc, char** argv);

}  // namespace hull::engine
