#include "cli/units.hpp"

#include <gtest/gtest.h>

namespace codesim::cli {
namespace {

double parse(const std::string& text, Quantity kind) {
  const auto value = parse_quantity(text, kind);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(-1);
}

TEST(Units, BandwidthDistinguishesBitsFromBytes) {
  EXPECT_DOUBLE_EQ(parse("400Gbps", Quantity::kBandwidth), 50e9);
  EXPECT_DOUBLE_EQ(parse("160GBps", Quantity::kBandwidth), 160e9);
  EXPECT_DOUBLE_EQ(parse("3.35TBps", Quantity::kBandwidth), 3.35e12);
  EXPECT_DOUBLE_EQ(parse("50 GB/s", Quantity::kBandwidth), 50e9);
}

TEST(Units, ComputeDurationAndSizes) {
  EXPECT_DOUBLE_EQ(parse("989.4TFLOPS", Quantity::kCompute), 989.4e12);
  EXPECT_DOUBLE_EQ(parse("2.8us", Quantity::kDuration), 2.8e-6);
  EXPECT_DOUBLE_EQ(parse("500ns", Quantity::kDuration), 500e-9);
  EXPECT_DOUBLE_EQ(parse("80GiB", Quantity::kDataSize), 80.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse("80GB", Quantity::kDataSize), 80e9);
  EXPECT_DOUBLE_EQ(parse("1e3B", Quantity::kDataSize), 1000);
}

TEST(Units, RejectsMissingOrWrongUnits) {
  EXPECT_FALSE(parse_quantity("400", Quantity::kBandwidth));
  EXPECT_FALSE(parse_quantity("400Gbit", Quantity::kBandwidth));
  EXPECT_FALSE(parse_quantity("80GiB", Quantity::kBandwidth));
  EXPECT_FALSE(parse_quantity("fast", Quantity::kCompute));
  EXPECT_FALSE(parse_quantity("", Quantity::kDuration));
  EXPECT_FALSE(parse_quantity("80gb", Quantity::kDataSize));  // units are case-sensitive
}

}  // namespace
}  // namespace codesim::cli
