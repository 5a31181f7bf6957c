#include "harness/backends/test_clients.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <sstream>
#include <vector>

namespace faultline::backends::testing {

ClientReply redis_command(const std::string& host, int port, const std::string& command) {
  const timeval timeout{10, 0};
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, timeout);
  if (!c || c->err) {
    ClientReply r{false, c ? c->errstr : "out of memory"};
    if (c) redisFree(c);
    return r;
  }
  redisSetTimeout(c, timeout);
  std::vector<std::string> words;
  std::istringstream in(command);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& w : words) {
    argv.push_back(w.c_str());
    lens.push_back(w.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  ClientReply r;
  if (!reply) {
    r = {false, c->errstr};
  } else {
    if (reply->type == REDIS_REPLY_INTEGER) {
      r = {true, std::to_string(reply->integer)};
    } else if (reply->type == REDIS_REPLY_NIL) {
      r = {true, ""};
    } else {
      r = {reply->type != REDIS_REPLY_ERROR, reply->str ? std::string(reply->str, reply->len) : ""};
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return r;
}

ClientReply pg_exec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb((conninfo + " connect_timeout=10").c_str());
  ClientReply r;
  if (PQstatus(conn) != CONNECTION_OK) {
    r = {false, PQerrorMessage(conn)};
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    const auto st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      r.ok = true;
      if (st == PGRES_TUPLES_OK && PQntuples(res) > 0) r.text = PQgetvalue(res, 0, 0);
    } else {
      r = {false, PQerrorMessage(conn)};
    }
    PQclear(res);
  }
  PQfinish(conn);
  return r;
}

}  // namespace faultline::backends::testing
