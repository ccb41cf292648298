#include "workloads/step/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "workloads/step/chunk_costs.hpp"
#include "workloads/network/cluster_network.hpp"
#include "workloads/network/collectives.hpp"
#include "workloads/moe/expert_load.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/moe/expected_traffic.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/schedules.hpp"

namespace codesim::workloads {
namespace {

using sim::Time;

enum class Pass : std::uint8_t { kForward, kBackward, kBackwardFull, kWeight };

// A flow's tag: what it belongs to in the top two bits, which one below.
constexpr int kTagShift = 62;
constexpr std::uint64_t kTagExchange = 0;
constexpr std::uint64_t kTagPipeline = 1;
constexpr std::uint64_t kPayloadMask = (std::uint64_t{1} << kTagShift) - 1;

class Engine {
 public:
  explicit Engine(const EngineInput& input);
  EngineResult run();

 private:
  struct Thread {
    bool live = false;
    Pass pass = Pass::kForward;
    std::uint8_t direction = 0;
    int position = 0;
    int micro_batch = 0;
    std::uint32_t segment = 0;
    bool in_exchange = false;  // waiting for its all-to-all to finish
    Time arrived;              // at that all-to-all
  };
  struct Rank {
    const std::vector<PipelineOp>* ops = nullptr;  // its pipeline rank's, shared by the replicas
    std::uint32_t next_op = 0;
    std::array<Thread, 2> threads;
    std::array<std::uint8_t, 2> queue{};  // threads whose compute segment is ready, FIFO
    std::uint8_t queued = 0;
    bool computing = false;
    bool pair = false;  // the current operation is an overlapped F&B
    bool traced = false;
    bool warm = false;                // an operation with a backward has started
    std::uint32_t forwards_left = 0;  // operations with a forward not yet finished
    Time idle_since;                  // the compute stream's idle time is charged up to here
    Time compute_started;
    RankTimes times;
  };
  // An all-to-all of one EP group, from the first member's arrival to the last flow's.
  struct ExchangeRun {
    std::uint64_t key = 0;
    Exchange kind = Exchange::kForwardDispatch;
    int layer = -1;
    int group = 0;
    int arrived = 0;
    std::uint64_t flows_left = 0;
    Time started;
    std::vector<std::pair<int, int>> waiters;  // (rank, thread)
  };
  // A pipeline input: arrived before its thread asked for it, or the thread waiting for it.
  struct Inbox {
    bool arrived = false;
    int waiter = -1;
  };
  // ZeRO-1 of one pipeline rank's replicas.
  struct DataParallel {
    int arrived = 0;
    int running = 0;
    bool gathering = false;
  };

  const std::vector<Segment>& segments(const Thread& t) const;
  // `slot` numbers the ranks of one pipeline rank: replica x tp + tensor-parallel index.
  int rank_of(int p, int slot) const { return p * width_ + slot; }
  int pipeline_rank(int rank) const { return rank / width_; }
  int slot_of(int rank) const { return rank % width_; }
  int group_of(int rank) const { return rank / in_.ep; }
  // The load factor of GPU `local` of its EP group in `layer` (1 when routing is balanced), and
  // the mean over the GPUs of its node in the group.
  double load_factor(int layer, int local) const {
    if (layer < 0 || std::size_t(layer) >= in_.expert_load.size()) return 1.0;
    const auto& row = in_.expert_load[layer];
    return row.empty() ? 1.0 : row[local];
  }
  double node_load_factor(int layer, int local) const;

  void start_next_op(int rank);
  void begin_thread(int rank, int index);
  void advance(int rank, int index);
  void finish_thread(int rank, int index);
  void queue_compute(int rank, int index);
  // Charges the compute stream's idle time since the last charge to what its threads wait on: an
  // all-to-all when one of them is in one, the pipeline otherwise. Called before every change of
  // what they wait on.
  void charge_idle(Rank& rank);
  void try_compute(int rank);
  void on_compute_done(sim::Simulator& sim, std::uint64_t payload);
  void record(int rank, const Thread& t, TraceSpan::Stream stream, Time start);

  // The flows of one all-to-all of an EP group: their routes (cached in the network) and whether
  // they cross the fabric; the same for every all-to-all of the group.
  struct GroupFlow {
    const std::vector<sim::FlowNetwork::LinkId>* route;
    bool ib;
    int src;  // GPUs of the group, 0 .. ep-1
    int dst;
  };
  const std::vector<GroupFlow>& group_flows(int group);
  void arrive_exchange(int rank, int index);
  void start_exchange(std::uint32_t slot);
  void finish_exchange(std::uint32_t slot);

  static std::uint64_t inbox_key(int rank, int direction, int micro_batch, bool gradient);
  void send_pipeline(int rank, const Thread& t);
  void deliver(std::uint64_t key);

  void operations_done(int rank);
  void start_data_parallel(int p, bool gather);
  void data_parallel_part_done(int p);

  static void on_flow_done(sim::Simulator& sim, void* self, std::uint64_t tag);
  void start_flow(int src, int dst, double bytes, std::uint64_t tag);

