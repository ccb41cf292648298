#include "cli/yaml_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace codesim::cli {

std::string join(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

YamlContext::YamlContext(std::string file, YAML::Node root,
                         std::map<std::string, std::string> overrides)
    : file_(std::move(file)), root_(std::move(root)), overrides_(std::move(overrides)) {}

// The mark of the key that `key_path` names, or of its nearest parent key that is written.
static YAML::Mark key_mark(const YAML::Node& root, const std::string& key_path) {
  YAML::Mark mark = YAML::Mark::null_mark();
  YAML::Node node = root;
  size_t start = 0;
  while (start <= key_path.size()) {
    const size_t dot = key_path.find('.', start);
    const std::string part =
        key_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node.IsMap()) break;
    bool found = false;
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == part) {
        mark = entry.first.Mark();
        YAML::Node child = entry.second;
        node.reset(child);
        found = true;
        break;
      }
    }
    if (!found || dot == std::string::npos) break;
    start = dot + 1;
  }
  return mark;
}

SourceLocation YamlContext::location(const std::string& key_path, const YAML::Node& node) const {
  // A value set on the command line is reported there, not in the file.
  for (const auto& [path, text] : overrides_) {
    if (key_path == path || key_path.rfind(path + ".", 0) == 0 ||
        key_path.rfind(path + "[", 0) == 0) {
      return {text, 0, 0};
    }
  }
  SourceLocation where{file_, 0, 0};
  if (key_path.find('[') == std::string::npos) {
    const YAML::Mark mark = key_mark(root_, key_path);
    if (!mark.is_null()) {
      where.line = mark.line + 1;
      where.column = mark.column + 1;
      return where;
    }
    // Not in the file: a section that only a --set below it made (--set plans.pp=4).
    for (const auto& [path, text] : overrides_) {
      if (path.rfind(key_path + ".", 0) == 0) return {text, 0, 0};
    }
  }
  if (node.IsDefined() && !node.Mark().is_null()) {
    where.line = node.Mark().line + 1;
    where.column = node.Mark().column + 1;
  }
  return where;
}

void YamlContext::fail(const std::string& key_path, const YAML::Node& node,
                       const std::string& problem, const std::string& valid) const {
  throw ScenarioError(location(key_path, node), key_path, problem, valid);
}

MapReader::MapReader(const YamlContext& context, const YAML::Node& node, std::string path,
                     std::vector<std::string> allowed)
    : context_(context), node_(node), path_(std::move(path)), allowed_(std::move(allowed)) {
  if (!node_.IsMap()) {
    context_.fail(path_, node_, "expected a map of keys", join(allowed_));
  }
  for (const auto& entry : node_) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
      const std::string guess = did_you_mean(key, allowed_);
      context_.fail(
          key_path(key), entry.first,
          "unknown key '" + key + "'" + (guess.empty() ? "" : "; did you mean '" + guess + "'?"),
          join(allowed_));
    }
  }
}

bool MapReader::has(const std::string& key) const {
  return bool(node_[key]);
}

YAML::Node MapReader::node(const std::string& key) const {
  return node_[key];
}

std::string MapReader::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void MapReader::fail(const std::string& key, const std::string& problem,
                     const std::string& valid) const {
  const YAML::Node value = node_[key];
  context_.fail(key_path(key), value ? value : node_, problem, valid);
}

YAML::Node MapReader::required(const std::string& key) const {
  const YAML::Node value = node_[key];
  if (!value) context_.fail(key_path(key), node_, "missing required key '" + key + "'");
  if (value.IsNull()) fail(key, "has no value");
  return value;
}

long long MapReader::integer(const std::string& key, std::optional<long long> fallback,
                             long long min) const {
  if (!has(key) && fallback) return *fallback;
  const YAML::Node value = required(key);
  long long out = 0;
  double as_double = 0;
  const bool number = value.IsScalar() && YAML::convert<double>::decode(value, as_double) &&
                      std::isfinite(as_double) && as_double == std::floor(as_double);
  if (number && std::abs(as_double) > 9e15) {
    fail(key, "too large: " + value.Scalar() + " (integers are read up to 9e15)",
         "a whole number >= " + std::to_string(min));
  }
  if (!number) {
    fail(key,
         "expected an integer, got '" +
             (value.IsScalar() ? value.Scalar()
                               : "a " + std::string(value.IsMap() ? "map" : "list")) +
             "'",
         "a whole number >= " + std::to_string(min));
  }
  out = static_cast<long long>(as_double);
  if (out < min) {
    fail(key, "must be >= " + std::to_string(min) + ", got " + std::to_string(out),
         "a whole number >= " + std::to_string(min));
  }
  return out;
}

