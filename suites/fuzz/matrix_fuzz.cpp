// libFuzzer target: the requirement-matrix loader. Any input must load or be refused with an
// InputError naming the file — any other exception or a crash is a bug. A loaded matrix keeps the
// loader's promises: ids unique, each test id belonging to its requirement.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "harness/core/error.h"
#include "harness/trace/matrix.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto matrix = faultline::trace::parse_matrix(text, "fuzz.yaml");
    std::set<std::string> ids;
    for (const auto& r : matrix.requirements) {
      if (!ids.insert(r.id).second) std::abort();
      for (const auto& t : r.tests) {
        if (!ids.insert(t.id).second) std::abort();
      }
    }
  } catch (const faultline::InputError& e) {
    if (e.where().file.empty()) std::abort();
  }
  return 0;
}
