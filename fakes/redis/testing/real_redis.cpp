#include "fakes/redis/testing/real_redis.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <chrono>
#include <filesystem>

#include "harness/core/error.h"
#include "harness/core/find_program.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/testing/process_testing.h"

namespace faultline::testing {
namespace {

std::string render(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    default:
      return "(array)";
  }
}

}  // namespace

std::optional<std::string> RealRedis::unavailable() {
  if (find_program("redis-server")) return std::nullopt;
  return "redis-server is not installed (apt-get install redis-server)";
}

RealRedis::RealRedis(RunDirectory& run, RealRedisOptions options)
    : run_(run),
      options_(std::move(options)),
      port_(static_cast<std::uint16_t>(pick_free_port())),
      dir_(run.path() / ("redis-" + std::to_string(port_))) {
  start();
}

RealRedis::~RealRedis() {
  if (child_ && child_->running()) child_->terminate(std::chrono::seconds(5));
}

void RealRedis::start() {
  const auto& dir = dir_;
  std::filesystem::create_directories(dir);
  ProcessSpec spec;
  spec.argv = {"redis-server",
               "--port",
               std::to_string(port_),
               "--bind",
               "127.0.0.1",
               "--dir",
               dir.string(),
               "--save",
               "",
               "--appendonly",
               "no",
               "--maxmemory",
               options_.maxmemory,
               "--maxmemory-policy",
               options_.policy};
  if (options_.debug_command)
    spec.argv.insert(spec.argv.end(), {"--enable-debug-command", "local"});
  spec.cwd = dir;
  spec.stdout_path = dir / "redis.log";
  spec.stderr_path = dir / "redis.log";
  child_.emplace(Supervisor(run_).spawn(spec));
  const bool up =
      wait_until([&] { return cmd({"PING"}) == "PONG" || !running(); }, std::chrono::seconds(30));
  if (!up || !running())
    throw Error("redis-server did not come up on port " + std::to_string(port_) + "; see " +
                (dir / "redis.log").string());
}

void RealRedis::kill() {
  if (!child_ || !child_->running()) return;
  child_->signal(SIGKILL);
  child_->wait();
}

bool RealRedis::running() {
  return child_ && child_->running();
}

pid_t RealRedis::pid() const {
  return child_ ? child_->pid() : -1;
}

std::string RealRedis::cmd(const std::vector<std::string>& argv) const {
  const timeval timeout{30, 0};  // a bound for a loaded machine, not a synchronisation
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return "";
  }
  redisSetTimeout(c, timeout);
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  std::string out = reply ? render(reply) : "";
  if (reply) freeReplyObject(reply);
  redisFree(c);
  return out;
}

std::uint64_t RealRedis::info_number(const std::string& field) const {
  const std::string info = cmd({"INFO", "everything"});
  const auto at = info.find("\r\n" + field + ":");
  if (at == std::string::npos) return 0;
  return std::stoull(info.substr(at + field.size() + 3));
}

}  // namespace faultline::testing
