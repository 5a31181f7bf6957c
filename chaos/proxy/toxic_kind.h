// ToxicKind: what a toxic type is called, which attributes it takes, and how to make one.
//
// Every kind lives in its own file (toxics/latency.cpp, ...) and is listed in toxic_kind.cpp.
// Attributes are Toxiproxy's: JSON integers with a default and an allowed range. `parse_attributes`
// checks a request's attributes against the kind (unknown names, wrong types and values out of
// range are errors that name the attribute) and fills in the defaults; the toxic's factory then
// reads them into its own typed parameters. `ToxicSpec` is a whole toxic as the API shows it.
//
// Thread safety: kinds are immutable and may be read from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/proxy/toxic.h"
#include "harness/core/error.h"

namespace faultline::proxy {

// An error the Toxiproxy API reports with this HTTP status and body {"error": ..., "status": ...}.
class ApiError : public Error {
 public:
  ApiError(int status, std::string message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct AttributeSpec {
  std::string name;
  std::int64_t default_value = 0;
  std::int64_t min = 0;
  std::int64_t max = INT64_MAX;
};

// Validated attributes: every attribute of the kind, with its value.
using Attributes = std::map<std::string, std::int64_t>;

// Where a toxic acts.
enum class ToxicScope {
  stream,        // in the chain of its `stream` (Toxiproxy's toxics)
  both_streams,  // in both chains, whatever its `stream` says (blackhole: a partition)
  connection,    // on new connections only, in no chain (reject_first)
};

struct ToxicKind {
  std::string type;
  std::vector<AttributeSpec> attributes;
  ToxicScope scope = ToxicScope::stream;
  // Makes the toxic for one link direction; null for connection-scoped kinds.
  std::function<std::unique_ptr<Toxic>(const Attributes&, ToxicContext&)> make;
};

// The kind named `type`, or nullptr.
const ToxicKind* find_toxic_kind(std::string_view type);
std::vector<std::string> toxic_kind_names();

// Checks `attributes` (a JSON object or null) against `kind`, starting from `base` (the defaults
// when empty; the current values for an update). Throws ApiError(400) naming the attribute.
Attributes parse_attributes(const ToxicKind& kind, const nlohmann::json& attributes,
                            const Attributes& base = {});

// One toxic of a proxy, as the API shows it.
struct ToxicSpec {
  std::string name;
  std::string type;
  StreamDirection stream = StreamDirection::downstream;
  double toxicity = 1.0;
  Attributes attributes;

  nlohmann::json to_json() const;
  // Parses a Toxiproxy toxic-create body (defaults: stream downstream, toxicity 1, name
  // "<type>_<stream>"). Throws ApiError(400) on bad input.
  static ToxicSpec from_json(const nlohmann::json& body);
  // Applies a Toxiproxy toxic-update body (attributes and toxicity) to a copy of this spec.
  ToxicSpec updated(const nlohmann::json& body) const;
};

StreamDirection parse_stream(std::string_view text);  // throws ApiError(400)

// The kinds, one per file under toxics/.
const ToxicKind& latency_kind();
const ToxicKind& bandwidth_kind();
const ToxicKind& slow_close_kind();
const ToxicKind& timeout_kind();
const ToxicKind& reset_peer_kind();
const ToxicKind& slicer_kind();
const ToxicKind& limit_data_kind();
const ToxicKind& blackhole_kind();
const ToxicKind& reject_first_kind();

// Milliseconds / microseconds attributes as durations.
inline Duration millis(std::int64_t ms) {
  return std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms));
}
inline Duration micros(std::int64_t us) {
  return std::chrono::duration_cast<Duration>(std::chrono::microseconds(us));
}

}  // namespace faultline::proxy
