#include "harness/ops/backup/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "harness/core/error.h"

namespace faultline::ops {

namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw Error("SHA-256: OpenSSL initialisation failed");
  }
  void update(const char* data, std::size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

void escape_into(std::string& out, const char* s) {
  for (; *s; ++s) {
    switch (*s) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += *s;
    }
  }
}

}  // namespace

std::string sha256_hex(const std::string& data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex();
}

std::string sha256_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  Sha256 h;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    h.update(buf, static_cast<std::size_t>(in.gcount()));
  }
  return h.hex();
}

TableDigests digest_tables(pqxx::transaction_base& tx, const std::vector<std::string>& tables) {
  TableDigests out;
  for (const std::string& table : tables) {
    const pqxx::result r = tx.exec("SELECT * FROM " + tx.quote_name(table));
    std::vector<std::string> rows;
    rows.reserve(r.size());
    for (const auto& row : r) {
      std::string line;
      for (pqxx::row::size_type i = 0; i < row.size(); ++i) {
        if (i) line += '\t';
        if (row[i].is_null()) {
          line += "\\N";
        } else {
          escape_into(line, row[i].c_str());
        }
      }
      rows.push_back(std::move(line));
    }
    std::sort(rows.begin(), rows.end());
    Sha256 h;
    for (const std::string& line : rows) {
      h.update(line.data(), line.size());
      h.update("\n", 1);
    }
    out[table] = TableDigest{rows.size(), h.hex()};
  }
  return out;
}

std::vector<std::string> public_tables(pqxx::transaction_base& tx) {
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")) {
    out.push_back(row[0].c_str());
  }
  return out;
}

TableDigests digest_public_tables(const std::string& conninfo) {
  pqxx::connection c(conninfo);
  pqxx::read_transaction tx(c);
  return digest_tables(tx, public_tables(tx));
}

nlohmann::json to_json(const TableDigests& digests) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, d] : digests) j[name] = {{"rows", d.rows}, {"sha256", d.sha256}};
  return j;
}

TableDigests table_digests_from_json(const nlohmann::json& j) {
  TableDigests out;
  for (const auto& [name, d] : j.items()) {
    out[name] = TableDigest{d.at("rows").get<std::size_t>(), d.at("sha256").get<std::string>()};
  }
  return out;
}

std::string describe_difference(const TableDigests& actual, const TableDigests& expected) {
  for (const auto& [name, want] : expected) {
    auto it = actual.find(name);
    if (it == actual.end()) return "table " + name + " is missing";
    if (it->second.rows != want.rows) {
      return "table " + name + ": " + std::to_string(it->second.rows) + " rows, expected " +
             std::to_string(want.rows);
    }
    if (it->second.sha256 != want.sha256) return "table " + name + ": rows differ";
  }
  for (const auto& [name, d] : actual) {
    if (!expected.count(name)) return "unexpected table " + name;
  }
  return "";
}

}  // namespace faultline::ops
