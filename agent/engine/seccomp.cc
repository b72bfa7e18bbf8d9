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
#include "common/text.h"
#include "common/unique_fd.h"

namespace hull::engine {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// `field` names the action, `errno_field` its errno return value.
Result<uint32_t> action(const std::string& name, std::optional<uint32_t> errno_ret,
                        const std::string& field, const std::string& errno_field) {
  bool takes_errno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
  if (errno_ret && !takes_errno) {
    return invalid_field(
        field, cat("an errno return value needs SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ", name));
  }
  uint32_t e = errno_ret.value_or(EPERM);
  if (e > 0xffff) return invalid_field(errno_field, cat(e, " is out of range (at most 65535)"));
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(e);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(e);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") {
    return fail(Errc::Unsupported,
                cat(field,
                    ": SCMP_ACT_NOTIFY is not supported: a VM cannot pass the notification fd "
                    "to the host's listenerPath"));
  }
  return invalid_field(field, cat("unknown action ", quote(name)));
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
  return invalid_field(field, cat("unknown operator ", quote(op)));
}

Result<uint32_t> filter_flag(const std::string& name, const std::string& field) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") return 1u << 5;  // Linux 5.19
  return invalid_field(field, cat("unknown flag ", quote(name)));
}

// "SCMP_ARCH_X86_64" -> libseccomp's "x86_64".
Result<uint32_t> arch_token(const std::string& name, const std::string& field) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.rfind(kPrefix, 0) != 0)
    return invalid_field(field, cat("unknown architecture ", quote(name)));
  std::string lower;
  for (char c : name.substr(kPrefix.size()))
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t token = seccomp_arch_resolve_name(lower.c_str());
  if (token == 0) return invalid_field(field, cat("unknown architecture ", quote(name)));
  return token;
}

// x86_64's x32 ABI: the same AUDIT_ARCH, syscall numbers with this bit set.
constexpr uint32_t kX32SyscallBit = 0x40000000;

sock_filter stmt(uint16_t code, uint32_t k) {
  return sock_filter{code, 0, 0, k};
}

// Default actions that let an unknown syscall through (or hand it to a
// tracer, which can answer ENOSYS itself): no stub, as with runc.
bool lets_unknown_through(uint32_t def) {
  return def == SCMP_ACT_ALLOW || def == SCMP_ACT_LOG || (def & 0xffff0000U) == SCMP_ACT_TRACE(0) ||
         def == SCMP_ACT_ERRNO(ENOSYS);
}

}  // namespace

std::vector<SyscallLimit> syscall_limits(const oci::Seccomp& p) {
  std::vector<uint32_t> arches;
  if (p.architectures) {
    for (const auto& name : *p.architectures) {
      auto token = arch_token(name, "");
      if (token) arches.push_back(*token);
    }
  }
  if (arches.empty()) arches.push_back(seccomp_arch_native());
  std::vector<SyscallLimit> out;
  for (uint32_t arch : arches) {
    int max = -1;
    if (p.syscalls) {
      for (const auto& sc : *p.syscalls) {
        for (const auto& name : sc.names) {
          int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
          if (nr >= 0 && nr > max) max = nr;  // < 0: unknown, or a pseudo-syscall on this arch
        }
      }
    }
    if (max < 0) continue;
    SyscallLimit l;
    l.x32 = arch == SCMP_ARCH_X32;
    l.audit_arch = l.x32 ? SCMP_ARCH_X86_64 : arch;  // the other tokens are AUDIT_ARCH values
    l.max_nr = static_cast<uint32_t>(max);
    bool dup = false;
    for (const auto& o : out) dup = dup || (o.audit_arch == l.audit_arch && o.x32 == l.x32);
    if (!dup) out.push_back(l);
  }
  return out;
}

