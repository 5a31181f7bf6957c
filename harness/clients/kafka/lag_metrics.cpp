#include "harness/clients/kafka/lag_metrics.h"

#include <map>

namespace faultline::clients {

std::vector<ops::MetricFamily> kafka_exporter_metrics(const std::string& group,
                                                      const std::vector<PartitionLag>& lags) {
  ops::MetricFamily lag{"kafka_consumergroup_lag",
                        "Current approximate lag of a consumer group "
                        "at topic/partition",
                        "gauge",
                        {}};
  ops::MetricFamily current{"kafka_consumergroup_current_offset",
                            "Current offset of a consumer group at topic/partition",
                            "gauge",
                            {}};
  ops::MetricFamily end{"kafka_topic_partition_current_offset",
                        "Current offset of a broker at topic/partition",
                        "gauge",
                        {}};
  ops::MetricFamily sum{"kafka_consumergroup_lag_sum",
                        "Current approximate lag of a consumer group at topic for all partitions",
                        "gauge",
                        {}};
  std::map<std::string, double> per_topic;
  for (const auto& l : lags) {
    const std::string partition = std::to_string(l.partition);
    lag.samples.push_back({{{"consumergroup", group}, {"topic", l.topic}, {"partition", partition}},
                           static_cast<double>(l.lag)});
    current.samples.push_back(
        {{{"consumergroup", group}, {"topic", l.topic}, {"partition", partition}},
         static_cast<double>(l.committed)});
    end.samples.push_back(
        {{{"topic", l.topic}, {"partition", partition}}, static_cast<double>(l.high_watermark)});
    per_topic[l.topic] += static_cast<double>(l.lag);
  }
  for (const auto& [topic, total] : per_topic) {
    sum.samples.push_back({{{"consumergroup", group}, {"topic", topic}}, total});
  }
  return {lag, current, end, sum};
}

}  // namespace faultline::clients
