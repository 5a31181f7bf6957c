// PostgreSQL conformance: the same statements through libpqxx against the fake and a real
// PostgreSQL 15; any difference fails unless fakes/postgres/KNOWN_LIMITATIONS lists it.
#include <gtest/gtest.h>

#include "suites/conformance/postgres/servers.h"

namespace faultline::conformance {
namespace {

struct Case {
  std::string name;
  std::vector<Step> steps;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"literals_and_settings",
       {{"SELECT 1"},
        {"SELECT 1 AS x, 'a', true, NULL, 1.50, 3000000000, -7"},
        {"SELECT 1::bigint, 'x'::text, '2024-01-02 03:04:05.5+02'::timestamptz, '12.300'::numeric"},
        {"SELECT 'yes'::boolean, 'off'::boolean, '-0'::int, ' 42 '::int"},
        {"SELECT 'x'::int"},
        {"SELECT '99999999999'::int"},
        {"SELECT '2024-02-30'::timestamptz"},
        {"SHOW TimeZone"},
        {"SHOW standard_conforming_strings"},
        {"SHOW client_encoding"},
        {"SHOW transaction_isolation"},
        {"SHOW integer_datetimes"},
        {"SHOW no_such_setting"},
        {"SET application_name = 'conformance'"},
        {"SHOW application_name"},
        {"SET no_such_setting = 1"},
        {"SELECT current_user, current_database()"},
        {"SELECT version()"}}},
      {"syntax_errors",
       {{"SELEC 1"},
        {"SELECT 1 FROM"},
        {"SELECT (1"},
        {"INSERT INTO"},
        {"CREATE TABLE (a int)"},
        {"SELECT 'unterminated"},
        {""},
        {";"}}},
      {"ddl",
       {{"CREATE TABLE t (id int PRIMARY KEY, qty bigint NOT NULL, note text, "
         "price numeric(10,2), paid boolean, at timestamptz)"},
        {"CREATE TABLE t (a int)"},
        {"CREATE TABLE IF NOT EXISTS t (a int)"},
        {"CREATE TABLE u (a int, a int)"},
        {"CREATE TABLE v (a int PRIMARY KEY, b int PRIMARY KEY)"},
        {"CREATE TABLE w (a int, PRIMARY KEY (a))"},
        {"INSERT INTO w VALUES (1)"},
        {"SELECT * FROM w"},
        {"DROP TABLE nope"},
        {"DROP TABLE IF EXISTS nope"},
        {"DROP TABLE w"},
        {"SELECT * FROM w"},
        {"SELECT * FROM t"}}},
      {"dml",
       {{"CREATE TABLE t (id int PRIMARY KEY, qty bigint NOT NULL, note text, price numeric(10,2), "
         "paid boolean, at timestamptz)"},
        {"INSERT INTO t VALUES (1, 10, 'a', 1.5, true, '2024-01-01 10:00:00+00'), "
         "(2, 20, NULL, 2, false, NULL), (3, 30, 'c', 1.005, NULL, '2024-06-01T12:30:00.123456Z')"},
        {"INSERT INTO t (id, qty) VALUES (4, 40)"},
        {"SELECT * FROM t"},
        {"SELECT id, note FROM t WHERE paid = true AND qty = 10"},
        {"SELECT id FROM t WHERE note IS NULL ORDER BY id"},
        {"SELECT id, qty FROM t ORDER BY qty DESC LIMIT 2"},
        {"SELECT id FROM t ORDER BY note, id"},
        {"SELECT id FROM t ORDER BY note DESC NULLS LAST, id LIMIT 3 OFFSET 1"},
        {"SELECT id AS k FROM t ORDER BY k DESC"},
        {"SELECT id FROM t ORDER BY 1 DESC"},
        {"SELECT id FROM t WHERE qty > 15 AND qty <= 30 ORDER BY id"},
        {"SELECT id FROM t WHERE id = 1 OR NOT paid ORDER BY id"},
        {"SELECT count(*) FROM t"},
        {"SELECT count(note), count(*) FROM t WHERE qty >= 20"},
        {"SELECT count(*) FROM t WHERE id = 99"},
        {"SELECT t.id, x.qty FROM t x"},
        {"SELECT x.id FROM t x WHERE x.id = 2"},
        {"UPDATE t SET qty = 11, note = 'z' WHERE id = 1"},
        {"UPDATE t SET qty = qty WHERE id = 1 RETURNING id, qty, note"},
        {"UPDATE t SET note = 'none' WHERE id = 99"},
        {"DELETE FROM t WHERE id = 4 RETURNING *"},
        {"SELECT * FROM t ORDER BY id"},
        {"INSERT INTO t (id, qty) VALUES (1, 1)"},
        {"INSERT INTO t (id, qty) VALUES (NULL, 1)"},
        {"INSERT INTO t (id) VALUES (9)"},
        {"INSERT INTO t (id, qty) VALUES ('x', 1)"},
        {"INSERT INTO t (id, qty) VALUES ('12345678901', 1)"},
        {"INSERT INTO t (id, qty) VALUES ('5'::text, 1)"},
        {"INSERT INTO t (id, qty, nope) VALUES (5, 1, 1)"},
        {"INSERT INTO nope VALUES (1)"},
        {"INSERT INTO t (id, qty) VALUES (5, 1, 1)"},
        {"INSERT INTO t (id, qty, price) VALUES (6, 1, 123456789.5)"},
        {"SELECT nope FROM t"},
        {"SELECT * FROM t WHERE id = 'q'"},
        {"SELECT * FROM t WHERE id = note"},
        {"SELECT * FROM t WHERE qty"},
        {"SELECT id, count(*) FROM t"},
        {"SELECT * FROM t LIMIT -1"}}},
      {"upsert",
       {{"CREATE TABLE kv (k text PRIMARY KEY, v int)"},
        {"INSERT INTO kv VALUES ('a', 1) RETURNING *"},
        {"INSERT INTO kv VALUES ('a', 2) ON CONFLICT (k) DO NOTHING"},
        {"INSERT INTO kv VALUES ('a', 2), ('b', 2) ON CONFLICT DO NOTHING RETURNING k"},
        {"INSERT INTO kv VALUES ('a', 3) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v RETURNING v"},
        {"INSERT INTO kv AS t VALUES ('a', 4) ON CONFLICT (k) DO UPDATE SET v = t.v + 0 "
         "WHERE t.v = 100"},
        {"INSERT INTO kv VALUES ('c', 1), ('c', 2) ON CONFLICT (k) DO UPDATE SET v = 0"},
        {"INSERT INTO kv VALUES ('d', 1) ON CONFLICT (v) DO NOTHING"},
        {"INSERT INTO kv VALUES ('d', 1) ON CONFLICT DO UPDATE SET v = 0"},
        {"SELECT * FROM kv ORDER BY k"}}},
      {"transactions",
       {{"CREATE TABLE t (id int PRIMARY KEY, v int)"},
        {"BEGIN"},
        {"INSERT INTO t VALUES (1, 1)"},
        {"SELECT * FROM t"},
        {"SELECT * FROM t", 1},
        {"COMMIT"},
        {"SELECT * FROM t", 1},
        {"BEGIN"},
        {"UPDATE t SET v = 2 WHERE id = 1"},
        {"SELECT v FROM t", 1},
        {"ROLLBACK"},
        {"SELECT v FROM t"},
        {"BEGIN"},
        {"SELECT * FROM missing"},
        {"SELECT 1"},
        {"COMMIT"},
        {"SELECT 1"},
        {"BEGIN"},
        {"INSERT INTO t VALUES (2, 2)"},
        {"INSERT INTO t VALUES (2, 3)"},
        {"ROLLBACK"},
        {"SELECT * FROM t ORDER BY id"},
        {"BEGIN; INSERT INTO t VALUES (3, 3); COMMIT"},
        {"INSERT INTO t VALUES (4, 4); INSERT INTO t VALUES (4, 5)"},
        {"SELECT * FROM t ORDER BY id"},
        {"START TRANSACTION"},
        {"DELETE FROM t WHERE id = 3"},
        {"END"},
        {"SELECT id FROM t ORDER BY id", 1}}},
      {"parameters",
       {{"CREATE TABLE t (id int PRIMARY KEY, name text, n bigint, ok boolean)"},
        {"INSERT INTO t VALUES ($1, $2, $3, $4)", 0, {"1", "one", "100", "true"}},
        {"INSERT INTO t (id, name) VALUES ($1, $2) RETURNING id, name", 0, {"2", "two"}},
        {"SELECT name, n FROM t WHERE id = $1", 0, {"1"}},
        {"SELECT id FROM t WHERE name = $1 AND ok = $2", 0, {"one", "t"}},
        {"SELECT $1::int8 + 0", 0, {"5"}},
        {"SELECT $1::int8", 0, {"5"}},
        {"SELECT id FROM t WHERE id = $1", 0, {"x"}},
        {"SELECT id FROM t ORDER BY id LIMIT $1", 0, {"1"}},
        {"UPDATE t SET n = $1 WHERE id = $2", 0, {"7", "2"}},
        {"DELETE FROM t WHERE id = $1", 0, {"1"}},
        {"SELECT * FROM t ORDER BY id"}}},
      {"outside_the_subset",
       {{"CREATE TABLE t (id int PRIMARY KEY)"},
        {"SELECT lower('A')"},
        {"SELECT 1 UNION SELECT 2"},
        {"SELECT DISTINCT id FROM t"},
        {"SELECT * FROM t a JOIN t b ON a.id = b.id"},
        {"SELECT id + 1 FROM t"}}},
      {"pg_stat_activity",
       {{"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"},
        {"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"},
        {"SELECT pg_sleep(0)"}}},
  };
  return kCases;
}

