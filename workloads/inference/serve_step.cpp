#include "workloads/inference/serve_step.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "workloads/network/cluster_network.hpp"

namespace codesim::workloads {
namespace {

using sim::Time;

Time seconds_to_time(double s) {
  return sim::picoseconds(std::int64_t(s * 1e12 + 0.5));
}

// Fills the step's compute totals (the same in both engines).
void totals(const ForwardCost& f, int n, ServeStep& out) {
  for (const auto& l : f.layers) {
    // The busiest GPU's experts: every other GPU waits for it at the combine.
    const double experts = l.experts_at(l.busiest);
    out.attention_s += n * l.attention_s;
    out.experts_s += n * experts;
    if (l.moe) out.all_to_all_s += l.dispatch_s + l.combine_s;
    out.unoverlapped_s += n * (l.attention_s + experts + (l.moe ? l.dispatch_s + l.combine_s : 0));
  }
  out.head_s = n * f.head_s;
  out.compute_only_s = out.attention_s + out.experts_s + out.head_s;
  out.unoverlapped_s += out.head_s;
}

// The event-driven forward: see serve_step.hpp.
class ServeEngine {
 public:
  ServeEngine(const InferenceScenario& s, const ForwardCost& f, int n, int gpus, int ep,
              const std::vector<int>& traced)
      : f_(f),
        n_(n),
        gpus_(gpus),
        ep_(ep),
        cluster_(s.cluster, link_efficiency(s.calibration)),
        net_(sim_) {
    traced_.assign(gpus, false);
    for (const int g : traced) {
      if (g >= 0 && g < gpus) traced_[g] = true;
    }
    cluster_.attach(net_);
    gpn_ = f.gpus_per_node_in_group;
    nodes_ = f.nodes_in_group;
    const int layers = int(f.layers.size());
    for (int l = 0; l < layers; ++l) {
      if (f.layers[l].moe) {
        for (int m = 0; m < n; ++m) ops_.push_back({Op::kAttention, l, m});
        for (int m = 0; m < n; ++m) ops_.push_back({Op::kExperts, l, m});
      } else {
        for (int m = 0; m < n; ++m) ops_.push_back({Op::kDense, l, m});
      }
    }
    for (int m = 0; m < n; ++m) ops_.push_back({Op::kHead, layers, m});
    exchanges_ = layers * n * 2;
    state_.assign(std::size_t(gpus) * exchanges_, {});
    gpu_.assign(gpus, {});
  }

  ServeStep run() {
    for (int g = 0; g < gpus_; ++g) try_next(g);
    sim_.run();
    ServeStep out;
    Time end;
    for (int g = 0; g < gpus_; ++g) {
      if (gpu_[g].next != ops_.size() || gpu_[g].busy) {
        throw std::logic_error("serve engine: GPU " + std::to_string(g) + " stopped at operation " +
                               std::to_string(gpu_[g].next));
      }
      end = std::max(end, gpu_[g].finished);
    }
    out.forward_s = end.seconds();
    out.events = sim_.events_processed();
    out.flows = flows_;
    out.trace = std::move(trace_);
    if (end > Time::zero()) out.links = cluster_.link_use(net_, end);
    return out;
  }

 private:
  struct Op {
    enum Kind { kAttention, kExperts, kDense, kHead } kind;
    int layer;
    int mb;
  };
  // One GPU's view of one all-to-all: its inbound flows still to arrive in each stage, whether
  // its own part (the operation before it) is done, and whether it has sent its second stage.
  struct Exchange {
    int stage_in[2] = {-1, -1};  // -1: not yet counted
    bool own_done = false;
    bool second_sent = false;
    bool traced = false;
    Time own_done_at;
  };
  struct Gpu {
    std::size_t next = 0;
    bool busy = false;
    Time started;
    Time finished;
  };

