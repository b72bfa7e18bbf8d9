#include "runtime/container/signals.h"

#include <charconv>
#include <csignal>
#include <optional>
#include <tuple>
#include <utility>

namespace hull::container {
namespace {

// The names Go's golang.org/x/sys/unix signal table gives (what runc looks up).
constexpr std::pair<std::string_view, int> kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::optional<int> number(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<int> parse_signal(std::string_view text) {
  auto bad = [&] {
    return fail(Errc::Invalid, "unknown signal \"" + std::string(text) +
                                   "\": use a name (TERM, SIGKILL) or a number between 0 and " +
                                   std::to_string(SIGRTMAX));
  };
  if (auto n = number(text)) {
    if (*n < 0 || *n > SIGRTMAX) return bad();
    return *n;
  }
  std::string name = upper(text);
  if (name.starts_with("SIG")) name.erase(0, 3);
  for (const auto& [n, sig] : kSignals) {
    if (n == name) return sig;
  }
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n
  for (auto [base, value, sign] : {std::tuple{std::string_view("RTMIN"), SIGRTMIN, 1},
                                   std::tuple{std::string_view("RTMAX"), SIGRTMAX, -1}}) {
    if (!std::string_view(name).starts_with(base)) continue;
    std::string_view rest = std::string_view(name).substr(base.size());
    if (rest.empty()) return value;
    if (rest[0] != (sign > 0 ? '+' : '-')) return bad();
    auto off = number(rest.substr(1));
    if (!off || *off < 0) return bad();
    int sig = value + sign * *off;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return bad();
    return sig;
  }
  return bad();
}

std::string signal_name(int sig) {
  for (const auto& [n, s] : kSignals) {
    if (s == sig && n != "CLD" && n != "IOT" && n != "POLL") return "SIG" + std::string(n);
  }
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  }
  return std::to_string(sig);
}

bool signal_ends_process(int sig) {
  if (sig < 1 || sig > SIGRTMAX) return false;
  switch (sig) {
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGCONT:
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
      return false;
    default:
      return true;
  }
}

}  // namespace hull::container
