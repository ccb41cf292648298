// `codesim validate`: every published figure it predicts in one table, each with the figure
// published, codesim's, the error and the source; exit 0 whatever the errors.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

TEST(Validate, TabulatesEveryPredictableFigureWithItsErrorAndSource) {
  const auto dir = scratch_dir("validate");
  const auto json = dir / "v.json";
  const auto r = run_codesim("validate --engine analytic --json '" + json.string() + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("published figures, simulated now"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read_text(json));
  EXPECT_EQ(j["engine"], "analytic");
  const auto& rows = j["rows"];
  ASSERT_GE(rows.size(), 38u);
  int topology = 0, kv = 0, training = 0, mtp = 0;
  for (const auto& row : rows) {
    const std::string figure = row["figure"];
    ASSERT_FALSE(row["source"].get<std::string>().empty()) << figure;
    const double published = row["published"], predicted = row["predicted"];
    EXPECT_GT(published, 0) << figure;
    EXPECT_GT(predicted, 0) << figure;
    EXPECT_NEAR(row["error"].get<double>(), predicted / published - 1, 1e-12) << figure;
    // isca25 Table 3 and Table 1 are reproduced exactly.
    if (figure.find("switches") != std::string::npos ||
        figure.find("endpoints") != std::string::npos) {
      ++topology;
      EXPECT_EQ(predicted, published) << figure;
    }
    if (figure.find("KV cache") != std::string::npos) {
      ++kv;
      EXPECT_EQ(predicted, published) << figure;
    }
    if (figure.find("pre-training GPU-hours") != std::string::npos) {
      ++training;
      EXPECT_EQ(published, 2.664e6);
    }
    if (figure.find("TPS with MTP") != std::string::npos) {
      ++mtp;
      EXPECT_EQ(published, 1.8);
      // More tokens a step than without (1 + 0.85), but a longer step.
      EXPECT_GT(predicted, 1.0);
      EXPECT_LT(predicted, 1.85);
    }
  }
  EXPECT_EQ(mtp, 1);
  EXPECT_EQ(topology, 10);
  EXPECT_EQ(kv, 3);
  EXPECT_EQ(training, 1);
}

TEST(Validate, BadOptionsExitTwo) {
  const auto dir = scratch_dir("validate-bad");
  EXPECT_EQ(run_codesim("validate --engine fast", dir).exit_code, 2);
  const auto missing =
      run_codesim("validate --reference '" + (dir / "none.yaml").string() + "'", dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.yaml"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace codesim::cli
