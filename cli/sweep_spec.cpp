#include "cli/sweep_spec.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string_view>

#include "cli/command_line.hpp"
#include "cli/scenario_error.hpp"
#include "cli/scenario_loader.hpp"
#include "cli/yaml_reader.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;

const char* kExpected =
    "a map 'sweep' with base (a scenario file), and grid and/or zip maps of dotted keys to lists "
    "of values, e.g. examples/sweeps/v3-topology-x-m.yaml";

// A value as --set takes it: a scalar's text, or a sequence or map in YAML's flow style.
std::string value_text(const YAML::Node& value) {
  if (value.IsScalar()) return value.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << value;
  return out.c_str();
}

SourceLocation where(const std::string& file, const YAML::Node& node) {
  return {file, node.Mark().line + 1, node.Mark().column + 1};
}

// A key of the sweep's maps, or an entry of its lists: one value, as written.
std::string scalar_text(const std::string& file, const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    throw ScenarioError(where(file, node), key, "expected a single value, not a list or a map",
                        "a dotted key such as plan.pp");
  }
  return node.Scalar();
}

// Axes of a grid (one a key) or of a zip (one for all its keys), in the file's order.
std::vector<SweepAxis> read_axes(const std::string& file, const YAML::Node& map,
                                 const std::string& name, bool zipped) {
  if (!map.IsMap() || map.size() == 0) {
    throw ScenarioError(where(file, map), "sweep." + name,
                        "expected a map of dotted keys to lists of values",
                        "e.g. plan.pp: [8, 16]");
  }
  std::vector<SweepAxis> axes;
  SweepAxis zip;
  std::size_t length = 0;
  for (const auto& entry : map) {
    const std::string key = scalar_text(file, entry.first, "sweep." + name);
    const YAML::Node& values = entry.second;
    if (!values.IsSequence() || values.size() == 0) {
      throw ScenarioError(where(file, entry.first), "sweep." + name + "." + key,
                          "expected a non-empty list of values", "e.g. [1, 2, 4, 8]");
    }
    if (zipped && !zip.keys.empty() && values.size() != length) {
      throw ScenarioError(where(file, entry.first), "sweep." + name + "." + key,
                          "zipped lists must be of one length: " + std::to_string(values.size()) +
                              " values here, " + std::to_string(length) + " in '" +
                              zip.keys.front() + "'",
                          std::to_string(length) + " values");
    }
    length = values.size();
    std::vector<std::string> texts;
    for (const auto& v : values) texts.push_back(value_text(v));
    if (!zipped) {
      SweepAxis axis;
      axis.keys = {key};
      for (const auto& t : texts) axis.values.push_back({t});
      axes.push_back(std::move(axis));
      continue;
    }
    zip.keys.push_back(key);
    zip.values.resize(length);
    for (std::size_t i = 0; i < length; ++i) zip.values[i].push_back(texts[i]);
  }
  if (zipped) axes.push_back(std::move(zip));
  return axes;
}

// An axis key the scenario does not have: the base loaded with the key set to `value` fails on
// the key itself (not on the plan it makes, which a point may do and be recorded).
void check_key(const SweepSpec& spec, const std::string& key, const std::string& value,
               const YAML::Node& at) {
  try {
    load_training_scenario(spec.base, {set_argument({key, value})});
  } catch (const ScenarioError& e) {
    const std::string_view problem = e.problem();
    const bool about_the_key = problem.starts_with("unknown key") ||
                               problem.starts_with("not a dotted key path") ||
                               problem.find("is not a map") != std::string_view::npos;
    if (about_the_key) {
      throw ScenarioError(where(spec.file, at), key,
                          "the base scenario " + spec.base + " has no such key: " + e.problem(),
                          e.valid());
    }
  }
}

}  // namespace

std::string set_argument(const SweepSet& set) {
  return set.first + "=" + set.second;
}

SweepSpec read_sweep(const std::string& path) {
  const YAML::Node root = load_yaml_file(path, "sweep file", kExpected);
  const YamlContext ctx(path, root, {});
  const MapReader top(ctx, root, "", {"sweep"});
  if (!top.has("sweep")) top.fail("sweep", "missing the 'sweep' map", kExpected);
  const MapReader r(ctx, top.node("sweep"), "sweep",
                    {"base", "engine", "set", "grid", "zip", "outputs"});
  SweepSpec spec;
  spec.file = path;
  if (!r.has("base")) r.fail("base", "missing the base scenario", "a scenario file's path");
  fs::path base(r.text("base", std::nullopt));
  if (base.is_relative()) base = fs::path(path).parent_path() / base;
  if (const std::string problem = unreadable_reason(base.string()); !problem.empty()) {
    r.fail("base", "cannot read the base scenario '" + base.string() + "' (" + problem + ")",
           "a scenario file's path, relative to the sweep file");
  }
  spec.base = base.lexically_normal().string();
  spec.engine = r.choice("engine", {"event", "analytic"}, "event");
  if (r.has("set")) {
    const YAML::Node fixed = r.node("set");
    if (!fixed.IsMap()) r.fail("set", "expected a map of dotted keys to values");
    for (const auto& entry : fixed) {
      spec.fixed.push_back({scalar_text(path, entry.first, "sweep.set"), value_text(entry.second)});
      check_key(spec, spec.fixed.back().first, spec.fixed.back().second, entry.first);
    }
  }
  if (!r.has("grid") && !r.has("zip")) {
    r.fail("grid", "a sweep needs a grid or a zip of values to vary", kExpected);
  }
  for (const char* kind : {"grid", "zip"}) {
    if (!r.has(kind)) continue;
    const YAML::Node map = r.node(kind);
    for (SweepAxis& axis : read_axes(path, map, kind, std::string(kind) == "zip")) {
      for (std::size_t k = 0; k < axis.keys.size(); ++k) {
        check_key(spec, axis.keys[k], axis.values[0][k], map[axis.keys[k]]);
      }
      spec.axes.push_back(std::move(axis));
    }
  }
  spec.outputs = {"step_time_s", "mfu", "tokens_per_day", "gpu_hours_total"};
  if (r.has("outputs")) {
    const YAML::Node outputs = r.node("outputs");
    if (!outputs.IsSequence() || outputs.size() == 0) {
      r.fail("outputs", "expected a list of the result's dotted keys",
             "e.g. [step_time_s, mfu, breakdown_s.exposed_ep_comm]");
    }
    spec.outputs.clear();
    for (const auto& o : outputs) spec.outputs.push_back(scalar_text(path, o, "sweep.outputs"));
  }
  return spec;
}

std::vector<SweepPoint> expand(const SweepSpec& spec) {
  std::size_t count = 1;
  for (const SweepAxis& axis : spec.axes) count *= axis.values.size();
  std::vector<SweepPoint> points;
  points.reserve(count);
  std::vector<std::size_t> at(spec.axes.size(), 0);
  for (std::size_t n = 0; n < count; ++n) {
    SweepPoint p;
    p.id = fmt::format("p{:04}", n);
    p.sets = spec.fixed;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const SweepAxis& axis = spec.axes[a];
      for (std::size_t k = 0; k < axis.keys.size(); ++k) {
        p.sets.push_back({axis.keys[k], axis.values[at[a]][k]});
      }
    }
    points.push_back(std::move(p));
    // The next combination, the last axis fastest.
    for (std::size_t a = spec.axes.size(); a-- > 0;) {
      if (++at[a] < spec.axes[a].values.size()) break;
      at[a] = 0;
    }
  }
  return points;
}

}  // namespace codesim::cli
