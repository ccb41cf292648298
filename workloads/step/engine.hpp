#pragma once
// The event-driven training step. Every rank of the plan (pipeline rank x data-parallel replica)
// runs its schedule's operations in order, on two streams: compute, and communication on the SMs
// reserved for it. Expert all-to-alls, pipeline sends and the ZeRO-1 collectives at the end of
// the step are flows on the scenario's topology, sharing links by max-min fairness; overlap,
// bubbles and contention come out of the run rather than a formula.
//
// An operation (F, B, W, or DualPipe's overlapped F&B) runs as one or two threads of segments:
// the stage's layers cut at each all-to-all. F of an MoE layer is compute (attention, gate),
// dispatch, compute (experts), combine; B is the reverse (the combine's gradient goes out first).
// A thread's compute segments queue for the rank's compute stream in the order they become ready;
// its all-to-all segments start when every rank of the EP group has reached the same one, and
// finish when the last of its flows has arrived. An F&B's two threads share the streams, so one
// micro-batch's compute runs while the other's all-to-all is in flight.
//
// The engine itself takes plain per-stage segment lists (EngineInput), so that tests can give it
// fixed costs; engine_input.hpp builds them from a scenario and event_step_model.hpp runs them
// behind the StepTimeModel interface.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/time.hpp"
#include "workloads/moe/token_copies.hpp"
#include "workloads/network/link_use.hpp"
#include "workloads/plan/plan.hpp"
#include "workloads/step/step_model.hpp"