  const EngineInput& in_;
  int width_;  // ranks per pipeline rank: replicas x tp
  PipelineMap map_;
  sim::Simulator sim_;
  std::unique_ptr<sim::FlowNetwork> net_;
  std::vector<StagePasses> scaled_;           // the input's stages, durations times the slowdown
  std::vector<std::vector<PipelineOp>> ops_;  // by pipeline rank (reserved: never reallocates)
  std::vector<Rank> ranks_;
  std::vector<ExchangeRun> exchanges_;
  std::vector<std::uint32_t> free_exchanges_;
  std::unordered_map<std::uint64_t, std::uint32_t> exchange_slots_;
  std::unordered_map<std::uint64_t, Inbox> inboxes_;
  std::vector<std::vector<GroupFlow>> group_flows_;
  std::vector<DataParallel> data_parallel_;
  std::vector<std::unique_ptr<CollectiveRun>> collectives_;
  EngineResult result_;
};

Engine::Engine(const EngineInput& input)
    : in_(input), width_(input.replicas * input.tp), map_(input.schedule, input.pp) {
  if (in_.replicas < 1 || in_.tp < 1 || in_.ep < 1 || in_.replicas % in_.ep != 0) {
    throw std::invalid_argument("engine: ep must divide the replicas");
  }
  if (in_.ep > 1 && in_.tp > 1) {
    throw std::invalid_argument("engine: expert parallelism with tensor parallelism");
  }
  if (int(in_.stages.size()) != map_.length()) {
    throw std::invalid_argument("engine: " + std::to_string(in_.stages.size()) +
                                " stages given, the schedule runs " +
                                std::to_string(map_.length()));
  }
  if (in_.network) {
    net_ = std::make_unique<sim::FlowNetwork>(sim_);
    in_.network->attach(*net_);
    if (in_.network->gpus() < in_.pp * width_) {
      throw std::invalid_argument("engine: the network has fewer GPUs than the plan's ranks");
    }
  }
  scaled_ = in_.stages;
  for (auto& stage : scaled_) {
    for (auto* list : {&stage.forward, &stage.backward, &stage.backward_full, &stage.weight}) {
      for (auto& seg : *list) {
        seg.duration = sim::scaled_ceil(seg.duration, in_.compute_slowdown);
        seg.routed = sim::scaled_ceil(seg.routed, in_.compute_slowdown);
      }
    }
  }
  ranks_.resize(std::size_t(in_.pp) * width_);
  ops_.reserve(in_.pp);
  for (int p = 0; p < in_.pp; ++p) {
    ops_.push_back(schedule_rank_ops(in_.schedule, in_.pp, p, in_.micro_batches));
    std::uint32_t forwards = 0;
    for (const PipelineOp& op : ops_.back()) {
      forwards +=
          op.kind == PipelineOp::Kind::kForward || op.kind == PipelineOp::Kind::kForwardBackward;
    }
    for (int k = 0; k < width_; ++k) {
      ranks_[rank_of(p, k)].ops = &ops_.back();
      ranks_[rank_of(p, k)].forwards_left = forwards;
    }
  }
  data_parallel_.resize(in_.pp);
  result_.ranks.resize(ranks_.size());
  for (int r : in_.trace_ranks) {
    if (r < 0 || r >= int(ranks_.size())) {
      throw std::invalid_argument("engine: no rank " + std::to_string(r) + " to trace (0 to " +
                                  std::to_string(ranks_.size() - 1) + ")");
    }
    ranks_[r].traced = true;
  }
}

void Engine::record(int r, const Thread& t, TraceSpan::Stream stream, Time start) {
  static constexpr char kPassLetters[] = {'F', 'B', 'b', 'W'};
  TraceSpan span;
  span.rank = r;
  span.stream = stream;
  span.pass = kPassLetters[int(t.pass)];
  span.direction = t.direction;
  span.stage = t.position;
  span.micro_batch = t.micro_batch;
  if (stream == TraceSpan::Stream::kCommunication) span.exchange = segments(t)[t.segment].exchange;
  span.start = start;
  span.end = sim_.now();
  result_.trace.push_back(span);
}

const std::vector<Segment>& Engine::segments(const Thread& t) const {
  const StagePasses& stage = scaled_[t.position];
  switch (t.pass) {
    case Pass::kForward:
      return stage.forward;
    case Pass::kBackward:
      return stage.backward;
    case Pass::kBackwardFull:
      return stage.backward_full;
    case Pass::kWeight:
      return stage.weight;
  }
  return stage.weight;
}

EngineResult Engine::run() {
  for (int r = 0; r < int(ranks_.size()); ++r) start_next_op(r);
  sim_.run();
  Time step;
  for (int r = 0; r < int(ranks_.size()); ++r) {
    const Rank& rank = ranks_[r];
    if (rank.next_op < rank.ops->size() || rank.threads[0].live || rank.threads[1].live) {
      // Nothing left to happen and a rank not done: the schedule's order cannot be met.
      throw std::logic_error("engine: rank " + std::to_string(r) + " deadlocked at operation " +
                             std::to_string(rank.next_op) + " of " +
                             std::to_string(rank.ops->size()));
    }
    result_.ranks[r] = rank.times;
    if (rank.times.finish > step) {
      step = rank.times.finish;
      result_.slowest_rank = r;
    }
  }
  result_.step_time = step;
  result_.events = sim_.events_processed();
  if (net_ && step > Time::zero()) result_.links = in_.network->link_use(*net_, step);
  return result_;
}

void Engine::start_next_op(int r) {
  Rank& rank = ranks_[r];
  if (rank.next_op == rank.ops->size()) {
    operations_done(r);
    return;
  }
  const PipelineOp& op = (*rank.ops)[rank.next_op++];
  const int p = pipeline_rank(r);
  auto place_thread = [&](int index, Pass pass, int chunk, int micro_batch) {
    const PipelineMap::Place place = map_.place({p, chunk});
    Thread& t = rank.threads[index];
    t = Thread{};
    t.live = true;
    t.pass = pass;
    t.direction = std::uint8_t(place.direction);
    t.position = place.position;
    t.micro_batch = micro_batch;
  };
  switch (op.kind) {
    case PipelineOp::Kind::kForward:
      place_thread(0, Pass::kForward, op.chunk, op.micro_batch);
      break;
    case PipelineOp::Kind::kBackward:
      place_thread(0, op.split_backward ? Pass::kBackward : Pass::kBackwardFull, op.chunk,
                   op.micro_batch);
      break;
    case PipelineOp::Kind::kWeight:
      place_thread(0, Pass::kWeight, op.chunk, op.micro_batch);
      break;
    case PipelineOp::Kind::kForwardBackward:
      place_thread(0, Pass::kForward, op.chunk, op.micro_batch);
      place_thread(1, Pass::kBackwardFull, op.backward_chunk, op.backward_micro_batch);
      break;
  }
  rank.pair = op.kind == PipelineOp::Kind::kForwardBackward;
  const bool pair = rank.pair;
  if (!rank.warm && op.kind != PipelineOp::Kind::kForward) {
    rank.warm = true;
    rank.times.warm_up_end = sim_.now();
  }
  begin_thread(r, 0);
  if (pair) begin_thread(r, 1);
}

std::uint64_t Engine::inbox_key(int rank, int direction, int micro_batch, bool gradient) {
  return (std::uint64_t(std::uint32_t(rank)) << 24) | (std::uint64_t(micro_batch) << 2) |
         (std::uint64_t(direction) << 1) | std::uint64_t(gradient);
}

void Engine::begin_thread(int r, int index) {
  Thread& t = ranks_[r].threads[index];
  bool needs = false;
  bool gradient = false;
  if (t.pass == Pass::kForward) {
    needs = t.position > 0;
  } else if (t.pass != Pass::kWeight) {
    needs = t.position < map_.length() - 1;
    gradient = true;
  }
  if (needs) {
    const std::uint64_t key = inbox_key(r, t.direction, t.micro_batch, gradient);
    auto it = inboxes_.find(key);
    if (it == inboxes_.end() || !it->second.arrived) {
      inboxes_[key].waiter = index;
      return;
    }
    inboxes_.erase(it);
  }
  advance(r, index);
}

void Engine::advance(int r, int index) {
  Thread& t = ranks_[r].threads[index];
  const std::vector<Segment>& segs = segments(t);
  if (t.segment >= segs.size()) {
    finish_thread(r, index);
    return;
  }
  if (segs[t.segment].kind == Segment::Kind::kCompute) {
    queue_compute(r, index);
  } else {
    arrive_exchange(r, index);
  }
}

void Engine::finish_thread(int r, int index) {
  Rank& rank = ranks_[r];
  rank.threads[index].live = false;
  // An overlapped pair sends both its outputs when the pair is done (dualpipe.py sends after
  // the whole F&B chunk).
  if (rank.threads[0].live || rank.threads[1].live) return;
  send_pipeline(r, rank.threads[0]);
  if (rank.pair) send_pipeline(r, rank.threads[1]);
  if (rank.threads[0].pass == Pass::kForward && --rank.forwards_left == 0) {
    rank.times.steady_end = sim_.now();
  }
  start_next_op(r);
}

void Engine::queue_compute(int r, int index) {
  Rank& rank = ranks_[r];
  rank.queue[rank.queued++] = std::uint8_t(index);
  try_compute(r);
}

void Engine::charge_idle(Rank& rank) {
  if (!rank.computing) {
    const Time idle = sim_.now() - rank.idle_since;
    const bool exchange = (rank.threads[0].live && rank.threads[0].in_exchange) ||
                          (rank.threads[1].live && rank.threads[1].in_exchange);
    (exchange ? rank.times.wait_all_to_all : rank.times.wait_pipeline) += idle;
  }
  rank.idle_since = sim_.now();
}

void Engine::try_compute(int r) {
  Rank& rank = ranks_[r];
  if (rank.computing || rank.queued == 0) return;
  const int index = rank.queue[0];
  rank.queue[0] = rank.queue[1];
  --rank.queued;
  Thread& t = rank.threads[index];
  charge_idle(rank);
  rank.computing = true;
  rank.compute_started = sim_.now();
  const Segment& segment = segments(t)[t.segment];
  Time duration = segment.duration;
  if (segment.routed > Time::zero()) {
    const double factor = load_factor(segment.layer, slot_of(r) % in_.ep);
    duration += factor == 1.0 ? segment.routed : sim::scaled_ceil(segment.routed, factor);
  }
  rank.times.compute += duration;
  sim_.schedule_in<&Engine::on_compute_done>(duration, *this, std::uint64_t(r) * 2 + index);
}

void Engine::on_compute_done(sim::Simulator&, std::uint64_t payload) {
  const int r = int(payload / 2);
  const int index = int(payload % 2);
  Rank& rank = ranks_[r];
  rank.computing = false;
  rank.idle_since = sim_.now();
  if (rank.traced) {
    record(r, rank.threads[index], TraceSpan::Stream::kCompute, rank.compute_started);
  }
  if (rank.forwards_left == 0 && rank.threads[index].pass == Pass::kWeight) {
    rank.times.trailing_weights += sim_.now() - rank.compute_started;
  }
  ++rank.threads[index].segment;
  advance(r, index);
  try_compute(r);
}

void Engine::arrive_exchange(int r, int index) {
  const Thread& t = ranks_[r].threads[index];
  const int group = group_of(r);
  const std::uint64_t key = (std::uint64_t(group) << 40) | (std::uint64_t(t.micro_batch) << 20) |
                            (std::uint64_t(t.direction) << 19) |
                            (std::uint64_t(t.pass == Pass::kForward) << 18) | t.segment;
  auto [it, inserted] = exchange_slots_.try_emplace(key, 0);
  if (inserted) {
    std::uint32_t slot;
    if (!free_exchanges_.empty()) {
      slot = free_exchanges_.back();
      free_exchanges_.pop_back();
    } else {
      slot = std::uint32_t(exchanges_.size());
      exchanges_.emplace_back();
    }
    it->second = slot;
    ExchangeRun& run = exchanges_[slot];
    run.key = key;
    run.kind = segments(t)[t.segment].exchange;
    run.layer = segments(t)[t.segment].layer;
    run.group = group;
    run.arrived = 0;
    run.flows_left = 0;
    run.waiters.clear();
  }
  const std::uint32_t slot = it->second;
  ExchangeRun& run = exchanges_[slot];
  charge_idle(ranks_[r]);
  ranks_[r].threads[index].arrived = sim_.now();
  ranks_[r].threads[index].in_exchange = true;
  run.waiters.emplace_back(r, index);
  if (++run.arrived == in_.ep) start_exchange(slot);
}

double Engine::node_load_factor(int layer, int local) const {
  if (layer < 0 || std::size_t(layer) >= in_.expert_load.size() || in_.expert_load[layer].empty()) {
    return 1.0;
  }
  const int gpn = std::min(in_.network ? in_.network->gpus_per_node() : in_.ep, in_.ep);
  const int first = local / gpn * gpn;
  double sum = 0;
  for (int i = first; i < first + gpn; ++i) sum += in_.expert_load[layer][i];
  return sum / gpn;
}

const std::vector<Engine::GroupFlow>& Engine::group_flows(int group) {
  if (group_flows_.size() <= std::size_t(group)) group_flows_.resize(group + 1);
  std::vector<GroupFlow>& flows = group_flows_[group];
  if (!flows.empty()) return flows;
  // IB: each GPU to the same-index GPU of every other node of the group; NVLink: each GPU to
  // every other GPU of its node in the group.
  const int gpn = in_.network->gpus_per_node();
  const int first = group * in_.ep;
  const int last = first + in_.ep;  // one past
  for (int src = first; src < last; ++src) {
    const int node = src / gpn;
    const int local = src % gpn;
    for (int n = first / gpn; n * gpn < last; ++n) {
      if (n == node) continue;
      const int dst = std::clamp(n * gpn + local, first, last - 1);
      flows.push_back({&in_.network->route(src, dst), true, src - first, dst - first});
    }
    for (int dst = std::max(first, node * gpn); dst < std::min(last, (node + 1) * gpn); ++dst) {
      if (dst != src) {
        flows.push_back({&in_.network->route(src, dst), false, src - first, dst - first});
      }
    }
  }
  return flows;
}

void Engine::start_exchange(std::uint32_t slot) {
  ExchangeRun& run = exchanges_[slot];
  run.started = sim_.now();
  exchange_slots_.erase(run.key);
  const ExchangeBytes& bytes = in_.exchanges[int(run.kind)];
  if (net_) {
    const std::uint64_t tag = (kTagExchange << kTagShift) | slot;
    // Tokens go out to the experts' GPUs (dispatch, and the combine's gradient) or come back
    // from them: the expert side's load scales the bytes.
    const bool outbound =
        run.kind == Exchange::kForwardDispatch || run.kind == Exchange::kBackwardCombine;
    const bool skewed = run.layer >= 0 && std::size_t(run.layer) < in_.expert_load.size() &&
                        !in_.expert_load[run.layer].empty();
    for (const GroupFlow& flow : group_flows(run.group)) {
      double size = flow.ib ? bytes.ib_per_remote_node : bytes.nvlink_per_peer;
      if (size <= 0) continue;
      if (skewed) {
        const int expert_side = outbound ? flow.dst : flow.src;
        size *= flow.ib ? node_load_factor(run.layer, expert_side)
                        : load_factor(run.layer, expert_side);
      }
      net_->start_flow(*flow.route, size, &on_flow_done, this, tag);
      ++result_.flows;
      ++run.flows_left;
    }
  }
  if (run.flows_left == 0) finish_exchange(slot);
}

void Engine::finish_exchange(std::uint32_t slot) {
  ExchangeRun& run = exchanges_[slot];
  result_.exchange_time[int(run.kind)] += sim_.now() - run.started;
  ++result_.exchanges_run[int(run.kind)];
  // Release in arrival order; a released thread may start an exchange that reuses a slot, so
  // copy the waiters out first.
  const std::vector<std::pair<int, int>> waiters = std::move(run.waiters);
  run.waiters.clear();
  free_exchanges_.push_back(slot);
  for (const auto& [r, index] : waiters) {
    if (ranks_[r].traced) {
      const Thread& t = ranks_[r].threads[index];
      record(r, t, TraceSpan::Stream::kCommunication, t.arrived);
    }
    charge_idle(ranks_[r]);
    ranks_[r].threads[index].in_exchange = false;
    ++ranks_[r].threads[index].segment;
    advance(r, index);
  }
}

void Engine::send_pipeline(int r, const Thread& t) {
  int next_position;
  bool gradient;
  if (t.pass == Pass::kForward) {
    next_position = t.position + 1;
    gradient = false;
  } else if (t.pass == Pass::kWeight) {
    return;
  } else {
    next_position = t.position - 1;
    gradient = true;
  }
  if (next_position < 0 || next_position >= map_.length()) return;
  const PipelineMap::Slot slot = map_.slot({t.direction, next_position});
  const int dst = rank_of(slot.rank, slot_of(r));
  const std::uint64_t key = inbox_key(dst, t.direction, t.micro_batch, gradient);
  if (dst == r || !net_ || in_.pp_bytes <= 0) {
    deliver(key);
  } else {
    start_flow(r, dst, in_.pp_bytes, (kTagPipeline << kTagShift) | key);
  }
}

void Engine::deliver(std::uint64_t key) {
  Inbox& inbox = inboxes_[key];
  if (inbox.waiter < 0) {
    inbox.arrived = true;
    return;
  }
  const int index = inbox.waiter;
  inboxes_.erase(key);
  const int r = int(key >> 24);
  charge_idle(ranks_[r]);
  advance(r, index);
}

void Engine::start_flow(int src, int dst, double bytes, std::uint64_t tag) {
  net_->start_flow(in_.network->route(src, dst), bytes, &on_flow_done, this, tag);
  ++result_.flows;
}

void Engine::on_flow_done(sim::Simulator&, void* self, std::uint64_t tag) {
  auto& engine = *static_cast<Engine*>(self);
  const std::uint64_t payload = tag & kPayloadMask;
  if ((tag >> kTagShift) == kTagExchange) {
    ExchangeRun& run = engine.exchanges_[payload];
    if (--run.flows_left == 0) engine.finish_exchange(std::uint32_t(payload));
  } else {
    engine.deliver(payload);
  }
}

void Engine::operations_done(int r) {
  Rank& rank = ranks_[r];
  rank.times.operations_done = sim_.now();
  charge_idle(rank);
  const int p = pipeline_rank(r);
  if (++data_parallel_[p].arrived == width_) start_data_parallel(p, false);
}

// Reduce-scatter of the gradients (gather == false), or all-gather of the updated weights, over
// every replica group of pipeline rank p: all replicas (of one tensor-parallel shard) for the
// dense parameters, the replicas that hold the same experts (ep apart) for the experts'.
void Engine::start_data_parallel(int p, bool gather) {
  DataParallel& dp = data_parallel_[p];
  dp.gathering = gather;
  dp.running = 0;
  const double dense = in_.dense_params.empty() ? 0.0 : in_.dense_params[p];
  const double expert = in_.expert_params.empty() ? 0.0 : in_.expert_params[p];
  const double bytes_per_param = gather ? kWeightBytes : kGradientBytes;
  auto launch = [&](std::vector<int> members, double bytes) {
    if (!net_ || members.size() < 2 || bytes <= 0) return;
    Collective c = gather ? ring_all_gather(int(members.size()), bytes)
                          : ring_reduce_scatter(int(members.size()), bytes);
    auto run = std::make_unique<CollectiveRun>(
        sim_, *net_, std::move(c),
        [this, members](int a, int b) { return in_.network->route(members[a], members[b]); });
    ++dp.running;
    run->when_finished([this, p] { data_parallel_part_done(p); });
    CollectiveRun* raw = run.get();
    collectives_.push_back(std::move(run));
    raw->start();
  };
  // Count every launch before any can finish: a collective with no transfers finishes in start().
  ++dp.running;
  for (int t = 0; t < in_.tp; ++t) {
    std::vector<int> shard;
    for (int d = 0; d < in_.replicas; ++d) shard.push_back(rank_of(p, d * in_.tp + t));
    launch(shard, dense * bytes_per_param);
  }
  for (int e = 0; e < in_.ep; ++e) {
    std::vector<int> holders;
    for (int d = e; d < in_.replicas; d += in_.ep) holders.push_back(rank_of(p, d));
    launch(holders, expert * bytes_per_param);
  }
  data_parallel_part_done(p);
}

void Engine::data_parallel_part_done(int p) {
  DataParallel& dp = data_parallel_[p];
  if (--dp.running > 0) return;
  if (!dp.gathering) {
    // The optimizer updates each rank's shard, then the weights are gathered.
    const Time optimizer = in_.optimizer.empty() ? Time::zero() : in_.optimizer[p];
    sim_.schedule_in(optimizer, [this, p] { start_data_parallel(p, true); });
    return;
  }
  const Time optimizer = in_.optimizer.empty() ? Time::zero() : in_.optimizer[p];
  for (int k = 0; k < width_; ++k) {
    RankTimes& times = ranks_[rank_of(p, k)].times;
    times.finish = sim_.now();
    times.optimizer = optimizer;
    times.dp_comm = times.finish - times.operations_done - optimizer;
  }
}

// --- From a scenario to the engine's input ---

// Appends a compute segment, merging it into a compute segment just before it.
void add_compute(std::vector<Segment>& segs, double seconds) {
  if (seconds <= 0) return;
  const Time t = sim::from_seconds_ceil(seconds);
  if (!segs.empty() && segs.back().kind == Segment::Kind::kCompute) {
    segs.back().duration += t;
  } else {
    segs.push_back({Segment::Kind::kCompute, Exchange::kForwardDispatch, t, Time::zero(), -1});
  }
}

void add_exchange(std::vector<Segment>& segs, Exchange exchange, int layer) {
  segs.push_back({Segment::Kind::kAllToAll, exchange, Time::zero(), Time::zero(), layer});
}

// A compute segment with routed-expert work of `layer` in it, whose time scales with the GPU's
// load; kept apart from neighbouring compute (another layer's routed work must not merge in).
void add_routed(std::vector<Segment>& segs, double seconds, double routed_seconds, int layer) {
  segs.push_back({Segment::Kind::kCompute, Exchange::kForwardDispatch,
                  sim::from_seconds_ceil(std::max(0.0, seconds)),
                  sim::from_seconds_ceil(std::max(0.0, routed_seconds)), layer});
}

// The passes of one model stage: whole-layer costs from the chunk cost model, each MoE layer cut
// at its all-to-alls; the backward runs the layers in reverse.
StagePasses stage_passes(const ChunkCostModel& costs, const models::ModelConfig& model,
                         const Stage& stage, bool ep_exchanges) {
  struct Piece {
    ChunkCost before;  // compute before the dispatch (or the whole piece when no exchange)
    ChunkCost after;   // compute between dispatch and combine, routed experts apart
    ChunkCost routed;  // routed experts at a balanced load
    bool exchange = false;
    int layer = -1;
  };
  std::vector<Piece> pieces;
  if (stage.embedding) pieces.push_back({costs.embedding(), {}, {}, false, -1});
  auto add_layer = [&](int layer) {
    const LayerParts parts = costs.layer_parts(layer);
    if (parts.moe && ep_exchanges) {
      pieces.push_back({parts.attention, parts.ffn, parts.routed, true, layer});
    } else {
      ChunkCost whole = parts.attention;
      whole += parts.ffn;
      whole += parts.routed;
      pieces.push_back({whole, {}, {}, false, -1});
    }
  };
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) add_layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) {
    pieces.push_back({costs.mtp_module_extras(), {}, {}, false, -1});
    add_layer(model.layers);
  }
  if (stage.output_head) pieces.push_back({costs.output_head(), {}, {}, false, -1});

