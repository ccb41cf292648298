#include "cli/calibration_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "cli/command_line.hpp"
#include "cli/registry.hpp"
#include "models/gpu.hpp"

namespace codesim::cli {
namespace {

const std::vector<std::string> kTimingKeys = {"kernel", "median_us", "repeats", "spread"};

std::vector<std::string> plus(std::vector<std::string> keys, const std::vector<std::string>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

// Calls `read(item_reader)` for each map of the list under `key`; the list must not be empty.
template <typename Read>
void for_each_entry(const YamlContext& ctx, const MapReader& parent, const std::string& key,
                    const std::vector<std::string>& allowed, Read read) {
  const YAML::Node list = parent.node(key);
  if (!list.IsSequence() || list.size() == 0) {
    parent.fail(key, "expected a non-empty list of measurements",
                "a YAML list of maps with " + join(allowed));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const MapReader item(ctx, list[i], parent.key_path(key) + "[" + std::to_string(i) + "]",
                         allowed);
    if (item.has("repeats")) item.integer("repeats", std::nullopt, 1);
    if (item.has("median_us")) item.number("median_us", std::nullopt, 0);
    if (item.has("spread")) item.number("spread", std::nullopt, 0, false);
    read(item);
  }
}

std::string provenance_line(const YamlContext& ctx, const YAML::Node& node) {
  const MapReader r(ctx, node, "calibration.provenance",
                    {"gpu", "compute_capability", "sms", "sm_clock_mhz", "memory_clock_mhz",
                     "memory_bus_bits", "memory_bytes", "l2_bytes", "driver", "cuda_runtime",
                     "cublaslt", "date", "runner", "warmup", "repeats", "note"});
  std::vector<std::string> parts;
  auto add = [&](const std::string& key, const std::string& format) {
    if (r.has(key)) parts.push_back(fmt::format(fmt::runtime(format), r.text(key, std::nullopt)));
  };
  add("gpu", "{}");
  add("compute_capability", "compute capability {}");
  add("sms", "{} SMs");
  add("sm_clock_mhz", "SM clock {} MHz");
  add("memory_clock_mhz", "memory clock {} MHz");
  add("driver", "driver {}");
  add("cuda_runtime", "CUDA runtime {}");
  add("date", "measured {}");
  add("repeats", "{} timed repeats");
  add("warmup", "after {} warm-ups");
  add("note", "{}");
  return join(parts, ", ");
}

}  // namespace

models::Calibration read_calibration_file(const std::string& path) {
  const std::string expected =
      "a map with 'calibration:' holding measured_on and measurement tables, as written by "
      "'codesim calibrate' (see cli/calibration_reader.hpp)";
  const YAML::Node root = load_yaml_file(path, "calibration file", expected);
  const YamlContext ctx(path, root, {});
  const MapReader top(ctx, root, "", {"calibration"});
  if (!top.has("calibration")) top.fail("calibration", "missing the 'calibration' map", expected);
  const MapReader r(
      ctx, top.node("calibration"), "calibration",
      {"name", "measured_on", "provenance", "checks", "dense_fp8_gemm", "vendor_fp8_gemm",
       "bf16_gemm", "grouped_fp8_gemm", "mla_decode", "hbm_copy", "accumulation"});

  models::Calibration c = models::h800_published_calibration();
  c.name =
      r.has("name") ? r.text("name", std::nullopt) : std::filesystem::path(path).stem().string();
  c.measured_on =
      *gpu_registry().find(r.choice("measured_on", gpu_registry().names(), std::nullopt));
  c.source = "measured calibration " + path +
             " (published H800 figures for what it does not measure: NVLink, IB, all-to-all, "
             "latency)";
  if (r.has("provenance")) c.provenance = provenance_line(ctx, r.node("provenance"));

  if (r.has("checks")) {
    for_each_entry(ctx, r, "checks",
                   {"kernel", "shape", "max_abs_error", "max_scaled_error", "passed"},
                   [](const MapReader& item) {
                     if (!item.boolean("passed", true)) {
                       item.fail("passed",
                                 "a kernel failed its check against the CPU reference, so its "
                                 "timings cannot calibrate",
                                 "a calibration whose checks all passed");
                     }
                   });
  }
  const std::vector<std::string> gemm_keys = plus(kTimingKeys, {"m", "n", "k", "tflops"});
  auto read_gemm = [](const MapReader& item) {
    return models::GemmMeasurement{item.integer("m", std::nullopt), item.integer("n", std::nullopt),
                                   item.integer("k", std::nullopt),
                                   item.number("tflops", std::nullopt, 0)};
  };
  if (r.has("dense_fp8_gemm")) {
    c.dense_fp8_gemm.clear();
    for_each_entry(ctx, r, "dense_fp8_gemm", gemm_keys,
                   [&](const MapReader& item) { c.dense_fp8_gemm.push_back(read_gemm(item)); });
  }
  if (r.has("vendor_fp8_gemm")) {
    for_each_entry(ctx, r, "vendor_fp8_gemm", gemm_keys, read_gemm);
  }
  if (r.has("bf16_gemm")) {
    // The 16-bit GEMM level of the measured chip: its fastest measured shape (the large GEMMs
    // that dense layers run), ahead of the published levels of other chips.
    double best = 0;
    for_each_entry(ctx, r, "bf16_gemm", gemm_keys,
                   [&](const MapReader& item) { best = std::max(best, read_gemm(item).tflops); });
    c.gemm_16bit.insert(c.gemm_16bit.begin(),
                        {c.measured_on, best, "cuBLASLt BF16 GEMM measured in " + path});
  }
  if (r.has("grouped_fp8_gemm")) {
    c.grouped_fp8_gemm.clear();
    for_each_entry(ctx, r, "grouped_fp8_gemm",
                   plus(kTimingKeys, {"layout", "groups", "m_per_group", "n", "k", "tflops"}),
                   [&](const MapReader& item) {
                     item.choice("layout", {"contiguous", "masked"}, "contiguous");
                     c.grouped_fp8_gemm.push_back({item.int_value("groups", std::nullopt),
                                                   item.integer("m_per_group", std::nullopt),
                                                   item.integer("n", std::nullopt),
                                                   item.integer("k", std::nullopt),
                                                   item.number("tflops", std::nullopt, 0)});
                   });
  }
  if (r.has("mla_decode")) {
    double best = 0;
    for_each_entry(ctx, r, "mla_decode",
                   plus(kTimingKeys, {"requests", "heads", "tokens", "tflops", "GBps"}),
                   [&](const MapReader& item) {
                     item.number("GBps", 1.0, 0);
                     best = std::max(best, item.number("tflops", std::nullopt, 0));
                   });
    c.attention_bf16_tflops = best;
  }
  if (r.has("hbm_copy")) {
    double best = 0;
    for_each_entry(ctx, r, "hbm_copy", plus(kTimingKeys, {"bytes", "GBps"}),
                   [&](const MapReader& item) {
                     best = std::max(best, item.number("GBps", std::nullopt, 0));
                   });
    c.hbm_achieved_GBps = best;
  }
  if (r.has("accumulation")) {
    for_each_entry(ctx, r, "accumulation",
                   {"data", "m", "n", "k", "without_promotion", "with_promotion"},
                   [](const MapReader& item) {
                     item.number("without_promotion", std::nullopt, 0, false);
                     item.number("with_promotion", std::nullopt, 0, false);
                   });
  }
  return c;
}

models::Calibration read_scenario_calibration(const YamlContext& ctx, const MapReader& top,
                                              const std::string& scenario_path,
                                              bool from_command_line) {
  const YAML::Node value = top.node("calibration");
  const std::string example =
      "the path of a calibration file written by 'codesim calibrate', relative to the scenario, "
      "e.g. calibration: ../validation/calibration/h100.yaml";
  if (!value.IsScalar() || value.Scalar().empty()) {
    top.fail("calibration", "expected the path of a calibration file", example);
  }
  std::filesystem::path file(value.Scalar());
  if (file.is_relative() && !from_command_line) {
    file = std::filesystem::path(scenario_path).parent_path() / file;
  }
  if (const std::string problem = unreadable_reason(file.string()); !problem.empty()) {
    ctx.fail(top.key_path("calibration"), value,
             "cannot read the calibration file '" + file.string() + "' (" + problem + ")", example);
  }
  return read_calibration_file(file.string());
}

}  // namespace codesim::cli
