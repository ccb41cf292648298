#include "cli/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

namespace codesim::cli {
namespace {

struct Unit {
  const char* suffix;
  double scale;
};

const std::vector<Unit>& units_of(Quantity kind) {
  static const std::vector<Unit> kBandwidth = {
      {"bps", 1.0 / 8},   {"Kbps", 1e3 / 8}, {"Mbps", 1e6 / 8}, {"Gbps", 1e9 / 8},
      {"Tbps", 1e12 / 8}, {"Bps", 1},        {"KBps", 1e3},     {"MBps", 1e6},
      {"GBps", 1e9},      {"TBps", 1e12},    {"B/s", 1},        {"KB/s", 1e3},
      {"MB/s", 1e6},      {"GB/s", 1e9},     {"TB/s", 1e12},    {"Gb/s", 1e9 / 8},
      {"Tb/s", 1e12 / 8},
  };
  static const std::vector<Unit> kCompute = {
      {"FLOPS", 1},
      {"GFLOPS", 1e9},
      {"TFLOPS", 1e12},
      {"PFLOPS", 1e15},
  };
  static const std::vector<Unit> kDuration = {
      {"ps", 1e-12}, {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"h", 3600},
  };
  static const std::vector<Unit> kDataSize = {
      {"B", 1},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
      {"KiB", 1024.0},
      {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024},
      {"TiB", 1024.0 * 1024 * 1024 * 1024},
  };
  switch (kind) {
    case Quantity::kBandwidth:
      return kBandwidth;
    case Quantity::kCompute:
      return kCompute;
    case Quantity::kDuration:
      return kDuration;
    case Quantity::kDataSize:
      return kDataSize;
  }
  return kDataSize;
}

}  // namespace

std::optional<double> parse_quantity(const std::string& raw, Quantity kind) {
  std::string text;
  for (char c : raw) {
    if (!std::isspace(static_cast<unsigned char>(c))) text += c;
  }
  if (text.empty()) return std::nullopt;
  const char* begin = text.c_str();
  char* end = nullptr;
  const double number = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(number)) return std::nullopt;
  const std::string suffix(end);
  for (const auto& unit : units_of(kind)) {
    if (suffix == unit.suffix) return number * unit.scale;
  }
  return std::nullopt;
}

std::string quantity_examples(Quantity kind) {
  switch (kind) {
    case Quantity::kBandwidth:
      return "400Gbps, 50GBps, 3.35TBps (b = bits, B = bytes)";
    case Quantity::kCompute:
      return "989.4TFLOPS, 1.9PFLOPS";
    case Quantity::kDuration:
      return "2.8us, 500ns, 1.5ms";
    case Quantity::kDataSize:
      return "80GB, 80GiB, 512MiB (GB = 1e9 bytes, GiB = 2^30)";
  }
  return "";
}

std::string quantity_name(Quantity kind) {
  switch (kind) {
    case Quantity::kBandwidth:
      return "a bandwidth";
    case Quantity::kCompute:
      return "a compute rate";
    case Quantity::kDuration:
      return "a duration";
    case Quantity::kDataSize:
      return "a data size";
  }
  return "a quantity";
}

}  // namespace codesim::cli
