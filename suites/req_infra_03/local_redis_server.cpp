#include "suites/req_infra_03/local_redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/testing/process_testing.h"

namespace faultline::suites::req_infra_03 {
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

std::optional<std::string> LocalRedisServer::unavailable() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "redis-server"))
      return std::nullopt;
  return "redis-server is not installed (apt-get install redis-server)";
}

LocalRedisServer::LocalRedisServer(RunDirectory& run, std::string maxmemory, std::string policy)
    : run_(run),
      maxmemory_(std::move(maxmemory)),
      policy_(std::move(policy)),
      port_(pick_free_port()) {
  start();
}

LocalRedisServer::~LocalRedisServer() {
  if (child_ && child_->running()) child_->terminate(std::chrono::seconds(5));
}

void LocalRedisServer::start() {
  const auto dir = run_.path() / ("redis-" + std::to_string(port_));
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
               maxmemory_,
               "--maxmemory-policy",
               policy_,
               "--enable-debug-command",
               "local"};
  spec.cwd = dir;
  spec.stdout_path = dir / "redis.log";
  spec.stderr_path = dir / "redis.log";
  child_.emplace(Supervisor(run_).spawn(spec));
  const bool up = testing::wait_until([&] { return cmd({"PING"}) == "PONG" || !running(); },
                                      std::chrono::seconds(30));
  if (!up || !running())
    throw Error("redis-server did not come up on port " + std::to_string(port_) + "; see " +
                (dir / "redis.log").string());
}

void LocalRedisServer::kill() {
  if (!child_ || !child_->running()) return;
  child_->signal(SIGKILL);
  child_->wait();
}

bool LocalRedisServer::running() {
  return child_ && child_->running();
}

pid_t LocalRedisServer::pid() const {
  return child_ ? child_->pid() : -1;
}

std::string LocalRedisServer::cmd(const std::vector<std::string>& argv) const {
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

std::uint64_t LocalRedisServer::info_number(const std::string& field) const {
  const std::string info = cmd({"INFO", "everything"});
  const auto at = info.find("\r\n" + field + ":");
  if (at == std::string::npos) return 0;
  return std::stoull(info.substr(at + field.size() + 3));
}

StoppedRedis::StoppedRedis(RunDirectory& run, LocalRedisServer& server)
    : run_(run), server_(server), pid_(server.pid()) {
  // Never fails (the server may be gone by the time a watchdog runs it), so it never keeps a run
  // directory pending.
  heal_id_ = run_.add_heal_action(
      "SIGCONT redis-server " + std::to_string(pid_),
      {"sh", "-c", "kill -CONT " + std::to_string(pid_) + " 2>/dev/null; true"});
  ::kill(pid_, SIGSTOP);
}

void StoppedRedis::resume() {
  if (!heal_id_) return;
  // Only while it is still our child (not reaped), so the pid cannot belong to anyone else.
  if (server_.running() && server_.pid() == pid_) ::kill(pid_, SIGCONT);
  run_.heal_done(*heal_id_);
  heal_id_.reset();
}

}  // namespace faultline::suites::req_infra_03
