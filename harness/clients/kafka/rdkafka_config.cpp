#include "harness/clients/kafka/rdkafka_config.h"

#include "harness/core/error.h"
#include "harness/core/log.h"

namespace faultline::clients::detail {

namespace {

constexpr const char* kComponent = "kafka-client";

// librdkafka logs every refused connection at LOG_ERR; while a broker is down (the very fault we
// inject) that is expected, so its messages are debug-level here, except the critical ones.
void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const nlohmann::json fields = {{"client", rd_kafka_name(rk)}, {"facility", facility}};
  if (level <= 2) {
    log::error(kComponent, message, fields);
  } else {
    log::debug(kComponent, message, fields);
  }
}

void error_cb(rd_kafka_t* rk, int err, const char* reason, void*) {
  nlohmann::json fields = {{"client", rd_kafka_name(rk)},
                           {"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
                           {"reason", reason}};
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    const auto code = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    fields["fatal"] = std::string(rd_kafka_err2name(code)) + ": " + fatal;
    log::error(kComponent, "fatal client error", fields);
  } else {
    log::debug(kComponent, "client error (librdkafka retries)", fields);
  }
}

}  // namespace

RdkafkaConfig::RdkafkaConfig(std::string who) : who_(std::move(who)), conf_(rd_kafka_conf_new()) {
  rd_kafka_conf_set_log_cb(conf_, log_cb);
  rd_kafka_conf_set_error_cb(conf_, error_cb);
}

RdkafkaConfig::~RdkafkaConfig() {
  if (conf_) rd_kafka_conf_destroy(conf_);
}

void RdkafkaConfig::set(const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf_, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    throw InputError({}, who_ + ": property '" + name + "': " + errstr);
  }
}

void RdkafkaConfig::set_connection(const std::string& bootstrap, const std::string& client_id,
                                   Duration metadata_refresh, Duration reconnect_backoff) {
  set("bootstrap.servers", bootstrap);
  set("client.id", client_id);
  set_ms("topic.metadata.refresh.interval.ms", metadata_refresh);
  set_ms("reconnect.backoff.ms", reconnect_backoff);
  set_ms("reconnect.backoff.max.ms", reconnect_backoff * 10);
}

void RdkafkaConfig::set_ms(const std::string& name, Duration d) {
  set(name, std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

void RdkafkaConfig::set_user(const std::map<std::string, std::string>& properties,
                             const std::set<std::string>& reserved) {
  for (const auto& [name, value] : properties) {
    if (reserved.count(name)) {
      throw InputError({}, who_ + ": property '" + name + "' cannot be overridden");
    }
    set(name, value);
  }
}

rd_kafka_conf_t* RdkafkaConfig::release() {
  rd_kafka_conf_t* c = conf_;
  conf_ = nullptr;
  return c;
}

rd_kafka_t* new_handle(rd_kafka_type_t type, RdkafkaConfig& config, const std::string& who) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, config.get(), errstr, sizeof errstr);
  if (!rk) throw InputError({}, who + ": " + errstr);
  config.release();  // rd_kafka_new took it
  return rk;
}

}  // namespace faultline::clients::detail
