#include "common/error.h"

#include <cstring>

namespace hull {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::Invalid:
      return "invalid";
    case Errc::NotFound:
      return "not found";
    case Errc::Exists:
      return "exists";
    case Errc::InvalidState:
      return "invalid state";
    case Errc::NotRunning:
      return "not running";
    case Errc::Paused:
      return "paused";
    case Errc::Timeout:
      return "timeout";
    case Errc::GuestProtocol:
      return "guest protocol";
    case Errc::Unsupported:
      return "unsupported";
    case Errc::System:
      return "system";
    case Errc::Internal:
      return "internal";
  }
  return "unknown";
}

std::optional<Errc> errc_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Errc::Internal); ++i) {
    const auto c = static_cast<Errc>(i);
    if (errc_name(c) == name) return c;
  }
  return std::nullopt;
}

std::string Error::what() const {
  if (sys_errno == 0) return msg;
  std::string s = msg;
  if (!s.empty()) s += ": ";
  s += std::strerror(sys_errno);
  return s;
}

Error Error::wrap(std::string_view context) && {
  std::string m(context);
  if (!msg.empty()) m.append(": ").append(msg);
  msg = std::move(m);
  return std::move(*this);
}

Error Error::wrap(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).wrap(context);
}

bool Error::retryable() const {
  if (code == Errc::Timeout) return true;
  if (code != Errc::System) return false;
  switch (sys_errno) {
    case EAGAIN:
    case EINTR:
    case ECONNREFUSED:
    case ENOENT:
    case ECONNRESET:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return true;
    default:
      return false;
  }
}

}  // namespace hull
