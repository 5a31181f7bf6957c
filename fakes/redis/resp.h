// RESP2: the incremental request parser of the Redis fake and the reply encoders.
//
// `RespParser` accepts what redis-server 7 accepts from a client: multibulk requests
// (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and inline commands (`SET k "v w"\r\n`, with the quoting
// rules of sdssplitargs). It enforces redis-server's limits — 64 KiB for an inline request or a
// count line (PROTO_INLINE_MAX_SIZE), proto-max-bulk-len (512 MiB) for one argument, INT_MAX for a
// multibulk count — and reports a violation with redis-server's exact text (without the "-ERR "
// prefix); after an error the parser is dead, as redis-server closes the connection. Like
// redis-server it skips the two bytes after a bulk payload without checking them, and silently
// skips empty requests (`*0`, `*-1`, blank inline lines).
//
// Thread safety: a parser is a value owned by one connection; no sharing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::fakes::redis {

struct RespLimits {
  std::size_t max_inline = 64 * 1024;               // PROTO_INLINE_MAX_SIZE
  std::int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  std::int64_t max_multibulk_len = 2147483647;      // INT_MAX
};

class RespParser {
 public:
  enum class Status { kCommand, kNeedMore, kError };

  explicit RespParser(RespLimits limits = RespLimits()) : limits_(limits) {}

  // Appends received bytes.
  void feed(std::string_view bytes);
  // The next complete request into `argv` (kCommand), or kNeedMore, or kError with `error` set to
  // redis-server's text, e.g. "Protocol error: invalid bulk length". Errors are sticky.
  Status next(std::vector<std::string>& argv, std::string& error);
  // Bytes received and not yet consumed.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  Status parse_inline(std::vector<std::string>& argv, std::string& error);
  Status parse_multibulk(std::vector<std::string>& argv, std::string& error);
  Status fail(std::string& error, std::string text);
  void compact();

  RespLimits limits_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  std::string failure_;
  // Multibulk state carried across feeds.
  std::int64_t pending_args_ = 0;     // arguments still to read; 0 = between requests
  std::int64_t pending_bulk_ = -1;    // length of the bulk being read, -1 = expecting '$' line
  std::vector<std::string> partial_;  // arguments read so far
};

// Redis's string2ll: an optional '-', digits without leading zeros, no '+' or spaces, in range.
bool parse_redis_integer(std::string_view text, long long& out);

// Splits an inline request as sdssplitargs does; false on unbalanced quotes.
bool split_inline_args(std::string_view line, std::vector<std::string>& out);

// Reply encoders: each appends one RESP2 value to `out`.
void add_status(std::string& out, std::string_view text);  // +text
void add_error(std::string& out, std::string_view text);   // -text (text starts with the code)
void add_integer(std::string& out, long long value);
void add_bulk(std::string& out, std::string_view value);
void add_null(std::string& out);        // $-1
void add_null_array(std::string& out);  // *-1
void add_array_header(std::string& out, std::size_t count);

}  // namespace faultline::fakes::redis
