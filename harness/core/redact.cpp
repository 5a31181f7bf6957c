#include "harness/core/redact.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <nlohmann/json.hpp>

extern char** environ;

namespace faultline {

Redactor::Redactor(const Redactor& other) {
  std::shared_lock lock(other.mu_);
  secrets_ = other.secrets_;
}

bool Redactor::is_secret_name(std::string_view name) {
  std::string upper(name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view marker : {"PASSWORD", "SECRET", "TOKEN", "KEY"}) {
    if (upper.find(marker) != std::string::npos) return true;
  }
  return false;
}

Redactor Redactor::from_environment(char** envp) {
  Redactor r;
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    if (is_secret_name(entry.substr(0, eq))) r.add(entry.substr(eq + 1));
  }
  return r;
}

Redactor& Redactor::process() {
  static Redactor instance = from_environment(environ);
  return instance;
}

void Redactor::add(std::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  std::unique_lock lock(mu_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::size_t Redactor::size() const {
  std::shared_lock lock(mu_);
  return secrets_.size();
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  std::shared_lock lock(mu_);
  for (const auto& secret : secrets_) {
    for (auto pos = out.find(secret); pos != std::string::npos;
         pos = out.find(secret, pos + kMask.size())) {
      out.replace(pos, secret.size(), kMask);
    }
  }
  return out;
}

void Redactor::redact_json(nlohmann::json& value) const {
  if (value.is_string()) {
    value = redact(value.get_ref<const std::string&>());
  } else if (value.is_array()) {
    for (auto& item : value) redact_json(item);
  } else if (value.is_object()) {
    nlohmann::json cleaned = nlohmann::json::object();
    for (auto& [key, item] : value.items()) {
      redact_json(item);
      cleaned[redact(key)] = std::move(item);
    }
    value = std::move(cleaned);
  }
}

std::string redact(std::string_view text) {
  return Redactor::process().redact(text);
}

}  // namespace faultline
