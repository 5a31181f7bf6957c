#include "harness/testing/stack_environment.h"

#include <cstdlib>

#include "harness/core/error.h"

namespace faultline::testing {
namespace {

struct Current {
  std::optional<RunDirectory> run;
  std::unique_ptr<backends::StackSession> session;
  std::string error;  // why the stack is not up
};
Current& current() {
  static Current c;
  return c;
}

}  // namespace

StackEnvironment::StackEnvironment(std::string label, std::filesystem::path stack_file)
    : label_(std::move(label)), stack_file_(std::move(stack_file)) {}

StackEnvironment::~StackEnvironment() = default;

std::string test_backend() {
  const char* b = std::getenv("FAULTLINE_BACKEND");
  return b && *b ? b : "fake";
}

void StackEnvironment::SetUp() {
  auto& c = current();
  c.run.emplace(RunDirectory::create(label_));
  try {
    std::filesystem::path file = stack_file_;
    const std::string backend = test_backend();
    if (backend == "external") {
      const char* staging = std::getenv("FAULTLINE_STAGING");
      if (!staging || !*staging) {
        c.error =
            "FAULTLINE_BACKEND=external needs FAULTLINE_STAGING naming an external stack file";
        return;
      }
      file = staging;
    } else if (file.is_relative()) {
      const char* src = std::getenv("FAULTLINE_SOURCE_DIR");
      if (src && *src) file = std::filesystem::path(src) / file;
    }
    backends::StackSessionOptions options;
    options.backend = backend;
    c.session =
        std::make_unique<backends::StackSession>(*c.run, stack::load_stack_file(file), options);
    c.session->start();
  } catch (const std::exception& e) {
    c.session.reset();
    c.error = e.what();
    ADD_FAILURE() << "the test stack did not come up: " << e.what();
  }
}

void StackEnvironment::TearDown() {
  auto& c = current();
  c.session.reset();  // stops every service
  if (c.run) c.run->close();
  c.run.reset();
}

backends::StackSession& test_stack() {
  auto& c = current();
  if (!c.session) throw Error("no test stack: " + (c.error.empty() ? "not set up" : c.error));
  return *c.session;
}

RunDirectory& test_stack_run_directory() {
  auto& c = current();
  if (!c.run) throw Error("no test stack run directory (StackEnvironment not set up)");
  return *c.run;
}

std::optional<std::string> stack_service_unavailable(const std::string& service) {
  auto& c = current();
  if (!c.session) return c.error.empty() ? "the test stack is not set up" : c.error;
  const auto& left_out = c.session->unavailable();
  if (auto it = left_out.find(service); it != left_out.end()) return it->second;
  if (!c.session->handle(service)) return "no service '" + service + "' in the test stack";
  return std::nullopt;
}

}  // namespace faultline::testing
