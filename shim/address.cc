#include "shim/address.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <vector>

#include "common/container_id.h"

namespace hull::shim {

Result<std::string> group_of(const std::map<std::string, std::string>& annotations,
                             const std::string& task_id) {
  auto it = annotations.find(std::string(kSandboxIdAnnotation));
  if (it == annotations.end() || it->second.empty()) return task_id;
  if (auto st = validate_container_id(it->second); !st) {
    return fail(
        std::move(st.error()).wrap("config.json: annotation " + std::string(kSandboxIdAnnotation)));
  }
  return it->second;
}

std::string join_clean(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!joined.empty()) joined += '/';
    joined += p;
  }
  if (joined.empty()) return "";
  const bool absolute = joined[0] == '/';
  std::vector<std::string_view> out;
  std::string_view rest = joined;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!absolute) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string clean = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) clean += '/';
    clean += out[i];
  }
  return clean.empty() ? "." : clean;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest cannot fail for SHA-256 on valid arguments (the fatal list).
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string socket_address(std::string_view grpc_address, std::string_view ns,
                           std::string_view group) {
  return "unix://" + std::string(kSocketDir) + "/" +
         sha256_hex(join_clean({grpc_address, ns, group}));
}

std::string socket_path_of(std::string_view address) {
  constexpr std::string_view kScheme = "unix://";
  if (address.starts_with(kScheme)) address.remove_prefix(kScheme.size());
  return std::string(address);
}

}  // namespace hull::shim