  // A piece's communication left in it (a tensor-parallel all-reduce, over NVLink inside the
  // group) runs in series with its compute.
  auto forward = [](const ChunkCost& c) { return c.forward.compute_s + c.forward.comm_s; };
  auto input = [](const ChunkCost& c) {
    return c.backward_input.compute_s + c.backward_input.comm_s;
  };
  StagePasses out;
  for (const Piece& piece : pieces) {
    add_compute(out.forward, forward(piece.before));
    if (piece.exchange) {
      add_exchange(out.forward, Exchange::kForwardDispatch, piece.layer);
      add_routed(out.forward, forward(piece.after), forward(piece.routed), piece.layer);
      add_exchange(out.forward, Exchange::kForwardCombine, piece.layer);
    }
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    const Piece& piece = *it;
    if (piece.exchange) {
      add_exchange(out.backward, Exchange::kBackwardCombine, piece.layer);
      add_exchange(out.backward_full, Exchange::kBackwardCombine, piece.layer);
      add_routed(out.backward, input(piece.after), input(piece.routed), piece.layer);
      add_routed(out.backward_full, input(piece.after) + piece.after.backward_weight_s,
                 input(piece.routed) + piece.routed.backward_weight_s, piece.layer);
      add_exchange(out.backward, Exchange::kBackwardDispatch, piece.layer);
      add_exchange(out.backward_full, Exchange::kBackwardDispatch, piece.layer);
    }
    add_compute(out.backward, input(piece.before));
    add_compute(out.backward_full, input(piece.before) + piece.before.backward_weight_s);
    add_compute(out.weight, piece.before.backward_weight_s + piece.after.backward_weight_s);
    if (piece.routed.backward_weight_s > 0) {
      add_routed(out.weight, 0.0, piece.routed.backward_weight_s, piece.layer);
    }
  }
  return out;
}

