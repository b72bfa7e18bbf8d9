#include "agent/engine/device_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <map>
#include <tuple>

#include "agent/engine/str.h"
#include "common/text.h"

namespace hull::engine {
namespace {

constexpr int64_t kMaxDevNumber = 0xffffffffLL;

constexpr std::array<DefaultDevice, 11> kDefaults{{
    {nullptr, 'c', -1, -1, kDevAccMknod},
    {nullptr, 'b', -1, -1, kDevAccMknod},
    {"/dev/null", 'c', 1, 3, kDevAccAll},
    {"/dev/random", 'c', 1, 8, kDevAccAll},
    {"/dev/full", 'c', 1, 7, kDevAccAll},
    {"/dev/tty", 'c', 5, 0, kDevAccAll},
    {"/dev/zero", 'c', 1, 5, kDevAccAll},
    {"/dev/urandom", 'c', 1, 9, kDevAccAll},
    {nullptr, 'c', 136, -1, kDevAccAll},  // /dev/pts/*
    {nullptr, 'c', 5, 2, kDevAccAll},     // /dev/ptmx
    {nullptr, 'c', 10, 200, kDevAccAll},  // /dev/net/tun
}};

std::string number(int64_t n) {
  return n < 0 ? std::string("*") : std::to_string(n);
}

std::string access_letters(uint8_t a) {
  std::string s;
  if (a & kDevAccRead) s += 'r';
  if (a & kDevAccWrite) s += 'w';
  if (a & kDevAccMknod) s += 'm';
  return s;
}

std::string describe(const DeviceRule& r) {
  return cat(r.type, " ", number(r.major), ":", number(r.minor), " ", access_letters(r.access));
}

using Key = std::tuple<char, int64_t, int64_t>;  // type, major, minor

// ---- instruction encoding (linux/bpf.h, classic names) ---------------------

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// dst = *(u32 *)(src + off)
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
// 32-bit ALU with an immediate: dst op= imm
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(static_cast<uint8_t>(BPF_ALU | op | BPF_K), dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
// 32-bit compare (JMP32, Linux 5.1): the numbers are u32, an imm above 2^31
// would be sign-extended by a 64-bit compare.
bpf_insn jmp32_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return insn(static_cast<uint8_t>(BPF_JMP32 | op | BPF_K), dst, 0, off, imm);
}
bpf_insn jmp32_reg(uint8_t op, uint8_t dst, uint8_t src, int16_t off) {
  return insn(static_cast<uint8_t>(BPF_JMP32 | op | BPF_X), dst, src, off, 0);
}
bpf_insn exit_insn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// Registers: r2 = device type, r3 = access asked for, r4 = major, r5 = minor,
// r1 = scratch once the context is read.
constexpr uint8_t kR0 = 0, kR1 = 1, kR2 = 2, kR3 = 3, kR4 = 4, kR5 = 5;

}  // namespace

Result<std::vector<DeviceRule>> device_rules(
    const std::optional<std::vector<oci::DeviceCgroup>>& rules,
    const std::optional<std::vector<oci::Device>>& devices) {
  std::vector<DeviceRule> out;
  if (rules) {
    for (size_t i = 0; i < rules->size(); ++i) {
      const oci::DeviceCgroup& d = (*rules)[i];
      DeviceRule r;
      r.field = cat("linux.resources.devices[", i, "]");
      std::string t = d.type.value_or("a");
      if (t != "a" && t != "b" && t != "c") {
        return invalid_field(r.field + ".type", cat("must be one of a, b, c, not ", quote(t)));
      }
      r.type = t[0];
      r.allow = d.allow;
      auto num = [&](const std::optional<int64_t>& v, const char* name) -> Result<int64_t> {
        int64_t n = v.value_or(-1);
        if (n < -1 || n > kMaxDevNumber) {
          return invalid_field(cat(r.field, ".", name),
                               cat(n, " is out of range (-1 or 0 to 4294967295)"));
        }
        return n;
      };
      HULL_ASSIGN(major, num(d.major, "major"));
      HULL_ASSIGN(minor, num(d.minor, "minor"));
      r.major = major;
      r.minor = minor;
      std::string acc = d.access.value_or("");
      if (acc.empty()) {
        return invalid_field(r.field + ".access",
                             "must not be empty (a combination of r, w and m)");
      }
      r.access = 0;
      for (char c : acc) {
        if (c == 'r') {
          r.access |= kDevAccRead;
        } else if (c == 'w') {
          r.access |= kDevAccWrite;
        } else if (c == 'm') {
          r.access |= kDevAccMknod;
        } else {
          return invalid_field(r.field + ".access",
                               cat(quote(acc), " must be made of the letters r, w and m"));
        }
      }
      out.push_back(std::move(r));
    }
  }
  for (const DefaultDevice& dd : kDefaults) {
    bool listed = false;
    if (dd.path && devices) {
      for (const auto& dev : *devices) listed = listed || dev.path == dd.path;
    }
    if (listed) continue;
    DeviceRule r{dd.type, dd.major, dd.minor, dd.access, true, ""};
    r.field = cat("default device rule ", describe(r));
    out.push_back(std::move(r));
  }
  return out;
}

std::span<const DefaultDevice> default_devices() {
  return kDefaults;
}

Result<DevicePolicy> reduce_device_rules(const std::vector<DeviceRule>& rules) {
  bool default_allow = false;
  std::map<Key, uint8_t> exceptions;
  for (const DeviceRule& r : rules) {
    if (r.type == 'a') {
      default_allow = r.allow;
      exceptions.clear();
      continue;
    }
    Key k{r.type, r.major, r.minor};
    if (r.allow != default_allow) {
      exceptions[k] |= r.access;
      continue;
    }
    // Taking access away: refuse where a wider exception keeps granting it.
    for (Key wide : {Key{r.type, -1, r.minor}, Key{r.type, r.major, -1}, Key{r.type, -1, -1}}) {
      if (wide == k) continue;
      auto it = exceptions.find(wide);
      if (it != exceptions.end() && (it->second & r.access)) {
        DeviceRule w{r.type, std::get<1>(wide), std::get<2>(wide), it->second, !r.allow, ""};
        return invalid_field(r.field, cat("cannot ", r.allow ? "allow " : "deny ", describe(r),
                                          " inside the wildcard rule ", describe(w), " that ",
                                          r.allow ? "denies" : "allows",
                                          " it; list the devices one by one instead"));
      }
    }
    auto it = exceptions.find(k);
    if (it != exceptions.end()) {
      it->second = static_cast<uint8_t>(it->second & ~r.access);
      if (it->second == 0) exceptions.erase(it);
    }
  }
  DevicePolicy p;
  p.default_allow = default_allow;
  for (const auto& [k, access] : exceptions) {
    p.exceptions.push_back(
        DeviceRule{std::get<0>(k), std::get<1>(k), std::get<2>(k), access, !default_allow, ""});
  }
  return p;
}

std::vector<bpf_insn> device_program(const DevicePolicy& policy) {
  std::vector<bpf_insn> p;
  // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
  // access_type: device type in the low 16 bits, access in the high 16.
  p.push_back(load_u32(kR2, kR1, 0));
  p.push_back(alu32_imm(BPF_AND, kR2, 0xffff));
  p.push_back(load_u32(kR3, kR1, 0));
  p.push_back(alu32_imm(BPF_RSH, kR3, 16));
  p.push_back(load_u32(kR4, kR1, 4));
  p.push_back(load_u32(kR5, kR1, 8));
  for (const DeviceRule& r : policy.exceptions) {
    bool check_access = r.access != kDevAccAll;  // every request has some bit of rwm
    bool check_major = r.major >= 0;
    bool check_minor = r.minor >= 0;
    // Every jump lands past this block's exit, on the next block.
    int16_t len = static_cast<int16_t>(1 + (check_access ? 3 : 0) + (check_major ? 1 : 0) +
                                       (check_minor ? 1 : 0) + 2);
    auto to_next = [&](size_t block_start) {
      return static_cast<int16_t>(block_start + static_cast<size_t>(len) - (p.size() + 1));
    };
    size_t start = p.size();
    int32_t type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    p.push_back(jmp32_imm(BPF_JNE, kR2, type, to_next(start)));
    if (check_access) {
      p.push_back(mov32_reg(kR1, kR3));
      p.push_back(alu32_imm(BPF_AND, kR1, r.access));
      if (r.allow) {  // every bit asked for is granted
        p.push_back(jmp32_reg(BPF_JNE, kR1, kR3, to_next(start)));
      } else {  // some bit asked for is denied
        p.push_back(jmp32_imm(BPF_JEQ, kR1, 0, to_next(start)));
      }
    }
    if (check_major) {
      p.push_back(jmp32_imm(BPF_JNE, kR4, static_cast<int32_t>(static_cast<uint32_t>(r.major)),
                            to_next(start)));
    }
    if (check_minor) {
      p.push_back(jmp32_imm(BPF_JNE, kR5, static_cast<int32_t>(static_cast<uint32_t>(r.minor)),
                            to_next(start)));
    }
    p.push_back(alu32_imm(BPF_MOV, kR0, r.allow ? 1 : 0));
    p.push_back(exit_insn());
  }
  p.push_back(alu32_imm(BPF_MOV, kR0, policy.default_allow ? 1 : 0));
  p.push_back(exit_insn());
  return p;
}

Result<DeviceFilter> DeviceFilter::attach(const std::string& cgroup_dir,
                                          const std::vector<bpf_insn>& insns) {
  DeviceFilter f;
  f.cgroup_.reset(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!f.cgroup_) return fail_errno(cat("linux.resources.devices: open cgroup ", cgroup_dir));
  static constexpr char kLicense[] = "GPL";
  std::string log(16 * 1024, '\0');
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = static_cast<uint32_t>(insns.size());
  load.insns = reinterpret_cast<uint64_t>(insns.data());  // the kernel's u64 pointer field
  load.license = reinterpret_cast<uint64_t>(kLicense);
  load.log_level = 1;
  load.log_size = static_cast<uint32_t>(log.size());
  load.log_buf = reinterpret_cast<uint64_t>(log.data());
  f.prog_.reset(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load))));
  if (!f.prog_) {
    int e = errno;
    log.resize(log.find('\0') == std::string::npos ? log.size() : log.find('\0'));
    while (!log.empty() && log.back() == '\n') log.pop_back();
    return fail(Error{Errc::Internal, e,
                      cat("linux.resources.devices: load the device program of ", insns.size(),
                          " instructions", log.empty() ? "" : cat(" (verifier: ", log, ")"))});
  }
  bpf_attr at{};
  at.target_fd = static_cast<uint32_t>(f.cgroup_.get());
  at.attach_bpf_fd = static_cast<uint32_t>(f.prog_.get());
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof(at)) < 0) {
    return fail_errno(cat("linux.resources.devices: attach the device program to ", cgroup_dir));
  }
  return f;
}

Status DeviceFilter::detach() {
  if (!prog_) return {};
  bpf_attr at{};
  at.target_fd = static_cast<uint32_t>(cgroup_.get());
  at.attach_bpf_fd = static_cast<uint32_t>(prog_.get());
  at.attach_type = BPF_CGROUP_DEVICE;
  long rc = ::syscall(SYS_bpf, BPF_PROG_DETACH, &at, sizeof(at));
  int e = errno;
  prog_.reset();
  cgroup_.reset();
  // ENOENT: not attached any more (the cgroup was removed).
  if (rc < 0 && e != ENOENT) {
    return fail(Error{Errc::Internal, e, "linux.resources.devices: detach the device program"});
  }
  return {};
}

}  // namespace hull::engine
