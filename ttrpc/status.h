// Call outcomes: gRPC's status codes as ttrpc carries them in google.rpc.Status,
// and the error every call site gets back.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::ttrpc {

// google.rpc.Code, numbered as on the wire.
enum class Code : int32_t {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
};

// "NOT_FOUND"; "CODE_<n>" for a number outside the table.
std::string code_name(int32_t code);

// A failed call: what the server answered, or what went wrong on this side
// (Unavailable: the connection is gone; DeadlineExceeded: no answer in time).
struct [[nodiscard]] RpcError {
  Code code = Code::Unknown;
  std::string message;

  // "NOT_FOUND: container x does not exist"
  std::string what() const;
};

// The output payload of a call, or why there is none.
using CallResult = std::expected<std::string, RpcError>;

inline std::unexpected<RpcError> rpc_fail(Code code, std::string message) {
  return std::unexpected(RpcError{code, std::move(message)});
}

// The status a handler answers for a hull error, chosen the way containerd
// classifies them (errdefs.FromGRPC): NotFound -> NOT_FOUND, Exists ->
// ALREADY_EXISTS, Invalid -> INVALID_ARGUMENT, state conflicts ->
// FAILED_PRECONDITION, Timeout -> DEADLINE_EXCEEDED, Unsupported ->
// UNIMPLEMENTED, the rest -> UNKNOWN (containerd keeps the message).
Code code_for(Errc code);
RpcError to_rpc_error(const Error& e);

}  // namespace hull::ttrpc