// Bytes AdamW streams per parameter of its shard (as the analytic model).
constexpr double kOptimizerBytesPerParam = 4 + 4 + 4 + 4 + 4 + 2;

}  // namespace

const char* exchange_name(Exchange exchange) {
  switch (exchange) {
    case Exchange::kForwardDispatch:
      return "dispatch";
    case Exchange::kForwardCombine:
      return "combine";
    case Exchange::kBackwardCombine:
      return "combine backward";
    case Exchange::kBackwardDispatch:
      return "dispatch backward";
  }
  return "?";
}

EngineResult run_step_engine(const EngineInput& input) {
  Engine engine(input);
  return engine.run();
}

std::string event_engine_limitation(const TrainingScenario& s) {
  if (s.plan.tp > 1 && s.model.is_moe() && s.plan.ep > 1) {
    return "the event-driven engine does not yet combine expert parallelism (ep = " +
           std::to_string(s.plan.ep) +
           ") with tensor parallelism (tp = " + std::to_string(s.plan.tp) + ")";
  }
  return "";
}

EngineInput engine_input(const TrainingScenario& s, int batch_sequences) {
  const auto& plan = s.plan;
  if (const std::string why = event_engine_limitation(s); !why.empty()) {
    throw std::invalid_argument(why);
  }
  const ChunkCostModel costs(s);
  const std::vector<Stage> stages =
      split_stages(s.model, stage_count(plan.schedule, plan.pp), plan.stage_layers);
  EngineInput in;
  in.schedule = plan.schedule;
  in.pp = plan.pp;
  in.replicas = s.dp();
  in.tp = plan.tp;
  const bool ep_exchanges = s.model.is_moe() && plan.ep > 1;
  in.ep = ep_exchanges ? plan.ep : 1;
  in.micro_batches = std::max(1, s.micro_batches(batch_sequences));
  for (const Stage& stage : stages) {
    in.stages.push_back(stage_passes(costs, s.model, stage, ep_exchanges));
  }
  if (overlaps_forward_and_backward(plan.schedule)) {
    in.compute_slowdown = double(s.gpu.sms) / double(s.gpu.sms - plan.comm_sms);
  }
  if (ep_exchanges) {
    const auto& node = s.cluster.node;
    const EpCopiesPerToken copies =
        expected_copies_per_token({s.model.routed_experts, s.model.experts_per_token, plan.ep,
                                   node.gpus, s.max_nodes_per_token()});
    const int group_nodes = std::max(1, plan.ep / node.gpus);
    const int peers = std::min(plan.ep, node.gpus) - 1;
    const double tokens = s.tokens_per_micro_batch();
    const int h = s.model.hidden;
    const double fp8 = plan.gemm_precision == models::Precision::kFp8
                           ? dispatch_bytes_per_copy_fp8(h)
                           : combine_bytes_per_copy_bf16(h);
    const double bf16 = combine_bytes_per_copy_bf16(h);
    const double per_copy[kExchanges] = {fp8, bf16, bf16, bf16};
    for (int e = 0; e < kExchanges; ++e) {
      ExchangeBytes& b = in.exchanges[e];
      b.ib_per_remote_node =
          group_nodes > 1 ? tokens * copies.remote_nodes / (group_nodes - 1) * per_copy[e] : 0.0;
      b.nvlink_per_peer = peers > 0 ? tokens * copies.nvlink_copies / peers * per_copy[e] : 0.0;
    }
  }
  in.pp_bytes = 2.0 * s.tokens_per_micro_batch() * s.model.hidden;
  if (ep_exchanges) {
    ExpertLoad load = expert_load(s);
    in.expert_load = std::move(load.factor);
    in.expert_load_max_over_mean = load.mean_max_over_mean;
  }
  const models::ComputeCostModel& compute = costs.compute();
  for (int p = 0; p < plan.pp; ++p) {
    const RankMemory mem = rank_memory(s, stages, p);
    in.dense_params.push_back(mem.dense_params);
    in.expert_params.push_back(mem.expert_params);
    const double shard = plan.zero_stage >= 1
                             ? mem.dense_params / s.dp() + mem.expert_params / s.expert_dp()
                             : mem.dense_params + mem.expert_params;
    in.optimizer.push_back(
        sim::from_seconds_ceil(compute.memory_seconds(shard * kOptimizerBytesPerParam)));
  }
  return in;
}

