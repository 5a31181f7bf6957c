// RespParser: requests as redis-server accepts them, and its protocol errors.
#include <gtest/gtest.h>

#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {
namespace {

struct Parsed {
  std::vector<std::vector<std::string>> commands;
  std::string error;
};

Parsed parse_all(RespParser& p) {
  Parsed out;
  std::vector<std::string> argv;
  while (true) {
    const auto s = p.next(argv, out.error);
    if (s == RespParser::Status::kCommand) {
      out.commands.push_back(argv);
      continue;
    }
    return out;
  }
}

Parsed parse(const std::string& bytes, std::size_t chunk = 0) {
  RespParser p;
  Parsed out;
  if (chunk == 0) {
    p.feed(bytes);
    return parse_all(p);
  }
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    p.feed(std::string_view(bytes).substr(i, chunk));
    auto part = parse_all(p);
    out.commands.insert(out.commands.end(), part.commands.begin(), part.commands.end());
    if (!part.error.empty()) {
      out.error = part.error;
      break;
    }
  }
  return out;
}

using V = std::vector<std::vector<std::string>>;

TEST(RespParser, MultibulkAndInline) {
  const std::string input =
      "*2\r\n$4\r\nECHO\r\n$5\r\nhe\r\nl\r\nPING\r\n\r\nSET k \"a b\\x41\\n\" 'it\\'s'\n*0\r\n";
  const V expected = {{"ECHO", "he\r\nl"}, {"PING"}, {"SET", "k", "a bA\n", "it's"}};
  for (std::size_t chunk : {0, 1, 2, 3, 7}) {
    const auto r = parse(input, chunk);
    EXPECT_EQ(r.commands, expected) << "chunk " << chunk;
    EXPECT_EQ(r.error, "") << "chunk " << chunk;
  }
}

TEST(RespParser, ErrorsUseRedisServerTexts) {
  EXPECT_EQ(parse("*x\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(parse("*2000000000000\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(parse("*1\r\n+a\r\n").error, "Protocol error: expected '$', got '+'");
  EXPECT_EQ(parse("*1\r\n$-1\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(parse("*1\r\n$600000000\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(parse("*1\r\n$01\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(parse("ECHO \"abc\r\n").error, "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(parse("ECHO \"a\"b\r\n").error, "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(parse(std::string(70000, 'x')).error, "Protocol error: too big inline request");
  EXPECT_EQ(parse("*1\r\n" + std::string(70000, 'x')).error,
            "Protocol error: too big bulk count string");
  EXPECT_EQ(parse("*" + std::string(70000, '1')).error,
            "Protocol error: too big mbulk count string");
}

TEST(RespParser, CommandsBeforeAnErrorAreKeptAndTheErrorSticks) {
  RespParser p;
  p.feed("PING\r\n*x\r\nPING\r\n");
  const auto r = parse_all(p);
  EXPECT_EQ(r.commands, (V{{"PING"}}));
  EXPECT_EQ(r.error, "Protocol error: invalid multibulk length");
  p.feed("PING\r\n");
  std::vector<std::string> argv;
  std::string error;
  EXPECT_EQ(p.next(argv, error), RespParser::Status::kError);
}

TEST(RespParser, LikeRedisServerTheTwoBytesAfterABulkAreNotChecked) {
  EXPECT_EQ(parse("*1\r\n$3\r\nabcd\r\n").commands, (V{{"abc"}}));
}

TEST(RespParser, WaitsForALargeDeclaredBulkWithoutAllocatingIt) {
  RespParser p;
  p.feed("*2\r\n$3\r\nSET\r\n$100000000\r\nabc");
  std::vector<std::string> argv;
  std::string error;
  EXPECT_EQ(p.next(argv, error), RespParser::Status::kNeedMore);
  EXPECT_LT(p.buffered(), 100u);
}

TEST(RespParser, IntegersFollowString2ll) {
  long long v = 0;
  EXPECT_TRUE(parse_redis_integer("-9223372036854775808", v));
  EXPECT_EQ(v, std::numeric_limits<long long>::min());
  EXPECT_FALSE(parse_redis_integer("9223372036854775808", v));
  EXPECT_FALSE(parse_redis_integer("+1", v));
  EXPECT_FALSE(parse_redis_integer(" 1", v));
  EXPECT_FALSE(parse_redis_integer("01", v));
  EXPECT_FALSE(parse_redis_integer("-0", v));
  EXPECT_FALSE(parse_redis_integer("", v));
}

}  // namespace
}  // namespace faultline::fakes::redis
