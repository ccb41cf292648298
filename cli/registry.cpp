#include "cli/registry.hpp"

namespace codesim::cli {
namespace {

// Presets are named by the name their data carries (a GPU's or a model's own name).
template <class T>
Registry<T> by_own_names(const std::vector<T>& presets) {
  std::vector<typename Registry<T>::Entry> entries;
  for (const T& preset : presets) entries.push_back({preset.name, preset});
  return Registry<T>(std::move(entries));
}

}  // namespace

const Registry<models::GpuSpec>& gpu_registry() {
  static const auto kRegistry = by_own_names(models::gpu_presets());
  return kRegistry;
}

const Registry<models::ModelConfig>& model_registry() {
  static const auto kRegistry = by_own_names(models::model_presets());
  return kRegistry;
}

const Registry<topo::TopologyKind>& topology_registry() {
  using K = topo::TopologyKind;
  static const Registry<K> kRegistry({
      {"ft2", K::kFatTree2},
      {"mpft", K::kMultiPlaneFatTree},
      {"mrft", K::kMultiRailFatTree},
      {"ft3", K::kFatTree3},
      {"slimfly", K::kSlimFly},
      {"dragonfly", K::kDragonfly},
      {"fireflyer2", K::kFireFlyer2},
  });
  return kRegistry;
}

const Registry<workloads::Schedule>& schedule_registry() {
  using S = workloads::Schedule;
  static const Registry<S> kRegistry({
      {"1f1b", S::k1F1B},
      {"zb1p", S::kZeroBubble1P},
      {"dualpipe", S::kDualPipe},
      {"dualpipev", S::kDualPipeV},
      {"interleaved", S::kInterleaved1F1B},
  });
  return kRegistry;
}

const Registry<workloads::RoutingSpec::Kind>& routing_registry() {
  using R = workloads::RoutingSpec::Kind;
  static const Registry<R> kRegistry({
      {"balanced", R::kBalanced},
      {"zipf", R::kZipf},
      {"drifting", R::kDrifting},
      {"measured", R::kMeasured},
  });
  return kRegistry;
}

const Registry<models::Precision>& precision_registry() {
  using P = models::Precision;
  static const Registry<P> kRegistry({{"fp8", P::kFp8}, {"bf16", P::kBf16}, {"fp16", P::kFp16}});
  return kRegistry;
}

}  // namespace codesim::cli
