#include "fakes/docker/events.h"

#include "fakes/docker/api_types.h"

namespace faultline::fakes::docker {

using nlohmann::json;

EventFilters parse_filters(const std::string& json_text) {
  EventFilters out;
  if (json_text.empty()) return out;
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ApiError(400, std::string("invalid filter: ") + e.what());
  }
  if (!j.is_object()) throw ApiError(400, "invalid filter: expected a JSON object");
  for (const auto& [key, value] : j.items()) {
    auto& values = out[key];
    if (value.is_array()) {
      for (const auto& v : value) {
        if (!v.is_string()) throw ApiError(400, "invalid filter '" + key + "'");
        values.push_back(v.get<std::string>());
      }
    } else if (value.is_object()) {  // {"label": {"a=b": true}}
      for (const auto& [v, on] : value.items()) {
        if (on.is_boolean() && on.get<bool>()) values.push_back(v);
      }
    } else {
      throw ApiError(400, "invalid filter '" + key + "'");
    }
  }
  return out;
}

void EventLog::emit(const std::string& type, const std::string& action, const std::string& id,
                    std::map<std::string, std::string> attributes,
                    std::chrono::system_clock::time_point when) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  json e = {{"Type", type},
            {"Action", action},
            {"Actor", {{"ID", id}, {"Attributes", attributes}}},
            {"scope", "local"},
            {"time", ns / 1000000000},
            {"timeNano", ns}};
  if (type == "container") {  // the pre-1.22 fields the CLI still reads
    e["status"] = action;
    e["id"] = id;
    if (attributes.count("image")) e["from"] = attributes["image"];
  }
  history_.push_back(e);
  if (history_.size() > kHistory) history_.pop_front();
  for (auto& [sid, sub] : subscribers_) {
    if (matches(e, sub.first)) sub.second(e);
  }
}

std::vector<json> EventLog::history(std::int64_t since_ns, std::int64_t until_ns,
                                    const EventFilters& filters) const {
  std::vector<json> out;
  for (const auto& e : history_) {
    const std::int64_t t = e["timeNano"].get<std::int64_t>();
    if (t >= since_ns && t <= until_ns && matches(e, filters)) out.push_back(e);
  }
  return out;
}

std::uint64_t EventLog::subscribe(EventFilters filters, Subscriber fn) {
  const auto id = next_id_++;
  subscribers_.emplace(id, std::make_pair(std::move(filters), std::move(fn)));
  return id;
}

void EventLog::unsubscribe(std::uint64_t id) {
  subscribers_.erase(id);
}

namespace {

bool any_of(const std::vector<std::string>& wanted, const std::string& value) {
  for (const auto& w : wanted) {
    if (w == value) return true;
  }
  return false;
}

}  // namespace

bool EventLog::matches(const json& e, const EventFilters& filters) {
  const std::string type = e["Type"].get<std::string>();
  const std::string action = e["Action"].get<std::string>();
  const std::string id = e["Actor"]["ID"].get<std::string>();
  const auto& attrs = e["Actor"]["Attributes"];
  auto attr = [&](const char* k) {
    return attrs.contains(k) ? attrs[k].get<std::string>() : std::string();
  };
  for (const auto& [key, wanted] : filters) {
    if (wanted.empty()) continue;
    if (key == "type") {
      if (!any_of(wanted, type)) return false;
    } else if (key == "event") {
      // "health_status" matches "health_status: healthy", as dockerd does.
      const std::string base = action.substr(0, action.find(':'));
      if (!any_of(wanted, action) && !any_of(wanted, base)) return false;
    } else if (key == "container") {
      if (type != "container" && !(type == "network" && !attr("container").empty())) return false;
      const std::string cid = type == "container" ? id : attr("container");
      bool hit = false;
      for (const auto& w : wanted) {
        if (w == attr("name") || (!w.empty() && cid.rfind(w, 0) == 0)) hit = true;
      }
      if (!hit) return false;
    } else if (key == "network") {
      if (type != "network") return false;
      bool hit = false;
      for (const auto& w : wanted) {
        if (w == attr("name") || (!w.empty() && id.rfind(w, 0) == 0)) hit = true;
      }
      if (!hit) return false;
    } else if (key == "image") {
      if (!any_of(wanted, attr("image"))) return false;
    } else if (key == "label") {
      for (const auto& w : wanted) {
        const auto eq = w.find('=');
        const std::string k = w.substr(0, eq);
        if (!attrs.contains(k)) return false;
        if (eq != std::string::npos && attrs[k].get<std::string>() != w.substr(eq + 1)) {
          return false;
        }
      }
    } else if (key == "scope") {
      if (!any_of(wanted, "local")) return false;
    }
    // Other keys (daemon, plugin, volume, node, service...) match nothing the fake emits.
    else if (key == "daemon" || key == "volume" || key == "plugin" || key == "node" ||
             key == "service" || key == "secret" || key == "config") {
      return false;
    }
  }
  return true;
}

}  // namespace faultline::fakes::docker
