// reject_first (ours): resets the first `count` connections the proxy accepts after the toxic is
// added (each one also subject to the toxicity dice), then lets the rest through. It acts on
// connections, not on data: the proxy consults it (FaultProxy) before dialling the upstream, and
// it sits in no chain.
#include "chaos/proxy/toxic_kind.h"

namespace faultline::proxy {

const ToxicKind& reject_first_kind() {
  static const ToxicKind kind{
      "reject_first", {{"count", 1, 0, INT64_MAX}}, ToxicScope::connection, nullptr};
  return kind;
}

}  // namespace faultline::proxy
