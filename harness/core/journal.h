// Journal: the ordered record of everything that happens in a run.
//
// Operations invoked and completed, faults injected and healed, probes and their values — each is
// an Event with a sequence number, the simulated (Clock) time, the wall time, a kind, a subject and
// free-form JSON fields. Events are kept in memory for checkers and, when a path is given, appended
// to a JSON-lines file as they happen (flushed per event, so a killed run keeps its journal).
// `digest()` is a SHA-256 over every event without its wall time: two runs of the same seed in
// fake mode must produce the same digest. Fields pass through the process Redactor, so secrets
// never reach the journal.
//
// Thread safety: `append` and every reader may be called from any thread; appends are totally
// ordered by their sequence numbers.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/clock.h"

namespace faultline {

struct Event {
  std::uint64_t seq = 0;
  std::int64_t sim_ns = 0;  // Clock::now_ns() when appended
  std::chrono::system_clock::time_point wall;
  std::string kind;     // e.g. "op.invoke", "fault.inject"
  std::string subject;  // what it is about: a service, a fault, a client
  nlohmann::json fields = nlohmann::json::object();

  // The JSON line written to the journal file.
  nlohmann::json to_json() const;
  static Event from_json(const nlohmann::json& j);
};

// Well-known event kinds; others are allowed.
namespace event_kind {
inline constexpr const char* kRunStart = "run.start";
inline constexpr const char* kRunEnd = "run.end";
inline constexpr const char* kOpInvoke = "op.invoke";
inline constexpr const char* kOpOk = "op.ok";
inline constexpr const char* kOpFail = "op.fail";
inline constexpr const char* kOpInfo = "op.info";  // outcome unknown (timeout)
inline constexpr const char* kFaultInject = "fault.inject";
inline constexpr const char* kFaultHeal = "fault.heal";
inline constexpr const char* kProbe = "probe";
inline constexpr const char* kDecision = "decision";  // a dice roll and its outcome
}  // namespace event_kind

class Journal {
 public:
  // In-memory only, or also appended to `path` (created or truncated).
  explicit Journal(Clock& clock, std::filesystem::path path = {});
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  std::uint64_t append(std::string kind, std::string subject,
                       nlohmann::json fields = nlohmann::json::object());

  std::vector<Event> events() const;
  std::size_t size() const;
  // Hex SHA-256 over the events so far, excluding wall time.
  std::string digest() const;
  const std::filesystem::path& path() const { return path_; }

  // Reads a journal file written by a Journal (for `faultline` tools and tests). Throws InputError
  // naming the file and line on a malformed line.
  static std::vector<Event> read_file(const std::filesystem::path& path);
  // Digest of events as `digest()` computes it.
  static std::string digest_of(const std::vector<Event>& events);

 private:
  Clock& clock_;
  std::filesystem::path path_;
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::FILE* file_ = nullptr;
  struct Hasher;
  std::unique_ptr<Hasher> hasher_;
};

}  // namespace faultline
