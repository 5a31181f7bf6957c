// The requirement matrix as data: requirements, their test ids and the text of each test.
//
// `load_matrix` reads fixtures/req-infra.yaml (schema documented at the top of that file) and
// validates it: unknown keys (with the nearest valid one), duplicate ids, malformed ids, unknown
// test kinds, a kind that does not match the id's prefix (UT unit, ET edge, PT property,
// IT integration), and a test id whose area or number differs from its requirement's. Every
// problem is an InputError naming the file and line.
//
// Thread safety: a Matrix is an immutable value once loaded.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/error.h"

namespace faultline::trace {

enum class TestKind { unit, edge, property, integration };
std::string_view to_string(TestKind kind);

struct MatrixTest {
  std::string id;           // e.g. "UT-INFRA-01.1"
  std::string requirement;  // e.g. "REQ-INFRA-01"
  TestKind kind = TestKind::unit;
  std::string given, when, then;  // unit and edge tests (and integration tests, optionally)
  std::string property;           // property tests
  std::string text;               // integration tests without Given/When/Then
  std::string note;
  SourceLocation where;

  // One line: "Given ... When ... Then ...", "Property: ..." or the text.
  std::string summary() const;
};

struct Requirement {
  std::string id;  // e.g. "REQ-INFRA-01"
  std::string title;
  std::string description;
  std::string source;                     // seed file, for requirements taken from a seed
  std::vector<std::string> derived_from;  // seed files, for derived requirements
  std::vector<std::string> coverage;
  // Path prefixes of the code that implements it (faultline's addition: the report shows their
  // line coverage next to `coverage`).
  std::vector<std::string> code;
  std::vector<std::string> doubles;
  std::vector<MatrixTest> tests;
  SourceLocation where;

  bool derived() const { return source.empty(); }
};

struct Matrix {
  std::string name;  // "REQ-INFRA"
  std::string seed;  // the seed file the matrix is traced against
  std::filesystem::path file;
  std::vector<Requirement> requirements;

  const MatrixTest* find_test(std::string_view id) const;
  std::size_t test_count() const;
};

Matrix load_matrix(const std::filesystem::path& file);
// Same, from text; `file` is only used in error messages.
Matrix parse_matrix(std::string_view text, const std::string& file);

// True if `id` has the shape of a matrix test id (UT/ET/PT/IT-<AREA>-<nn>[.<n>]).
bool looks_like_test_id(std::string_view id);

}  // namespace faultline::trace
