// GF(q) arithmetic for the Slim Fly construction: prime powers only, and the field laws hold.

#include "topologies/galois_field.hpp"

#include <gtest/gtest.h>

#include <set>

namespace codesim::topo {
namespace {

TEST(GaloisField, OnlyPrimePowers) {
  EXPECT_FALSE(GaloisField::make(1).has_value());
  EXPECT_FALSE(GaloisField::make(6).has_value());
  EXPECT_FALSE(GaloisField::make(28).has_value());
  EXPECT_TRUE(GaloisField::make(2).has_value());
  EXPECT_TRUE(GaloisField::make(49).has_value());
  EXPECT_EQ(GaloisField::make(27)->characteristic(), 3);
}

TEST(GaloisField, PrimeFieldIsArithmeticModP) {
  const auto f = GaloisField::make(7);
  ASSERT_TRUE(f.has_value());
  for (int a = 0; a < 7; ++a) {
    for (int b = 0; b < 7; ++b) {
      EXPECT_EQ(f->add(a, b), (a + b) % 7);
      EXPECT_EQ(f->multiply(a, b), a * b % 7);
    }
  }
  EXPECT_EQ(f->primitive_power(0), 1);
  EXPECT_EQ(f->primitive_power(1), 5);  // x mod (x + 2), the first primitive polynomial
}

class GaloisFieldLawsTest : public ::testing::TestWithParam<int> {};

TEST_P(GaloisFieldLawsTest, FieldLawsHold) {
  const int q = GetParam();
  const auto f = GaloisField::make(q);
  ASSERT_TRUE(f.has_value());
  std::set<int> powers;
  for (int e = 0; e < q - 1; ++e) powers.insert(f->primitive_power(e));
  EXPECT_EQ(powers.size(), static_cast<size_t>(q - 1));  // xi generates every nonzero element
  EXPECT_EQ(powers.count(0), 0u);
  for (int a = 0; a < q; ++a) {
    EXPECT_EQ(f->add(a, f->negate(a)), 0);
    EXPECT_EQ(f->multiply(a, 1), a);
    for (int b = 0; b < q; ++b) {
      EXPECT_EQ(f->add(a, b), f->add(b, a));
      EXPECT_EQ(f->multiply(a, b), f->multiply(b, a));
      for (int c = 0; c < q; c += 3) {
        ASSERT_EQ(f->multiply(a, f->add(b, c)), f->add(f->multiply(a, b), f->multiply(a, c)))
            << a << " " << b << " " << c;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Orders, GaloisFieldLawsTest, ::testing::Values(2, 4, 8, 9, 16, 25, 27));

}  // namespace
}  // namespace codesim::topo
