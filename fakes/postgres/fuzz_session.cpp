// libFuzzer target: arbitrary client bytes into a Session (wire framing, startup, the simple and
// extended protocols, and the SQL parser and executor behind them) with an in-memory host.
// The session must answer or close; it must never crash, read out of bounds or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fakes/postgres/catalog.h"
#include "fakes/postgres/session.h"
#include "harness/core/clock.h"

namespace {

using namespace faultline::pg;

class Host : public SessionHost {
 public:
  Host() {
    ctx_.catalog = &catalog_;
    ctx_.clock = &clock_;
    ctx_.activity = [] { return std::vector<Activity>{}; };
  }
  ServerContext& sql() override { return ctx_; }
  AuthMethod auth_method() const override { return AuthMethod::trust; }
  std::optional<std::string> password_of(const std::string&) const override {
    return std::string();
  }
  bool database_exists(const std::string&) const override { return true; }
  std::size_t max_message_bytes() const override { return 1 << 16; }
  std::optional<SqlError> admit(Session&) override { return std::nullopt; }
  void leave(Session&) override {}
  void cancel(std::int32_t, std::int32_t) override {}
  QueryFaultAction query_fault(const std::string&) override { return {}; }
  std::int32_t next_pid() override { return 1; }
  std::uint32_t random32() override { return 42; }

 private:
  faultline::ManualClock clock_;
  Catalog catalog_;
  ServerContext ctx_;
};

class Io : public SessionIo {
 public:
  void send(std::string bytes) override { sent += bytes.size(); }
  void close() override { closed = true; }
  std::uint64_t schedule(std::chrono::nanoseconds, std::function<void()>) override { return 1; }
  void cancel_scheduled(std::uint64_t) override {}
  std::size_t sent = 0;
  bool closed = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Host host;
  Io io;
  Session session(host, io);
  // A valid startup first half the time, so the fuzzer reaches the message handlers quickly.
  if (size > 0 && (data[0] & 1)) {
    static const char kStartup[] = "\0\0\0\x17\0\3\0\0user\0fuzz\0\0";
    session.receive(std::string_view(kStartup, sizeof kStartup - 1));
    ++data;
    --size;
  }
  session.receive(std::string_view(reinterpret_cast<const char*>(data), size));
  session.disconnected();
  return 0;
}