StepResult EventStepModel::step(const TrainingScenario& s, int batch_sequences) const {
  EngineInput in = engine_input(s, batch_sequences);
  ClusterNetwork network(s.cluster, link_efficiency(s.calibration));
  in.network = &network;
  in.trace_ranks = trace_ranks_;
  EngineResult run = run_step_engine(in);
  if (trace_) *trace_ = std::move(run.trace);

  StepResult out;
  out.step_time_s = run.step_time.seconds();
  out.step_time_ps = run.step_time.ps();
  out.micro_batches = in.micro_batches;
  out.slowest_rank = run.slowest_rank / (in.replicas * in.tp);
  out.events = (long long)run.events;
  const RankTimes& slow = run.ranks[run.slowest_rank];
  StepBreakdown& b = out.breakdown;
  b.compute_s = slow.compute.seconds() / in.compute_slowdown;
  b.comm_sm_share_s = slow.compute.seconds() - b.compute_s;
  b.exposed_ep_comm_s = slow.wait_all_to_all.seconds();
  b.pipeline_bubble_s = slow.wait_pipeline.seconds();
  b.dp_comm_s = slow.dp_comm.seconds();
  b.optimizer_s = slow.optimizer.seconds();
  StepPhases& phases = out.phases;
  phases.warm_up_s = slow.warm_up_end.seconds();
  phases.steady_s = (slow.steady_end - slow.warm_up_end).seconds();
  phases.cool_down_s = (slow.operations_done - slow.steady_end).seconds();
  phases.trailing_weight_s = slow.trailing_weights.seconds();
  phases.idle_s = (slow.wait_all_to_all + slow.wait_pipeline).seconds();
  phases.data_parallel_s = (slow.finish - slow.operations_done).seconds();
  out.network.links = run.links;

  const ChunkCostModel costs(s);
  const EpCommCost fwd = costs.ep_forward();
  StepNetwork& n = out.network;
  n.ep_ib_bytes_per_token_per_moe_layer = fwd.ib_bytes_per_token;
  n.ep_nvlink_bytes_per_token_per_moe_layer = fwd.nvlink_bytes_per_token;
  n.ep_ib_achieved_GBps = fwd.ib_GBps;
  n.ep_nvlink_achieved_GBps = fwd.nvlink_GBps;
  auto mean = [&](Exchange e) {
    const auto count = run.exchanges_run[int(e)];
    return count > 0 ? run.exchange_time[int(e)].seconds() / double(count) : 0.0;
  };
  n.ep_forward_comm_s_per_moe_layer =
      mean(Exchange::kForwardDispatch) + mean(Exchange::kForwardCombine);
  n.ep_backward_comm_s_per_moe_layer =
      mean(Exchange::kBackwardCombine) + mean(Exchange::kBackwardDispatch);
  n.pp_send_s_per_micro_batch = costs.pp_send_s();
  n.expert_load_max_over_mean = in.expert_load_max_over_mean;
  return out;
}

