#include "harness/backends/up_state.h"

#include <fstream>

#include "harness/core/error.h"
#include "harness/core/run_dir.h"

namespace faultline::backends {

namespace fs = std::filesystem;

nlohmann::json to_json(const stack::ServiceStatus& st, const stack::ServiceHandle* handle) {
  nlohmann::json j = {{"service_name", st.service_name},
                      {"status", std::string(stack::to_string(st.status))},
                      {"uptime_seconds", st.uptime_seconds},
                      {"health_check_url", nullptr},
                      {"restarts", st.restarts},
                      {"detail", st.detail}};
  if (st.health_check_url) j["health_check_url"] = *st.health_check_url;
  if (handle) {
    const auto& e = handle->endpoint();
    j["endpoint"] = {{"host", e.host}, {"port", e.port}, {"url", e.url}, {"exports", e.exports}};
    if (!e.unix_socket.empty()) j["endpoint"]["unix_socket"] = e.unix_socket;
  }
  return j;
}

void write_up_state(const fs::path& run_directory, const nlohmann::json& state) {
  const fs::path tmp = run_directory / (std::string(".") + kUpStateFile);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state.dump(2) << "\n";
    if (!out) throw Error("cannot write " + tmp.string());
  }
  fs::rename(tmp, run_directory / kUpStateFile);
}

std::vector<nlohmann::json> running_up_states(const fs::path& root) {
  std::vector<std::pair<std::string, nlohmann::json>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const fs::path file = entry.path() / kUpStateFile;
    std::ifstream in(file);
    if (!in) continue;
    nlohmann::json state = nlohmann::json::parse(in, nullptr, false);
    if (state.is_discarded() || !state.contains("pid")) continue;
    const ProcessIdentity id{state.value("pid", 0), state.value("pid_start_time", 0ull)};
    if (!id.alive()) continue;  // a dead run: its watchdog or `faultline reap` cleans it
    found.emplace_back(entry.path().filename().string(), std::move(state));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<nlohmann::json> out;
  for (auto& [name, state] : found) out.push_back(std::move(state));
  return out;
}

}  // namespace faultline::backends
