#include "suites/req_infra_05/kafka_suite.h"

#include "harness/testing/process_testing.h"

namespace faultline::suites::kafka {

void Ledger::acknowledge(const std::vector<clients::DeliveryReport>& reports) {
  for (const auto& r : reports) {
    if (r.outcome == clients::DeliveryReport::Outcome::acknowledged) {
      acked_[r.key] = {r.partition, r.offset};
    }
  }
}

void Ledger::consume(const std::vector<clients::ConsumedMessage>& messages) {
  for (const auto& m : messages) {
    consumed_[m.key] = {m.partition, m.offset};
    const auto it = last_offset_.find(m.partition);
    if (it != last_offset_.end() && m.offset <= it->second) ++reorderings_;
    last_offset_[m.partition] = m.offset;
  }
}

std::vector<std::string> Ledger::missing() const {
  std::vector<std::string> out;
  for (const auto& [key, where] : acked_) {
    if (!consumed_.count(key)) out.push_back(key);
  }
  return out;
}

std::vector<std::string> Ledger::misplaced() const {
  std::vector<std::string> out;
  for (const auto& [key, where] : acked_) {
    const auto it = consumed_.find(key);
    if (it != consumed_.end() &&
        (it->second.partition != where.partition || it->second.offset != where.offset)) {
      out.push_back(key);
    }
  }
  return out;
}

bool drain(clients::KafkaConsumer& consumer, Ledger& ledger, Duration bound) {
  return faultline::testing::wait_until(
      [&] {
        const auto batch = consumer.poll(100ms);
        ledger.consume(batch);
        if (!batch.empty()) consumer.commit();
        return ledger.missing().empty();
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(bound));
}

}  // namespace faultline::suites::kafka
