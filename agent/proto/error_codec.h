// hull::Error <-> gRPC status, the one mapping both ends of the agent API use.
//
// The agent answers a failed call with a gRPC code close to the error's Errc
// (so generic gRPC tools read it right), the error's full text as the message
// and the Errc's name (errc_name) as the status details. The host turns that
// back into the same Errc; a status without a known name (a transport error,
// the host's own deadline) falls back to the code mapping.
//
//   Errc           gRPC code
//   Invalid        INVALID_ARGUMENT
//   NotFound       NOT_FOUND
//   Exists         ALREADY_EXISTS
//   InvalidState   FAILED_PRECONDITION   (details tell the three apart)
//   NotRunning     FAILED_PRECONDITION
//   Paused         FAILED_PRECONDITION
//   Timeout        DEADLINE_EXCEEDED
//   Unsupported    UNIMPLEMENTED
//   GuestProtocol, System, Internal: INTERNAL
#pragma once

#include <grpcpp/support/status.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace hull::agent {

inline grpc::StatusCode grpc_code_for(Errc code) {
  switch (code) {
    case Errc::Invalid:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Errc::NotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Errc::Exists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Errc::InvalidState:
    case Errc::NotRunning:
    case Errc::Paused:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Errc::Timeout:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Errc::Unsupported:
      return grpc::StatusCode::UNIMPLEMENTED;
    case Errc::GuestProtocol:
    case Errc::System:
    case Errc::Internal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

// The status the agent answers for `e`.
inline grpc::Status to_grpc_status(const Error& e) {
  return grpc::Status(grpc_code_for(e.code), e.what(), std::string(errc_name(e.code)));
}

// The Errc for a failed status: the details' name, else by the gRPC code.
inline Errc errc_for_status(const grpc::Status& st) {
  if (auto c = errc_from_name(st.error_details())) return *c;
  switch (st.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Errc::Timeout;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      return Errc::NotRunning;
    case grpc::StatusCode::NOT_FOUND:
      return Errc::NotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Errc::Invalid;
    case grpc::StatusCode::ALREADY_EXISTS:
      return Errc::Exists;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Errc::InvalidState;
    case grpc::StatusCode::UNIMPLEMENTED:
      return Errc::Unsupported;
    default:
      return Errc::GuestProtocol;
  }
}

}  // namespace hull::agent
