// libFuzzer target: the chaos scenario loader, for the fake backend on the embedded default stack.
// Any input must load or be refused with InputError naming the file — any other exception or a
// crash is a bug. A loaded scenario keeps the loader's promises: its fixed faults fit in its
// duration, and the whole method fits in its budget.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "chaos/engine/scenario_loader.h"
#include "harness/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto s = faultline::chaos::parse_scenario(text, "fuzz.yaml", "fake");
    if (s.name.empty()) std::abort();
  } catch (const faultline::InputError& e) {
    if (e.where().file.empty()) std::abort();
  }
  return 0;
}
