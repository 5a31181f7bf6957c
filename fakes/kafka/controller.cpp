#include "fakes/kafka/controller.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "harness/core/error.h"

namespace faultline::fakes::kafka {

namespace {

bool contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The ISR kept in placement order, so that elections are deterministic.
void add_in_order(PartitionState& p, int broker) {
  if (contains(p.isr, broker)) return;
  std::vector<int> isr;
  for (int r : p.replicas) {
    if (r == broker || contains(p.isr, r)) isr.push_back(r);
  }
  p.isr = std::move(isr);
}

}  // namespace

bool TopicState::fully_replicated() const {
  return std::all_of(partitions.begin(), partitions.end(), [](const PartitionState& p) {
    return p.leader != -1 && p.isr.size() == p.replicas.size();
  });
}

KafkaController::KafkaController(int brokers) : brokers_(brokers) {
  if (brokers < 1 || brokers > 16) {
    throw InputError({}, "kafka fake: brokers must be 1..16, got " + std::to_string(brokers));
  }
  for (int b = 1; b <= brokers; ++b) up_.insert(b);
}

void KafkaController::check_broker(int broker) const {
  if (broker < 1 || broker > brokers_) {
    throw InputError({}, "kafka fake: no broker " + std::to_string(broker) + " (brokers are 1.." +
                             std::to_string(brokers_) + ")");
  }
}

const TopicState& KafkaController::add_topic(const std::string& name, int partitions,
                                             int replication) {
  if (name.empty() || name.size() > 249 ||
      !std::all_of(name.begin(), name.end(),
                   [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                            c == '-';
                   }) ||
      name == "." || name == "..") {
    throw InputError(
        {}, "kafka fake: invalid topic name '" + name + "' (1..249 characters of [a-zA-Z0-9._-])");
  }
  if (topics_.count(name)) throw InputError({}, "kafka fake: topic '" + name + "' already exists");
  if (partitions < 1 || partitions > 1000) {
    throw InputError({}, "kafka fake: topic '" + name + "': partitions must be 1..1000, got " +
                             std::to_string(partitions));
  }
  if (replication < 1 || replication > brokers_) {
    throw InputError({}, "kafka fake: topic '" + name + "': replication must be 1.." +
                             std::to_string(brokers_) + " (the number of brokers), got " +
                             std::to_string(replication));
  }
  TopicState t;
  t.name = name;
  t.replication = replication;
  const int k = topics_created_++;
  for (int p = 0; p < partitions; ++p) {
    PartitionState ps;
    ps.partition = p;
    for (int i = 0; i < replication; ++i) ps.replicas.push_back((k + p + i) % brokers_ + 1);
    // A topic created while brokers are down starts with the up replicas in sync.
    for (int r : ps.replicas) {
      if (is_up(r)) ps.isr.push_back(r);
    }
    ps.leader = ps.isr.empty() ? -1 : ps.isr.front();
    if (ps.isr.empty()) ps.isr.push_back(ps.replicas.front());
    t.partitions.push_back(std::move(ps));
  }
  return topics_[name] = std::move(t);
}

const TopicState& KafkaController::topic(const std::string& name) const {
  const auto it = topics_.find(name);
  if (it == topics_.end()) throw InputError({}, "kafka fake: no topic '" + name + "'");
  return it->second;
}

std::vector<std::string> KafkaController::topic_names() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : topics_) names.push_back(name);
  return names;
}

PartitionState& KafkaController::partition(const std::string& topic, int partition) {
  const auto it = topics_.find(topic);
  if (it == topics_.end()) throw InputError({}, "kafka fake: no topic '" + topic + "'");
  if (partition < 0 || partition >= static_cast<int>(it->second.partitions.size())) {
    throw InputError(
        {}, "kafka fake: topic '" + topic + "' has no partition " + std::to_string(partition));
  }
  return it->second.partitions[partition];
}

int KafkaController::add_group(const std::string& group) {
  if (group.empty()) throw InputError({}, "kafka fake: empty group id");
  if (const auto it = coordinators_.find(group); it != coordinators_.end()) return it->second;
  // Spread groups over the brokers by name, then take the first up broker from there.
  const int start = static_cast<int>(std::hash<std::string>{}(group) % brokers_);
  int chosen = start + 1;
  for (int i = 0; i < brokers_; ++i) {
    const int b = (start + i) % brokers_ + 1;
    if (is_up(b)) {
      chosen = b;
      break;
    }
  }
  coordinators_[group] = chosen;
  return chosen;
}

