#include "agent/net/rtnl.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "agent/net/netlink.h"

namespace hull::agent::net {
namespace {

// A dump datagram is at most a page or two; 64 KiB leaves room (MSG_TRUNC catches more).
constexpr size_t kReceiveBytes = 64 * 1024;
// No rtnetlink request the agent makes takes this long; the kernel answers at once.
constexpr int kReplyTimeoutMs = 5000;
// The largest dump the agent reads (links, addresses, routes or neighbours).
constexpr size_t kMaxDumpMessages = 65536;

uint32_t seq_of(const std::vector<uint8_t>& msg) {
  nlmsghdr h{};
  std::memcpy(&h, msg.data(), sizeof h);  // built by NlBuilder: at least a header
  return h.nlmsg_seq;
}

}  // namespace

Result<Rtnl> Rtnl::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return fail_errno("opening an rtnetlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return fail_errno("binding an rtnetlink socket");
  }
  int one = 1;
  // Ask for the extended ack (an error message names the bad attribute); best effort.
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  return Rtnl(std::move(fd));
}

Status Rtnl::send(const std::vector<uint8_t>& msg, std::string_view what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n = ::sendto(fd_.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                       sizeof kernel);
  if (n < 0) return fail_errno(std::string(what) + ": sending the netlink request");
  if (static_cast<size_t>(n) != msg.size()) {
    return fail(Errc::System, std::string(what) + ": the netlink request was sent short");
  }
  return {};
}

Result<std::vector<uint8_t>> Rtnl::receive(std::string_view what) {
  pollfd p{fd_.get(), POLLIN, 0};
  int r = ::poll(&p, 1, kReplyTimeoutMs);
  if (r < 0) return fail_errno(std::string(what) + ": waiting for the kernel's answer");
  if (r == 0) {
    return fail(Errc::Timeout, std::string(what) + ": the kernel did not answer within " +
                                   std::to_string(kReplyTimeoutMs) + " ms");
  }
  std::vector<uint8_t> buf(kReceiveBytes);
  ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
  if (n < 0) return fail_errno(std::string(what) + ": reading the kernel's answer");
  if (static_cast<size_t>(n) > buf.size()) {
    return fail(Errc::Internal, std::string(what) + ": a netlink answer of " + std::to_string(n) +
                                    " bytes does not fit " + std::to_string(buf.size()));
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

Status Rtnl::call(const std::vector<uint8_t>& msg, std::string_view what) {
  HULL_TRY(send(msg, what));
  uint32_t seq = seq_of(msg);
  for (;;) {
    HULL_ASSIGN(buf, receive(what));
    HULL_ASSIGN(msgs, wrap(split_messages(buf), what));
    for (const NlMessage& m : msgs) {
      if (m.seq != seq || m.type != NLMSG_ERROR) continue;
      HULL_ASSIGN(err, wrap(parse_error(m), what));
      if (err != 0) return fail_errno(std::string(what), err);
      return {};
    }
  }
}

Result<std::vector<std::vector<uint8_t>>> Rtnl::dump(const std::vector<uint8_t>& msg,
                                                     std::string_view what) {
  HULL_TRY(send(msg, what));
  uint32_t seq = seq_of(msg);
  std::vector<std::vector<uint8_t>> out;
  for (;;) {
    HULL_ASSIGN(buf, receive(what));
    HULL_ASSIGN(msgs, wrap(split_messages(buf), what));
    for (const NlMessage& m : msgs) {
      if (m.seq != seq) continue;
      if (m.type == NLMSG_DONE) return out;
      if (m.type == NLMSG_ERROR) {
        HULL_ASSIGN(err, wrap(parse_error(m), what));
        if (err != 0) return fail_errno(std::string(what), err);
        continue;
      }
      if (out.size() >= kMaxDumpMessages) {
        return fail(Errc::Internal, std::string(what) + ": more than " +
                                        std::to_string(kMaxDumpMessages) + " objects");
      }
      // Keep the message whole (header + payload) so the parsers see what the kernel sent.
      const uint8_t* start = m.payload.data() - sizeof(nlmsghdr);
      out.emplace_back(start, m.payload.data() + m.payload.size());
    }
  }
}

}  // namespace hull::agent::net
