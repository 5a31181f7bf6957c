// Kafka API keys and error codes by name, for the control endpoint and the CLI.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "fakes/kafka/fake_kafka.h"
#include "harness/core/error.h"
#include "harness/core/text.h"

namespace faultline::fakes::kafka {

namespace {

struct ApiKeyName {
  const char* name;
  int key;
};

// The request types a client of this fake sends (Kafka protocol names).
constexpr ApiKeyName kApiKeys[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
    {"DescribeConfigs", 32},
    {"AlterConfigs", 33},
};

std::optional<int> as_number(const std::string& text) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  std::size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  for (std::size_t j = i; j < text.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(text[j]))) return std::nullopt;
  }
  return std::stoi(text);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int parse_api_key(const std::string& name) {
  if (const auto n = as_number(name)) {
    if (*n < 0 || *n > 1000) throw InputError({}, "API key out of range: " + name);
    return *n;
  }
  std::vector<std::string> names;
  for (const auto& k : kApiKeys) {
    if (upper(k.name) == upper(name)) return k.key;
    names.emplace_back(k.name);
  }
  throw InputError({}, "unknown Kafka API '" + name + "'" + did_you_mean(name, names));
}

int parse_error_code(const std::string& name) {
  const struct rd_kafka_err_desc* descs = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  if (const auto n = as_number(name)) {
    for (std::size_t i = 0; i < count; ++i) {
      if (descs[i].name && descs[i].code == *n) return *n;
    }
    throw InputError({}, "unknown Kafka error code " + name);
  }
  std::string wanted = upper(name);
  if (wanted.rfind("ERR_", 0) == 0) wanted = wanted.substr(4);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < count; ++i) {
    if (!descs[i].name) continue;
    if (upper(descs[i].name) == wanted) return descs[i].code;
    names.emplace_back(descs[i].name);
  }
  throw InputError({}, "unknown Kafka error '" + name + "'" + did_you_mean(name, names));
}

std::string error_name(int code) {
  return rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code));
}

}  // namespace faultline::fakes::kafka
