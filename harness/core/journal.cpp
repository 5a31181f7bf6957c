#include "harness/core/journal.h"

#include <openssl/evp.h>

#include <fstream>

#include "harness/core/error.h"
#include "harness/core/redact.h"

namespace faultline {
namespace {

std::int64_t wall_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The digested form: everything but wall time, in a fixed key order (nlohmann sorts keys).
std::string canonical(const Event& e) {
  nlohmann::json j = {{"seq", e.seq},
                      {"sim_ns", e.sim_ns},
                      {"kind", e.kind},
                      {"subject", e.subject},
                      {"fields", e.fields}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

nlohmann::json Event::to_json() const {
  return {{"seq", seq},   {"sim_ns", sim_ns},   {"wall_ms", wall_ms(wall)},
          {"kind", kind}, {"subject", subject}, {"fields", fields}};
}

Event Event::from_json(const nlohmann::json& j) {
  Event e;
  e.seq = j.at("seq").get<std::uint64_t>();
  e.sim_ns = j.at("sim_ns").get<std::int64_t>();
  e.wall = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(j.value("wall_ms", std::int64_t{0})));
  e.kind = j.at("kind").get<std::string>();
  e.subject = j.at("subject").get<std::string>();
  e.fields = j.value("fields", nlohmann::json::object());
  return e;
}

struct Journal::Hasher {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Hasher() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Hasher() { EVP_MD_CTX_free(ctx); }
  void update(const std::string& s) { EVP_DigestUpdate(ctx, s.data(), s.size()); }
  std::string hex() const {
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(copy, ctx);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(copy, out, &len);
    EVP_MD_CTX_free(copy);
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
      hex += digits[out[i] >> 4];
      hex += digits[out[i] & 0xf];
    }
    return hex;
  }
};

Journal::Journal(Clock& clock, std::filesystem::path path)
    : clock_(clock), path_(std::move(path)), hasher_(std::make_unique<Hasher>()) {
  if (!path_.empty()) {
    if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path());
    file_ = std::fopen(path_.c_str(), "we");
    if (!file_) throw Error("cannot write journal " + path_.string());
  }
}

Journal::~Journal() {
  if (file_) std::fclose(file_);
}

std::uint64_t Journal::append(std::string kind, std::string subject, nlohmann::json fields) {
  Event e;
  e.kind = std::move(kind);
  e.subject = redact(subject);
  if (fields.is_null()) fields = nlohmann::json::object();
  Redactor::process().redact_json(fields);
  e.fields = std::move(fields);
  std::lock_guard lock(mu_);
  // Time is read under the lock so that sequence order and time order agree.
  e.seq = events_.size() + 1;
  e.sim_ns = clock_.now_ns();
  e.wall = clock_.wall_now();
  hasher_->update(canonical(e));
  if (file_) {
    std::string line =
        e.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }
  events_.push_back(std::move(e));
  return events_.back().seq;
}

std::vector<Event> Journal::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::size_t Journal::size() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

std::string Journal::digest() const {
  std::lock_guard lock(mu_);
  return hasher_->hex();
}

std::string Journal::digest_of(const std::vector<Event>& events) {
  Hasher h;
  for (const auto& e : events) h.update(canonical(e));
  return h.hex();
}

std::vector<Event> Journal::read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path.string()}, "cannot open journal");
  std::vector<Event> events;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    try {
      events.push_back(Event::from_json(nlohmann::json::parse(line)));
    } catch (const nlohmann::json::exception& ex) {
      throw InputError({path.string(), lineno}, std::string("not a journal event: ") + ex.what());
    }
  }
  return events;
}

}  // namespace faultline
