#include "fakes/redis/keyspace.h"

namespace faultline::fakes::redis {

const std::string* HashValue::get(std::string_view field) const {
  const auto it = index_.find(std::string(field));
  return it == index_.end() ? nullptr : &fields_[it->second].second;
}

bool HashValue::set(std::string_view field, std::string_view value) {
  const auto it = index_.find(std::string(field));
  if (it != index_.end()) {
    auto& slot = fields_[it->second].second;
    bytes_ = bytes_ - slot.size() + value.size();
    slot.assign(value);
    return false;
  }
  index_.emplace(std::string(field), fields_.size());
  fields_.emplace_back(std::string(field), std::string(value));
  bytes_ += field.size() + value.size() + 16;
  return true;
}

bool HashValue::erase(std::string_view field) {
  const auto it = index_.find(std::string(field));
  if (it == index_.end()) return false;
  const std::size_t at = it->second;
  bytes_ -= fields_[at].first.size() + fields_[at].second.size() + 16;
  index_.erase(it);
  fields_.erase(fields_.begin() + static_cast<std::ptrdiff_t>(at));
  for (std::size_t i = at; i < fields_.size(); ++i) index_[fields_[i].first] = i;
  return true;
}

void ListValue::push_front(std::string v) {
  bytes_ += v.size() + 8;
  items_.push_front(std::move(v));
}

void ListValue::push_back(std::string v) {
  bytes_ += v.size() + 8;
  items_.push_back(std::move(v));
}

std::string ListValue::pop_front() {
  std::string v = std::move(items_.front());
  items_.pop_front();
  bytes_ -= v.size() + 8;
  return v;
}

std::string ListValue::pop_back() {
  std::string v = std::move(items_.back());
  items_.pop_back();
  bytes_ -= v.size() + 8;
  return v;
}

const char* type_name(const Value& v) {
  switch (v.index()) {
    case 0:
      return "string";
    case 1:
      return "hash";
    default:
      return "list";
  }
}

std::optional<EvictionPolicy> parse_policy(std::string_view name) {
  if (name == "noeviction") return EvictionPolicy::kNoEviction;
  if (name == "allkeys-lru") return EvictionPolicy::kAllKeysLru;
  if (name == "allkeys-random") return EvictionPolicy::kAllKeysRandom;
  if (name == "volatile-lru") return EvictionPolicy::kVolatileLru;
  if (name == "volatile-random") return EvictionPolicy::kVolatileRandom;
  if (name == "volatile-ttl") return EvictionPolicy::kVolatileTtl;
  return std::nullopt;
}

const char* policy_name(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kNoEviction:
      return "noeviction";
    case EvictionPolicy::kAllKeysLru:
      return "allkeys-lru";
    case EvictionPolicy::kAllKeysRandom:
      return "allkeys-random";
    case EvictionPolicy::kVolatileLru:
      return "volatile-lru";
    case EvictionPolicy::kVolatileRandom:
      return "volatile-random";
    case EvictionPolicy::kVolatileTtl:
      return "volatile-ttl";
  }
  return "noeviction";
}

Keyspace::Keyspace(Clock& clock, Rng rng, int databases)
    : clock_(clock), rng_(rng), dbs_(static_cast<std::size_t>(databases < 1 ? 1 : databases)) {}

std::size_t Keyspace::entry_bytes(std::string_view key, const Value& v) {
  std::size_t value_bytes = 0;
  if (const auto* s = std::get_if<std::string>(&v)) value_bytes = s->size();
  if (const auto* h = std::get_if<HashValue>(&v)) value_bytes = h->bytes();
  if (const auto* l = std::get_if<ListValue>(&v)) value_bytes = l->bytes();
  return kEntryOverhead + key.size() + value_bytes;
}

void Keyspace::expire_due() {
  const TimePoint now = clock_.now();
  while (!expiry_index_.empty() && std::get<0>(*expiry_index_.begin()) <= now) {
    const auto [deadline, db, key] = *expiry_index_.begin();
    auto& d = dbs_[static_cast<std::size_t>(db)];
    const auto it = d.dict.find(key);
    remove(db, it);  // also drops the index entry
    ++stats_.expired;
  }
}

Entry* Keyspace::find(int db, std::string_view key) {
  auto& d = dbs_[static_cast<std::size_t>(db)];
  const auto it = d.dict.find(std::string(key));
  if (it == d.dict.end()) return nullptr;
  it->second.last_access = ++access_counter_;
  return &it->second;
}

Entry* Keyspace::find_read(int db, std::string_view key) {
  Entry* e = find(db, key);
  if (e) {
    ++stats_.hits;
  } else {
    ++stats_.misses;
  }
  return e;
}

Entry& Keyspace::store(int db, std::string_view key, Value value, bool keep_ttl) {
  auto& d = dbs_[static_cast<std::size_t>(db)];
  const std::string k(key);
  auto it = d.dict.find(k);
  if (it == d.dict.end()) {
    it = d.dict.emplace(k, Entry{}).first;
  } else {
    used_ -= it->second.bytes;
    if (!keep_ttl) set_deadline(db, key, std::nullopt);
  }
  Entry& e = it->second;
  e.value = std::move(value);
  e.last_access = ++access_counter_;
  e.bytes = entry_bytes(key, e.value);
  used_ += e.bytes;
  return e;
}

