// cache: price reads through CacheClient (cache-aside over Redis, the database as the source of
// record), with a write through it every few steps. Every read journals what it saw and what the
// last acknowledged write said, so a checker can find stale reads; callers must see no errors.
#include <pqxx/pqxx>

#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"
#include "harness/clients/cache/cache_client.h"
#include "harness/clients/postgres/connection_pool.h"

namespace faultline::chaos {
namespace {

// The database behind the cache: table chaos_prices through the application's pool.
class PriceTable final : public clients::CacheSource {
 public:
  explicit PriceTable(clients::ConnectionPool& pool) : pool_(pool) {}
  std::optional<std::string> load(const std::string& key) override {
    auto c = pool_.acquire();
    pqxx::work tx(*c);
    auto r = tx.exec("SELECT value FROM chaos_prices WHERE key = " + tx.quote(key));
    tx.commit();
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  }
  void store(const std::string& key, const std::string& value) override {
    auto c = pool_.acquire();
    pqxx::work tx(*c);
    tx.exec0("DELETE FROM chaos_prices WHERE key = " + tx.quote(key));
    tx.exec0("INSERT INTO chaos_prices (key, value) VALUES (" + tx.quote(key) + ", " +
             tx.quote(value) + ")");
    tx.commit();
  }

 private:
  clients::ConnectionPool& pool_;
};

class CacheWorkload final : public Workload {
 public:
  CacheWorkload(const WorkloadSpec& spec, Environment& env)
      : Workload(spec.name),
        env_(env),
        spec_(spec),
        rng_(env.rng("workload/" + spec.name)),
        window_(static_cast<std::size_t>(spec.params.value("window", 5))) {}

  void setup() override {
    const std::string db = spec_.params.value("database", std::string("postgres"));
    pool_ = &env_.pool(db, spec_.params.value("pool", nlohmann::json::object()));
    env_.driver().run([&] {
      auto c = pool_->acquire();
      pqxx::nontransaction tx(*c);
      tx.exec0("CREATE TABLE IF NOT EXISTS chaos_prices (key TEXT PRIMARY KEY, value TEXT)");
      tx.exec0("DELETE FROM chaos_prices");
    });
    source_ = std::make_unique<PriceTable>(*pool_);
    clients::CacheConfig config;
    const std::string address = env_.address(spec_.target);
    config.host = address.substr(0, address.rfind(':'));
    config.port = std::stoi(address.substr(address.rfind(':') + 1));
    config.key_prefix = "chaos:";
    config.default_ttl = std::chrono::milliseconds(spec_.params.value("ttl_ms", 30'000));
    config.failure_threshold = spec_.params.value("failure_threshold", 3);
    config.half_open_after = std::chrono::milliseconds(spec_.params.value("half_open_ms", 5'000));
    config.name = name();
    redis_ = std::make_unique<clients::RedisManager>(config);
    cache_ =
        std::make_unique<clients::CacheClient>(*redis_, *source_, env_.clock(), nullptr, config);
    keys_ = spec_.params.value("keys", 5);
    write_every_ = spec_.params.value("write_every", 4);
    for (int k = 0; k < keys_; ++k) write(k);
  }

  void step() override {
    ++ops_;
    const int k = static_cast<int>(rng_.index(static_cast<std::size_t>(keys_)));
    if (ops_ % write_every_ == 0)
      write(k);
    else
      read(k);
  }

  std::map<std::string, double> metrics() const override {
    const auto s = cache_->stats();
    return {{"error_rate", window_.error_rate()},
            {"breaker_open", s.breaker == clients::BreakerState::kClosed ? 0.0 : 1.0},
            {"fallbacks", static_cast<double>(s.fallbacks)},
            {"hits", static_cast<double>(s.hits)}};
  }

 private:
  static std::string key_of(int k) { return "price:" + std::to_string(k); }

  void write(int k) {
    const std::string key = key_of(k), value = std::to_string(++version_);
    env_.journal().append(event_kind::kOpInvoke, name(),
                          {{"op", "put"}, {"key", key}, {"value", value}});
    std::string error;
    try {
      env_.driver().run([&] { cache_->put(key, value); });
    } catch (const std::exception&) {
      error = "error";
    }
    finish_op(error.empty(), {{"op", "put"}, {"key", key}, {"value", value}}, error);
    if (error.empty()) expected_[key] = value;
  }

  void read(int k) {
    const std::string key = key_of(k);
    env_.journal().append(event_kind::kOpInvoke, name(), {{"op", "get"}, {"key", key}});
    std::optional<std::string> got;
    std::string error;
    const auto hits_before = cache_->stats().hits;
    try {
      env_.driver().run([&] { got = cache_->get(key); });
    } catch (const std::exception&) {
      error = "error";
    }
    nlohmann::json f = {
        {"op", "get"},
        {"key", key},
        {"value", got ? nlohmann::json(*got) : nullptr},
        {"expected", expected_.count(key) ? nlohmann::json(expected_[key]) : nullptr},
        {"hit", cache_->stats().hits > hits_before},
        {"breaker_open", cache_->breaker_state() != clients::BreakerState::kClosed}};
    finish_op(error.empty(), f, error);
  }

  void finish_op(bool ok, nlohmann::json fields, const std::string& reason) {
    window_.add(ok);
    if (!ok) fields["reason"] = reason;
    env_.journal().append(ok ? event_kind::kOpOk : event_kind::kOpFail, name(), fields);
  }

  Environment& env_;
  WorkloadSpec spec_;
  Rng rng_;
  OutcomeWindow window_;
  clients::ConnectionPool* pool_ = nullptr;
  std::unique_ptr<PriceTable> source_;
  std::unique_ptr<clients::RedisManager> redis_;
  std::unique_ptr<clients::CacheClient> cache_;
  std::map<std::string, std::string> expected_;
  int keys_ = 5, write_every_ = 4;
  std::uint64_t ops_ = 0, version_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_cache_workload(const WorkloadSpec& spec, Environment& env) {
  return std::make_unique<CacheWorkload>(spec, env);
}

}  // namespace faultline::chaos
