// Building a librdkafka configuration from our options: typed values in, librdkafka properties
// out, each rejection turned into an InputError naming the property; and the log and error
// callbacks that route librdkafka's messages to faultline's log. Shared by the producer and the
// consumer; internal to harness/clients/kafka.
//
// Thread safety: RdkafkaConfig is used by one thread; the callbacks may run on any librdkafka
// thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <set>
#include <string>

#include "harness/core/clock.h"

namespace faultline::clients::detail {

class RdkafkaConfig {
 public:
  // `who` names the client in errors and logs, e.g. "kafka producer".
  explicit RdkafkaConfig(std::string who);
  ~RdkafkaConfig();
  RdkafkaConfig(const RdkafkaConfig&) = delete;
  RdkafkaConfig& operator=(const RdkafkaConfig&) = delete;

  // Throws InputError naming the property when librdkafka rejects it.
  void set(const std::string& name, const std::string& value);
  void set_ms(const std::string& name, Duration d);
  // What producers and consumers set alike: where the brokers are, who is asking, how often
  // metadata is refreshed and how a lost broker connection backs off (up to 10x).
  void set_connection(const std::string& bootstrap, const std::string& client_id,
                      Duration metadata_refresh, Duration reconnect_backoff);
  // Applies user properties, refusing those in `reserved` (the guarantees we promise).
  void set_user(const std::map<std::string, std::string>& properties,
                const std::set<std::string>& reserved);

  rd_kafka_conf_t* get() { return conf_; }
  // Hands the configuration to rd_kafka_new(); afterwards this object owns nothing.
  rd_kafka_conf_t* release();

 private:
  std::string who_;
  rd_kafka_conf_t* conf_;
};

// Creates the handle (taking the configuration) or throws Error with librdkafka's reason.
rd_kafka_t* new_handle(rd_kafka_type_t type, RdkafkaConfig& config, const std::string& who);

}  // namespace faultline::clients::detail
