#include "cli/sweep_command.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <mpi.h>

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/command_line.hpp"
#include "cli/progress.hpp"
#include "cli/sweep_spec.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using Json = nlohmann::ordered_json;

Json sets_of(const SweepPoint& p) {
  Json sets = Json::object();
  for (const auto& [key, value] : p.sets) sets[key] = value;
  return sets;
}

Json manifest_of(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  Json j;
  j["sweep"] = spec.file;
  j["base"] = spec.base;
  j["engine"] = spec.engine;
  j["points"] = Json::array();
  for (const SweepPoint& p : points) j["points"].push_back({{"id", p.id}, {"sets", sets_of(p)}});
  return j;
}

// A value of the result at a dotted key, or null.
Json at_path(const Json& result, const std::string& dotted) {
  const Json* node = &result;
  std::stringstream parts(dotted);
  for (std::string part; std::getline(parts, part, '.');) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return *node;
}

std::string csv_field(const Json& v) {
  if (v.is_null()) return "";
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// The point's `codesim train` as a process: its result through --json, its messages to a file.
// It dies with the sweep (a killed sweep leaves no point running to finish behind its back).
pid_t spawn_point(const std::string& self, const SweepSpec& spec, const SweepPoint& point,
                  const fs::path& json, const fs::path& messages) {
  std::vector<std::string> words = {self, "train", spec.base, "--engine", spec.engine};
  for (const auto& set : point.sets) {
    words.push_back("--set");
    words.push_back(set_argument(set));
  }
  words.push_back("--json");
  words.push_back(json.string());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string("cannot start a point: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the sweep died before the line above
    const int out = open("/dev/null", O_WRONLY);
    const int err = open(messages.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
      _exit(127);
    }
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The ranks of a sweep started under mpirun (OpenMPI or another launcher that says so in the
// environment): each runs the points whose index modulo the ranks is its own, into the same
// folder (a file system they share); rank 0 checks the manifest first and writes the table
// last. Without a launcher: one rank, and MPI is not started.
class Ranks {
 public:
  Ranks() {
    if (!std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMI_SIZE") &&
        !std::getenv("PMIX_RANK")) {
      return;
    }
    MPI_Init(nullptr, nullptr);
    mpi_ = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~Ranks() {
    if (mpi_) MPI_Finalize();
  }
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool lead() const { return rank_ == 0; }
  // Rank 0's value, on every rank.
  int from_lead(int value) const {
    if (mpi_) MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return value;
  }
  long long sum(long long value) const {
    long long total = value;
    if (mpi_) MPI_Allreduce(&value, &total, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return total;
  }

 private:
  bool mpi_ = false;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  po::options_description options("codesim sweep SWEEP.yaml [options]");
  std::string sweep_path;
  std::string out_dir;
  std::string engine;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int jobs = int(cores);
  options.add_options()("help,h", "show this help")(
      "jobs,j", po::value<int>(&jobs), "points run at once (default: the machine's cores)")(
      "out", po::value<std::string>(&out_dir),
      "the sweep's folder: its points, manifest and table (default: SWEEP's name + .sweep); "
      "started again on the same folder, a sweep runs only the points not finished")(
      "engine", po::value<std::string>(&engine), "event or analytic, over the sweep file's engine");
  po::variables_map vm;
  if (const auto exit = parse_subcommand(args, "sweep", options, sweep_path, vm)) return *exit;
  if (jobs < 1) {
    std::cerr << "codesim sweep: error: --jobs " << jobs << " must be at least 1\n";
    return kExitBadInput;
  }
  if (!engine.empty() && engine != "event" && engine != "analytic") {
    std::cerr << "codesim sweep: error: --engine '" << engine
              << "' is not an engine; valid: analytic, event\n";
    return kExitBadInput;
  }

  const Ranks ranks;
  SweepSpec spec = read_sweep(sweep_path);
  if (!engine.empty()) spec.engine = engine;
  const std::vector<SweepPoint> points = expand(spec);
  const fs::path dir = out_dir.empty() ? fs::path(fs::path(sweep_path).stem().string() + ".sweep")
                                       : fs::path(out_dir);
  const fs::path point_dir = dir / "points";
  std::error_code ec;
  // The manifest: the points this folder holds. A folder of another sweep is not mixed in.
  int ready = kExitOk;
  if (ranks.lead()) {
    fs::create_directories(point_dir, ec);
    const Json manifest = manifest_of(spec, points);
    const fs::path manifest_path = dir / "sweep.json";
    if (ec || !fs::is_directory(point_dir)) {
      std::cerr << "codesim sweep: error: cannot make the folder " << point_dir.string() << "\n";
      ready = kExitBadInput;
    } else if (fs::exists(manifest_path)) {
      Json before;
      try {
        before = Json::parse(read_text(manifest_path));
      } catch (const Json::exception&) {
      }
      if (before != manifest) {
        std::cerr << "codesim sweep: error: " << dir.string()
                  << " holds another sweep's points (its sweep.json differs); give another "
                     "--out or remove the folder\n";
        ready = kExitBadInput;
      }
    } else {
      write_file_atomically(manifest_path.string(), manifest.dump(2) + "\n");
    }
  }
  if (const int status = ranks.from_lead(ready); status != kExitOk) return status;

  auto result_path = [&](const SweepPoint& p) { return point_dir / (p.id + ".json"); };
  auto error_path = [&](const SweepPoint& p) { return point_dir / (p.id + ".error.json"); };
  // This rank's share of the points not finished.
  std::vector<const SweepPoint*> todo;
  std::size_t unfinished = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const SweepPoint& p = points[i];
    if (fs::exists(result_path(p)) || fs::exists(error_path(p))) continue;
    ++unfinished;
    if (int(i % std::size_t(ranks.size())) == ranks.rank()) todo.push_back(&p);
  }
  const std::size_t done_before = points.size() - unfinished;
  ProgressLine progress(ranks.lead() && stderr_is_terminal());
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec || self.empty()) self = "codesim";

  std::map<pid_t, const SweepPoint*> running;
  std::size_t next = 0, finished = 0;
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && int(running.size()) < jobs) {
      const SweepPoint& p = *todo[next++];
      running[spawn_point(self, spec, p, result_path(p), point_dir / (p.id + ".messages"))] = &p;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const SweepPoint& p = *it->second;
    running.erase(it);
    ++finished;
    const fs::path messages = point_dir / (p.id + ".messages");
    const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (exit_code != 0 || !fs::exists(result_path(p))) {
      const Json error = {{"id", p.id},
                          {"exit_code", exit_code},
                          {"error", read_text(messages)},
                          {"sets", sets_of(p)}};
      write_file_atomically(error_path(p).string(), error.dump(2) + "\n");
    }
    fs::remove(messages, ec);
    progress.show(fmt::format("codesim sweep: {} of {} points done, {}", done_before + finished,
                              points.size(), progress.eta(double(finished) / todo.size())),
                  true);
  }
  progress.clear();
  // Every rank's points are done (the sum waits for them all); rank 0 writes the table.
  const long long run_now = ranks.sum((long long)todo.size());
  if (!ranks.lead()) return kExitOk;

  // The table: each point's axis values, its chosen outputs, or its error.
  std::vector<std::string> axis_keys;
  for (const auto& [key, value] : spec.fixed) axis_keys.push_back(key);
  for (const SweepAxis& axis : spec.axes) {
    axis_keys.insert(axis_keys.end(), axis.keys.begin(), axis.keys.end());
  }
  Json table = Json::array();
  std::string csv = "point";
  for (const auto& k : axis_keys) csv += "," + csv_field(k);
  for (const auto& o : spec.outputs) csv += "," + csv_field(o);
  csv += ",error\n";
  std::size_t failed = 0;
  for (const SweepPoint& p : points) {
    Json row = {{"point", p.id}};
    for (const auto& [key, value] : p.sets) row[key] = value;
    Json result;
    std::string error;
    if (fs::exists(result_path(p))) {
      try {
        result = Json::parse(read_text(result_path(p)));
      } catch (const Json::exception& e) {
        error = std::string("unreadable result: ") + e.what();
      }
    } else {
      ++failed;
      try {
        error = Json::parse(read_text(error_path(p))).value("error", "failed");
      } catch (const Json::exception&) {
        error = "failed";
      }
      // One line for the table: the message's lines joined.
      while (!error.empty() && error.back() == '\n') error.pop_back();
      for (std::size_t at = error.find('\n'); at != std::string::npos; at = error.find('\n', at)) {
        error.replace(at, 1, "; ");
      }
    }
    for (const auto& o : spec.outputs) row[o] = at_path(result, o);
    row["error"] = error.empty() ? Json(nullptr) : Json(error);
    csv += csv_field(p.id);
    for (const auto& k : axis_keys) csv += "," + csv_field(row[k]);
    for (const auto& o : spec.outputs) csv += "," + csv_field(row[o]);
    csv += "," + csv_field(row["error"]) + "\n";
    table.push_back(std::move(row));
  }
  write_file_atomically((dir / "table.json").string(), table.dump(2) + "\n");
  write_file_atomically((dir / "table.csv").string(), csv);
  std::cout << fmt::format(
      "codesim sweep: {} points, {} run now, {} finished before; {} failed; table {}\n",
      points.size(), run_now, done_before, failed, (dir / "table.csv").string());
  return kExitOk;
}

}  // namespace codesim::cli
