// EventLog: the daemon's event stream (/events): a bounded history for since/until queries and
// live subscribers, with dockerd's filters (type, event/action, container, network, label...).
// Events are dockerd's JSON: status/id/from (containers), Type, Action, Actor{ID, Attributes},
// scope, time, timeNano.
//
// Thread safety: none; owned by DockerDaemon under its lock. Subscriber callbacks run under that
// lock: they must not block or call back into the daemon (the server's only posts to its loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace faultline::fakes::docker {

// {"type": ["container"], "event": ["start"], "label": ["a=b"], ...} as sent in ?filters=.
using EventFilters = std::map<std::string, std::vector<std::string>>;

// Parses dockerd's filters JSON (both {"k":["v"]} and the old {"k":{"v":true}} forms). Throws
// ApiError(400) with the decode error.
EventFilters parse_filters(const std::string& json_text);

class EventLog {
 public:
  static constexpr std::size_t kHistory = 1024;

  // Records and delivers one event. `attributes` are the Actor's; `from` is the image for
  // container events.
  void emit(const std::string& type, const std::string& action, const std::string& id,
            std::map<std::string, std::string> attributes, std::chrono::system_clock::time_point);

  // Past events with since <= time <= until (nanoseconds since the epoch) matching `filters`.
  std::vector<nlohmann::json> history(std::int64_t since_ns, std::int64_t until_ns,
                                      const EventFilters& filters) const;

  using Subscriber = std::function<void(const nlohmann::json&)>;
  std::uint64_t subscribe(EventFilters filters, Subscriber fn);
  void unsubscribe(std::uint64_t id);
  std::size_t subscribers() const { return subscribers_.size(); }

  static bool matches(const nlohmann::json& event, const EventFilters& filters);

 private:
  std::deque<nlohmann::json> history_;
  std::map<std::uint64_t, std::pair<EventFilters, Subscriber>> subscribers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace faultline::fakes::docker
