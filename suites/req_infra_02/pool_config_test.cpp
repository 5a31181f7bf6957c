// REQ-INFRA-02, unit: the pool's configuration — seed defaults, the environment, and bad
// configuration rejected at construction with a clear message. No server involved.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "harness/clients/postgres/connection_pool.h"
#include "harness/clients/postgres/database_manager.h"
#include "harness/clients/postgres/pool_state.h"
#include "harness/core/clock.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_02/local_test_support.h"

namespace faultline::req_infra_02 {
namespace {

using clients::PoolConfig;
using namespace std::chrono_literals;

PoolConfig valid() {
  PoolConfig config;
  config.conninfo = "host=127.0.0.1 port=1 user=postgres dbname=postgres";
  return config;
}

// The InputError message the pool's constructor throws for `config`, or "" if none.
std::string rejection(const PoolConfig& config) {
  ManualClock clock;
  try {
    clients::ConnectionPool pool(config, clock);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(PoolConfigTest, DefaultsAreTheSeedsAndStatsFollowTheContract) {
  FAULTLINE_COVERS("UT-INFRA-02.1");
  const PoolConfig defaults;
  EXPECT_EQ(defaults.size, 10);
  EXPECT_EQ(defaults.max_overflow, 20);
  EXPECT_EQ(defaults.timeout, 30s);
  EXPECT_EQ(defaults.reconnect_attempts, 3);
  EXPECT_EQ(defaults.max_connections(), 30);

  // Connections are opened on demand: a pool made with the seed's parameters reports them
  // before it has talked to any server.
  ManualClock clock;
  auto pool = clients::create_connection_pool(valid(), clock);
  const auto stats = pool->stats();
  EXPECT_EQ(stats.max_connections, 30);
  EXPECT_EQ(stats.active_connections, 0);
  EXPECT_EQ(stats.available_connections, 30);
  EXPECT_EQ(stats.connection_timeout, 30);
  EXPECT_EQ(stats.open_connections, 0);
  EXPECT_EQ(stats.opened, 0u);
}

TEST(PoolConfigTest, FromEnvironmentReadsPoolAndConnectionSettings) {
  ScopedEnv env;
  env.set("DB_POOL_SIZE", "4");
  env.set("DB_MAX_OVERFLOW", "6");
  env.set("DB_POOL_TIMEOUT", "12");
  env.set("DB_HOST", "127.0.0.2");
  env.set("DB_PORT", "6543");
  env.set("DB_USER", "orders");
  env.set("DB_NAME", "trading");
  env.set("DB_PASSWORD", "hunter2-secret");
  const auto config = PoolConfig::from_env();
  EXPECT_EQ(config.size, 4);
  EXPECT_EQ(config.max_overflow, 6);
  EXPECT_EQ(config.timeout, 12s);
  const auto effective = config.effective_conninfo();
  EXPECT_NE(effective.find("host='127.0.0.2'"), std::string::npos) << effective;
  EXPECT_NE(effective.find("port='6543'"), std::string::npos) << effective;
  EXPECT_NE(effective.find("dbname='trading'"), std::string::npos) << effective;
  EXPECT_NE(effective.find("application_name='faultline-pool'"), std::string::npos) << effective;
  // The password is never part of the config, only of what libpq gets at connect time.
  EXPECT_EQ(config.conninfo.find("hunter2"), std::string::npos);
  EXPECT_EQ(effective.find("hunter2"), std::string::npos);
  EXPECT_NE(clients::conninfo_with_password(config).find("password='hunter2-secret'"),
            std::string::npos);
}

TEST(PoolConfigTest, FromEnvironmentRejectsValuesThatAreNotIntegers) {
  ScopedEnv env;
  env.set("DB_POOL_SIZE", "ten");
  try {
    (void)PoolConfig::from_env();
    FAIL() << "DB_POOL_SIZE=ten accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("DB_POOL_SIZE"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'ten' is not an integer"), std::string::npos) << e.what();
  }
  ScopedEnv env2;
  env2.set("DB_POOL_SIZE", "3");
  env2.set("DB_POOL_TIMEOUT", "0");
  EXPECT_THROW((void)PoolConfig::from_env(), InputError);
  env2.set("DB_POOL_TIMEOUT", "5");
  env2.set("DB_MAX_OVERFLOW", "-2");
  EXPECT_THROW((void)PoolConfig::from_env(), InputError);
}

TEST(PoolConfigTest, BadConfigurationIsRejectedAtConstructionWithAClearMessage) {
  auto with = [](auto change) {
    PoolConfig config = valid();
    change(config);
    return rejection(config);
  };
  EXPECT_EQ(rejection(valid()), "");
  EXPECT_NE(with([](PoolConfig& c) { c.size = 0; }).find("size (DB_POOL_SIZE) must be at least 1"),
            std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) { c.size = -3; }).find("got -3"), std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) {
              c.max_overflow = -1;
            }).find("max_overflow (DB_MAX_OVERFLOW) must be 0 or more"),
            std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) {
              c.timeout = 0ms;
            }).find("timeout (DB_POOL_TIMEOUT) must be positive"),
            std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) { c.reconnect_attempts = -1; }).find("reconnect_attempts"),
            std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) { c.reconnect_backoff = -5ms; }).find("reconnect_backoff"),
            std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) { c.conninfo = ""; }).find("conninfo must not be empty"),
            std::string::npos);
  EXPECT_NE(with([](PoolConfig& c) {
              c.conninfo = "host=127.0.0.1 port";
            }).find("not a valid libpq connection string"),
            std::string::npos);
  const auto password = with([](PoolConfig& c) { c.conninfo += " password=topsecret"; });
  EXPECT_NE(password.find("must not contain a password"), std::string::npos) << password;
  EXPECT_EQ(password.find("topsecret"), std::string::npos) << "the message leaks the password";
  EXPECT_NE(with([](PoolConfig& c) {
              c.conninfo = "postgresql://app:topsecret@127.0.0.1:5432/orders";
            }).find("must not contain a password"),
            std::string::npos);
  // Every message names where the problem is: the pool config.
  EXPECT_EQ(with([](PoolConfig& c) { c.size = 0; }).rfind("pool config", 0), 0u);

  // DatabaseManager rejects the same configurations when it is made, not at first use.
  ManualClock clock;
  PoolConfig bad = valid();
  bad.max_overflow = -1;
  EXPECT_THROW(clients::DatabaseManager(bad, clock), InputError);
}

TEST(PoolConfigTest, AConnectionStringUriGetsItsSettingsAsQueryParameters) {
  PoolConfig config = valid();
  config.conninfo = "postgresql://app@127.0.0.1:5432/orders";
  config.name = "orders-writer";
  const auto effective = config.effective_conninfo();
  EXPECT_EQ(
      effective,
      "postgresql://app@127.0.0.1:5432/orders?connect_timeout=10&application_name=orders-writer");
}

}  // namespace
}  // namespace faultline::req_infra_02
