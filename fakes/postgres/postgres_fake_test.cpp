// The PostgreSQL fake through libpqxx: the SQL subset, transactions, the extended protocol,
// authentication, dump/load.
#include <future>

#include "fakes/postgres/fake_test_support.h"

namespace faultline::pg::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(FakePostgresTest, AnswersSelectOneVersionAndShow) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  auto r = tx.exec("SELECT 1");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0].as<int>(), 1);
  EXPECT_EQ(r.column_type(0), 23u);
  EXPECT_STREQ(r.column_name(0), "?column?");
  EXPECT_NE(tx.exec("SELECT version()")[0][0].as<std::string>().find("PostgreSQL 15"),
            std::string::npos);
  EXPECT_EQ(tx.exec("SHOW server_version_num")[0][0].as<std::string>(), "150018");
  EXPECT_EQ(tx.exec("SHOW TimeZone")[0][0].as<std::string>(), "UTC");
  EXPECT_EQ(c.server_version(), 150018);
  tx.exec("SET application_name = 'probe'");
  EXPECT_EQ(tx.exec("SHOW application_name")[0][0].as<std::string>(), "probe");
  EXPECT_EQ(outcome([&] { tx.exec("SHOW no_such_setting"); }), "42704");
}

TEST_F(FakePostgresTest, TypesHaveRealOidsAndTextForms) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  auto r = tx.exec(
      "SELECT 1::bigint AS b, 'x'::text AS t, true AS f, 1.50 AS n, "
      "'2024-01-02 03:04:05.25+02'::timestamptz AS ts, NULL AS z");
  EXPECT_EQ(r.column_type(0), 20u);
  EXPECT_EQ(r.column_type(1), 25u);
  EXPECT_EQ(r.column_type(2), 16u);
  EXPECT_EQ(r.column_type(3), 1700u);
  EXPECT_EQ(r.column_type(4), 1184u);
  EXPECT_EQ(r[0][2].c_str(), std::string("t"));
  EXPECT_EQ(r[0][3].c_str(), std::string("1.50"));
  EXPECT_EQ(r[0][4].c_str(), std::string("2024-01-02 01:04:05.25+00"));
  EXPECT_TRUE(r[0][5].is_null());
}

TEST_F(FakePostgresTest, CreateInsertSelectUpdateDelete) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  tx.exec(
      "CREATE TABLE orders (id int PRIMARY KEY, qty bigint NOT NULL, note text, "
      "price numeric(10,2), paid boolean, at timestamptz)");
  tx.exec("CREATE TABLE IF NOT EXISTS orders (id int)");
  tx.exec(
      "INSERT INTO orders VALUES (1, 10, 'a', 1.5, true, '2024-01-01'), (2, 20, NULL, 2, false, "
      "NULL)");
  tx.exec("INSERT INTO orders (id, qty) VALUES (3, 30)");
  auto r = tx.exec("SELECT id, price FROM orders WHERE paid = true AND qty = 10");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][1].c_str(), std::string("1.50"));
  r = tx.exec("SELECT * FROM orders ORDER BY qty DESC LIMIT 2");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0][0].as<int>(), 3);
  EXPECT_EQ(r.columns(), 6u);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM orders")[0][0].as<long>(), 3);
  EXPECT_EQ(tx.exec("UPDATE orders SET qty = 11 WHERE id = 1").affected_rows(), 1u);
  r = tx.exec("UPDATE orders SET note = 'z' WHERE id = 2 RETURNING id, note");
  EXPECT_EQ(r[0][1].as<std::string>(), "z");
  EXPECT_EQ(tx.exec("DELETE FROM orders WHERE id = 3").affected_rows(), 1u);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM orders")[0][0].as<long>(), 2);
  tx.exec("DROP TABLE orders");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM orders"); }), "42P01");
}

