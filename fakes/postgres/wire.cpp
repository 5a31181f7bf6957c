#include "fakes/postgres/wire.h"

#include <arpa/inet.h>

#include <cstring>

namespace faultline::pg {

namespace {

std::uint32_t read_u32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

}  // namespace

std::optional<Frame> FrameReader::next(bool startup) {
  const std::size_t header = startup ? 4 : 5;
  if (buffered() < header) return std::nullopt;
  const char* p = buffer_.data() + offset_;
  Frame frame;
  if (!startup) frame.type = p[0];
  const std::uint32_t length = read_u32(p + (startup ? 0 : 1));
  if (startup && (length < 8 || length > kMaxStartupPacket)) {
    throw ProtocolError("invalid length of startup packet");
  }
  if (!startup && (length < 4 || length - 4 > max_)) {
    throw ProtocolError("invalid message length");
  }
  const std::size_t total = (startup ? 0 : 1) + static_cast<std::size_t>(length);
  if (buffered() < total) return std::nullopt;
  frame.body.assign(p + header, total - header);
  offset_ += total;
  if (offset_ > 65536 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  } else if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return frame;
}

std::uint8_t MessageReader::byte() {
  if (remaining() < 1) throw ProtocolError("insufficient data left in message");
  return static_cast<std::uint8_t>(body_[pos_++]);
}

std::int16_t MessageReader::int16() {
  if (remaining() < 2) throw ProtocolError("insufficient data left in message");
  std::uint16_t v;
  std::memcpy(&v, body_.data() + pos_, 2);
  pos_ += 2;
  return static_cast<std::int16_t>(ntohs(v));
}

std::int32_t MessageReader::int32() {
  if (remaining() < 4) throw ProtocolError("insufficient data left in message");
  const std::uint32_t v = read_u32(body_.data() + pos_);
  pos_ += 4;
  return static_cast<std::int32_t>(v);
}

std::string MessageReader::cstring() {
  const std::size_t end = body_.find('\0', pos_);
  if (end == std::string_view::npos) throw ProtocolError("invalid string in message");
  std::string s(body_.substr(pos_, end - pos_));
  pos_ = end + 1;
  return s;
}

std::string MessageReader::bytes(std::size_t n) {
  if (remaining() < n) throw ProtocolError("insufficient data left in message");
  std::string s(body_.substr(pos_, n));
  pos_ += n;
  return s;
}

MessageWriter& MessageWriter::begin(char type) {
  out_.push_back(type);
  start_ = out_.size();
  out_.append(4, '\0');
  return *this;
}

MessageWriter& MessageWriter::int16(std::int16_t v) {
  const std::uint16_t n = htons(static_cast<std::uint16_t>(v));
  out_.append(reinterpret_cast<const char*>(&n), 2);
  return *this;
}

MessageWriter& MessageWriter::int32(std::int32_t v) {
  const std::uint32_t n = htonl(static_cast<std::uint32_t>(v));
  out_.append(reinterpret_cast<const char*>(&n), 4);
  return *this;
}

MessageWriter& MessageWriter::cstring(std::string_view s) {
  out_.append(s);
  out_.push_back('\0');
  return *this;
}

MessageWriter& MessageWriter::bytes(std::string_view s) {
  out_.append(s);
  return *this;
}

MessageWriter& MessageWriter::byte(char c) {
  out_.push_back(c);
  return *this;
}

MessageWriter& MessageWriter::finish() {
  const std::uint32_t n = htonl(static_cast<std::uint32_t>(out_.size() - start_));
  std::memcpy(out_.data() + start_, &n, 4);
  return *this;
}

std::string MessageWriter::take() {
  std::string s;
  s.swap(out_);
  return s;
}

}  // namespace faultline::pg
