// `faultline fake kafka`: runs a FakeKafkaCluster in the foreground for a person (or a script) to
// poke at with kcat and librdkafka clients and to fault through its HTTP control endpoint. Prints
// the bootstrap string and the control endpoint, one line each, then serves until SIGINT or
// SIGTERM, and stops cleanly.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fakes/kafka/control_http.h"
#include "fakes/kafka/fake_kafka.h"
#include "harness/cli/commands.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/http_server.h"

namespace faultline {
namespace {

struct FakeKafkaCliOptions {
  int brokers = 3;
  std::vector<std::string> topics;  // NAME[:PARTITIONS[:REPLICATION]]
  std::vector<std::string> groups;
  std::string control;
};

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication = 2;
};

int parse_count(const std::string& text, const std::string& spec) {
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw UsageError("--topic: '" + spec + "': '" + text + "' is not a number");
  }
  return n;
}

TopicSpec parse_topic(const std::string& spec, int brokers) {
  TopicSpec t;
  t.replication = std::min(2, brokers);
  const auto first = spec.find(':');
  t.name = spec.substr(0, first);
  if (first != std::string::npos) {
    const auto second = spec.find(':', first + 1);
    t.partitions = parse_count(spec.substr(first + 1, second - first - 1), spec);
    if (second != std::string::npos) t.replication = parse_count(spec.substr(second + 1), spec);
  }
  return t;
}

void run_fake_kafka(const FakeKafkaCliOptions& o) {
  if (o.brokers < 1 || o.brokers > 16) throw UsageError("--brokers must be 1..16");
  std::vector<TopicSpec> topics;
  for (const auto& spec : o.topics) topics.push_back(parse_topic(spec, o.brokers));
  std::optional<std::pair<std::string, std::uint16_t>> control;
  if (!o.control.empty()) control = parse_host_port(o.control, "--control");

  // Block the stop signals before any thread starts, so that only sigwait() below takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  RealClock clock;
  fakes::kafka::FakeKafkaCluster kafka(clock, {.brokers = o.brokers});
  for (const auto& t : topics) kafka.create_topic(t.name, t.partitions, t.replication);
  for (const auto& g : o.groups) kafka.add_group(g);
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<fakes::kafka::KafkaControlEndpoint> endpoint;
  if (control) {
    loop = std::make_unique<EventLoop>();
    endpoint = std::make_unique<fakes::kafka::KafkaControlEndpoint>(*loop, kafka, control->first,
                                                                    control->second);
    endpoint->start();
  }
  std::printf("kafka fake: %d brokers, bootstrap %s\n", o.brokers, kafka.bootstrap().c_str());
  if (endpoint) {
    std::printf("control endpoint http://%s:%u/cluster\n", control->first.c_str(),
                static_cast<unsigned>(endpoint->port()));
  }
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (endpoint) endpoint->stop();
  endpoint.reset();
  loop.reset();
  std::printf("stopped (%s)\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
}

void add_fake_kafka_command(CLI::App& fake) {
  auto o = std::make_shared<FakeKafkaCliOptions>();
  auto* cmd = fake.add_subcommand(
      "kafka",
      "Run the Kafka fake (librdkafka's mock cluster + a controller) until SIGINT/SIGTERM");
  cmd->add_option("--brokers", o->brokers, "number of brokers, ids 1..N (default 3)");
  cmd->add_option("--topic", o->topics,
                  "create a topic NAME[:PARTITIONS[:REPLICATION]] (default 3 partitions, "
                  "replication 2); repeatable");
  cmd->add_option("--group", o->groups,
                  "consumer group whose coordinator fails over with its broker; repeatable");
  cmd->add_option("--control", o->control,
                  "HTTP control endpoint HOST:PORT, loopback only (e.g. 127.0.0.1:7003)");
  cmd->callback([o] { run_fake_kafka(*o); });
}

}  // namespace

FAULTLINE_FAKE_COMMAND(30, add_fake_kafka_command);

}  // namespace faultline
