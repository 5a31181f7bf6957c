// PostgreSQL conformance by generated sequences: a RapidCheck state machine issues inserts,
// upserts, updates, deletes and selects, inside and outside transactions, on two connections, to
// the fake and to a real PostgreSQL 15, and requires the same outcome from both at every step.
// Connection 0 writes (in and out of transactions); connection 1 only reads, so the real server
// never blocks on a row lock (the fake would refuse where PostgreSQL waits; see
// KNOWN_LIMITATIONS) and every read checks read-committed visibility of connection 0's work.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "harness/testing/property.h"
#include "suites/conformance/postgres/servers.h"

namespace faultline::conformance {
namespace {

struct Model {
  bool in_transaction = false;
};

struct Sut {
  Servers& servers;
};

using Command = rc::state::Command<Model, Sut>;

void both(Sut& sut, const Step& step) {
  const Outcome fake = run_step(sut.servers.fake(step.conn), step);
  const Outcome real = run_step(sut.servers.real(step.conn), step);
  RC_ASSERT(fake.text == real.text);
}

struct Write : Command {
  int kind = *rc::gen::inRange(0, 4);
  int key = *rc::gen::inRange(0, 6);
  int value = *rc::gen::inRange(-50, 50);
  std::string sql() const {
    const std::string k = std::to_string(key), v = std::to_string(value);
    switch (kind) {
      case 0:
        return "INSERT INTO sm VALUES (" + k + ", " + v + ")";
      case 1:
        return "INSERT INTO sm VALUES (" + k + ", " + v +
               ") ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v RETURNING v";
      case 2:
        return "UPDATE sm SET v = " + v + " WHERE k = " + k;
      default:
        return "DELETE FROM sm WHERE k = " + k + " RETURNING k";
    }
  }
  void apply(Model&) const override {}
  void run(const Model&, Sut& sut) const override { both(sut, Step{sql(), 0}); }
  void show(std::ostream& os) const override { os << sql(); }
};

struct Read : Command {
  int conn = *rc::gen::inRange(0, 2);
  bool count = *rc::gen::arbitrary<bool>();
  std::string sql() const {
    return count ? "SELECT count(*) FROM sm" : "SELECT k, v FROM sm ORDER BY k";
  }
  void apply(Model&) const override {}
  void run(const Model&, Sut& sut) const override { both(sut, Step{sql(), conn}); }
  void show(std::ostream& os) const override { os << "[conn " << conn << "] " << sql(); }
};

struct Begin : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.in_transaction); }
  void apply(Model& m) const override { m.in_transaction = true; }
  void run(const Model&, Sut& sut) const override { both(sut, Step{"BEGIN", 0}); }
  void show(std::ostream& os) const override { os << "BEGIN"; }
};

struct End : Command {
  bool commit = *rc::gen::arbitrary<bool>();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.in_transaction); }
  void apply(Model& m) const override { m.in_transaction = false; }
  void run(const Model&, Sut& sut) const override {
    both(sut, Step{commit ? "COMMIT" : "ROLLBACK", 0});
  }
  void show(std::ostream& os) const override { os << (commit ? "COMMIT" : "ROLLBACK"); }
};

TEST(PostgresStateMachine, FakeAndPostgresAgreeOnGeneratedSequences) {
  Servers& servers = Servers::instance();
  if (!servers.real_available()) GTEST_SKIP() << servers.why_not();
  servers.reset();
  for (int i = 0; i < 2; ++i) {
    pqxx::nontransaction(servers.fake(i)).exec("SELECT 1");
  }
  pqxx::nontransaction(servers.fake(0)).exec("CREATE TABLE sm (k int PRIMARY KEY, v int)");
  pqxx::nontransaction(servers.real(0)).exec("CREATE TABLE sm (k int PRIMARY KEY, v int)");
  testing::check_property([&] {
    for (int i = 0; i < 2; ++i) {
      pqxx::nontransaction(servers.fake(i)).exec("ROLLBACK");
      pqxx::nontransaction(servers.real(i)).exec("ROLLBACK");
    }
    pqxx::nontransaction(servers.fake(0)).exec("DELETE FROM sm");
    pqxx::nontransaction(servers.real(0)).exec("DELETE FROM sm");
    Sut sut{servers};
    rc::state::check(Model{}, sut,
                     rc::state::gen::execOneOfWithArgs<Write, Write, Read, Begin, End>());
  });
}

}  // namespace
}  // namespace faultline::conformance
