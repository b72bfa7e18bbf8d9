#include "common/dns_frame.h"

namespace hull::dns {

Result<Mode> parse_mode(uint8_t b) {
  if (b == static_cast<uint8_t>(Mode::Udp)) return Mode::Udp;
  if (b == static_cast<uint8_t>(Mode::Tcp)) return Mode::Tcp;
  return fail(Errc::GuestProtocol,
              "DNS relay stream: mode byte " + std::to_string(b) + " is neither 'U' nor 'T'");
}

Result<std::vector<uint8_t>> make_frame(std::span<const uint8_t> message) {
  if (message.size() < kHeaderBytes || message.size() > kMaxMessageBytes) {
    return fail(Errc::Invalid, "DNS message of " + std::to_string(message.size()) +
                                   " bytes (want " + std::to_string(kHeaderBytes) + "-" +
                                   std::to_string(kMaxMessageBytes) + ")");
  }
  std::vector<uint8_t> out;
  out.reserve(kLengthBytes + message.size());
  out.push_back(static_cast<uint8_t>(message.size() >> 8));
  out.push_back(static_cast<uint8_t>(message.size() & 0xff));
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

Result<std::optional<Frame>> take_frame(std::span<const uint8_t> buf) {
  if (buf.size() < kLengthBytes) return std::optional<Frame>();
  size_t len = (static_cast<size_t>(buf[0]) << 8) | buf[1];
  if (len < kHeaderBytes) {
    return fail(Errc::GuestProtocol, "DNS relay stream: a frame of " + std::to_string(len) +
                                         " bytes is shorter than a DNS header (" +
                                         std::to_string(kHeaderBytes) + ")");
  }
  if (buf.size() < kLengthBytes + len) return std::optional<Frame>();
  return std::optional<Frame>(Frame{buf.subspan(kLengthBytes, len), kLengthBytes + len});
}

uint16_t message_id(std::span<const uint8_t> message) {
  if (message.size() < 2) return 0;
  return static_cast<uint16_t>((message[0] << 8) | message[1]);
}

void FrameReader::feed(std::span<const uint8_t> bytes) {
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<std::vector<uint8_t>>> FrameReader::next() {
  HULL_ASSIGN(f, take_frame(buf_));
  if (!f) return std::optional<std::vector<uint8_t>>();
  std::vector<uint8_t> msg(f->message.begin(), f->message.end());
  buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(f->consumed));
  return std::optional<std::vector<uint8_t>>(std::move(msg));
}

}  // namespace hull::dns