std::vector<std::string> EventStepModel::assumptions(const TrainingScenario& s) const {
  std::vector<std::string> a = {
      "every rank (pipeline rank x replica) runs its schedule's operations event by event on a "
      "compute stream; all-to-alls, pipeline sends and ZeRO-1 collectives are flows on the "
      "topology, sharing links by max-min fairness",
      "an MoE layer's all-to-all starts when every rank of its EP group has reached it and ends "
      "when its last flow arrives; traffic is the expected traffic of a balanced router",
      "link rates: NVLink at the calibration's achieved fraction, fabric links at its achieved "
      "IB fraction of line rate",
      "ZeRO-1 reduce-scatter, optimizer and all-gather run after every replica of a pipeline "
      "rank has finished its operations (rings over the replicas)",
  };
  const auto& routing = s.plan.routing;
  const std::string sampled = "each GPU's load per MoE layer estimated from " +
                              std::to_string(routing.sample_tokens) +
                              " routed tokens (node-limited top-k) and used for every micro-batch";
  switch (routing.kind) {
    case RoutingSpec::Kind::kZipf:
      a.push_back(fmt::format("routing: Zipf popularity, exponent {:g}; ", routing.exponent) +
                  sampled);
      break;
    case RoutingSpec::Kind::kDrifting:
      a.push_back(fmt::format("routing: Zipf popularity, exponent {:g}, drifting {:g} experts "
                              "per step, at step {}; ",
                              routing.exponent, routing.drift, routing.step) +
                  sampled);
      break;
    case RoutingSpec::Kind::kMeasured:
      a.push_back("routing: popularity from measured counts of " +
                  std::to_string(routing.measured.size()) + " layers; " + sampled);
      break;
    case RoutingSpec::Kind::kBalanced:
      a.push_back("routing: balanced (every GPU of an EP group receives the same tokens)");
      break;
  }
  if (routing.redundant_experts > 0) {
    a.push_back(std::to_string(routing.redundant_experts) +
                " redundant experts per EP group placed by EPLB on those loads; their weights' "
                "memory is not counted");
  }
  if (overlaps_forward_and_backward(s.plan.schedule)) {
    a.push_back("compute runs on " + std::to_string(s.gpu.sms - s.plan.comm_sms) + " of " +
                std::to_string(s.gpu.sms) + " SMs; the rest carry communication");
  }
  return a;
}

}  // namespace codesim::workloads
