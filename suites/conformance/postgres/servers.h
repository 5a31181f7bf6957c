// The two servers every PostgreSQL conformance case runs against: the fake (on its own loop)
// and a real PostgreSQL 15 (RealPostgres, in a run directory of its own), each with two client
// connections, plus the comparison of outcomes and the known-limitations list.
//
// Thread safety: one test thread uses a Servers at a time.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace faultline::conformance {

// One statement of a case: run on connection `conn` (0 or 1), through the extended protocol
// with text parameters when `params` is non-empty.
struct Step {
  std::string sql;
  int conn = 0;
  std::vector<std::string> params = {};
};

// What a statement did, as comparable text: "ok affected=<n> cols=[name:oid,...] rows=[...]" or
// "error <SQLSTATE> <message>". Rows are sorted unless the statement says ORDER BY.
struct Outcome {
  bool ok = false;
  std::string sqlstate;  // for errors
  std::string text;
};
Outcome run_step(pqxx::connection& c, const Step& step);

// fakes/postgres/KNOWN_LIMITATIONS: "id | aspect | statement regex | reason" lines, where aspect
// is `message` (same SQLSTATE, other text), `result` (both succeed, other results), `outcome`
// (success against error, or another SQLSTATE), `any`, or `note` (a difference the suite cannot
// observe: documented only, it never excuses one).
struct Limitation {
  std::string id, aspect, pattern, reason;
  std::regex regex;
};
std::vector<Limitation> load_limitations();
// The aspect in which two outcomes differ ("" if they do not).
std::string difference(const Outcome& fake, const Outcome& real);
const Limitation* find_limitation(const std::vector<Limitation>& list, const std::string& aspect,
                                  const std::string& sql);

class Servers {
 public:
  // Starts both; `why_not` says why the real one cannot run here (then only the fake runs).
  static Servers& instance();
  // Stops both servers (a test environment's TearDown calls it).
  static void shutdown();
  bool real_available() const { return !why_not_.has_value(); }
  const std::string& why_not() const { return *why_not_; }
  pqxx::connection& fake(int i);
  pqxx::connection& real(int i);
  // Rolls back what the connections have open and drops every table on both servers.
  void reset();
  ~Servers();

 private:
  Servers();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::optional<std::string> why_not_;
};

}  // namespace faultline::conformance