int MapReader::int_value(const std::string& key, std::optional<long long> fallback,
                         long long min) const {
  const long long out = integer(key, fallback, min);
  if (out > std::numeric_limits<int>::max()) {
    fail(key, "is too large: " + std::to_string(out),
         "a whole number from " + std::to_string(min) + " to " +
             std::to_string(std::numeric_limits<int>::max()));
  }
  return int(out);
}

double MapReader::number(const std::string& key, std::optional<double> fallback, double min,
                         bool min_exclusive) const {
  if (!has(key) && fallback) return *fallback;
  const YAML::Node value = required(key);
  double out = 0;
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, out) || !std::isfinite(out)) {
    fail(key, "expected a number, got '" +
                  (value.IsScalar() ? value.Scalar() : std::string("a collection")) + "'");
  }
  const bool too_small = min_exclusive ? out <= min : out < min;
  if (too_small) {
    fail(key, "must be " + std::string(min_exclusive ? "> " : ">= ") + fmt::format("{}", min) +
                  ", got " + value.Scalar());
  }
  return out;
}

double MapReader::quantity(const std::string& key, Quantity kind,
                           std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const YAML::Node value = required(key);
  const std::string text = value.IsScalar() ? value.Scalar() : "";
  const auto parsed = parse_quantity(text, kind);
  if (!parsed) {
    fail(key, "'" + text + "' is not " + quantity_name(kind) + " with a unit",
         quantity_examples(kind));
  }
  if (*parsed <= 0) fail(key, "must be positive, got '" + text + "'", quantity_examples(kind));
  return *parsed;
}

std::string MapReader::choice(const std::string& key, const std::vector<std::string>& choices,
                              std::optional<std::string> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const YAML::Node value = required(key);
  const std::string text = value.IsScalar() ? value.Scalar() : "";
  if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
    const std::string guess = did_you_mean(text, choices);
    fail(key,
         "unknown value '" + text + "'" + (guess.empty() ? "" : "; did you mean '" + guess + "'?"),
         join(choices));
  }
  return text;
}

bool MapReader::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const YAML::Node value = required(key);
  bool out = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
    fail(key, "expected true or false, got '" + value.Scalar() + "'", "true, false");
  }
  return out;
}

std::string MapReader::text(const std::string& key, std::optional<std::string> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const YAML::Node value = required(key);
  if (!value.IsScalar()) fail(key, "expected a single value (text), not a list or a map");
  return value.Scalar();
}

std::vector<long long> MapReader::integer_list(const std::string& key, long long min) const {
  std::vector<long long> out;
  if (!has(key)) return out;
  const YAML::Node value = required(key);
  if (!value.IsSequence()) fail(key, "expected a list of integers", "[4, 4, 4, 4]");
  for (size_t i = 0; i < value.size(); ++i) {
    double v = 0;
    const YAML::Node item = value[i];
    const std::string path = key_path(key) + "[" + std::to_string(i) + "]";
    if (!item.IsScalar() || !YAML::convert<double>::decode(item, v) || !std::isfinite(v) ||
        v != std::floor(v)) {
      context_.fail(path, item, "expected an integer");
    }
    // Lists hold layers, plane numbers and the like: ints.
    if (v > double(std::numeric_limits<int>::max())) {
      context_.fail(path, item, "too large: " + item.Scalar(),
                    "at most " + std::to_string(std::numeric_limits<int>::max()));
    }
    if (v < double(min)) context_.fail(path, item, "must be >= " + std::to_string(min));
    out.push_back(static_cast<long long>(v));
  }
  return out;
}

std::vector<std::string> MapReader::choice_list(const std::string& key,
                                                const std::vector<std::string>& choices) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const YAML::Node value = required(key);
  if (!value.IsSequence()) fail(key, "expected a list", "[" + join(choices) + "]");
  for (size_t i = 0; i < value.size(); ++i) {
    const YAML::Node item = value[i];
    const std::string text = item.IsScalar() ? item.Scalar() : "";
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
      const std::string guess = did_you_mean(text, choices);
      context_.fail(
          key_path(key) + "[" + std::to_string(i) + "]", item,
          "unknown value '" + text + "'" + (guess.empty() ? "" : "; did you mean '" + guess + "'?"),
          join(choices));
    }
    out.push_back(text);
  }
  return out;
}

}  // namespace codesim::cli
