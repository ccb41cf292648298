#pragma once
// The interface behind which a training step's time is worked out. The analytic model here is
// the fast mode for sweeps; the event-driven engine implements the same interface.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "workloads/network/link_use.hpp"
#include "workloads/plan/scenario.hpp"
#include "workloads/step/kernel_report.hpp"

namespace codesim::workloads {

struct StepBreakdown {
  double compute_s = 0;          // forward and backward work on all SMs
  double comm_sm_share_s = 0;    // compute slowed by the SMs reserved for communication
  double exposed_ep_comm_s = 0;  // expert all-to-all not hidden behind compute
  double exposed_cp_comm_s = 0;  // ring attention's K/V exchange not hidden behind attention
  double tp_comm_s = 0;          // tensor-parallel collectives' bytes (NVLink), in series
  double pipeline_bubble_s = 0;  // the schedule's bubble
  double dp_comm_s = 0;          // ZeRO-1 gradient reduce-scatter and parameter all-gather
  double optimizer_s = 0;        // AdamW on this GPU's shard
  double total() const {
    return compute_s + comm_sm_share_s + exposed_ep_comm_s + exposed_cp_comm_s + tp_comm_s +
           pipeline_bubble_s + dp_comm_s + optimizer_s;
  }
};

// Where the slowest rank's step went, in the order it happened.
struct StepPhases {
  double warm_up_s = 0;          // until its first backward starts (forwards only)
  double steady_s = 0;           // until its last forward ends
  double cool_down_s = 0;        // the remaining backwards and weight gradients
  double trailing_weight_s = 0;  // of which weight gradients after the last forward
  double idle_s = 0;             // compute stream idle before its operations end (all bubbles)
  double data_parallel_s = 0;    // ZeRO-1 and optimizer after its operations
};

// A steady overlapped F&B pair of a middle pipeline rank: how long it spans, how long its compute
// stream and its all-to-alls were busy, and where its compute went.
struct ChunkPairReport {
  bool present = false;
  int pipeline_rank = 0;
  double span_s = 0;        // from its place in the order to its end
  double input_wait_s = 0;  // of which waiting for its inputs (the pipeline's imbalance)
  double compute_busy_s = 0;
  double comm_busy_s = 0;
  std::vector<std::pair<std::string, double>> top_kernels;  // by time in the pair, seconds
  std::vector<std::pair<std::string, double>> classes;      // by time in the pair, seconds
};

// The slowest rank's step by what it was doing, on its own timeline (isca25 Table 4): lone
// forwards, the bubble (waiting for an operation's inputs), lone backwards, weight gradients,
// overlapped F&B pairs, and ZeRO-1 with the optimizer. They add up to the step.
struct Table4Phases {
  double one_f_s = 0;
  double bubble_s = 0;
  double one_b_s = 0;
  double one_w_s = 0;
  double one_f_one_b_s = 0;
  double optimizer_s = 0;
  double total() const {
    return one_f_s + bubble_s + one_b_s + one_w_s + one_f_one_b_s + optimizer_s;
  }
};

struct StepNetwork {
  double ep_ib_bytes_per_token_per_moe_layer = 0;  // forward dispatch + combine
  double ep_nvlink_bytes_per_token_per_moe_layer = 0;
  double ep_ib_achieved_GBps = 0;
  double ep_nvlink_achieved_GBps = 0;
  double ep_forward_comm_s_per_moe_layer = 0;
  double ep_backward_comm_s_per_moe_layer = 0;
  double pp_send_s_per_micro_batch = 0;
  double dp_bytes_per_gpu = 0;
  std::vector<LinkUse> links;  // event-driven engine only: per tier, then per fabric plane
  double expert_load_max_over_mean = 1;  // event-driven: busiest GPU of an EP group / mean
};

// Where the event engine's flow-network work went (issue 14's counters): flows started, the
// network's solves and the solver's components and variables, and latency-phase events.
struct FlowWork {
  std::uint64_t flows = 0;
  std::uint64_t solves = 0;
  std::uint64_t components_solved = 0;
  std::uint64_t variables_solved = 0;     // summed over the components solved
  std::uint64_t components_searched = 0;  // found afresh rather than re-solved from the cache
  std::uint64_t activation_events = 0;
};

struct StepResult {
  double step_time_s = 0;
  // The event-driven engine's step in its own integer picoseconds; 0 for the analytic model.
  long long step_time_ps = 0;
  StepBreakdown breakdown;
  StepNetwork network;
  StepPhases phases;  // event-driven engine only
  int micro_batches = 0;
  int slowest_rank = 0;
  long long events = 0;             // simulated events; 0 for the analytic model
  FlowWork flow_work;               // event-driven engine only
  std::vector<KernelLine> kernels;  // what each layer pass launches, priced
  ChunkPairReport chunk_pair;
  Table4Phases table4;
};

class StepTimeModel {
 public:
  virtual ~StepTimeModel() = default;
  virtual std::string name() const = 0;
  // One optimizer step with a global batch of `batch_sequences` sequences.
  virtual StepResult step(const TrainingScenario& scenario, int batch_sequences) const = 0;
  // The step at each of several batches (a batch ramp): one step() each, unless the model can
  // share the work that does not depend on the batch.
  virtual std::vector<StepResult> steps(const TrainingScenario& scenario,
                                        const std::vector<int>& batches) const {
    std::vector<StepResult> out;
    for (const int batch : batches) out.push_back(step(scenario, batch));
    return out;
  }
  // What the model assumes, one line each, for --explain and the JSON.
  virtual std::vector<std::string> assumptions(const TrainingScenario& scenario) const = 0;
};

}  // namespace codesim::workloads
