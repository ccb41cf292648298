#include "workloads/step/engine.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "workloads/network/cluster_network.hpp"
#include "workloads/network/collectives.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/pipeline/schedules.hpp"

namespace codesim::workloads {
namespace {

using sim::Time;

enum class Pass : std::uint8_t { kForward, kBackward, kBackwardFull, kWeight };

// Keys packed into 64-bit words, field widths named once. The engine checks when it is built that
// every value it will pack fits (check_key_ranges), so packing in the event loop needs no checks.
//
// A flow's tag: what it belongs to in the top two bits, which one (an exchange slot, or a
// pipeline inbox key) below.
struct FlowTag {
  enum Kind : std::uint64_t { kExchange = 0, kPipeline = 1, kRing = 2 };
  static constexpr int kPayloadBits = 62;
  static constexpr std::uint64_t kPayloadMask = (std::uint64_t{1} << kPayloadBits) - 1;
  static std::uint64_t pack(Kind kind, std::uint64_t payload) {
    return (std::uint64_t(kind) << kPayloadBits) | payload;
  }
  static Kind kind(std::uint64_t tag) { return Kind(tag >> kPayloadBits); }
  static std::uint64_t payload(std::uint64_t tag) { return tag & kPayloadMask; }
};

// A pipeline input a rank waits for: the activations (or, for a backward, the gradient) of one
// micro-batch of one direction at one position (a rank may hold several positions of a
// direction: DualPipeV's two, interleaved 1F1B's v). Rank, micro-batch, position, direction,
// gradient from the top.
struct InboxKey {
  static constexpr int kMicroBatchBits = 22;
  static constexpr int kPositionBits = 10;
  static constexpr int kLowBits = kMicroBatchBits + kPositionBits + 2;
  static constexpr int kRankBits = FlowTag::kPayloadBits - kLowBits;
  static std::uint64_t pack(int rank, int direction, int position, int micro_batch, bool gradient) {
    return (std::uint64_t(std::uint32_t(rank)) << kLowBits) |
           (std::uint64_t(micro_batch) << (kPositionBits + 2)) | (std::uint64_t(position) << 2) |
           (std::uint64_t(direction) << 1) | std::uint64_t(gradient);
  }
  static int rank(std::uint64_t key) { return int(key >> kLowBits); }
};

// One all-to-all of an EP group: group, micro-batch, position, direction, forward or not,
// segment.
struct ExchangeKey {
  static constexpr int kSegmentBits = 16;
  static constexpr int kMicroBatchBits = 20;
  static constexpr int kPositionBits = InboxKey::kPositionBits;
  static constexpr int kGroupBits = 64 - kSegmentBits - kMicroBatchBits - kPositionBits - 2;
  static std::uint64_t pack(int group, int micro_batch, int position, int direction, bool forward,
                            std::uint32_t segment) {
    return (std::uint64_t(group) << (kSegmentBits + 2 + kPositionBits + kMicroBatchBits)) |
           (std::uint64_t(micro_batch) << (kSegmentBits + 2 + kPositionBits)) |
           (std::uint64_t(position) << (kSegmentBits + 2)) |
           (std::uint64_t(direction) << (kSegmentBits + 1)) |
           (std::uint64_t(forward) << kSegmentBits) | segment;
  }
};

// Ring attention's K/V blocks for one segment of one thread, keyed by the GPU that receives them:
// rank, micro-batch, position, direction, pass, segment.
struct RingKey {
  static constexpr int kSegmentBits = 11;
  static constexpr int kMicroBatchBits = 20;
  static constexpr int kPositionBits = InboxKey::kPositionBits;
  static constexpr int kLowBits = kSegmentBits + kMicroBatchBits + kPositionBits + 1 + 2;
  static constexpr int kRankBits = FlowTag::kPayloadBits - kLowBits;
  static std::uint64_t pack(int rank, int micro_batch, int position, int direction, int pass,
                            std::uint32_t segment) {
    return (std::uint64_t(std::uint32_t(rank)) << kLowBits) |
           (std::uint64_t(micro_batch) << (kSegmentBits + kPositionBits + 3)) |
           (std::uint64_t(position) << (kSegmentBits + 3)) |
           (std::uint64_t(direction) << (kSegmentBits + 2)) |
           (std::uint64_t(pass) << kSegmentBits) | segment;
  }
  static int rank(std::uint64_t key) { return int(key >> kLowBits); }
};

// Throws std::invalid_argument unless 0 <= value < 2^bits.
void check_fits(std::int64_t value, int bits, const char* what) {
  if (value < 0 || value >= (std::int64_t{1} << bits)) {
    throw std::invalid_argument("engine: " + std::to_string(value) + " " + what +
                                " do not fit the engine's " + std::to_string(bits) + "-bit keys");
  }
}

class Engine {
 public:
  Engine(const EngineInput& input, ClusterNetwork* network);
  EngineResult run();