  int exchange_of(int layer, int mb, int dir) const { return (layer * n_ + mb) * 2 + dir; }
  Exchange& at(int g, int x) {
    Exchange& e = state_[std::size_t(g) * exchanges_ + x];
    if (e.stage_in[0] < 0) {
      // Dispatch (dir 0): the scale-out stage first; combine (dir 1): NVLink first.
      const bool dispatch = x % 2 == 0;
      const int remote = nodes_ - 1, peers = gpn_ - 1;
      e.stage_in[0] = dispatch ? remote : peers;
      e.stage_in[1] = dispatch ? peers : remote;
    }
    return e;
  }
  bool complete(int g, int x) {
    Exchange& e = at(g, x);
    return e.stage_in[0] == 0 && e.stage_in[1] == 0;
  }

  // GPU g's position in its group: the group's first GPU, its node in the group, its index.
  int base(int g) const { return g / ep_ * ep_; }
  int node_in_group(int g) const { return (g - base(g)) / gpn_; }
  int index(int g) const { return (g - base(g)) % gpn_; }

  void send(int from, int to, double bytes, int x, int stage) {
    if (bytes <= 0) {
      arrive(to, x, stage);
      return;
    }
    const std::uint64_t tag = (std::uint64_t(to) << 32) | (std::uint64_t(x) << 1) | stage;
    net_.start_flow(cluster_.route(from, to), bytes, &ServeEngine::on_flow, this, tag);
    ++flows_;
  }
  // Sends GPU g's flows of stage `stage` of exchange x.
  void send_stage(int g, int x, int stage) {
    const int layer = x / 2 / n_;
    const bool dispatch = x % 2 == 0;
    const LayerServeCost& l = f_.layers[layer];
    const AllToAllBytes& bytes = dispatch ? l.dispatch : l.combine;
    const bool scale_out = dispatch ? stage == 0 : stage == 1;
    const int b = base(g), node = node_in_group(g), i = index(g);
    // Copies follow the load: a GPU with twice the mean load receives (and returns) twice the
    // copies; a node's scale-out copies are its GPUs' together.
    auto node_load = [&](int n) {
      double sum = 0;
      for (int j = 0; j < gpn_; ++j) sum += l.load_of(n * gpn_ + j);
      return sum / gpn_;
    };
    if (scale_out) {
      for (int other = 0; other < nodes_; ++other) {
        if (other == node) continue;
        // Dispatch: to the other node's GPUs; combine: from this node's.
        const double load = node_load(dispatch ? other : node);
        send(g, b + other * gpn_ + i, bytes.per_remote_node * load, x, stage);
      }
    } else {
      for (int j = 0; j < gpn_; ++j) {
        if (j == i) continue;
        // Dispatch: forwarded to GPU j; combine: returned from this GPU.
        const double load = l.load_of(dispatch ? node * gpn_ + j : node * gpn_ + i);
        send(g, b + node * gpn_ + j, bytes.per_node_peer * load, x, stage);
      }
    }
  }
  // The operation before exchange x ended on g: its first stage goes out, and its second once
  // the first's inbound flows are in.
  void own_part_done(int g, int x) {
    Exchange& e = at(g, x);
    e.own_done = true;
    e.own_done_at = sim_.now();
    send_stage(g, x, 0);
    maybe_second(g, x);
    trace_exchange(g, x);
  }
  // An all-to-all's span on a traced GPU, once its own part is done and its inputs are in.
  void trace_exchange(int g, int x) {
    Exchange& e = at(g, x);
    if (!traced_[g] || e.traced || !e.own_done || !complete(g, x)) return;
    e.traced = true;
    const int layer = x / 2 / n_, mb = x / 2 % n_;
    trace_.push_back({g, false, x % 2 == 0 ? "dispatch" : "combine", layer, mb,
                      e.own_done_at.seconds(), sim_.now().seconds()});
  }
  void maybe_second(int g, int x) {
    Exchange& e = at(g, x);
    if (e.own_done && !e.second_sent && e.stage_in[0] == 0) {
      e.second_sent = true;
      send_stage(g, x, 1);
    }
  }
  void arrive(int g, int x, int stage) {
    Exchange& e = at(g, x);
    --e.stage_in[stage];
    if (stage == 0) maybe_second(g, x);
    if (complete(g, x)) {
      trace_exchange(g, x);
      try_next(g);
    }
  }
  static void on_flow(sim::Simulator&, void* self, std::uint64_t tag) {
    auto* engine = static_cast<ServeEngine*>(self);
    engine->arrive(int(tag >> 32), int((tag & 0xffffffffu) >> 1), int(tag & 1));
  }

