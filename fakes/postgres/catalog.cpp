#include "fakes/postgres/catalog.h"

#include <algorithm>

#include "fakes/postgres/sql_error.h"

namespace faultline::pg {

namespace {

SqlError lock_conflict(const std::string& table) {
  SqlError e = not_supported("waiting for a row lock held by another open transaction (table \"" +
                             table + "\")");
  e.detail = "PostgreSQL would block until that transaction ends; the fake refuses instead.";
  return e;
}

}  // namespace

std::optional<std::size_t> TableDef::find(const std::string& column) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return i;
  }
  return std::nullopt;
}

const TableDef* Catalog::table(const std::string& name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second.def;
}

std::vector<std::string> Catalog::table_names() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : tables_) names.push_back(name);
  return names;
}

void Catalog::create_table(TableDef def) {
  const std::string name = def.name;
  tables_[name] = Table{std::move(def), {}};
}

void Catalog::drop_table(const std::string& name) {
  for (const auto& [id, ws] : txns_) {
    if (ws.inserted.count(name) || ws.deleted.count(name)) throw lock_conflict(name);
  }
  tables_.erase(name);
}

Catalog::Table& Catalog::table_or_throw(const std::string& name) {
  auto it = tables_.find(name);
  if (it == tables_.end()) throw SqlError("42P01", "relation \"" + name + "\" does not exist");
  return it->second;
}

const Catalog::Table& Catalog::table_or_throw(const std::string& name) const {
  return const_cast<Catalog*>(this)->table_or_throw(name);
}

TxnId Catalog::begin() {
  const TxnId id = next_txn_++;
  txns_[id];
  return id;
}

void Catalog::commit(TxnId txn) {
  auto it = txns_.find(txn);
  if (it == txns_.end()) return;
  for (auto& [name, ids] : it->second.deleted) {
    auto t = tables_.find(name);
    if (t == tables_.end()) continue;
    for (RowId id : ids) t->second.rows.erase(id);
  }
  for (auto& [name, rows] : it->second.inserted) {
    auto t = tables_.find(name);
    if (t == tables_.end()) continue;
    for (auto& [id, row] : rows) t->second.rows.emplace(id, std::move(row));
  }
  rollback(txn);  // releases the locks and the write set
}

void Catalog::rollback(TxnId txn) {
  txns_.erase(txn);
  std::erase_if(locks_, [txn](const auto& entry) { return entry.second == txn; });
}

void Catalog::rollback_all() {
  txns_.clear();
  locks_.clear();
}

bool Catalog::has_writes(TxnId txn) const {
  auto it = txns_.find(txn);
  return it != txns_.end() && (!it->second.inserted.empty() || !it->second.deleted.empty());
}

std::vector<std::pair<RowId, Row>> Catalog::scan(TxnId txn, const std::string& name) const {
  const Table& t = table_or_throw(name);
  std::vector<std::pair<RowId, Row>> out;
  const WriteSet* ws = nullptr;
  if (auto it = txns_.find(txn); it != txns_.end()) ws = &it->second;
  const std::set<RowId>* deleted = nullptr;
  if (ws) {
    if (auto d = ws->deleted.find(name); d != ws->deleted.end()) deleted = &d->second;
  }
  for (const auto& [id, row] : t.rows) {
    if (deleted && deleted->count(id)) continue;
    out.emplace_back(id, row);
  }
  if (ws) {
    if (auto ins = ws->inserted.find(name); ins != ws->inserted.end()) {
      for (const auto& [id, row] : ins->second) out.emplace_back(id, row);
    }
  }
  return out;
}

void Catalog::lock(TxnId txn, const std::string& table, RowId id) {
  auto [it, inserted] = locks_.emplace(std::make_pair(table, id), txn);
  if (!inserted && it->second != txn) throw lock_conflict(table);
}

void Catalog::check_key_free(TxnId txn, const std::string& name, const Row& row) const {
  const Table& t = table_or_throw(name);
  if (!t.def.primary_key) return;
  const std::size_t k = *t.def.primary_key;
  if (find_by_key(txn, name, row[k])) {
    SqlError e("23505", "duplicate key value violates unique constraint \"" + name + "_pkey\"");
    e.detail = "Key (" + t.def.columns[k].name + ")=(" + to_text(row[k]) + ") already exists.";
    throw e;
  }
  // Another open transaction writing the same key: PostgreSQL would wait for it.
  for (const auto& [other, ws] : txns_) {
    if (other == txn) continue;
    auto ins = ws.inserted.find(name);
    if (ins == ws.inserted.end()) continue;
    for (const auto& [id, r] : ins->second) {
      if (compare(r[k], row[k]) == 0) throw lock_conflict(name);
    }
  }
}

RowId Catalog::insert(TxnId txn, const std::string& name, Row row) {
  const Table& t = table_or_throw(name);
  for (std::size_t i = 0; i < t.def.columns.size(); ++i) {
    const Column& c = t.def.columns[i];
    if (row[i].null && (c.not_null || t.def.primary_key == i)) {
      SqlError e("23502", "null value in column \"" + c.name + "\" of relation \"" + name +
                              "\" violates not-null constraint");
      std::string failing = "Failing row contains (";
      for (std::size_t j = 0; j < row.size(); ++j) {
        failing += (j ? ", " : "") + (row[j].null ? std::string("null") : to_text(row[j]));
      }
      e.detail = failing + ").";
      throw e;
    }
  }
  check_key_free(txn, name, row);
  const RowId id = next_row_++;
  lock(txn, name, id);
  txns_[txn].inserted[name].emplace(id, std::move(row));
  return id;
}

void Catalog::remove(TxnId txn, const std::string& name, RowId id) {
  table_or_throw(name);
  lock(txn, name, id);
  WriteSet& ws = txns_[txn];
  auto ins = ws.inserted.find(name);
  if (ins != ws.inserted.end() && ins->second.erase(id)) {
    if (ins->second.empty()) ws.inserted.erase(ins);
    return;
  }
  ws.deleted[name].insert(id);
}

std::optional<std::pair<RowId, Row>> Catalog::find_by_key(TxnId txn, const std::string& name,
                                                          const Value& key) const {
  const Table& t = table_or_throw(name);
  if (!t.def.primary_key || key.null) return std::nullopt;
  for (auto& entry : scan(txn, name)) {
    if (compare(entry.second[*t.def.primary_key], key) == 0) return entry;
  }
  return std::nullopt;
}

void Catalog::clear() {
  tables_.clear();
  rollback_all();
}

}  // namespace faultline::pg
