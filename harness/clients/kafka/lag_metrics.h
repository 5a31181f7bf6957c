// Consumer lag as the Kafka exporter (danielqsj/kafka_exporter) exposes it, so dashboards and
// alert rules written for a real cluster read ours unchanged:
//   kafka_consumergroup_lag{consumergroup,topic,partition}            high watermark - committed
//   kafka_consumergroup_current_offset{consumergroup,topic,partition}  committed (-1: none)
//   kafka_topic_partition_current_offset{topic,partition}              high watermark
//   kafka_consumergroup_lag_sum{consumergroup,topic}                   lag summed over partitions
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "harness/clients/kafka/consumer.h"
#include "harness/ops/exposition.h"

namespace faultline::clients {

std::vector<ops::MetricFamily> kafka_exporter_metrics(const std::string& group,
                                                      const std::vector<PartitionLag>& lags);

}  // namespace faultline::clients
