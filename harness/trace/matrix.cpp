#include "harness/trace/matrix.h"

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "harness/core/text.h"
#include "harness/core/yaml_reader.h"

namespace faultline::trace {
namespace {

const std::vector<std::string> kTopKeys = {"matrix", "seed", "requirements"};
const std::vector<std::string> kRequirementKeys = {
    "id", "title", "source", "derived-from", "description", "coverage", "code", "doubles", "tests"};
const std::vector<std::string> kTestKeys = {"id",   "kind",     "given", "when",
                                            "then", "property", "text",  "note"};
const std::vector<std::string> kKinds = {"unit", "edge", "property", "integration"};

const std::regex kRequirementId(R"(REQ-([A-Z][A-Z0-9]*)-(\d{2}))");
const std::regex kTestId(R"((UT|ET|PT|IT)-([A-Z][A-Z0-9]*)-(\d{2})(?:\.(\d+))?)");

class Loader : public YamlReader {
 public:
  explicit Loader(std::string file) : YamlReader(std::move(file)) {}

  Matrix load(std::string_view text) {
    const YAML::Node root = parse(text, "matrix file");
    check_keys(root, kTopKeys, "the matrix");
    Matrix m;
    m.file = file();
    m.name = scalar(root, "matrix", true, "the matrix");
    m.seed = scalar(root, "seed", false, "the matrix");
    const YAML::Node reqs = root["requirements"];
    if (!reqs || !reqs.IsSequence() || reqs.size() == 0) {
      fail(reqs ? reqs : root, "'requirements' must be a non-empty list");
    }
    for (const auto& node : reqs) m.requirements.push_back(requirement(node));
    return m;
  }

  Requirement requirement(const YAML::Node& node) {
    check_keys(node, kRequirementKeys, "a requirement");
    Requirement r;
    r.where = at(node);
    r.id = scalar(node, "id", true, "a requirement");
    std::smatch match;
    if (!std::regex_match(r.id, match, kRequirementId)) {
      fail(node["id"], "malformed requirement id '" + r.id + "' (expected REQ-<AREA>-<nn>)");
    }
    remember(r.id, node["id"]);
    const std::string area = match[1], number = match[2];
    r.title = scalar(node, "title", true, r.id);
    r.description = scalar(node, "description", false, r.id);
    r.source = scalar(node, "source", false, r.id);
    r.derived_from = strings(node, "derived-from");
    if (r.source.empty() == r.derived_from.empty()) {
      fail(node, r.id +
                     " must have exactly one of 'source' (a seed requirement) or "
                     "'derived-from' (a derived one)");
    }
    r.coverage = strings(node, "coverage");
    r.code = strings(node, "code");
    r.doubles = strings(node, "doubles");
    const YAML::Node tests = node["tests"];
    if (!tests || !tests.IsSequence() || tests.size() == 0) {
      fail(tests ? tests : node, r.id + " must have a non-empty 'tests' list");
    }
    for (const auto& t : tests) r.tests.push_back(test(t, r.id, area, number));
    return r;
  }

  MatrixTest test(const YAML::Node& node, const std::string& req, const std::string& area,
                  const std::string& number) {
    check_keys(node, kTestKeys, "a test of " + req);
    MatrixTest t;
    t.where = at(node);
    t.requirement = req;
    t.id = scalar(node, "id", true, "a test of " + req);
    std::smatch match;
    if (!std::regex_match(t.id, match, kTestId)) {
      fail(node["id"], "malformed test id '" + t.id +
                           "' (expected UT|ET|PT-<AREA>-<nn>.<n> or IT-<AREA>-<nn>)");
    }
    const std::string prefix = match[1];
    if (prefix != "IT" && !match[4].matched) {
      fail(node["id"], "malformed test id '" + t.id + "': " + prefix + " ids need a .<n> suffix");
    }
    if (match[2] != area || match[3] != number) {
      fail(node["id"], "test id '" + t.id + "' does not belong to " + req + " (expected " + prefix +
                           "-" + area + "-" + number + (prefix == "IT" ? "" : ".<n>") + ")");
    }
    remember(t.id, node["id"]);
    const std::string kind = scalar(node, "kind", true, t.id);
    const auto k = std::find(kKinds.begin(), kKinds.end(), kind);
    if (k == kKinds.end()) {
      fail(node["kind"], "unknown test kind '" + kind + "'" + did_you_mean(kind, kKinds) +
                             " (expected unit, edge, property or integration)");
    }
    t.kind = static_cast<TestKind>(k - kKinds.begin());
    static const std::map<std::string, TestKind> kPrefixKind = {{"UT", TestKind::unit},
                                                                {"ET", TestKind::edge},
                                                                {"PT", TestKind::property},
                                                                {"IT", TestKind::integration}};
    if (kPrefixKind.at(prefix) != t.kind) {
      fail(node["kind"], t.id + " is a " + std::string(to_string(kPrefixKind.at(prefix))) +
                             " test by its prefix, but its kind is '" + kind + "'");
    }
    t.given = scalar(node, "given", false, t.id);
    t.when = scalar(node, "when", false, t.id);
    t.then = scalar(node, "then", false, t.id);
    t.property = scalar(node, "property", false, t.id);
    t.text = scalar(node, "text", false, t.id);
    t.note = scalar(node, "note", false, t.id);
    const bool gwt = !t.given.empty() && !t.when.empty() && !t.then.empty();
    const bool partial_gwt = !t.given.empty() || !t.when.empty() || !t.then.empty();
    if (partial_gwt && !gwt) fail(node, t.id + " needs all of given, when and then");
    if (t.kind == TestKind::property && t.property.empty()) {
      fail(node, t.id + " is a property test and needs 'property'");
    }
    if ((t.kind == TestKind::unit || t.kind == TestKind::edge) && !gwt) {
      fail(node, t.id + " needs given, when and then");
    }
    if (t.kind == TestKind::integration && !gwt && t.text.empty()) {
      fail(node, t.id + " needs 'text' or given, when and then");
    }
    return t;
  }

 private:
  void remember(const std::string& id, const YAML::Node& node) {
    auto [it, fresh] = seen_.emplace(id, at(node).line);
    if (!fresh) {
      fail(node,
           "duplicate id '" + id + "' (first defined on line " + std::to_string(it->second) + ")");
    }
  }

  std::map<std::string, int> seen_;
};

}  // namespace

std::string_view to_string(TestKind kind) {
  switch (kind) {
    case TestKind::unit:
      return "unit";
    case TestKind::edge:
      return "edge";
    case TestKind::property:
      return "property";
    case TestKind::integration:
      return "integration";
  }
  return "unknown";
}

std::string MatrixTest::summary() const {
  if (!given.empty()) return "Given " + given + " When " + when + " Then " + then;
  if (!property.empty()) return "Property: " + property;
  return text;
}

const MatrixTest* Matrix::find_test(std::string_view id) const {
  for (const auto& r : requirements) {
    for (const auto& t : r.tests) {
      if (t.id == id) return &t;
    }
  }
  return nullptr;
}

std::size_t Matrix::test_count() const {
  std::size_t n = 0;
  for (const auto& r : requirements) n += r.tests.size();
  return n;
}

Matrix parse_matrix(std::string_view text, const std::string& file) {
  return Loader(file).load(text);
}

Matrix load_matrix(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError({file.string()}, "cannot read matrix file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_matrix(buffer.str(), file.string());
}

bool looks_like_test_id(std::string_view id) {
  return std::regex_match(id.begin(), id.end(), kTestId);
}

}  // namespace faultline::trace
