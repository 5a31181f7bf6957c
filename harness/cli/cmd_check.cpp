// `faultline check FILE...`: validates input files — stack files, docker-compose files, the
// requirement matrix, chaos scenarios — exactly as a run would load them, without starting
// anything. A file's kind is recognised by its top-level keys, or named with --kind. Prints one
// line per file: "FILE: ok (kind: summary)" or the loader's error naming file:line. Exits 2 if
// any file is invalid.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "harness/cli/commands.h"
#include "harness/core/error.h"
#include "harness/core/redact.h"
#include "harness/core/text.h"
#include "harness/stack/stack.h"
#include "harness/trace/matrix.h"

namespace faultline {
namespace {

std::set<std::string> top_level_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw InputError({path, static_cast<int>(e.mark.line) + 1, static_cast<int>(e.mark.column) + 1},
                     "not YAML: " + e.msg);
  }
  std::set<std::string> keys;
  if (!root.IsMap()) return keys;
  for (const auto& kv : root) {
    if (kv.first.IsScalar()) keys.insert(kv.first.Scalar());
  }
  return keys;
}

std::string plural(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

bool is_stack_file(const std::set<std::string>& keys) {
  return keys.count("stack") > 0;
}
std::string check_stack_file(const std::string& path) {
  return plural(stack::load_stack_file(path).services.size(), "service");
}

bool is_compose_file(const std::set<std::string>& keys) {
  return keys.count("services") > 0;
}
std::string check_compose_file(const std::string& path) {
  return plural(stack::load_compose(path).services.size(), "service");
}

bool is_matrix(const std::set<std::string>& keys) {
  return keys.count("requirements") && keys.count("matrix");
}
std::string check_matrix(const std::string& path) {
  const auto matrix = trace::load_matrix(path);
  std::size_t ids = 0;
  for (const auto& r : matrix.requirements) ids += r.tests.size();
  return plural(matrix.requirements.size(), "requirement") + ", " + plural(ids, "test id");
}

FAULTLINE_FILE_KIND(cli::FileKind{"stack", 10, is_stack_file, check_stack_file});
FAULTLINE_FILE_KIND(cli::FileKind{"compose", 20, is_compose_file, check_compose_file});
FAULTLINE_FILE_KIND(cli::FileKind{"matrix", 30, is_matrix, check_matrix});

struct CheckOptions {
  std::vector<std::string> files;
  std::string kind;
};

// One file: its summary line, or throws InputError.
std::string check_one(const std::string& path, const std::string& wanted) {
  const auto kinds = cli::registered_file_kinds();
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError({path, 0, 0}, "no such file");
  }
  if (!wanted.empty()) {
    for (const auto& k : kinds) {
      if (k.name == wanted) return k.name + ": " + k.check(path);
    }
  }
  const auto keys = top_level_keys(path);
  for (const auto& k : kinds) {
    if (k.detect(keys)) return k.name + ": " + k.check(path);
  }
  std::string names;
  for (const auto& k : kinds) names += (names.empty() ? "" : ", ") + k.name;
  throw InputError({path, 1, 1},
                   "not a file faultline knows (" + names + "); name its kind with --kind");
}

void run_check(const CheckOptions& options) {
  if (!options.kind.empty()) {
    std::vector<std::string> names;
    for (const auto& k : cli::registered_file_kinds()) names.push_back(k.name);
    if (std::find(names.begin(), names.end(), options.kind) == names.end()) {
      throw UsageError("--kind: unknown kind '" + options.kind + "'" +
                       did_you_mean(options.kind, names));
    }
  }
  bool failed = false;
  for (const auto& file : options.files) {
    try {
      std::printf("%s: ok (%s)\n", file.c_str(), check_one(file, options.kind).c_str());
    } catch (const InputError& e) {
      // An input error may quote a value interpolated from a secret variable.
      std::fprintf(stderr, "faultline: %s\n", redact(e.what()).c_str());
      failed = true;
    }
  }
  std::fflush(stdout);
  if (failed) cli::set_exit_code(2);
}

void add_check_command(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand(
      "check", "Validate stack, compose, matrix and scenario files as a run would load them");
  cmd->add_option("files", options->files, "the files to check")->required();
  cmd->add_option("--kind", options->kind,
                  "the files' kind, when their keys do not say (stack, compose, matrix...)");
  cmd->callback([options] { run_check(*options); });
}

}  // namespace

FAULTLINE_COMMAND(5, add_check_command);

}  // namespace faultline