void Keyspace::remove(int db, std::unordered_map<std::string, Entry>::iterator it) {
  auto& d = dbs_[static_cast<std::size_t>(db)];
  if (it == d.dict.end()) return;
  if (const auto e = d.expires.find(it->first); e != d.expires.end()) {
    expiry_index_.erase(ExpiryKey{e->second, db, it->first});
    d.expires.erase(e);
  }
  used_ -= it->second.bytes;
  d.dict.erase(it);
}

bool Keyspace::erase(int db, std::string_view key) {
  auto& d = dbs_[static_cast<std::size_t>(db)];
  const auto it = d.dict.find(std::string(key));
  if (it == d.dict.end()) return false;
  remove(db, it);
  return true;
}

void Keyspace::updated(int db, std::string_view key, Entry& entry) {
  used_ -= entry.bytes;
  entry.bytes = entry_bytes(key, entry.value);
  used_ += entry.bytes;
  const auto* h = std::get_if<HashValue>(&entry.value);
  const auto* l = std::get_if<ListValue>(&entry.value);
  if ((h && h->size() == 0) || (l && l->size() == 0)) erase(db, key);
}

bool Keyspace::set_deadline(int db, std::string_view key, std::optional<TimePoint> deadline) {
  auto& d = dbs_[static_cast<std::size_t>(db)];
  const std::string k(key);
  if (!d.dict.count(k)) return false;
  if (const auto e = d.expires.find(k); e != d.expires.end()) {
    expiry_index_.erase(ExpiryKey{e->second, db, k});
    d.expires.erase(e);
  }
  if (deadline) {
    d.expires.emplace(k, *deadline);
    expiry_index_.emplace(*deadline, db, k);
  }
  return true;
}

std::optional<TimePoint> Keyspace::deadline(int db, std::string_view key) const {
  const auto& d = dbs_[static_cast<std::size_t>(db)];
  const auto it = d.expires.find(std::string(key));
  if (it == d.expires.end()) return std::nullopt;
  return it->second;
}

std::size_t Keyspace::size(int db) const {
  return dbs_[static_cast<std::size_t>(db)].dict.size();
}

std::size_t Keyspace::volatile_size(int db) const {
  return dbs_[static_cast<std::size_t>(db)].expires.size();
}

std::vector<std::string> Keyspace::keys(int db) const {
  std::vector<std::string> out;
  const auto& d = dbs_[static_cast<std::size_t>(db)];
  out.reserve(d.dict.size());
  for (const auto& [k, e] : d.dict) out.push_back(k);
  return out;
}

void Keyspace::flush(int db) {
  auto& d = dbs_[static_cast<std::size_t>(db)];
  while (!d.dict.empty()) remove(db, d.dict.begin());
}

void Keyspace::flush_all() {
  for (int db = 0; db < databases(); ++db) flush(db);
}

std::size_t Keyspace::recount() const {
  std::size_t total = kBaseMemory;
  for (const auto& d : dbs_) {
    for (const auto& [k, e] : d.dict) total += entry_bytes(k, e.value);
  }
  return total;
}

template <class Map>
const std::string& Keyspace::random_key(const Map& map) {
  const std::size_t buckets = map.bucket_count();
  std::size_t b = rng_.index(buckets);
  while (map.bucket_size(b) == 0) b = (b + 1) % buckets;
  auto it = map.begin(b);
  std::advance(it, static_cast<std::ptrdiff_t>(rng_.index(map.bucket_size(b))));
  return it->first;
}

bool Keyspace::evict_one() {
  const bool volatile_only = policy_ == EvictionPolicy::kVolatileLru ||
                             policy_ == EvictionPolicy::kVolatileRandom ||
                             policy_ == EvictionPolicy::kVolatileTtl;
  const bool random =
      policy_ == EvictionPolicy::kAllKeysRandom || policy_ == EvictionPolicy::kVolatileRandom;
  // Best candidate so far: (score, db, key); lower score = evict first.
  std::optional<std::tuple<std::uint64_t, int, std::string>> best;
  for (int db = 0; db < databases(); ++db) {
    auto& d = dbs_[static_cast<std::size_t>(db)];
    const std::size_t population = volatile_only ? d.expires.size() : d.dict.size();
    if (population == 0) continue;
    const int draws = random ? 1 : samples_;
    for (int i = 0; i < draws; ++i) {
      const std::string& key = volatile_only ? random_key(d.expires) : random_key(d.dict);
      std::uint64_t score = 0;
      if (policy_ == EvictionPolicy::kVolatileTtl) {
        score = static_cast<std::uint64_t>(d.expires.at(key).time_since_epoch().count());
      } else if (random) {
        score = rng_.next();  // a random database, too
      } else {
        score = d.dict.at(key).last_access;
      }
      if (!best || score < std::get<0>(*best)) best.emplace(score, db, key);
    }
  }
  if (!best) return false;
  erase(std::get<1>(*best), std::get<2>(*best));
  ++stats_.evicted;
  return true;
}

bool Keyspace::make_room() {
  if (!over_limit()) return true;
  if (policy_ == EvictionPolicy::kNoEviction) return false;
  while (over_limit()) {
    if (!evict_one()) return false;
  }
  return true;
}

}  // namespace faultline::fakes::redis
