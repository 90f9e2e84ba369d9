#include <gtest/gtest.h>

#include <cmath>

#include <Random123/philox.h>

#include "sim/rng.h"

using namespace roisim;

TEST(StableHash, IsFnv1a64) {
  // Reference values of FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
  EXPECT_EQ(stable_hash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(stable_hash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(stable_hash("foobar"), 0x85944171f73967e8ULL);
  EXPECT_NE(stable_hash("recommendations.online_ratio"), stable_hash("search.online_ratio"));
}

TEST(UniformStream, MatchesPhiloxDefinition) {
  const std::uint64_t seed = 20261122, h = stable_hash("online_ratio");
  UniformStream s(seed, h);
  for (std::uint64_t t : {0ULL, 1ULL, 9999ULL, 1ULL << 40}) {
    r123::Philox4x64 g;
    auto r = g({{t, 0, 0, 0}}, {{seed, h}});
    EXPECT_EQ(s(t), (static_cast<double>(r[0] >> 12) + 0.5) / 4503599627370496.0);
  }
}

TEST(UniformStream, StrictlyInsideUnitInterval) {
  EXPECT_GT(bits_to_open_unit(0), 0.0);
  EXPECT_LT(bits_to_open_unit(~0ULL), 1.0);
  EXPECT_EQ(bits_to_open_unit(~0ULL), 1.0 - 0x1.0p-53);
  EXPECT_EQ(bits_to_open_unit(0), 0x1.0p-53);
  UniformStream s(1, 2);
  std::vector<double> u(100000);
  s.fill(0, u.size(), u.data());
  double sum = 0;
  for (double x : u) {
    ASSERT_GT(x, 0.0);
    ASSERT_LT(x, 1.0);
    sum += x;
  }
  // Mean of U(0,1): sd 1/sqrt(12 n); 5 standard errors.
  EXPECT_NEAR(sum / u.size(), 0.5, 5.0 / std::sqrt(12.0 * u.size()));
}

TEST(UniformStream, FillEqualsScalarAndDependsOnlyOnTrial) {
  UniformStream s(7, stable_hash("x"));
  std::vector<double> a(1000), b(500);
  s.fill(0, a.size(), a.data());
  s.fill(250, b.size(), b.data());
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_EQ(b[i], a[250 + i]);
  EXPECT_EQ(a[17], s(17));
  EXPECT_NE(UniformStream(8, stable_hash("x"))(17), a[17]);
}
