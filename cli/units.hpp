#pragma once
// Quantities with units, parsed from scenario strings such as "400Gbps", "160GBps",
// "989.4TFLOPS", "3.35TBps", "2.8us", "80GiB". Decimal prefixes are powers of 1000
// (1 GB = 1e9 bytes); binary ones say so (1 GiB = 2^30 bytes). Bits are "b", bytes "B".

#include <optional>
#include <string>

namespace codesim::cli {

enum class Quantity { kBandwidth, kCompute, kDuration, kDataSize };

// Parses `text` as a quantity of the given kind, in base units: bytes per second, FLOP per
// second, seconds or bytes. Returns nullopt when the text is not such a quantity.
std::optional<double> parse_quantity(const std::string& text, Quantity kind);

// Examples of valid spellings, for error messages.
std::string quantity_examples(Quantity kind);
std::string quantity_name(Quantity kind);

}  // namespace codesim::cli