class Environment : public ::testing::Environment {
 public:
  void TearDown() override { Servers::shutdown(); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Environment);

class PostgresConformance : public ::testing::TestWithParam<Case> {};

TEST_P(PostgresConformance, FakeAnswersAsPostgres15) {
  Servers& servers = Servers::instance();
  if (!servers.real_available()) GTEST_SKIP() << servers.why_not();
  static const std::vector<Limitation> limitations = load_limitations();
  servers.reset();
  for (const Step& step : GetParam().steps) {
    const Outcome fake = run_step(servers.fake(step.conn), step);
    const Outcome real = run_step(servers.real(step.conn), step);
    const std::string aspect = difference(fake, real);
    if (aspect.empty()) continue;
    if (const Limitation* known = find_limitation(limitations, aspect, step.sql)) {
      std::printf("known limitation %s (%s): %s\n  fake: %s\n  real: %s\n", known->id.c_str(),
                  aspect.c_str(), step.sql.c_str(), fake.text.c_str(), real.text.c_str());
      RecordProperty("known_limitation", known->id);
      continue;
    }
    ADD_FAILURE() << "fake and PostgreSQL 15 differ (" << aspect << ") on: " << step.sql
                  << "\n  fake: " << fake.text << "\n  real: " << real.text;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, PostgresConformance, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(PostgresKnownLimitations, FileParsesAndEveryEntryHasAReason) {
  for (const Limitation& l : load_limitations()) {
    EXPECT_FALSE(l.reason.empty()) << l.id;
    EXPECT_FALSE(l.id.empty());
  }
}

}  // namespace
}  // namespace faultline::conformance
