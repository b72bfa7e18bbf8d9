// One error type and one result type for all of hull (host and guest).
//
// Libraries return Result<T>; the boundary that decides (a CLI command, an RPC
// handler, a thread entry) logs or prints the error once. Callers branch on
// Errc, never on the message text.
#pragma once

#include <cerrno>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace hull {

enum class Errc {
  Invalid,        // the caller's input is wrong (config.json, a flag, an id)
  NotFound,       // a container, file or process does not exist
  Exists,         // something with that name already exists
  InvalidState,   // a state machine refused a move ("from X to Y")
  NotRunning,     // the target process or VM is not running
  Paused,         // the container is paused
  Timeout,        // a deadline passed
  GuestProtocol,  // the guest (agent, vsock peer, virtqueue) broke the protocol
  Unsupported,    // hull or the host cannot do this
  System,         // a system call failed; sys_errno says why
  Internal,       // a bug in hull
};

std::string_view errc_name(Errc code);

// The Errc whose errc_name() is `name`, if any.
std::optional<Errc> errc_from_name(std::string_view name);

struct [[nodiscard]] Error {
  Errc code = Errc::Internal;
  int sys_errno = 0;
  std::string msg;

  // "msg" or "msg: strerror(sys_errno)"
  std::string what() const;

  // Adds context in front: "context: msg".
  Error wrap(std::string_view context) &&;
  Error wrap(std::string_view context) const&;

  // Worth trying again (a peer still starting, a transient resource shortage).
  bool retryable() const;
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

// Builds an error value ready to return from a function returning Result<T>.
inline std::unexpected<Error> fail(Errc code, std::string msg) {
  return std::unexpected(Error{code, 0, std::move(msg)});
}

// An error from a failed system call; takes errno now (call it right after the call).
inline std::unexpected<Error> fail_errno(std::string msg, int err = errno) {
  return std::unexpected(Error{Errc::System, err, std::move(msg)});
}

inline std::unexpected<Error> fail(Error e) {
  return std::unexpected(std::move(e));
}

// An input field's value refused: Errc::Invalid with "<field>: <why>", e.g.
// "linux.resources.cpu.quota: must be positive".
inline std::unexpected<Error> invalid_field(std::string_view field, std::string_view why) {
  std::string msg(field);
  msg += ": ";
  msg += why;
  return fail(Errc::Invalid, std::move(msg));
}

// Adds context to the error of a Result, keeping the value untouched.
template <typename T>
Result<T> wrap(Result<T> r, std::string_view context) {
  if (!r) return std::unexpected(std::move(r.error()).wrap(context));
  return r;
}

}  // namespace hull

// Propagates the error of an expression returning Result<T> / Status.
#define HULL_TRY(expr)                                                        \
  do {                                                                        \
    auto hull_try_r_ = (expr);                                                \
    if (!hull_try_r_) return std::unexpected(std::move(hull_try_r_.error())); \
  } while (0)

// Declares `var` from a Result<T> expression, or returns its error.
#define HULL_ASSIGN(var, expr)                                                  \
  auto var##_result_ = (expr);                                                  \
  if (!var##_result_) return std::unexpected(std::move(var##_result_.error())); \
  auto var = std::move(*var##_result_)
