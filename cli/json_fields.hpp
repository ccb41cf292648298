#pragma once
// Integer fields of JSON that codesim reads back (results, traces, sweep tables): nlohmann's
// value<int>() converts any number, and a float past an int (1e308) is undefined behaviour, so
// these fields are read through int_field, which refuses what codesim never writes.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace codesim::cli {

// A field of an input that is not what codesim writes; the reader names the file.
struct BadJsonField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `j[key]` as an int, or `fallback` when `j` has no `key`. Throws BadJsonField when the field is
// not a whole number within an int.
template <class Json>
int int_field(const Json& j, const std::string& key, int fallback) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  double v = std::nan("");
  if (it->is_number_unsigned()) {
    v = double(it->template get<std::uint64_t>());
  } else if (it->is_number()) {
    v = it->template get<double>();
  }
  if (!std::isfinite(v) || v != std::floor(v) || v > std::numeric_limits<int>::max() ||
      v < std::numeric_limits<int>::min()) {
    throw BadJsonField("'" + key + "' is " + it->dump() + ", not an integer within an int");
  }
  return int(v);
}

}  // namespace codesim::cli
