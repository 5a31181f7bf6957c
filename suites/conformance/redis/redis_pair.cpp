#include "suites/conformance/redis/redis_pair.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "fakes/redis/server.h"
#include "fakes/redis/testing/real_redis.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/find_program.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

namespace faultline::conformance::redis {

using fakes::redis::testing::RedisTestClient;

struct RedisPair::Processes {
  std::optional<RunDirectory> run;
  std::optional<Supervisor> supervisor;
  std::optional<testing::RealRedis> real;
  std::unique_ptr<RealClock> clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<fakes::redis::RedisFake> fake;
};

namespace {

std::map<std::string, std::string> load_limitations() {
  const char* root = std::getenv("FAULTLINE_SOURCE_DIR");
  const std::filesystem::path path =
      std::filesystem::path(root ? root : FAULTLINE_SOURCE) / "fakes/redis/KNOWN_LIMITATIONS.yaml";
  std::map<std::string, std::string> out;
  const YAML::Node doc = YAML::LoadFile(path.string());
  for (const auto& entry : doc["limitations"]) {
    if (!entry["case"]) continue;  // documented, but not a conformance case
    out[entry["case"].as<std::string>()] = entry["reason"].as<std::string>();
  }
  return out;
}

class PairEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { RedisPair::get().start(); }
  void TearDown() override { RedisPair::get().stop(); }
};

[[maybe_unused]] auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PairEnvironment);

}  // namespace

std::string find_program(const std::string& name) {
  const auto found = faultline::find_program(name);
  return found ? found->string() : "";
}

RedisPair& RedisPair::get() {
  static RedisPair pair;
  return pair;
}

void RedisPair::start() {
  limitations_ = load_limitations();
  processes_ = new Processes;
  // The run directory forks its watchdog: create it before any thread starts.
  processes_->run.emplace(RunDirectory::create("redis-conformance"));
  processes_->supervisor.emplace(*processes_->run);
  processes_->clock = std::make_unique<RealClock>();
  processes_->loop = std::make_unique<EventLoop>();
  fakes::redis::RedisFakeOptions options;
  options.seed = 1;
  processes_->fake =
      std::make_unique<fakes::redis::RedisFake>(*processes_->loop, *processes_->clock, options);
  processes_->fake->start();
  fake_port_ = processes_->fake->port();

  if (auto why = testing::RealRedis::unavailable()) {
    skip_reason_ = *why;
    return;
  }
  // A port taken between choosing it and the server's bind makes the start fail: try again.
  std::string last_error;
  for (int attempt = 0; attempt < 3 && !processes_->real; ++attempt) {
    try {
      processes_->real.emplace(*processes_->run);
    } catch (const Error& e) {
      last_error = e.what();
    }
  }
  if (!processes_->real) throw std::runtime_error(last_error);
  real_port_ = processes_->real->port();
}

ToolResult RedisPair::run_tool(const std::vector<std::string>& argv,
                               std::chrono::seconds limit) const {
  static int counter = 0;
  const auto out = processes_->run->path() / ("tool-" + std::to_string(++counter) + ".out");
  ProcessSpec spec;
  spec.argv = argv;
  spec.stdout_path = out;
  spec.stderr_path = out.string() + ".err";
  Child child = processes_->supervisor->spawn(spec);
  ToolResult result;
  if (!wait_for_exit(child.pid(), std::chrono::duration_cast<std::chrono::milliseconds>(limit))) {
    child.terminate();
    result.status = "timed out";
  } else {
    const ExitStatus status = child.wait();
    result.ok = status.success();
    result.status = status.str();
  }
  std::ifstream in(out);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return result;
}

void RedisPair::stop() {
  if (!processes_) return;
  processes_->fake.reset();
  processes_->loop.reset();
  processes_->clock.reset();
  processes_->real.reset();
  processes_->supervisor.reset();
  if (processes_->run) processes_->run->close();
  delete processes_;
  processes_ = nullptr;
}

RedisTestClient RedisPair::real_client() const {
  return RedisTestClient::tcp("127.0.0.1", real_port_);
}

RedisTestClient RedisPair::fake_client() const {
  return RedisTestClient::tcp("127.0.0.1", fake_port_);
}

void RedisPair::reset() const {
  const std::vector<std::vector<std::string>> commands = {
      {"FLUSHALL"},
      {"CONFIG", "SET", "maxmemory", "0"},
      {"CONFIG", "SET", "maxmemory-policy", "noeviction"}};
  real_client().pipeline(commands);
  fake_client().pipeline(commands);
}

std::optional<std::string> RedisPair::limitation_for(const std::string& case_id) const {
  const auto it = limitations_.find(case_id);
  if (it == limitations_.end()) return std::nullopt;
  return it->second;
}

}  // namespace faultline::conformance::redis
