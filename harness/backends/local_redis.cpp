#include "harness/backends/local_redis.h"

#include <hiredis/hiredis.h>

#include <fstream>
#include <sstream>

#include "harness/backends/local_backend.h"
#include "harness/core/ports.h"
#include "harness/stack/values.h"

namespace faultline::backends {
namespace {

class LocalRedisHandle final : public stack::ServiceHandle {
 public:
  LocalRedisHandle(Child child, int port, std::filesystem::path log)
      : child_(std::move(child)), log_(std::move(log)) {
    endpoint_.host = "127.0.0.1";
    endpoint_.port = port;
    endpoint_.url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
    endpoint_.exports["REDIS_URL"] = endpoint_.url;
  }
  ~LocalRedisHandle() override {
    if (child_.running()) child_.terminate(std::chrono::seconds(5));
  }

  const stack::Endpoint& endpoint() const override { return endpoint_; }

  stack::ProbeResult probe() override {
    const timeval timeout{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", endpoint_.port, timeout);
    if (!c || c->err) {
      std::string why = c ? c->errstr : "out of memory";
      if (c) redisFree(c);
      return {false, "connect: " + why};
    }
    redisSetTimeout(c, timeout);
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    stack::ProbeResult result{false, reply ? "" : std::string("PING: ") + c->errstr};
    if (reply) {
      const std::string text = reply->str ? std::string(reply->str, reply->len) : "";
      result = {reply->type == REDIS_REPLY_STATUS && text == "PONG", "PING: " + text};
      freeReplyObject(reply);
    }
    redisFree(c);
    return result;
  }

  bool running() const override { return child_.running(); }
  std::optional<int> exit_code() const override {
    if (child_.running() || !child_.exit_status()) return std::nullopt;
    const auto& st = *child_.exit_status();
    return st.signal ? 128 + st.signal : st.code;
  }
  void stop(std::chrono::milliseconds grace) override {
    if (child_.running()) child_.terminate(grace);
  }
  std::set<std::string> hooks() const override { return {"kill", "pause", "terminate"}; }
  std::vector<std::string> logs() const override {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  Child& child() { return child_; }

 private:
  mutable Child child_;
  std::filesystem::path log_;
  stack::Endpoint endpoint_;
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> start_local_redis(Supervisor& supervisor,
                                                        const stack::Service& service,
                                                        const std::filesystem::path& dir) {
  const int port = pick_free_port();
  std::vector<std::string> argv = {"redis-server", "--port",    std::to_string(port),
                                   "--bind",       "127.0.0.1", "--dir",
                                   dir.string(),   "--save",    ""};
  argv.insert(argv.end(), {"--appendonly", service.persistent ? "yes" : "no"});
  if (auto mem = service.setting("maxmemory"); !mem.empty()) {
    argv.insert(argv.end(), {"--maxmemory", std::to_string(stack::parse_size(mem).value_or(0))});
  }
  if (auto policy = service.setting("maxmemory-policy"); !policy.empty()) {
    argv.insert(argv.end(), {"--maxmemory-policy", policy});
  }
  const auto log = dir / "redis.log";
  ProcessSpec spec;
  spec.argv = argv;
  spec.cwd = dir;
  spec.stdout_path = log;
  spec.stderr_path = log;
  return std::make_unique<LocalRedisHandle>(supervisor.spawn(spec), port, log);
}

}  // namespace faultline::backends