int KafkaController::coordinator(const std::string& group) const {
  const auto it = coordinators_.find(group);
  return it == coordinators_.end() ? -1 : it->second;
}

ControllerDecisions KafkaController::broker_down(int broker, TimePoint now) {
  check_broker(broker);
  ControllerDecisions d;
  if (!up_.erase(broker)) return d;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      if (contains(p.isr, broker) && p.isr.size() > 1) {
        std::erase(p.isr, broker);
        out_of_sync_since_[{name, p.partition, broker}] = now;
        d.isr_changes.emplace_back(name, p.partition);
      }
      if (p.leader != broker) continue;
      int next = -1;
      for (int r : p.isr) {
        if (is_up(r)) {
          next = r;
          break;
        }
      }
      d.leaders.push_back({name, p.partition, broker, next});
      p.leader = next;
    }
  }
  for (auto& [group, coord] : coordinators_) {
    if (coord != broker) continue;
    for (int i = 1; i < brokers_; ++i) {
      const int b = (broker - 1 + i) % brokers_ + 1;
      if (is_up(b)) {
        d.coordinators.push_back({group, coord, b});
        coord = b;
        break;
      }
    }
  }
  return d;
}

ControllerDecisions KafkaController::broker_up(int broker, TimePoint /*now*/) {
  check_broker(broker);
  ControllerDecisions d;
  if (!up_.insert(broker).second) return d;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      if (!contains(p.replicas, broker)) continue;
      if (p.leader == -1 && contains(p.isr, broker)) {
        d.leaders.push_back({name, p.partition, -1, broker});
        p.leader = broker;
      }
      if (p.leader == -1) continue;  // offline: nobody to catch up from
      // Every up replica of a led partition catches up at once over the shared log.
      for (int r : p.replicas) {
        if (!is_up(r) || contains(p.isr, r)) continue;
        add_in_order(p, r);
        out_of_sync_since_.erase({name, p.partition, r});
        d.isr_changes.emplace_back(name, p.partition);
      }
    }
  }
  for (auto& [group, coord] : coordinators_) {
    if (!is_up(coord)) {
      d.coordinators.push_back({group, coord, broker});
      coord = broker;
    }
  }
  return d;
}

LeaderChange KafkaController::move_leader(const std::string& topic, int partition_id, int broker) {
  check_broker(broker);
  PartitionState& p = partition(topic, partition_id);
  if (!contains(p.replicas, broker)) {
    throw InputError({}, "kafka fake: broker " + std::to_string(broker) + " is not a replica of " +
                             topic + "[" + std::to_string(partition_id) + "]");
  }
  if (!is_up(broker) || !contains(p.isr, broker)) {
    throw InputError({}, "kafka fake: broker " + std::to_string(broker) +
                             " is not an up, in-sync " + "replica of " + topic + "[" +
                             std::to_string(partition_id) + "]");
  }
  LeaderChange change{topic, partition_id, p.leader, broker};
  p.leader = broker;
  return change;
}

std::vector<LeaderChange> KafkaController::elect_preferred_leaders() {
  std::vector<LeaderChange> changes;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      const int preferred = p.replicas.front();
      if (p.leader == preferred || !is_up(preferred) || !contains(p.isr, preferred)) continue;
      changes.push_back({name, p.partition, p.leader, preferred});
      p.leader = preferred;
    }
  }
  return changes;
}

ClusterHealth KafkaController::health(TimePoint now) const {
  ClusterHealth h;
  for (int b = 1; b <= brokers_; ++b) (is_up(b) ? h.brokers_up : h.brokers_down).push_back(b);
  for (const auto& [name, t] : topics_) {
    for (const auto& p : t.partitions) {
      ++h.partitions;
      if (p.leader == -1) ++h.offline_partitions;
      if (p.isr.size() < p.replicas.size()) ++h.under_replicated_partitions;
    }
  }
  for (const auto& [key, since] : out_of_sync_since_) {
    h.max_replication_lag = std::max(h.max_replication_lag, now - since);
  }
  return h;
}

}  // namespace faultline::fakes::kafka