TEST_F(FakePostgresTest, UpsertAndReturning) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  tx.exec("CREATE TABLE kv (k text PRIMARY KEY, v int)");
  auto r = tx.exec("INSERT INTO kv VALUES ('a', 1) RETURNING *");
  EXPECT_EQ(r[0][1].as<int>(), 1);
  EXPECT_EQ(tx.exec("INSERT INTO kv VALUES ('a', 2) ON CONFLICT (k) DO NOTHING").affected_rows(),
            0u);
  r = tx.exec(
      "INSERT INTO kv VALUES ('a', 3) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v RETURNING v");
  EXPECT_EQ(r[0][0].as<int>(), 3);
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO kv VALUES ('a', 4)"); }), "23505");
  EXPECT_EQ(
      outcome([&] {
        tx.exec("INSERT INTO kv VALUES ('b', 1), ('b', 2) ON CONFLICT (k) DO UPDATE SET v = 0");
      }),
      "21000");
}

TEST_F(FakePostgresTest, ErrorsCarryRealSqlstatesAndPositions) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  tx.exec("CREATE TABLE t (a int PRIMARY KEY, b text)");
  try {
    tx.exec("SELEC 1");
    FAIL() << "no error";
  } catch (const pqxx::syntax_error& e) {
    EXPECT_EQ(e.sqlstate(), "42601");
    EXPECT_EQ(e.error_position, 1);
  }
  EXPECT_EQ(outcome([&] { tx.exec("SELECT nope FROM t"); }), "42703");
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO t VALUES ('x', 'y')"); }), "22P02");
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO t VALUES (NULL, 'y')"); }), "23502");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT a FROM t GROUP BY a"); }), "0A000");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM t JOIN t u ON true"); }), "0A000");
  EXPECT_EQ(outcome([&] { tx.exec("CREATE INDEX i ON t (b)"); }), "0A000");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM t WHERE a = 'q'"); }), "22P02");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM t WHERE a = b"); }), "42883");
  try {
    tx.exec("SELECT lower(b) FROM t");
    FAIL() << "no error";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "0A000");
    EXPECT_NE(std::string(e.what()).find("lower()"), std::string::npos) << e.what();
  }
}

TEST_F(FakePostgresTest, TransactionsAreReadCommittedAndFailedBlocksAbort) {
  pqxx::connection a(conninfo()), b(conninfo());
  pqxx::nontransaction(a).exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  {
    pqxx::work w(a);
    w.exec("INSERT INTO t VALUES (1, 1)");
    EXPECT_EQ(w.exec("SELECT count(*) FROM t")[0][0].as<int>(), 1);
    EXPECT_EQ(pqxx::nontransaction(b).exec("SELECT count(*) FROM t")[0][0].as<int>(), 0);
    w.commit();
  }
  EXPECT_EQ(pqxx::nontransaction(b).exec("SELECT count(*) FROM t")[0][0].as<int>(), 1);
  {
    pqxx::work w(a);
    w.exec("DELETE FROM t");
    w.abort();
  }
  EXPECT_EQ(pqxx::nontransaction(b).exec("SELECT count(*) FROM t")[0][0].as<int>(), 1);
  pqxx::nontransaction raw(a);
  raw.exec("BEGIN");
  EXPECT_EQ(outcome([&] { raw.exec("SELECT * FROM missing"); }), "42P01");
  EXPECT_EQ(outcome([&] { raw.exec("SELECT 1"); }), "25P02");
  raw.exec("ROLLBACK");
  EXPECT_EQ(raw.exec("SELECT 1")[0][0].as<int>(), 1);
  raw.exec("BEGIN");
  EXPECT_EQ(outcome([&] { raw.exec("CREATE TABLE u (a int)"); }), "0A000");
  raw.exec("ROLLBACK");
}

TEST_F(FakePostgresTest, ExtendedProtocolParamsAndPreparedStatements) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction(c).exec("CREATE TABLE t (id int PRIMARY KEY, name text, n bigint)");
  c.prepare("ins", "INSERT INTO t (id, name, n) VALUES ($1, $2, $3)");
  c.prepare("get", "SELECT name, n FROM t WHERE id = $1");
  {
    pqxx::work w(c);
    w.exec_prepared("ins", 1, "one", 100);
    w.exec_prepared("ins", 2, nullptr, 200);
    w.exec_params("INSERT INTO t VALUES ($1, $2, $3)", 3, "three", 300);
    w.commit();
  }
  pqxx::work w(c);
  auto r = w.exec_prepared("get", 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0].as<std::string>(), "one");
  EXPECT_EQ(r.column_type(1), 20u);
  EXPECT_TRUE(w.exec_prepared("get", 2)[0][0].is_null());
  EXPECT_EQ(w.exec_params("SELECT n FROM t WHERE name = $1", "three")[0][0].as<int>(), 300);
  EXPECT_EQ(
      w.exec_params("SELECT count(*) FROM t WHERE id = $1 AND n = $2", 1, 100)[0][0].as<int>(), 1);
  EXPECT_EQ(outcome([&] { w.exec_prepared("get", "x"); }), "22P02");
}