 private:
  struct Thread {
    bool live = false;
    Pass pass = Pass::kForward;
    std::uint8_t direction = 0;
    int position = 0;
    int micro_batch = 0;
    std::uint8_t chunk = 0;  // of its pipeline rank
    std::uint32_t segment = 0;
    // What it waits on besides the compute stream and its pipeline inputs: its all-to-all,
    // ring attention's K/V blocks, or the tensor-parallel collectives' bytes.
    enum class Wait : std::uint8_t { kNone, kAllToAll, kRing, kTensorParallel };
    Wait waiting = Wait::kNone;
    Time arrived;  // at that all-to-all
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
    bool compute_in_pair = false;  // the running compute segment is priced for a pair
    double compute_factor = 1;     // its routed work's load factor
    PipelineOp::Kind op_kind = PipelineOp::Kind::kForward;
    bool op_begun = false;  // the current operation's first segment has started
    Time op_started;        // the current operation was reached in the order
    Time op_begun_at;
    std::uint32_t pairs_started = 0;  // F&B operations started so far
    // By chunk: operations computing its weight gradients not yet done.
    std::vector<std::uint32_t> gradient_ops_left;
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
  // A thread asks for an input: true (and the input taken) when it has arrived, else the thread
  // is left waiting for it.
  static bool take(std::unordered_map<std::uint64_t, Inbox>& inboxes, std::uint64_t key,
                   int index) {
    auto it = inboxes.find(key);
    if (it == inboxes.end() || !it->second.arrived) {
      inboxes[key].waiter = index;
      return false;
    }
    inboxes.erase(it);
    return true;
  }
  // An input arrives: marked arrived, or the thread waiting for it handed back (-1: none).
  static int arrive(std::unordered_map<std::uint64_t, Inbox>& inboxes, std::uint64_t key) {
    Inbox& inbox = inboxes[key];
    if (inbox.waiter < 0) {
      inbox.arrived = true;
      return -1;
    }
    const int index = inbox.waiter;
    inboxes.erase(key);
    return index;
  }
  // ZeRO-1 of one pipeline rank's replicas.
  struct DataParallel {
    std::vector<int> gradients_ready;  // by chunk: replicas whose gradients are done
    int chunks_reduced = 0;
    Time reduced_at;  // its last chunk's reduce-scatter ended
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

  // Ring attention: the next GPU of a rank's context-parallel ring, the key of a thread's blocks
  // at a GPU, sending them on, and a ring segment's two ends (its compute, the blocks' arrival).
  int ring_next(int rank) const;
  int tp_next(int rank) const { return rank - rank % in_.tp + (rank + 1) % in_.tp; }
  std::uint64_t ring_key(int rank, const Thread& t) const;
  void start_ring(int rank, int index);
  // Sends `bytes` of thread `index`'s blocks to GPU `to` (or hands them over where nothing is
  // simulated).
  void send_ring(int rank, int index, int to, double bytes);
  void ring_compute_done(int rank, int index);
  void deliver_ring(std::uint64_t key);
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
  void on_exchange_setup_done(sim::Simulator& sim, std::uint64_t slot);
  void send_exchange(std::uint32_t slot);
  void finish_exchange(std::uint32_t slot);

  void check_key_ranges() const;
  void begin_op_work(int rank);
  // The chunk-pair record: the pair of input.chunk_pair_rank to record, and whether it runs.
  std::uint32_t recorded_pair_ = 0;
  bool recording_ = false;
  std::vector<std::pair<Time, Time>> recorded_comm_;
  void send_pipeline(int rank, const Thread& t);
  void deliver(std::uint64_t key);

