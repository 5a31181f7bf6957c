// kcat, the standard Kafka command-line client, against the fake: metadata (-L), produce (-P),
// consume (-C). Skipped with a reason where kcat is not installed.
#include <gtest/gtest.h>

#include <fstream>

#include "fakes/kafka/fake_kafka.h"
#include "harness/core/clock.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("fake_kafka_kcat");

namespace faultline::fakes::kafka {
namespace {

using faultline::testing::read_file;
using faultline::testing::test_run_directory;
using faultline::testing::wait_until;
using namespace std::chrono_literals;

std::string find_kcat() {
  for (const char* path : {"/usr/bin/kcat", "/usr/local/bin/kcat", "/usr/bin/kafkacat"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return {};
}

class Kcat : public ::testing::Test {
 protected:
  void SetUp() override {
    kcat_ = find_kcat();
    if (kcat_.empty()) GTEST_SKIP() << "kcat is not installed (apt-get install kcat)";
  }

  // Runs kcat with `args` to completion (bounded); returns its exit code and stdout.
  std::pair<int, std::string> run(std::vector<std::string> args) {
    Supervisor supervisor(test_run_directory());
    ProcessSpec spec;
    spec.argv = {kcat_};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.stdout_path = tmp_.path() / ("out" + std::to_string(++runs_));
    spec.stderr_path = tmp_.path() / ("err" + std::to_string(runs_));
    Child child = supervisor.spawn(spec);
    if (!wait_until([&] { return !child.running(); }, 30s)) child.terminate();
    const ExitStatus status = child.wait();
    EXPECT_TRUE(status.success()) << status.str() << ": " << read_file(spec.stderr_path);
    return {status.code, read_file(spec.stdout_path)};
  }

  faultline::testing::TempDir tmp_;
  std::string kcat_;
  int runs_ = 0;
};

TEST_F(Kcat, ListsMetadataProducesAndConsumes) {
  RealClock clock;
  FakeKafkaCluster kafka(clock);
  kafka.create_topic("trades", 2, 2);
  const std::string b = kafka.bootstrap();

  const auto [list_code, metadata] = run({"-b", b, "-L", "-t", "trades"});
  EXPECT_NE(metadata.find("3 brokers"), std::string::npos) << metadata;
  EXPECT_NE(metadata.find("topic \"trades\" with 2 partitions"), std::string::npos) << metadata;

  const auto input = tmp_.path() / "messages";
  std::ofstream(input) << "k1:one\nk2:two\nk3:three\n";
  run({"-b", b, "-P", "-t", "trades", "-p", "0", "-K", ":", "-l", input.string()});

  const auto [consume_code, consumed] =
      run({"-b", b, "-C", "-t", "trades", "-p", "0", "-o", "beginning", "-e", "-f", "%k=%s\n"});
  EXPECT_EQ(consumed, "k1=one\nk2=two\nk3=three\n");

  // After losing the partition's leader kcat still finds it on the surviving replica.
  kafka.broker_down(kafka.describe_topic("trades").partitions[0].leader);
  const auto [again_code, again] =
      run({"-b", b, "-C", "-t", "trades", "-p", "0", "-o", "beginning", "-e", "-f", "%k=%s\n"});
  EXPECT_EQ(again, "k1=one\nk2=two\nk3=three\n");
}

}  // namespace
}  // namespace faultline::fakes::kafka
