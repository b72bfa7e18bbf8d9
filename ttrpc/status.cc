#include "ttrpc/status.h"

#include <array>

namespace hull::ttrpc {

std::string code_name(int32_t code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  if (code >= 0 && static_cast<size_t>(code) < kNames.size()) {
    return std::string(kNames[static_cast<size_t>(code)]);
  }
  return "CODE_" + std::to_string(code);
}

std::string RpcError::what() const {
  return code_name(static_cast<int32_t>(code)) + ": " + message;
}

Code code_for(Errc code) {
  switch (code) {
    case Errc::Invalid:
      return Code::InvalidArgument;
    case Errc::NotFound:
      return Code::NotFound;
    case Errc::Exists:
      return Code::AlreadyExists;
    case Errc::InvalidState:
    case Errc::NotRunning:
    case Errc::Paused:
      return Code::FailedPrecondition;
    case Errc::Timeout:
      return Code::DeadlineExceeded;
    case Errc::Unsupported:
      return Code::Unimplemented;
    case Errc::GuestProtocol:
    case Errc::System:
    case Errc::Internal:
      return Code::Unknown;
  }
  return Code::Unknown;
}

RpcError to_rpc_error(const Error& e) {
  return RpcError{code_for(e.code), e.what()};
}

}  // namespace hull::ttrpc
