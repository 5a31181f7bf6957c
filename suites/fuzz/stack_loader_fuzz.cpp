// libFuzzer targets: the stack-file and docker-compose loaders (built twice, FAULTLINE_FUZZ_COMPOSE
// choosing which). Any input must load or be refused with InputError naming file:line — any other
// exception or a crash is a bug. Loaded stacks must validate as the loader promises: every
// dependency named exists.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/core/error.h"
#include "harness/stack/stack.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
#ifdef FAULTLINE_FUZZ_COMPOSE
    const auto stack = faultline::stack::parse_compose(text, "fuzz.yml");
#else
    const auto stack = faultline::stack::parse_stack_file(text, "fuzz.yaml");
#endif
    for (const auto& service : stack.services) {
      for (const auto& dep : service.depends_on) {
        if (stack.find(dep.service) == nullptr) std::abort();
      }
    }
  } catch (const faultline::InputError& e) {
    if (e.where().file.empty()) std::abort();  // an input error must name its file
  }
  return 0;
}
