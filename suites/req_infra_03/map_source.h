// MapSource: the "database" behind the cache in the REQ-INFRA-03 suites — a std::map with load and
// store counters, and a switch that makes it fail (to check that source errors reach the caller).
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "harness/clients/cache/cache_client.h"

namespace faultline::suites::req_infra_03 {

class MapSource final : public clients::CacheSource {
 public:
  std::optional<std::string> load(const std::string& key) override {
    std::lock_guard lock(mu_);
    ++loads_;
    if (failing_) throw std::runtime_error("database unavailable");
    const auto it = rows_.find(key);
    if (it == rows_.end()) return std::nullopt;
    return it->second;
  }
  void store(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    if (failing_) throw std::runtime_error("database unavailable");
    ++stores_;
    rows_[key] = value;
  }

  // Changes a row behind the cache's back (another writer of the database).
  void set_directly(const std::string& key, const std::string& value) {
    std::lock_guard lock(mu_);
    rows_[key] = value;
  }
  std::optional<std::string> row(const std::string& key) const {
    std::lock_guard lock(mu_);
    const auto it = rows_.find(key);
    if (it == rows_.end()) return std::nullopt;
    return it->second;
  }
  void fail(bool on) {
    std::lock_guard lock(mu_);
    failing_ = on;
  }
  std::uint64_t loads() const {
    std::lock_guard lock(mu_);
    return loads_;
  }
  std::uint64_t stores() const {
    std::lock_guard lock(mu_);
    return stores_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> rows_;
  bool failing_ = false;
  std::uint64_t loads_ = 0;
  std::uint64_t stores_ = 0;
};

}  // namespace faultline::suites::req_infra_03
