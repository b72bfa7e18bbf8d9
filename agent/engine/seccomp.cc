#include "agent/engine/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <memory>
#include <vector>

#include "agent/engine/str.h"
#include "common/unique_fd.h"

namespace hull::engine {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

std::unexpected<Error> bad(const std::string& field, std::string_view why) {
  return fail(Errc::Invalid, cat(field, ": ", why));
}

Result<uint32_t> action(const std::string& name, std::optional<uint32_t> errno_ret,
                        const std::string& field) {
  bool takes_errno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
  if (errno_ret && !takes_errno) {
    return bad(field,
               cat("an errno return value needs SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ", name));
  }
  uint32_t e = errno_ret.value_or(EPERM);
  if (e > 0xffff) return bad(field, "errno return value must be at most 65535");
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(e);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(e);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") {
    return fail(Errc::Unsupported,
                cat(field, ": SCMP_ACT_NOTIFY (a seccomp agent) is not supported by hull"));
  }
  return bad(field, cat("unknown action ", in_quotes(name)));
}

Result<scmp_compare> compare_op(const std::string& op, const std::string& field) {
  static constexpr std::array<std::pair<std::string_view, scmp_compare>, 7> kOps{{
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  }};
  for (const auto& [name, v] : kOps) {
    if (name == op) return v;
  }
  return bad(field, cat("unknown operator ", in_quotes(op)));
}

Result<uint32_t> filter_flag(const std::string& name, const std::string& field) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") return 1u << 5;  // Linux 5.19
  return bad(field, cat("unknown flag ", in_quotes(name)));
}

// "SCMP_ARCH_X86_64" -> libseccomp's "x86_64".
Result<uint32_t> arch_token(const std::string& name, const std::string& field) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.rfind(kPrefix, 0) != 0) return bad(field, cat("unknown architecture ", in_quotes(name)));
  std::string lower;
  for (char c : name.substr(kPrefix.size()))
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t token = seccomp_arch_resolve_name(lower.c_str());
  if (token == 0) return bad(field, cat("unknown architecture ", in_quotes(name)));
  return token;
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const oci::Seccomp& p) {
  const std::string base = "linux.seccomp";
  if (p.listener_path && !p.listener_path->empty()) {
    return fail(Errc::Unsupported,
                base + ".listenerPath: seccomp agents are not supported by hull");
  }
  HULL_ASSIGN(def, action(p.default_action, p.default_errno_ret, base + ".defaultAction"));
  Ctx ctx(seccomp_init(def));
  if (!ctx) return bad(base + ".defaultAction", "libseccomp refused the default action");
  // NNP is the init's business (process.noNewPrivileges); the program is exported, not loaded here.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0) {
    return fail_errno("seccomp: attr NNP", -rc);
  }
  SeccompProgram out;
  if (p.architectures) {
    for (size_t i = 0; i < p.architectures->size(); ++i) {
      std::string f = cat(base, ".architectures[", i, "]");
      HULL_ASSIGN(token, arch_token((*p.architectures)[i], f));
      int rc = seccomp_arch_add(ctx.get(), token);
      if (rc < 0 && rc != -EEXIST)
        return fail(Error{Errc::Invalid, -rc, f + ": libseccomp refused it"});
    }
  }
  if (p.flags) {
    for (size_t i = 0; i < p.flags->size(); ++i) {
      HULL_ASSIGN(fl, filter_flag((*p.flags)[i], cat(base, ".flags[", i, "]")));
      out.flags |= fl;
    }
  }
  if (p.syscalls) {
    for (size_t i = 0; i < p.syscalls->size(); ++i) {
      const auto& sc = (*p.syscalls)[i];
      std::string sf = cat(base, ".syscalls[", i, "]");
      HULL_ASSIGN(act, action(sc.action, sc.errno_ret, sf + ".action"));
      std::vector<scmp_arg_cmp> conds;
      std::array<int, 6> per_index{};
      if (sc.args) {
        for (size_t a = 0; a < sc.args->size(); ++a) {
          const auto& arg = (*sc.args)[a];
          std::string af = cat(sf, ".args[", a, "]");
          if (arg.index >= 6) return bad(af + ".index", "must be less than 6");
          HULL_ASSIGN(op, compare_op(arg.op, af + ".op"));
          scmp_arg_cmp c{arg.index, op, arg.value, 0};
          if (op == SCMP_CMP_MASKED_EQ) c.datum_b = arg.value_two.value_or(0);
          conds.push_back(c);
          ++per_index[arg.index];
        }
      }
      if (act == def) continue;  // libseccomp refuses a rule that repeats the default
      bool split = false;
      for (int n : per_index) split = split || n > 1;
      for (size_t k = 0; k < sc.names.size(); ++k) {
        const std::string& name = sc.names[k];
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown to libseccomp: skipped, as runc does
        std::string nf = cat(sf, ".names[", k, "]");
        auto add = [&](unsigned n, const scmp_arg_cmp* c) -> Status {
          int rc = seccomp_rule_add_array(ctx.get(), act, nr, n, c);
          if (rc < 0)
            return fail(Error{Errc::Invalid, -rc,
                              cat(nf, ": libseccomp refused the rule for ", in_quotes(name))});
          return {};
        };
        if (split) {
          for (const auto& c : conds) HULL_TRY(add(1, &c));
        } else {
          HULL_TRY(add(static_cast<unsigned>(conds.size()), conds.data()));
        }
      }
    }
  }
  UniqueFd mem(::memfd_create("hull-seccomp", MFD_CLOEXEC));
  if (!mem) return fail_errno("seccomp: memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0)
    return fail_errno("seccomp: export", -rc);
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size < 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return fail(Errc::Internal, "seccomp: odd BPF size");
  out.bpf.resize(static_cast<size_t>(size));
  if (::pread(mem.get(), out.bpf.data(), out.bpf.size(), 0) != size)
    return fail_errno("seccomp: read BPF");
  return out;
}

Status load_seccomp(const SeccompProgram& prog) {
  sock_fprog fp{};
  fp.len = static_cast<unsigned short>(prog.bpf.size() / sizeof(sock_filter));
  if (prog.bpf.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
    return fail(Errc::Invalid, cat("seccomp: program of ", prog.bpf.size() / sizeof(sock_filter),
                                   " instructions exceeds ", BPF_MAXINSNS));
  }
  std::vector<sock_filter> insns(fp.len);
  std::copy_n(prog.bpf.data(), prog.bpf.size(),
              reinterpret_cast<char*>(insns.data()));  // aligned copy of raw BPF
  fp.filter = insns.data();
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog.flags, &fp) < 0) {
    return fail_errno("seccomp: load filter");
  }
  return {};
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Result<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2) return fail(Errc::GuestProtocol, "hex: odd length");
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail(Errc::GuestProtocol, "hex: bad digit");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace hull::engine
