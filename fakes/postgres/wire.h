// The PostgreSQL v3 wire format: framing of frontend messages and building of backend messages.
//
// `FrameReader` cuts a byte stream into messages: first the untyped startup packet (length, then
// body), then typed messages (type byte, length, body). It enforces the limits the real server
// enforces (a startup packet of at most 10000 bytes, a message length of at least 4) plus a
// configurable maximum message size, and reports a violation as a ProtocolError, never by
// reading past its input. `MessageReader` reads the fields of one body, throwing ProtocolError on
// a truncated field. `MessageWriter` builds backend messages. All are value types;
// thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline::pg {

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t kProtocolVersion3 = 196608;  // 3.0
inline constexpr std::uint32_t kSslRequestCode = 80877103;
inline constexpr std::uint32_t kGssEncRequestCode = 80877104;
inline constexpr std::uint32_t kCancelRequestCode = 80877102;
inline constexpr std::size_t kMaxStartupPacket = 10000;

struct Frame {
  char type = 0;     // 0 for a startup-phase packet
  std::string body;  // without type and length
};

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message_bytes) : max_(max_message_bytes) {}

  void append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, or nullopt if more bytes are needed. `startup` selects the untyped
  // startup-packet framing. Throws ProtocolError on a bad length.
  std::optional<Frame> next(bool startup);
  std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
  std::size_t max_;
};

class MessageReader {
 public:
  explicit MessageReader(std::string_view body) : body_(body) {}
  std::uint8_t byte();
  std::int16_t int16();
  std::int32_t int32();
  std::string cstring();
  std::string bytes(std::size_t n);
  bool done() const { return pos_ == body_.size(); }
  std::size_t remaining() const { return body_.size() - pos_; }

 private:
  std::string_view body_;
  std::size_t pos_ = 0;
};

class MessageWriter {
 public:
  // Starts a message of `type`; `finish` fills in its length. One message at a time.
  MessageWriter& begin(char type);
  MessageWriter& int16(std::int16_t v);
  MessageWriter& int32(std::int32_t v);
  MessageWriter& cstring(std::string_view s);
  MessageWriter& bytes(std::string_view s);
  MessageWriter& byte(char c);
  MessageWriter& finish();
  // Everything written so far; clears the writer.
  std::string take();
  bool empty() const { return out_.empty(); }

 private:
  std::string out_;
  std::size_t start_ = 0;
};

}  // namespace faultline::pg