TEST_F(FakePostgresTest, PgStatActivityCountsClientSessions) {
  pqxx::connection a(conninfo()), b(conninfo());
  pqxx::nontransaction tx(a);
  EXPECT_EQ(
      tx.exec("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")[0][0]
          .as<int>(),
      2);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pg_stat_activity")[0][0].as<int>(), 7);
}

TEST_F(FakePostgresTest, PgSleepWaitsOnTheHarnessClock) {
  pqxx::connection c(conninfo());
  auto result = std::async(std::launch::async, [&] {
    return pqxx::nontransaction(c).exec("SELECT pg_sleep(3600)").size();
  });
  ASSERT_TRUE(wait_until([&] { return clock_.pending() > 0; }));
  EXPECT_EQ(result.wait_for(0s), std::future_status::timeout);
  clock_.advance(3600s);
  EXPECT_EQ(result.get(), 1u);
}

TEST_F(FakePostgresTest, DumpAndLoadRoundTrip) {
  {
    pqxx::connection c(conninfo());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE TABLE \"Odd\" (id bigint PRIMARY KEY, s text, n numeric(6,2), b boolean)");
    tx.exec("INSERT INTO \"Odd\" VALUES (1, 'it''s', 1.5, true), (2, NULL, NULL, NULL)");
  }
  const std::string dump = fake_->dump();
  EXPECT_NE(dump.find("'it''s'"), std::string::npos) << dump;
  fake_->load("CREATE TABLE other (a int)");
  EXPECT_EQ(fake_->dump().find("Odd"), std::string::npos);
  fake_->load(dump);
  EXPECT_EQ(fake_->dump(), dump);
  pqxx::connection c(conninfo());
  EXPECT_EQ(
      pqxx::nontransaction(c).exec("SELECT n FROM \"Odd\" WHERE id = 1")[0][0].as<std::string>(),
      "1.50");
}

class PasswordAuthTest : public FakePostgresTest {
 protected:
  PostgresFakeOptions options() override {
    PostgresFakeOptions o;
    o.auth = AuthMethod::md5;
    o.users = {{"app", "s3cret"}};
    o.databases = {"postgres", "app"};
    return o;
  }
};

TEST_F(PasswordAuthTest, Md5AcceptsTheRightPasswordOnly) {
  pqxx::connection c(conninfo("app") + " password=s3cret");
  EXPECT_EQ(pqxx::nontransaction(c).exec("SELECT current_user")[0][0].as<std::string>(), "app");
  const std::string wrong =
      outcome([&] { pqxx::connection bad(conninfo("app") + " password=nope"); });
  EXPECT_NE(wrong.find("password authentication failed"), std::string::npos) << wrong;
  const std::string nodb = outcome(
      [&] { pqxx::connection bad(fake_->connection_string("app", "nodb") + " password=s3cret"); });
  EXPECT_NE(nodb.find("does not exist"), std::string::npos) << nodb;
}

class CleartextAuthTest : public PasswordAuthTest {
 protected:
  PostgresFakeOptions options() override {
    PostgresFakeOptions o = PasswordAuthTest::options();
    o.auth = AuthMethod::password;
    return o;
  }
};

TEST_F(CleartextAuthTest, PasswordAcceptsTheRightPasswordOnly) {
  pqxx::connection c(conninfo("app") + " password=s3cret");
  EXPECT_EQ(pqxx::nontransaction(c).exec("SELECT 1")[0][0].as<int>(), 1);
  const std::string wrong = outcome([&] { pqxx::connection bad(conninfo("app") + " password=x"); });
  EXPECT_NE(wrong.find("password authentication failed"), std::string::npos) << wrong;
}

}  // namespace
}  // namespace faultline::pg::testing
