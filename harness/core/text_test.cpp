#include "harness/core/text.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(Text, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("depends_on", "depend_on"), 1u);
}

TEST(Text, NearestSuggestsOnlyPlausibleTypos) {
  const std::vector<std::string> keys = {"given", "when", "then", "property", "text"};
  EXPECT_EQ(nearest("propety", keys), "property");
  EXPECT_EQ(nearest("wehn", keys), "when");
  EXPECT_EQ(nearest("completely-different", keys), "");
  EXPECT_EQ(did_you_mean("tex", keys), " (did you mean 'text'?)");
}

}  // namespace
}  // namespace faultline
