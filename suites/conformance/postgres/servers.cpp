#include "suites/conformance/postgres/servers.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fakes/postgres/postgres_fake.h"
#include "fakes/postgres/testing/real_postgres.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/run_dir.h"

namespace faultline::conformance {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

bool has_order_by(const std::string& sql) {
  std::string lower = sql;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  return lower.find("order by") != std::string::npos;
}

void quiet(pqxx::connection& c) {
  // Notices (WARNING: there is no transaction in progress) are part of neither outcome here.
  pqxx::nontransaction(c).exec("SET client_min_messages = error");
}

}  // namespace

Outcome run_step(pqxx::connection& c, const Step& step) {
  Outcome out;
  try {
    pqxx::nontransaction tx(c);
    pqxx::result r =
        step.params.empty()
            ? tx.exec(step.sql)
            : tx.exec_params(step.sql, pqxx::prepare::make_dynamic_params(step.params));
    std::ostringstream text;
    text << "ok affected=" << r.affected_rows() << " cols=[";
    for (pqxx::row::size_type i = 0; i < r.columns(); ++i) {
      text << (i ? "," : "") << r.column_name(i) << ":" << r.column_type(i);
    }
    text << "] rows=[";
    std::vector<std::string> rows;
    for (const auto& row : r) {
      std::string line = "(";
      for (pqxx::row::size_type i = 0; i < row.size(); ++i) {
        line += (i ? "," : "") +
                (row[i].is_null() ? std::string("NULL") : "'" + std::string(row[i].c_str()) + "'");
      }
      rows.push_back(line + ")");
    }
    if (!has_order_by(step.sql)) std::sort(rows.begin(), rows.end());
    for (const auto& line : rows) text << line;
    text << "]";
    out.ok = true;
    out.text = text.str();
  } catch (const pqxx::sql_error& e) {
    out.sqlstate = e.sqlstate();
    out.text = "error " + e.sqlstate() + " " + trim(e.what());
  } catch (const pqxx::failure& e) {
    out.sqlstate = "?";
    out.text = std::string("failure ") + trim(e.what());
  }
  return out;
}

std::vector<Limitation> load_limitations() {
  const char* root = std::getenv("FAULTLINE_SOURCE_DIR");
  const std::string path = std::string(root ? root : ".") + "/fakes/postgres/KNOWN_LIMITATIONS";
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path);
  std::vector<Limitation> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0, bar;
    while (fields.size() < 3 && (bar = line.find(" | ", start)) != std::string::npos) {
      fields.push_back(trim(line.substr(start, bar - start)));
      start = bar + 3;
    }
    fields.push_back(trim(line.substr(start)));
    if (fields.size() != 4) throw InputError({path, number}, "want: id | aspect | regex | reason");
    Limitation l{fields[0], fields[1], fields[2], fields[3], {}};
    if (l.aspect != "message" && l.aspect != "result" && l.aspect != "outcome" &&
        l.aspect != "any" && l.aspect != "note") {
      throw InputError({path, number}, "aspect must be message, result, outcome, any or note");
    }
    try {
      l.regex = std::regex(l.pattern, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      throw InputError({path, number}, std::string("bad regex: ") + e.what());
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::string difference(const Outcome& fake, const Outcome& real) {
  if (fake.text == real.text) return "";
  if (fake.ok && real.ok) return "result";
  if (!fake.ok && !real.ok && fake.sqlstate == real.sqlstate) return "message";
  return "outcome";
}

const Limitation* find_limitation(const std::vector<Limitation>& list, const std::string& aspect,
                                  const std::string& sql) {
  for (const Limitation& l : list) {
    if (l.aspect == "note") continue;  // documented only; never excuses a difference
    if ((l.aspect == aspect || l.aspect == "any") && std::regex_search(sql, l.regex)) return &l;
  }
  return nullptr;
}

struct Servers::Impl {
  std::optional<RunDirectory> run;
  std::unique_ptr<testing::RealPostgres> real;
  RealClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<pg::PostgresFake> fake;
  std::vector<std::unique_ptr<pqxx::connection>> fake_conns, real_conns;
};

namespace {
Servers* g_servers = nullptr;
}

Servers& Servers::instance() {
  if (!g_servers) g_servers = new Servers();
  return *g_servers;
}

void Servers::shutdown() {
  delete g_servers;
  g_servers = nullptr;
}

Servers::Servers() : impl_(std::make_unique<Impl>()) {
  why_not_ = testing::RealPostgres::unavailable();
  // The run directory (and its watchdog) before any thread of ours starts.
  impl_->run.emplace(RunDirectory::create("conformance-postgres"));
  if (!why_not_) {
    impl_->real = std::make_unique<testing::RealPostgres>(*impl_->run);
    for (int i = 0; i < 2; ++i) {
      impl_->real_conns.push_back(
          std::make_unique<pqxx::connection>(impl_->real->connection_string()));
      quiet(*impl_->real_conns.back());
    }
  }
  impl_->loop = std::make_unique<EventLoop>();
  impl_->fake = std::make_unique<pg::PostgresFake>(*impl_->loop, impl_->clock);
  impl_->fake->start();
  for (int i = 0; i < 2; ++i) {
    impl_->fake_conns.push_back(
        std::make_unique<pqxx::connection>(impl_->fake->connection_string()));
    quiet(*impl_->fake_conns.back());
  }
}

Servers::~Servers() {
  impl_->fake_conns.clear();
  impl_->real_conns.clear();
  if (impl_->fake) impl_->fake->stop();
  impl_->fake.reset();
  impl_->loop.reset();
  impl_->real.reset();
  impl_->run.reset();
}

pqxx::connection& Servers::fake(int i) {
  return *impl_->fake_conns.at(static_cast<std::size_t>(i));
}

pqxx::connection& Servers::real(int i) {
  return *impl_->real_conns.at(static_cast<std::size_t>(i));
}

void Servers::reset() {
  for (auto* conns : {&impl_->fake_conns, &impl_->real_conns}) {
    for (auto& c : *conns) pqxx::nontransaction(*c).exec("ROLLBACK");
  }
  impl_->fake->load("");
  if (impl_->real) {
    pqxx::nontransaction tx(*impl_->real_conns[0]);
    tx.exec("DROP SCHEMA public CASCADE");
    tx.exec("CREATE SCHEMA public");
  }
}

}  // namespace faultline::conformance
