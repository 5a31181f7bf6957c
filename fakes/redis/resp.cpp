#include "fakes/redis/resp.h"

#include <charconv>
#include <cstring>

namespace faultline::fakes::redis {

namespace {

// redis-server scans its query buffer with strchr, which stops at a NUL byte; a line containing
// NUL before its terminator is therefore "not found yet". Returns npos in that case too.
std::size_t find_like_strchr(const std::string& buf, std::size_t from, char c) {
  for (std::size_t i = from; i < buf.size(); ++i) {
    if (buf[i] == c) return i;
    if (buf[i] == '\0') return std::string::npos;
  }
  return std::string::npos;
}

}  // namespace

bool parse_redis_integer(std::string_view s, long long& out) {
  if (s.empty() || s.size() > 20) return false;
  if (s.size() == 1 && s[0] == '0') {
    out = 0;
    return true;
  }
  bool negative = false;
  std::size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  unsigned long long v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const unsigned d = static_cast<unsigned>(s[i] - '0');
    if (v > (~0ULL - d) / 10) return false;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > 9223372036854775808ULL) return false;
    out = v == 9223372036854775808ULL ? (-9223372036854775807LL - 1) : -static_cast<long long>(v);
  } else {
    if (v > 9223372036854775807ULL) return false;
    out = static_cast<long long>(v);
  }
  return true;
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool split_inline_args(std::string_view line, std::vector<std::string>& out) {
  // sdssplitargs works on a C string: stop at the first NUL.
  if (const auto nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  std::size_t p = 0;
  const auto at = [&](std::size_t i) { return i < line.size() ? line[i] : '\0'; };
  while (true) {
    while (p < line.size() && is_space(line[p])) ++p;
    if (p >= line.size()) return true;
    bool in_double = false, in_single = false, done = false;
    std::string current;
    while (!done) {
      const char c = at(p);
      if (in_double) {
        if (c == '\\' && at(p + 1) == 'x' && hex_value(at(p + 2)) >= 0 &&
            hex_value(at(p + 3)) >= 0) {
          current.push_back(static_cast<char>(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3))));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          ++p;
          switch (at(p)) {
            case 'n':
              current.push_back('\n');
              break;
            case 'r':
              current.push_back('\r');
              break;
            case 't':
              current.push_back('\t');
              break;
            case 'b':
              current.push_back('\b');
              break;
            case 'a':
              current.push_back('\a');
              break;
            default:
              current.push_back(at(p));
              break;
          }
        } else if (c == '"') {
          if (at(p + 1) != '\0' && !is_space(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          current.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && at(p + 1) == '\'') {
          ++p;
          current.push_back('\'');
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !is_space(at(p + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          current.push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            current.push_back(c);
            break;
        }
      }
      if (at(p) != '\0') ++p;
    }
    out.push_back(std::move(current));
  }
}

void RespParser::feed(std::string_view bytes) {
  if (failed_) return;
  compact();
  buf_.append(bytes.data(), bytes.size());
}

void RespParser::compact() {
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 64 * 1024)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

RespParser::Status RespParser::fail(std::string& error, std::string text) {
  failed_ = true;
  failure_ = std::move(text);
  error = failure_;
  buf_.clear();
  pos_ = 0;
  return Status::kError;
}

RespParser::Status RespParser::next(std::vector<std::string>& argv, std::string& error) {
  argv.clear();
  if (failed_) {
    error = failure_;
    return Status::kError;
  }
  while (pos_ < buf_.size()) {
    const bool multibulk = pending_args_ > 0 || buf_[pos_] == '*';
    const Status s = multibulk ? parse_multibulk(argv, error) : parse_inline(argv, error);
    if (s != Status::kCommand) return s;
    if (!argv.empty()) return Status::kCommand;
    // An empty request: redis-server ignores it and goes on.
  }
  return Status::kNeedMore;
}

RespParser::Status RespParser::parse_inline(std::vector<std::string>& argv, std::string& error) {
  std::size_t newline = find_like_strchr(buf_, pos_, '\n');
  if (newline == std::string::npos) {
    if (buffered() > limits_.max_inline)
      return fail(error, "Protocol error: too big inline request");
    return Status::kNeedMore;
  }
  std::size_t terminator = 1;
  if (newline != pos_ && buf_[newline - 1] == '\r') {
    --newline;
    terminator = 2;
  }
  const std::string_view line(buf_.data() + pos_, newline - pos_);
  if (!split_inline_args(line, argv)) {
    argv.clear();
    return fail(error, "Protocol error: unbalanced quotes in request");
  }
  pos_ = newline + terminator;
  return Status::kCommand;
}

RespParser::Status RespParser::parse_multibulk(std::vector<std::string>& argv, std::string& error) {
  if (pending_args_ == 0) {
    const std::size_t newline = find_like_strchr(buf_, pos_, '\r');
    if (newline == std::string::npos) {
      if (buffered() > limits_.max_inline) {
        return fail(error, "Protocol error: too big mbulk count string");
      }
      return Status::kNeedMore;
    }
    if (newline + 2 > buf_.size()) return Status::kNeedMore;  // the byte after '\r' is missing
    long long count = 0;
    const std::string_view digits(buf_.data() + pos_ + 1, newline - pos_ - 1);
    if (!parse_redis_integer(digits, count) || count > limits_.max_multibulk_len) {
      return fail(error, "Protocol error: invalid multibulk length");
    }
    pos_ = newline + 2;
    if (count <= 0) return Status::kCommand;  // empty request, argv stays empty
    pending_args_ = count;
    pending_bulk_ = -1;
    partial_.clear();
  }
  while (pending_args_ > 0) {
    if (pending_bulk_ < 0) {
      const std::size_t newline = find_like_strchr(buf_, pos_, '\r');
      if (newline == std::string::npos) {
        if (buffered() > limits_.max_inline) {
          return fail(error, "Protocol error: too big bulk count string");
        }
        return Status::kNeedMore;
      }
      if (newline + 2 > buf_.size()) return Status::kNeedMore;
      if (buf_[pos_] != '$') {
        return fail(error, std::string("Protocol error: expected '$', got '") + buf_[pos_] + "'");
      }
      long long len = 0;
      const std::string_view digits(buf_.data() + pos_ + 1, newline - pos_ - 1);
      if (!parse_redis_integer(digits, len) || len < 0 || len > limits_.max_bulk_len) {
        return fail(error, "Protocol error: invalid bulk length");
      }
      pos_ = newline + 2;
      pending_bulk_ = len;
    }
    const auto need = static_cast<std::size_t>(pending_bulk_) + 2;
    if (buffered() < need) return Status::kNeedMore;
    partial_.emplace_back(buf_.data() + pos_, static_cast<std::size_t>(pending_bulk_));
    pos_ += need;  // like redis-server, the two bytes after the payload are not checked
    pending_bulk_ = -1;
    --pending_args_;
  }
  argv.swap(partial_);
  partial_.clear();
  return Status::kCommand;
}

void add_status(std::string& out, std::string_view text) {
  out += '+';
  out.append(text);
  out += "\r\n";
}

void add_error(std::string& out, std::string_view text) {
  out += '-';
  // A reply line must not contain CR or LF; redis-server replaces them with spaces.
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

void add_integer(std::string& out, long long value) {
  char tmp[32];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, value);
  (void)ec;
  out += ':';
  out.append(tmp, end);
  out += "\r\n";
}

void add_bulk(std::string& out, std::string_view value) {
  char tmp[32];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, value.size());
  (void)ec;
  out += '$';
  out.append(tmp, end);
  out += "\r\n";
  out.append(value);
  out += "\r\n";
}

void add_null(std::string& out) {
  out += "$-1\r\n";
}

void add_null_array(std::string& out) {
  out += "*-1\r\n";
}

void add_array_header(std::string& out, std::size_t count) {
  char tmp[32];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, count);
  (void)ec;
  out += '*';
  out.append(tmp, end);
  out += "\r\n";
}

}  // namespace faultline::fakes::redis