  void operations_done(int rank);
  void gradients_done(int rank, int chunk);
  // Starts the rings of a reduce-scatter (gather == false) or all-gather of `dense` and `expert`
  // parameters over pipeline rank p's replica groups; `done` runs when all have finished.
  void start_zero_collective(int p, double dense, double expert, bool gather,
                             std::function<void()> done);
  void chunk_reduced(int p);
  void data_parallel_done(int p);

  static void on_flow_done(sim::Simulator& sim, void* self, std::uint64_t tag);
  void start_flow(int src, int dst, double bytes, std::uint64_t tag);

  const EngineInput& in_;
  ClusterNetwork* const network_;  // null: free communication
  int width_;                      // ranks per pipeline rank: replicas x tp
  PipelineMap map_;
  sim::Simulator sim_;
  std::unique_ptr<sim::FlowNetwork> net_;
  std::vector<std::vector<PipelineOp>> ops_;  // by pipeline rank (reserved: never reallocates)
  std::vector<Rank> ranks_;
  std::vector<ExchangeRun> exchanges_;
  std::vector<std::uint32_t> free_exchanges_;
  std::unordered_map<std::uint64_t, std::uint32_t> exchange_slots_;
  std::unordered_map<std::uint64_t, Inbox> inboxes_;
  std::unordered_map<std::uint64_t, Inbox> ring_inboxes_;
  std::vector<std::vector<GroupFlow>> group_flows_;
  std::vector<DataParallel> data_parallel_;
  int ranks_reduced_ = 0;  // pipeline ranks whose every chunk is reduce-scattered
  std::vector<std::unique_ptr<CollectiveRun>> collectives_;
  EngineResult result_;
};

Engine::Engine(const EngineInput& input, ClusterNetwork* network)
    : in_(input),
      network_(network),
      width_(input.replicas * input.tp),
      map_(input.schedule, input.pp, input.virtual_stages) {
  if (in_.replicas < 1 || in_.tp < 1 || in_.ep < 1 || width_ % in_.ep != 0) {
    throw std::invalid_argument("engine: ep must divide a pipeline rank's replicas x tp GPUs");
  }
  if (in_.cp < 1 || in_.replicas % in_.cp != 0) {
    throw std::invalid_argument("engine: cp must divide the replicas");
  }
  if (int(in_.stages.size()) != map_.length()) {
    throw std::invalid_argument("engine: " + std::to_string(in_.stages.size()) +
                                " stages given, the schedule runs " +
                                std::to_string(map_.length()));
  }
  if (network_) {
    net_ = std::make_unique<sim::FlowNetwork>(sim_);
    network_->attach(*net_);
    if (network_->gpus() < in_.pp * width_) {
      throw std::invalid_argument("engine: the network has fewer GPUs than the plan's ranks");
    }
  }
  ranks_.resize(std::size_t(in_.pp) * width_);
  ops_.reserve(in_.pp);
  for (int p = 0; p < in_.pp; ++p) {
    ops_.push_back(
        schedule_rank_ops(in_.schedule, in_.pp, p, in_.micro_batches, in_.virtual_stages));
    std::uint32_t forwards = 0;
    for (const PipelineOp& op : ops_.back()) {
      forwards +=
          op.kind == PipelineOp::Kind::kForward || op.kind == PipelineOp::Kind::kForwardBackward;
    }
    std::vector<std::uint32_t> gradient_ops(map_.chunks(), 0);
    for (const PipelineOp& op : ops_.back()) {
      if (const int c = weight_gradient_chunk(op); c >= 0) ++gradient_ops.at(c);
    }
    for (int k = 0; k < width_; ++k) {
      ranks_[rank_of(p, k)].ops = &ops_.back();
      ranks_[rank_of(p, k)].forwards_left = forwards;
      ranks_[rank_of(p, k)].gradient_ops_left = gradient_ops;
    }
  }
  check_key_ranges();
  if (in_.chunk_pair_rank >= 0 && in_.chunk_pair_rank < int(ranks_.size())) {
    std::uint32_t pairs = 0;
    for (const PipelineOp& op : *ranks_[in_.chunk_pair_rank].ops) {
      pairs += op.kind == PipelineOp::Kind::kForwardBackward;
    }
    recorded_pair_ = pairs / 2;  // the middle one: steady state
  }
  data_parallel_.resize(in_.pp);
  for (DataParallel& dp : data_parallel_) dp.gradients_ready.assign(map_.chunks(), 0);
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
  const Segment& segment = segments(t)[t.segment];
  if (stream == TraceSpan::Stream::kCommunication) span.exchange = segment.exchange;
  span.start = start;
  span.end = sim_.now();
  // A compute segment's slices: its kernels, each its share of the segment's time.
  const std::uint32_t list =
      stream == TraceSpan::Stream::kCompute ? segment.kernels : Segment::kNoKernels;
  if (list == Segment::kNoKernels || list >= in_.kernel_lists.size()) {
    result_.trace.push_back(span);
    return;
  }
  const Rank& rank = ranks_[r];
  const std::vector<SegmentKernel>& kernels = in_.kernel_lists[list];
  auto weight = [&](const SegmentKernel& k) {
    return (rank.compute_in_pair ? k.pair_seconds : k.seconds) *
           (k.routed ? rank.compute_factor : 1.0);
  };
  double total = 0;
  for (const SegmentKernel& k : kernels) total += weight(k);
  const double length = double((span.end - start).ps());
  double done = 0;
  for (const SegmentKernel& k : kernels) {
    TraceSpan slice = span;
    slice.kernel = k.name;
    slice.start = start + sim::picoseconds(std::int64_t(done / total * length));
    done += weight(k);
    slice.end = start + sim::picoseconds(std::int64_t(done / total * length));
    if (slice.end > slice.start) result_.trace.push_back(slice);
  }
}

const std::vector<Segment>& Engine::segments(const Thread& t) const {
  const StagePasses& stage = in_.stages[t.position];
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
  if (in_.progress) {
    // The same events in the same order, run a slice of simulated time at a time.
    while (sim_.pending() > 0) {
      sim_.run_until(sim_.now() + kProgressSlice);
      in_.progress(sim_.now(), sim_.events_processed());
    }
  } else {
    sim_.run();
  }
  Time step;
  for (int r = 0; r < int(ranks_.size()); ++r) {
    const Rank& rank = ranks_[r];
    if (rank.next_op < rank.ops->size() || rank.threads[0].live || rank.threads[1].live) {
      // Nothing left to happen and a rank not done: the schedule's order cannot be met.
      throw std::logic_error("engine: rank " + std::to_string(r) + " deadlocked at operation " +
                             std::to_string(rank.next_op) + " of " +
                             std::to_string(rank.ops->size()));
    }
    if (rank.times.finish < rank.times.operations_done) {
      throw std::logic_error("engine: rank " + std::to_string(r) +
                             "'s ZeRO-1 finished before its last operation");
    }
    result_.ranks[r] = rank.times;
    if (rank.times.finish > step) {
      step = rank.times.finish;
      result_.slowest_rank = r;
    }
  }
  result_.step_time = step;
  result_.events = sim_.events_processed();
  if (net_ && step > Time::zero()) result_.links = network_->link_use(*net_, step);
  if (net_) {
    const auto& solver = net_->solver_stats();
    result_.flow_work = {net_->flows_started(),      net_->solves(),
                         solver.components_solved,   solver.variables_solved,
                         solver.components_searched, net_->activation_events()};
  }
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
    t.chunk = std::uint8_t(chunk);
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
  rank.op_kind = op.kind;
  rank.op_begun = false;
  rank.op_started = sim_.now();
  if (pair) {
    if (r == in_.chunk_pair_rank && rank.pairs_started == recorded_pair_) {
      recording_ = true;
      result_.chunk_pair.recorded = true;
      result_.chunk_pair.start = sim_.now();
    }
    ++rank.pairs_started;
  }
  if (!rank.warm && op.kind != PipelineOp::Kind::kForward) {
    rank.warm = true;
    rank.times.warm_up_end = sim_.now();
  }
  begin_thread(r, 0);
  if (pair) begin_thread(r, 1);
}

void Engine::check_key_ranges() const {
  check_fits(std::int64_t(ranks_.size()) - 1, InboxKey::kRankBits, "ranks");
  check_fits(in_.micro_batches - 1,
             std::min(InboxKey::kMicroBatchBits, ExchangeKey::kMicroBatchBits), "micro-batches");
  check_fits(std::int64_t(ranks_.size()) / in_.ep, ExchangeKey::kGroupBits, "EP groups");
  check_fits(map_.length() - 1, InboxKey::kPositionBits, "model stages");
  for (const StagePasses& stage : in_.stages) {
    for (const auto* list :
         {&stage.forward, &stage.backward, &stage.backward_full, &stage.weight}) {
      check_fits(std::int64_t(list->size()), ExchangeKey::kSegmentBits, "segments of a pass");
      if (in_.cp > 1 || in_.tp > 1) {
        check_fits(std::int64_t(list->size()), RingKey::kSegmentBits,
                   "segments of a pass with context or tensor parallelism");
      }
    }
  }
  if (in_.cp > 1 || in_.tp > 1) {
    check_fits(std::int64_t(ranks_.size()) - 1, RingKey::kRankBits,
               "ranks with context or tensor parallelism");
    check_fits(in_.micro_batches - 1, RingKey::kMicroBatchBits, "micro-batches");
  }
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
    const std::uint64_t key = InboxKey::pack(r, t.direction, t.position, t.micro_batch, gradient);
    if (!take(inboxes_, key, index)) return;
  }
  advance(r, index);
}

void Engine::begin_op_work(int r) {
  Rank& rank = ranks_[r];
  if (rank.op_begun) return;
  rank.op_begun = true;
  rank.op_begun_at = sim_.now();
  rank.times.bubble += sim_.now() - rank.op_started;
  if (recording_ && r == in_.chunk_pair_rank) result_.chunk_pair.begun = sim_.now();
}

void Engine::advance(int r, int index) {
  Thread& t = ranks_[r].threads[index];
  const std::vector<Segment>& segs = segments(t);
  begin_op_work(r);
  if (t.segment >= segs.size()) {
    finish_thread(r, index);
    return;
  }
  switch (segs[t.segment].kind) {
    case Segment::Kind::kCompute:
      queue_compute(r, index);
      break;
    case Segment::Kind::kAllToAll:
      arrive_exchange(r, index);
      break;
    case Segment::Kind::kRing:
      start_ring(r, index);
      break;
  }
}

void Engine::finish_thread(int r, int index) {
  Rank& rank = ranks_[r];
  Thread& thread = rank.threads[index];
  thread.live = false;
  if ((thread.pass == Pass::kWeight || thread.pass == Pass::kBackwardFull) &&
      --rank.gradient_ops_left[thread.chunk] == 0) {
    gradients_done(r, thread.chunk);
  }
  // An overlapped pair sends both its outputs when the pair is done (dualpipe.py sends after
  // the whole F&B chunk).
  if (rank.threads[0].live || rank.threads[1].live) return;
  const Time worked = sim_.now() - rank.op_begun_at;
  switch (rank.op_kind) {
    case PipelineOp::Kind::kForward:
      rank.times.in_forwards += worked;
      break;
    case PipelineOp::Kind::kBackward:
      rank.times.in_backwards += worked;
      break;
    case PipelineOp::Kind::kWeight:
      rank.times.in_weights += worked;
      break;
    case PipelineOp::Kind::kForwardBackward:
      rank.times.in_pairs += worked;
      break;
  }
  if (recording_ && r == in_.chunk_pair_rank) {
    recording_ = false;
    ChunkPairRecord& pair = result_.chunk_pair;
    pair.end = sim_.now();
    // The union of its all-to-alls' flights.
    std::sort(recorded_comm_.begin(), recorded_comm_.end());
    Time covered_to = pair.start;
    for (const auto& [from, to] : recorded_comm_) {
      const Time a = std::max(from, covered_to);
      if (to > a) pair.comm_busy += to - a;
      covered_to = std::max(covered_to, to);
    }
  }
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
    using Wait = Thread::Wait;
    auto any = [&](Wait w) {
      return (rank.threads[0].live && rank.threads[0].waiting == w) ||
             (rank.threads[1].live && rank.threads[1].waiting == w);
    };
    (any(Wait::kAllToAll)         ? rank.times.wait_all_to_all
     : any(Wait::kRing)           ? rank.times.wait_ring
     : any(Wait::kTensorParallel) ? rank.times.wait_tp
                                  : rank.times.wait_pipeline) += idle;
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
  // In an overlapped pair the communication kernels hold some SMs and HBM bandwidth: the
  // segment's pair time; elsewhere compute has the whole GPU.
  Time duration = segment.duration;
  Time pair = segment.pair_duration;
  if (segment.routed > Time::zero()) {
    const double factor = load_factor(segment.layer, slot_of(r) % in_.ep);
    duration += factor == 1.0 ? segment.routed : sim::scaled_ceil(segment.routed, factor);
    pair += factor == 1.0 ? segment.pair_routed : sim::scaled_ceil(segment.pair_routed, factor);
  }
  rank.times.compute += duration;
  rank.compute_in_pair = rank.pair;
  rank.compute_factor =
      segment.routed > Time::zero() ? load_factor(segment.layer, slot_of(r) % in_.ep) : 1.0;
  if (rank.pair) {
    rank.times.comm_sm_share += pair - duration;
    duration = pair;
  }
  if (recording_ && r == in_.chunk_pair_rank) {
    result_.chunk_pair.compute_busy += duration;
    result_.chunk_pair.runs.push_back({segment.kernels, duration, rank.compute_factor});
  }
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
  const Segment& done = segments(rank.threads[index])[rank.threads[index].segment];
  if (done.kind == Segment::Kind::kRing) {
    ring_compute_done(r, index);
  } else if (done.bytes > 0 && in_.tp > 1) {
    // The tensor-parallel collectives after the compute: round the group's ring.
    send_ring(r, index, tp_next(r), done.bytes);
    ring_compute_done(r, index);
  } else {
    ++rank.threads[index].segment;
    advance(r, index);
  }
  try_compute(r);
}

int Engine::ring_next(int r) const {
  const int k = slot_of(r);
  const int t = k % in_.tp;
  const int d = k / in_.tp;
  const int c = d % in_.cp;
  return rank_of(pipeline_rank(r), (d - c + (c + 1) % in_.cp) * in_.tp + t);
}

std::uint64_t Engine::ring_key(int r, const Thread& t) const {
  return RingKey::pack(r, t.micro_batch, t.position, t.direction, int(t.pass), t.segment);
}

void Engine::send_ring(int r, int index, int to, double bytes) {
  const std::uint64_t key = ring_key(to, ranks_[r].threads[index]);
  if (to == r || !net_ || bytes <= 0) {
    deliver_ring(key);
  } else {
    start_flow(r, to, bytes, FlowTag::pack(FlowTag::kRing, key));
  }
}

void Engine::start_ring(int r, int index) {
  const Thread& t = ranks_[r].threads[index];
  send_ring(r, index, ring_next(r), segments(t)[t.segment].bytes);
  queue_compute(r, index);
}

void Engine::ring_compute_done(int r, int index) {
  Rank& rank = ranks_[r];
  Thread& t = rank.threads[index];
  // Charged first: until now the stream computed.
  charge_idle(rank);
  if (take(ring_inboxes_, ring_key(r, t), index)) {
    ++t.segment;
    advance(r, index);
    return;
  }
  t.waiting = segments(t)[t.segment].kind == Segment::Kind::kRing ? Thread::Wait::kRing
                                                                  : Thread::Wait::kTensorParallel;
}

void Engine::deliver_ring(std::uint64_t key) {
  const int index = arrive(ring_inboxes_, key);
  if (index < 0) return;
  const int r = RingKey::rank(key);
  Rank& rank = ranks_[r];
  charge_idle(rank);
  rank.threads[index].waiting = Thread::Wait::kNone;
  ++rank.threads[index].segment;
  advance(r, index);
}

void Engine::arrive_exchange(int r, int index) {
  const Thread& t = ranks_[r].threads[index];
  const int group = group_of(r);
  const std::uint64_t key = ExchangeKey::pack(group, t.micro_batch, t.position, t.direction,
                                              t.pass == Pass::kForward, t.segment);
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
  ranks_[r].threads[index].waiting = Thread::Wait::kAllToAll;
  run.waiters.emplace_back(r, index);
  if (++run.arrived == in_.ep) start_exchange(slot);
}

double Engine::node_load_factor(int layer, int local) const {
  if (layer < 0 || std::size_t(layer) >= in_.expert_load.size() || in_.expert_load[layer].empty()) {
    return 1.0;
  }
  const int gpn = std::min(network_ ? network_->gpus_per_node() : in_.ep, in_.ep);
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
  const int gpn = network_->gpus_per_node();
  const int first = group * in_.ep;
  const int last = first + in_.ep;  // one past
  for (int src = first; src < last; ++src) {
    const int node = src / gpn;
    const int local = src % gpn;
    for (int n = first / gpn; n * gpn < last; ++n) {
      if (n == node) continue;
      const int dst = std::clamp(n * gpn + local, first, last - 1);
      flows.push_back({&network_->route(src, dst), true, src - first, dst - first});
    }
    for (int dst = std::max(first, node * gpn); dst < std::min(last, (node + 1) * gpn); ++dst) {
      if (dst != src) {
        flows.push_back({&network_->route(src, dst), false, src - first, dst - first});
      }
    }
  }
  return flows;
}

void Engine::start_exchange(std::uint32_t slot) {
  ExchangeRun& run = exchanges_[slot];
  run.started = sim_.now();
  exchange_slots_.erase(run.key);
  // The communication stream's kernels before the data moves (DeepEP's cast, layout, notify).
  const Time setup = in_.exchanges[int(run.kind)].setup;
  if (setup > Time::zero()) {
    sim_.schedule_in<&Engine::on_exchange_setup_done>(setup, *this, slot);
  } else {
    send_exchange(slot);
  }
}

void Engine::on_exchange_setup_done(sim::Simulator&, std::uint64_t slot) {
  send_exchange(std::uint32_t(slot));
}

void Engine::send_exchange(std::uint32_t slot) {
  ExchangeRun& run = exchanges_[slot];
  const ExchangeBytes& bytes = in_.exchanges[int(run.kind)];
  if (net_) {
    const std::uint64_t tag = FlowTag::pack(FlowTag::kExchange, slot);
    // Tokens go out to the experts' GPUs (dispatch, and the combine's gradient) or come back
    // from them: the expert side's load scales the bytes.
    const bool outbound = towards_experts(run.kind);
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
    if (recording_ && r == in_.chunk_pair_rank) recorded_comm_.push_back({run.started, sim_.now()});
    if (ranks_[r].traced) {
      const Thread& t = ranks_[r].threads[index];
      record(r, t, TraceSpan::Stream::kCommunication, t.arrived);
    }
    charge_idle(ranks_[r]);
    ranks_[r].threads[index].waiting = Thread::Wait::kNone;
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
  const std::uint64_t key =
      InboxKey::pack(dst, t.direction, next_position, t.micro_batch, gradient);
  if (dst == r || !net_ || in_.pp_bytes <= 0) {
    deliver(key);
  } else {
    start_flow(r, dst, in_.pp_bytes, FlowTag::pack(FlowTag::kPipeline, key));
  }
}

void Engine::deliver(std::uint64_t key) {
  const int index = arrive(inboxes_, key);
  if (index < 0) return;
  const int r = InboxKey::rank(key);
  charge_idle(ranks_[r]);
  advance(r, index);
}

void Engine::start_flow(int src, int dst, double bytes, std::uint64_t tag) {
  net_->start_flow(network_->route(src, dst), bytes, &on_flow_done, this, tag);
  ++result_.flows;
}

void Engine::on_flow_done(sim::Simulator&, void* self, std::uint64_t tag) {
  auto& engine = *static_cast<Engine*>(self);
  const std::uint64_t payload = FlowTag::payload(tag);
  switch (FlowTag::kind(tag)) {
    case FlowTag::kExchange: {
      ExchangeRun& run = engine.exchanges_[payload];
      if (--run.flows_left == 0) engine.finish_exchange(std::uint32_t(payload));
      break;
    }
    case FlowTag::kPipeline:
      engine.deliver(payload);
      break;
    case FlowTag::kRing:
      engine.deliver_ring(payload);
      break;
  }
}

void Engine::operations_done(int r) {
  Rank& rank = ranks_[r];
  rank.times.operations_done = sim_.now();
  charge_idle(rank);
}

// A chunk's reduce-scatter starts when every replica of the pipeline rank has its gradients.
void Engine::gradients_done(int r, int chunk) {
  const int p = pipeline_rank(r);
  if (++data_parallel_[p].gradients_ready[chunk] < width_) return;
  const int stage = map_.place({p, chunk}).position;
  const double dense = in_.dense_params.empty() ? 0.0 : in_.dense_params[stage];
  const double expert = in_.expert_params.empty() ? 0.0 : in_.expert_params[stage];
  start_zero_collective(p, dense, expert, false, [this, p] { chunk_reduced(p); });
}

// The optimizer clips by the global gradient norm: it waits for every rank's reduce-scatters.
// Then each rank updates its shard and all-gathers the weights of all its chunks.
void Engine::chunk_reduced(int p) {
  if (++data_parallel_[p].chunks_reduced < map_.chunks()) return;
  data_parallel_[p].reduced_at = sim_.now();
  if (++ranks_reduced_ < in_.pp) return;
  for (int q = 0; q < in_.pp; ++q) {
    for (int k = 0; k < width_; ++k) {
      RankTimes& times = ranks_[rank_of(q, k)].times;
      times.zero_wait = sim_.now() - std::max(data_parallel_[q].reduced_at, times.operations_done);
    }
    const Time optimizer = in_.optimizer.empty() ? Time::zero() : in_.optimizer[q];
    sim_.schedule_in(optimizer, [this, q] {
      // Plain data parallelism updated every weight everywhere: nothing to gather.
      if (!in_.shard_optimizer) {
        data_parallel_done(q);
        return;
      }
      double dense = 0, expert = 0;
      for (int stage : map_.stages_of(q)) {
        dense += in_.dense_params.empty() ? 0.0 : in_.dense_params[stage];
        expert += in_.expert_params.empty() ? 0.0 : in_.expert_params[stage];
      }
      start_zero_collective(q, dense, expert, true, [this, q] { data_parallel_done(q); });
    });
  }
}

void Engine::data_parallel_done(int p) {
  const Time optimizer = in_.optimizer.empty() ? Time::zero() : in_.optimizer[p];
  for (int k = 0; k < width_; ++k) {
    RankTimes& times = ranks_[rank_of(p, k)].times;
    times.finish = sim_.now();
    times.optimizer = optimizer;
    times.dp_comm = times.finish - times.operations_done - optimizer - times.zero_wait;
  }
}

// The rings run over every replica group of pipeline rank p: all replicas (of one
// tensor-parallel shard) for the dense parameters, the GPUs that hold the same experts (ep
// apart: experts are not split by tensor parallelism) for the experts'.
void Engine::start_zero_collective(int p, double dense, double expert, bool gather,
                                   std::function<void()> done) {
  const double bytes_per_param = gather ? kWeightBytes : kGradientBytes;
  // Count every launch before any can finish: a collective with no transfers finishes in start().
  auto left = std::make_shared<int>(1);
  auto part_done = [left, done] {
    if (--*left == 0) done();
  };
  auto launch = [&](std::vector<int> members, double bytes) {
    if (!net_ || members.size() < 2 || bytes <= 0) return;
    const int n = int(members.size());
    Collective c = gather                ? ring_all_gather(n, bytes)
                   : in_.shard_optimizer ? ring_reduce_scatter(n, bytes)
                                         : ring_all_reduce(n, bytes);
    auto run = std::make_unique<CollectiveRun>(
        sim_, *net_, std::move(c),
        [this, members](int a, int b) { return network_->route(members[a], members[b]); });
    ++*left;
    run->when_finished(part_done);
    CollectiveRun* raw = run.get();
    collectives_.push_back(std::move(run));
    raw->start();
  };
  for (int t = 0; t < in_.tp; ++t) {
    std::vector<int> shard;
    for (int d = 0; d < in_.replicas; ++d) shard.push_back(rank_of(p, d * in_.tp + t));
    launch(shard, dense * bytes_per_param);
  }
  for (int e = 0; e < in_.ep; ++e) {
    std::vector<int> holders;
    for (int k = e; k < width_; k += in_.ep) holders.push_back(rank_of(p, k));
    launch(holders, expert * bytes_per_param);
  }
  part_done();
}

}  // namespace

EngineResult run_step_engine(const EngineInput& input, ClusterNetwork* network) {
  Engine engine(input, network);
  return engine.run();
}

}  // namespace codesim::workloads
