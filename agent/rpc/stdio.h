// A process's stdio as the agent holds it: the agent owns the far ends of
// three pipes (or the pty master in terminal mode) and streams them to the
// host.
//
//   pipes:    stdin  host WriteStdin -> [pipe] -> process fd 0   (CloseStdin: close)
//             stdout process fd 1 -> [pipe] -> ReadStdout stream -> host
//             stderr process fd 2 -> [pipe] -> ReadStderr stream -> host
//   terminal: one pty; the master carries stdin (WriteStdin; CloseStdin sends
//             the VEOF character, ^D) and stdout; ReadStderr ends at once.
//
// Output streams read one chunk (<= kStdioChunkBytes), hand it to gRPC and
// read the next only once gRPC has taken it, so a slow host blocks the
// process on a full pipe instead of the agent buffering without bound. A
// stream ends (OK) only at EOF (pipes: every writer closed; pty: EIO once the
// last slave fd closed), so output written just before the process exits is
// always delivered. One reader per stream at a time: a new reader takes the
// stream over (the old one ends ABORTED; what was in flight to it is its own),
// so a host that reconnects or gives up on a reader loses nothing else.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "agent.pb.h"
#include "agent/engine/container.h"
#include "agent/rpc/call_queue.h"
#include "agent/rpc/io_loop.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace hull::agent::rpc {

// Largest chunk one output read produces (below kMaxIoChunkBytes). Reads are
// sized by what the pipe holds (FIONREAD), so a trickle touches little memory
// and an idle stream gives its buffer back. 512 KiB chunks, 1 MiB pipes and
// sized reads took `cat` of 64 MiB from 32 to 50 MB/s under TCG (vs 128 KiB
// chunks, 256 KiB pipes, zero-filled buffers; scripts/bench/agent.sh).
inline constexpr size_t kStdioChunkBytes = 512 << 10;
// Pipe buffer the agent asks for (F_SETPIPE_SZ): fewer wake-ups per MiB.
inline constexpr int kPipeBytes = 1 << 20;

struct StreamCore;

// The read side of stdout or stderr (a pipe, or the shared pty master).
struct OutputPipe {
  std::mutex mu;
  std::shared_ptr<UniqueFd> fd;      // null once EOF was read (or no such stream)
  bool pty = false;                  // EIO means EOF
  std::weak_ptr<StreamCore> reader;  // the stream reading it, if any
};

// The write side of stdin.
struct InputPipe {
  std::mutex mu;                 // held across one WriteStdin / CloseStdin
  std::shared_ptr<UniqueFd> fd;  // null once closed (or no stdin)
  bool pty = false;
};

struct ProcessIo {
  std::shared_ptr<InputPipe> in = std::make_shared<InputPipe>();
  std::shared_ptr<OutputPipe> out = std::make_shared<OutputPipe>();
  std::shared_ptr<OutputPipe> err = std::make_shared<OutputPipe>();
};

// Pipes for a process in pipes mode: the agent's ends in `io`, the process's
// ends in `child` (closed by the caller once the engine has duplicated them).
// Without `want_stdin`, the process's stdin is /dev/null.
struct ChildEnds {
  UniqueFd in, out, err;
  engine::Stdio stdio() const { return {in.get(), out.get(), err.get()}; }
};
Result<ChildEnds> make_pipes(ProcessIo& io, bool want_stdin);

// Terminal mode: the master (from the engine) serves stdin and stdout.
void attach_pty(ProcessIo& io, UniqueFd master);

// Writes as much of `data` as the process takes before `cancelled()` says
// stop (polled every 100 ms). Errc::InvalidState when stdin is closed or was
// never opened; Errc::NotRunning when the reader is gone and nothing was written.
Result<size_t> write_stdin(InputPipe& in, std::span<const char> data,
                           const std::function<bool()>& cancelled);
Status close_stdin(InputPipe& in);

// Starts a server stream of `out` to EOF. Never null.
StreamReactor<IoChunk>* stream_output(IoLoop& loop, std::shared_ptr<OutputPipe> out);

}  // namespace hull::agent::rpc