namespace codesim::workloads {

class ClusterNetwork;

// kRing: ring attention's overlapped steps (context parallelism): the rank sends `bytes` (its
// K/V blocks of the cp - 1 steps, as one transfer) to the next GPU of its context-parallel ring
// and computes `duration` (the attention of those steps) meanwhile; the segment ends when both
// its compute and the blocks from the previous GPU of the ring are done.
struct Segment {
  enum class Kind : std::uint8_t { kCompute, kAllToAll, kRing };
  Kind kind = Kind::kCompute;
  Exchange exchange = Exchange::kForwardDispatch;  // kAllToAll
  // kCompute: on every SM, and in an overlapped pair (on the SMs and with the HBM bandwidth the
  // communication kernels leave; chunk_costs.hpp's comm-SM rule).
  sim::Time duration;
  sim::Time pair_duration;
  // kCompute: routed-expert work at a balanced load, scaled by the GPU's load factor for `layer`
  // (EngineInput::expert_load), on every SM and in a pair; kAllToAll: its traffic scales with the
  // loads of `layer`.
  sim::Time routed;
  sim::Time pair_routed;
  int layer = -1;  // the model layer of an MoE piece, -1 otherwise
  // kRing: sent to the next GPU of the context-parallel ring. kCompute: the tensor-parallel
  // collectives that follow the compute (tp > 1): sent to the next GPU of the tensor-parallel
  // group, the segment ending when the previous GPU's have arrived.
  double bytes = 0;
  // kCompute: the kernels it is made of (EngineInput::kernel_lists), for traces and reports;
  // kNoKernels when the input does not say.
  std::uint32_t kernels = kNoKernels;
  static constexpr std::uint32_t kNoKernels = ~std::uint32_t{0};
};

// One kernel of a segment, priced: what the trace and the chunk-pair report split a segment's
// time by.
struct SegmentKernel {
  const char* name = "";
  double seconds = 0;       // on the whole GPU
  double pair_seconds = 0;  // in an overlapped pair
  bool routed = false;      // routed-expert work: scales with the GPU's load
};

// One model stage's passes. A full backward is B and W together, for schedules that do not
// split it (and DualPipe's F&B).
struct StagePasses {
  std::vector<Segment> forward;
  std::vector<Segment> backward;       // B: input gradients only
  std::vector<Segment> backward_full;  // B and W
  std::vector<Segment> weight;         // W
};

// One all-to-all of an MoE layer: the communication-stream kernels before its data moves (DeepEP's
// cast, layout, notify), and its bytes per GPU pair for a balanced router.
struct ExchangeBytes {
  sim::Time setup;
  std::uint32_t setup_kernels = Segment::kNoKernels;  // the setup's kernels (kernel_lists)
  double ib_per_remote_node = 0;  // to the same-index GPU of every other node of the EP group
  double nvlink_per_peer = 0;     // to every other GPU of its node in the group (forwarded or own)
};

struct EngineInput {
  Schedule schedule = Schedule::k1F1B;
  int pp = 1;
  int virtual_stages = 1;  // model chunks per pipeline rank (interleaved 1F1B)
  int replicas = 1;        // data-parallel replicas
  int tp = 1;  // tensor-parallel ranks per replica (consecutive; they run the same work)
  // Context-parallel ranks among the replicas: replica d = data-parallel index x cp + ring
  // position; a ring's GPUs are tp apart.
  int cp = 1;
  // Ranks: pp x replicas x tp, rank = (p x replicas + d) x tp + t, GPU = rank.
  // GPUs per EP group: consecutive ranks of one pipeline rank (its tensor-parallel shards
  // included: with tp > 1 each routes its own rows of the sequence-parallel residual stream).
  int ep = 1;
  int micro_batches = 1;                              // per replica
  std::vector<StagePasses> stages;                    // by model stage (split_stages' numbering)
  std::array<ExchangeBytes, kExchanges> exchanges{};  // at a balanced load
  // [layer][GPU of the EP group]: its routed tokens over the group's mean (expert_load.hpp);
  // empty: balanced. A GPU's routed-expert compute scales with its factor, and the tokens sent
  // to it (dispatch) or from it (combine) with its factor (IB: its node's mean factor).
  std::vector<std::vector<double>> expert_load;
  double expert_load_max_over_mean = 1;  // the busiest GPU's factor, mean over MoE layers
  double pp_bytes = 0;  // one micro-batch's activations (or their gradient) to the next stage
  // ZeRO-1, per GPU of each model stage: FP32 gradients reduce-scattered (once the stage's last
  // weight gradients are done) and BF16 weights all-gathered (after the optimizer) over the
  // replicas holding the same parameters. Without ZeRO (shard_optimizer false: plain data
  // parallelism) the gradients are all-reduced instead and nothing is gathered.
  bool shard_optimizer = true;
  std::vector<double> dense_params;   // by model stage, replicated over all replicas (per
                                      // tensor-parallel shard: one ring per shard index)
  std::vector<double> expert_params;  // by model stage, replicated over replicas x tp / ep
  std::vector<sim::Time> optimizer;   // by pipeline rank
  // The kernels of compute segments and of exchanges' setups, by the index they name.
  std::vector<std::vector<SegmentKernel>> kernel_lists;
  // Ranks whose streams are recorded as trace spans (empty: none).
  std::vector<int> trace_ranks;
  // A rank whose steady overlapped pair (its middle F&B) is recorded; -1: none.
  int chunk_pair_rank = -1;
  // Called as the step goes on (every kProgressSlice of simulated time) with the simulated time
  // reached and the events run so far; empty: none. It only watches: the step is the same.
  std::function<void(sim::Time, std::uint64_t)> progress;
};

// The most micro-batches per replica the engine's keys hold (its 20-bit micro-batch fields).
inline constexpr long long kMaxEngineMicroBatches = (1LL << 20) - 1;

// Peak memory of an event-driven training step per GPU of the plan, measured (peak RSS of
// `codesim train`, 2026-12-04): DeepSeek-V3 on 2048 H800, 149 MB (72.7 KB a GPU); Llama 3.1
// 405B on 16,384 H100, 1.08 GB (66 KB a GPU). The larger, for refusing plans up front that the
// machine cannot hold.
inline constexpr double kEngineBytesPerGpu = 72.7e3;

// How often (in simulated time) EngineInput::progress is called.
inline constexpr sim::Time kProgressSlice = sim::milliseconds(1);

// One span of a traced rank's stream, for a Chrome trace.
struct TraceSpan {
  enum class Stream : std::uint8_t { kCompute, kCommunication };
  int rank = 0;
  Stream stream = Stream::kCompute;
  char pass = 'F';                                 // F, B (input gradients), b (full backward), W
  Exchange exchange = Exchange::kForwardDispatch;  // kCommunication spans
  int direction = 0;
  int stage = 0;
  int micro_batch = 0;
  const char* kernel = nullptr;  // the kernel this slice of a segment ran, when known
  sim::Time start;
  sim::Time end;
};

struct RankTimes {
  sim::Time finish;            // last byte of its step
  sim::Time compute;           // busy time of the compute stream, at the full SMs' speed
  sim::Time comm_sm_share;     // the rest of its busy time: compute slowed in overlapped pairs
  sim::Time wait_all_to_all;   // compute stream idle while a thread waits on an all-to-all
  sim::Time wait_ring;         // compute stream idle while a thread waits on ring attention's K/V
  sim::Time wait_tp;           // compute stream idle while a thread waits on TP collectives
  sim::Time wait_pipeline;     // compute stream idle otherwise before its last operation ends
  sim::Time operations_done;   // when its last operation ended
  sim::Time warm_up_end;       // its first operation with a backward started
  sim::Time steady_end;        // its last operation with a forward ended
  sim::Time trailing_weights;  // weight-gradient compute after that
  // After its last operation: ZeRO-1's communication (its reduce-scatters still running, the
  // all-gather), and the wait between for the other pipeline ranks' reduce-scatters (the
  // optimizer clips by the global gradient norm).
  sim::Time dp_comm;
  sim::Time zero_wait;
  sim::Time optimizer;
  // Its timeline by operation (isca25 Table 4): from each operation's first work to its end,
  // by kind, and the waits before operations' inputs arrived; with zero_wait, dp_comm and
  // optimizer they add up to `finish`.
  sim::Time in_forwards;   // 1F: lone forwards
  sim::Time in_backwards;  // 1B: lone backwards (input gradients, or full)
  sim::Time in_weights;    // 1W: weight gradients
  sim::Time in_pairs;      // 1F1B: overlapped F&B pairs
  sim::Time bubble;        // waiting for an operation's inputs
};

// One recorded overlapped pair: its span, its compute stream's busy time and the time its
// all-to-alls were in flight (union over both threads), and every compute segment it ran.
struct ChunkPairRecord {
  bool recorded = false;
  sim::Time start;  // reached in the order
  sim::Time begun;  // its first input arrived and its first segment started
  sim::Time end;
  sim::Time compute_busy;
  sim::Time comm_busy;
  struct Run {
    std::uint32_t kernels = Segment::kNoKernels;
    sim::Time duration;
    double load_factor = 1;  // of its routed kernels
  };
  std::vector<Run> runs;
};

struct EngineResult {
  sim::Time step_time;
  std::vector<RankTimes> ranks;  // by rank
  int slowest_rank = 0;
  std::uint64_t events = 0;
  std::uint64_t flows = 0;
  std::array<sim::Time, kExchanges> exchange_time{};  // summed over every all-to-all of a group
  std::array<std::uint64_t, kExchanges> exchanges_run{};
  std::vector<TraceSpan> trace;  // of input.trace_ranks, in the order spans ended
  std::vector<LinkUse> links;    // with a network: per tier, then per fabric plane
  FlowWork flow_work;
  ChunkPairRecord chunk_pair;  // of input.chunk_pair_rank
};

// Runs one step. `network` carries the transfers (the engine attaches its links to a flow network
// of its own, once: a ClusterNetwork serves one run); null: free communication (every transfer
// takes no time). Throws std::invalid_argument for an input the engine cannot run.
EngineResult run_step_engine(const EngineInput& input, ClusterNetwork* network = nullptr);

}  // namespace codesim::workloads