std::vector<sock_filter> enosys_stub(const std::vector<SyscallLimit>& limits) {
  if (limits.empty()) return {};
  // Group by AUDIT_ARCH: x86_64 can come twice (native and x32).
  struct Arch {
    uint32_t audit;
    std::optional<uint32_t> native_max, x32_max;
  };
  std::vector<Arch> arches;
  for (const auto& l : limits) {
    Arch* a = nullptr;
    for (auto& x : arches) a = x.audit == l.audit_arch ? &x : a;
    if (!a) a = &arches.emplace_back(Arch{l.audit_arch, std::nullopt, std::nullopt});
    (l.x32 ? a->x32_max : a->native_max) = l.max_nr;
  }
  // Built with symbolic targets, then resolved: -1 is the ENOSYS return,
  // -2 the start of the profile's filter, n >= 0 the instruction index n.
  constexpr int kEnosys = -1, kFilter = -2;
  struct Insn {
    sock_filter f;
    int jt = 0, jf = 0;  // targets when a conditional jump; 0 = next
    bool cond = false;
  };
  std::vector<Insn> code;
  auto jump = [&](uint16_t op, uint32_t k, int jt, int jf) {
    code.push_back(Insn{stmt(static_cast<uint16_t>(BPF_JMP | op | BPF_K), k), jt, jf, true});
  };
  auto next = [&] { return static_cast<int>(code.size()) + 1; };
  code.push_back(Insn{stmt(BPF_LD | BPF_W | BPF_ABS, 4)});  // seccomp_data.arch
  for (size_t i = 0; i < arches.size(); ++i) {
    const Arch& a = arches[i];
    size_t check = code.size();
    jump(BPF_JEQ, a.audit, next(), 0);  // jf patched below: the next arch's check
    code.push_back(Insn{stmt(BPF_LD | BPF_W | BPF_ABS, 0)});  // seccomp_data.nr
    if (a.x32_max && a.native_max) {
      // x32 calls to the second compare, the others to the first.
      jump(BPF_JSET, kX32SyscallBit, next() + 1, next());
      jump(BPF_JGT, *a.native_max, kEnosys, kFilter);
      jump(BPF_JGT, *a.x32_max, kEnosys, kFilter);
    } else if (a.x32_max) {
      jump(BPF_JSET, kX32SyscallBit, next(), kFilter);
      jump(BPF_JGT, *a.x32_max, kEnosys, kFilter);
    } else if (a.audit == SCMP_ARCH_X86_64) {
      jump(BPF_JSET, kX32SyscallBit, kFilter, next());
      jump(BPF_JGT, *a.native_max, kEnosys, kFilter);
    } else {
      jump(BPF_JGT, *a.native_max, kEnosys, kFilter);
    }
    code[check].jf = i + 1 < arches.size() ? static_cast<int>(code.size()) : kFilter;
  }
  size_t enosys_at = code.size();
  size_t filter_at = enosys_at + 1;
  std::vector<sock_filter> out;
  for (size_t pc = 0; pc < code.size(); ++pc) {
    sock_filter f = code[pc].f;
    if (code[pc].cond) {
      auto resolve = [&](int target) -> uint8_t {
        size_t to = target == kEnosys   ? enosys_at
                    : target == kFilter ? filter_at
                                        : static_cast<size_t>(target);
        return static_cast<uint8_t>(to - (pc + 1));  // forward, a few dozen at most
      };
      f.jt = resolve(code[pc].jt);
      f.jf = resolve(code[pc].jf);
    }
    out.push_back(f);
  }
  out.push_back(stmt(BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS)));
  return out;
}

Result<SeccompProgram> compile_seccomp(const oci::Seccomp& p) {
  const std::string base = "linux.seccomp";
  HULL_ASSIGN(def, action(p.default_action, p.default_errno_ret, base + ".defaultAction",
                          base + ".defaultErrnoRet"));
  Ctx ctx(seccomp_init(def));
  if (!ctx) return invalid_field(base + ".defaultAction", "libseccomp refused the default action");
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
      HULL_ASSIGN(act, action(sc.action, sc.errno_ret, sf + ".action", sf + ".errnoRet"));
      std::vector<scmp_arg_cmp> conds;
      std::array<int, 6> per_index{};
      if (sc.args) {
        for (size_t a = 0; a < sc.args->size(); ++a) {
          const auto& arg = (*sc.args)[a];
          std::string af = cat(sf, ".args[", a, "]");
          if (arg.index >= 6) return invalid_field(af + ".index", "must be less than 6");
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
                              cat(nf, ": libseccomp refused the rule for ", quote(name))});
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
  std::string stub;
  if (!lets_unknown_through(def)) {
    auto insns = enosys_stub(syscall_limits(p));
    stub.assign(reinterpret_cast<const char*>(insns.data()),  // raw struct bytes, as exported
                insns.size() * sizeof(sock_filter));
  }
  out.bpf.resize(static_cast<size_t>(size));
  if (::pread(mem.get(), out.bpf.data(), out.bpf.size(), 0) != size)
    return fail_errno("seccomp: read BPF");
  out.bpf.insert(0, stub);
  size_t insns = out.bpf.size() / sizeof(sock_filter);
  if (insns > BPF_MAXINSNS) {
    return invalid_field(base,
                         cat("the profile compiles to ", insns,
                             " BPF instructions, more than the kernel's limit of ", BPF_MAXINSNS,
                             "; merge rules (one rule may name many syscalls)"));
  }
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
