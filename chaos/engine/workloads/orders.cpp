// orders: the trading application's order writes — one INSERT per step through the application's
// connection pool, committed, then every row read back after the method (no acked write lost).
#include <pqxx/pqxx>

#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"
#include "harness/clients/postgres/connection_pool.h"

namespace faultline::chaos {
namespace {

class OrdersWorkload final : public Workload {
 public:
  OrdersWorkload(const WorkloadSpec& spec, Environment& env)
      : Workload(spec.name),
        env_(env),
        target_(spec.target),
        params_(spec.params),
        window_(static_cast<std::size_t>(spec.params.value("window", 5))) {}

  void setup() override {
    pool_ = &env_.pool(target_, params_.value("pool", nlohmann::json::object()));
    // Retried: a fresh local server may still be finishing its start.
    for (int attempt = 0;; ++attempt) {
      try {
        env_.driver().run([&] {
          auto c = pool_->acquire();
          pqxx::nontransaction tx(*c);
          tx.exec0("CREATE TABLE IF NOT EXISTS chaos_orders (id BIGINT PRIMARY KEY, qty INTEGER)");
          tx.exec0("DELETE FROM chaos_orders");
        });
        return;
      } catch (const std::exception& e) {
        if (attempt >= 5) throw Error("orders: cannot prepare the table: " + std::string(e.what()));
        env_.clock().sleep_for(std::chrono::seconds(1));
      }
    }
  }

  void step() override {
    const std::int64_t id = ++next_id_;
    auto& j = env_.journal();
    j.append(event_kind::kOpInvoke, name(), {{"op", "write"}, {"id", id}});
    const auto t0 = env_.clock().now();
    enum class Stage { acquire, execute, commit } stage = Stage::acquire;
    std::string kind = event_kind::kOpOk, reason;
    try {
      env_.driver().run([&] {
        auto c = pool_->acquire();
        stage = Stage::execute;
        try {
          pqxx::work tx(*c);
          tx.exec0("INSERT INTO chaos_orders (id, qty) VALUES (" + std::to_string(id) + ", " +
                   std::to_string(id % 7 + 1) + ")");
          stage = Stage::commit;
          tx.commit();
        } catch (const pqxx::broken_connection&) {
          c.mark_broken();
          throw;
        }
      });
    } catch (const clients::PoolTimeout&) {
      kind = event_kind::kOpFail, reason = "pool-timeout";
    } catch (const clients::PoolUnavailable&) {
      kind = event_kind::kOpFail, reason = "unavailable";
    } catch (const pqxx::in_doubt_error&) {
      kind = event_kind::kOpInfo, reason = "in-doubt";
    } catch (const pqxx::broken_connection&) {
      // Lost at commit: the server may have committed it. Before: it certainly did not.
      if (stage == Stage::commit)
        kind = event_kind::kOpInfo, reason = "in-doubt";
      else
        kind = event_kind::kOpFail, reason = "connection-lost";
    } catch (const pqxx::sql_error& e) {
      kind = event_kind::kOpFail, reason = "sql-" + e.sqlstate();
    } catch (const std::exception&) {
      kind = event_kind::kOpFail, reason = "error";
    }
    latency_ms_ = std::chrono::duration<double, std::milli>(env_.clock().now() - t0).count();
    window_.add(kind == event_kind::kOpOk);
    const auto s = pool_->stats();
    nlohmann::json f = {{"op", "write"},
                        {"id", id},
                        {"latency_ms", latency_ms_},
                        {"pool_open", s.open_connections},
                        {"pool_max", s.max_connections}};
    if (!reason.empty()) f["reason"] = reason;
    j.append(kind, name(), f);
  }

  void finish() override {
    auto& j = env_.journal();
    j.append(event_kind::kOpInvoke, name(), {{"op", "read-all"}});
    for (int attempt = 0; attempt < 10; ++attempt) {
      try {
        std::vector<std::int64_t> ids;
        env_.driver().run([&] {
          auto c = pool_->acquire();
          pqxx::work tx(*c);
          for (auto row : tx.exec("SELECT id FROM chaos_orders ORDER BY id"))
            ids.push_back(row[0].as<std::int64_t>());
          tx.commit();
        });
        j.append(event_kind::kOpOk, name(), {{"op", "read-all"}, {"ids", ids}});
        return;
      } catch (const std::exception&) {
        env_.clock().sleep_for(std::chrono::seconds(1));
      }
    }
    j.append(event_kind::kOpFail, name(), {{"op", "read-all"}, {"reason", "unreachable"}});
  }

  std::map<std::string, double> metrics() const override {
    const auto s = pool_->stats();
    return {{"latency_ms", latency_ms_},
            {"error_rate", window_.error_rate()},
            {"pool_open", static_cast<double>(s.open_connections)},
            {"pool_active", static_cast<double>(s.active_connections)},
            {"pool_max", static_cast<double>(s.max_connections)}};
  }

 private:
  Environment& env_;
  std::string target_;
  nlohmann::json params_;
  clients::ConnectionPool* pool_ = nullptr;
  std::int64_t next_id_ = 0;
  double latency_ms_ = 0;
  OutcomeWindow window_;
};

}  // namespace

std::unique_ptr<Workload> make_orders_workload(const WorkloadSpec& spec, Environment& env) {
  return std::make_unique<OrdersWorkload>(spec, env);
}

}  // namespace faultline::chaos
