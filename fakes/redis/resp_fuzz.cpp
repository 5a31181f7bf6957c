// libFuzzer target: the RESP parser and the command layer behind it.
//
// The first byte chooses how the rest is split into feeds, so request boundaries fall anywhere.
// Every request parsed is executed against an in-memory keyspace on a ManualClock (the same code
// a connection runs, without sockets). Checked: no crash or sanitizer report, and splitting the
// input differently yields the same requests and the same error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fakes/redis/commands.h"
#include "fakes/redis/keyspace.h"
#include "fakes/redis/resp.h"
#include "harness/core/clock.h"
#include "harness/core/rng.h"

namespace {

using faultline::fakes::redis::RespParser;

struct Outcome {
  std::vector<std::vector<std::string>> requests;
  std::string error;
};

Outcome parse(const std::string& input, std::size_t chunk) {
  RespParser parser;
  Outcome out;
  std::vector<std::string> argv;
  for (std::size_t i = 0; i < input.size() && out.error.empty(); i += chunk) {
    parser.feed(std::string_view(input).substr(i, chunk));
    while (true) {
      const auto s = parser.next(argv, out.error);
      if (s != RespParser::Status::kCommand) break;
      out.requests.push_back(argv);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 17;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = parse(input, input.size() + 1);
  const Outcome split = parse(input, chunk);
  if (whole.requests != split.requests || whole.error != split.error) __builtin_trap();

  using namespace faultline::fakes::redis;
  faultline::ManualClock clock;
  Keyspace keyspace(clock, faultline::Rng(1), 16);
  ServerState server;
  server.keyspace = &keyspace;
  ClientInfo client;
  server.clients.push_back(&client);
  std::string out;
  std::size_t executed = 0;
  for (const auto& argv : whole.requests) {
    if (++executed > 2000) break;
    CommandContext ctx{server, keyspace, client, out};
    execute_command(ctx, argv);
    clock.advance(std::chrono::milliseconds(argv.size()));
    if (out.size() > (1u << 20)) out.clear();
  }
  if (keyspace.used_memory() != keyspace.recount()) __builtin_trap();
  return 0;
}