  // Whether GPU g's next operation has its inputs.
  bool ready(int g, const Op& op) {
    switch (op.kind) {
      case Op::kExperts:
        return complete(g, exchange_of(op.layer, op.mb, 0));
      case Op::kAttention:
      case Op::kDense:
      case Op::kHead:
        return op.layer == 0 || !f_.layers[op.layer - 1].moe ||
               complete(g, exchange_of(op.layer - 1, op.mb, 1));
    }
    return true;
  }
  // An operation's time on GPU g: its routed experts at g's load.
  double duration(int g, const Op& op) const {
    if (op.kind == Op::kHead) return f_.head_s;
    const LayerServeCost& l = f_.layers[op.layer];
    switch (op.kind) {
      case Op::kAttention:
        return l.attention_s;
      case Op::kExperts:
        return l.experts_at(l.load_of(g - base(g)));
      default:
        return l.attention_s + l.experts_s;
    }
  }
  void try_next(int g) {
    Gpu& gpu = gpu_[g];
    if (gpu.busy || gpu.next == ops_.size()) return;
    const Op& op = ops_[gpu.next];
    if (!ready(g, op)) return;
    gpu.busy = true;
    gpu.started = sim_.now();
    sim_.schedule_in(seconds_to_time(duration(g, op)), &ServeEngine::on_op_done, this,
                     std::uint64_t(g));
  }
  static void on_op_done(sim::Simulator& sim, void* self, std::uint64_t payload) {
    auto* engine = static_cast<ServeEngine*>(self);
    const int g = int(payload);
    Gpu& gpu = engine->gpu_[g];
    const Op op = engine->ops_[gpu.next++];
    gpu.busy = false;
    gpu.finished = sim.now();
    if (engine->traced_[g]) {
      static constexpr const char* kNames[] = {"attention", "experts", "dense layer", "head"};
      engine->trace_.push_back(
          {g, true, kNames[op.kind], op.layer, op.mb, gpu.started.seconds(), sim.now().seconds()});
    }
    if (op.kind == Op::kAttention)
      engine->own_part_done(g, engine->exchange_of(op.layer, op.mb, 0));
    if (op.kind == Op::kExperts) engine->own_part_done(g, engine->exchange_of(op.layer, op.mb, 1));
    engine->try_next(g);
  }

  const ForwardCost& f_;
  int n_, gpus_, ep_;
  int gpn_ = 1, nodes_ = 1;
  int exchanges_ = 0;
  std::uint64_t flows_ = 0;
  std::vector<Op> ops_;
  std::vector<Exchange> state_;
  std::vector<Gpu> gpu_;
  std::vector<bool> traced_;
  std::vector<ServeSpan> trace_;
  sim::Simulator sim_;
  ClusterNetwork cluster_;
  sim::FlowNetwork net_;
};

}  // namespace

ServeStep closed_form_forward(const ForwardCost& f, int n) {
  ServeStep out;
  totals(f, n, out);
  for (const auto& l : f.layers) {
    const double compute = l.attention_s + l.experts_at(l.busiest);
    if (!l.moe) {
      out.forward_s += n * compute;
      continue;
    }
    const double comm = l.dispatch_s + l.combine_s;
    out.forward_s += std::max({n * compute, n * comm, compute + comm});
  }
  out.forward_s += out.head_s;
  out.all_to_all_exposed_s = std::max(0.0, out.forward_s - out.compute_only_s);
  return out;
}

ServeStep event_forward(const InferenceScenario& s, const ForwardCost& f, int n, int gpus, int ep,
                        const std::vector<int>& traced) {
  ServeEngine engine(s, f, n, gpus, ep, traced);
  ServeStep out = engine.run();
  totals(f, n, out);
  out.all_to_all_exposed_s = std::max(0.0, out.forward_s - out.compute_only_s);
  return out;
}

}  // namespace codesim::workloads
