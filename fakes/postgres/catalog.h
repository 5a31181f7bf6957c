// Catalog: the fake's in-memory tables and the transactions writing to them.
//
// Committed rows live in each Table; a transaction's uncommitted inserts and deletes live in its
// own write set until commit publishes them (an UPDATE is a delete plus an insert, so an updated
// row moves to the end of a scan, as it does in a PostgreSQL heap page). A statement sees the
// committed rows plus its own transaction's writes: read committed. A row being written by one
// open transaction is locked; where PostgreSQL would make a second writer wait, the fake raises
// 0A000 instead (see KNOWN_LIMITATIONS). DDL is not transactional here: the executor refuses it
// inside a transaction block.
//
// Thread safety: none; the fake uses it from its event loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fakes/postgres/value.h"

namespace faultline::pg {

struct Column {
  std::string name;
  Type type = Type::text;
  int numeric_precision = 0;  // numeric(p, s); 0: unbounded
  int numeric_scale = -1;     // -1: as given
  bool not_null = false;
};

struct TableDef {
  std::string name;
  std::vector<Column> columns;
  std::optional<std::size_t> primary_key;  // index of the single primary key column

  // Index of `column`, or nullopt.
  std::optional<std::size_t> find(const std::string& column) const;
};

using Row = std::vector<Value>;
using RowId = std::uint64_t;
using TxnId = std::uint64_t;

class Catalog {
 public:
  // --- schema (immediate, not transactional) ---
  const TableDef* table(const std::string& name) const;
  std::vector<std::string> table_names() const;  // sorted
  void create_table(TableDef def);
  // Throws 0A000 if another transaction has uncommitted writes to it.
  void drop_table(const std::string& name);

  // --- transactions ---
  TxnId begin();
  void commit(TxnId txn);
  void rollback(TxnId txn);
  // Forgets every open transaction's writes (a crash).
  void rollback_all();
  bool has_writes(TxnId txn) const;

  // --- rows, as `txn` sees them (committed plus its own writes), in scan order ---
  std::vector<std::pair<RowId, Row>> scan(TxnId txn, const std::string& table) const;
  // Adds a row; checks NOT NULL and the primary key (23502, 23505). Returns its id.
  RowId insert(TxnId txn, const std::string& table, Row row);
  // Deletes a visible row. Throws 0A000 if another open transaction is writing it.
  void remove(TxnId txn, const std::string& table, RowId id);
  // The visible row with primary key value `key`, if any (for ON CONFLICT).
  std::optional<std::pair<RowId, Row>> find_by_key(TxnId txn, const std::string& table,
                                                   const Value& key) const;

  // Drops every table and transaction (load of a dump).
  void clear();

 private:
  struct Table {
    TableDef def;
    std::map<RowId, Row> rows;  // committed
  };
  struct WriteSet {
    std::map<std::string, std::map<RowId, Row>> inserted;
    std::map<std::string, std::set<RowId>> deleted;
  };

  Table& table_or_throw(const std::string& name);
  const Table& table_or_throw(const std::string& name) const;
  void lock(TxnId txn, const std::string& table, RowId id);
  void check_key_free(TxnId txn, const std::string& table, const Row& row) const;

  std::map<std::string, Table> tables_;
  std::map<TxnId, WriteSet> txns_;
  std::map<std::pair<std::string, RowId>, TxnId> locks_;
  TxnId next_txn_ = 1;
  RowId next_row_ = 1;
};

}  // namespace faultline::pg
