#include "workloads/moe/expected_traffic.hpp"

#include <algorithm>

namespace codesim::workloads {

double probability_none_drawn(int population, int subset, int draws) {
  if (draws > population - subset) return 0.0;
  double p = 1.0;
  for (int i = 0; i < draws; ++i) p *= double(population - subset - i) / double(population - i);
  return p;
}

EpCopiesPerToken expected_copies_per_token(const EpTrafficShape& s) {
  EpCopiesPerToken out;
  const int nodes = std::max(1, s.ep / s.gpus_per_node);
  const int gpus_in_node = std::min(s.ep, s.gpus_per_node);
  const int chosen_nodes =
      s.max_nodes_per_token > 0 ? std::min(s.max_nodes_per_token, nodes) : nodes;
  const int experts_per_gpu = s.experts / s.ep;
  const int experts_per_node = experts_per_gpu * gpus_in_node;
  const int pool = experts_per_node * chosen_nodes;  // experts the token may pick from
  const int k = std::min(s.experts_per_token, pool);

  const double node_used = 1.0 - probability_none_drawn(pool, experts_per_node, k);
  const double gpu_used = 1.0 - probability_none_drawn(pool, experts_per_gpu, k);
  out.nodes = chosen_nodes * node_used;
  out.gpus = chosen_nodes * gpus_in_node * gpu_used;
  // Every node is equally likely to be among the chosen, the sender's own included.
  out.remote_nodes = out.nodes * double(nodes - 1) / double(nodes);
  // A remote node's copy lands on the GPU with the sender's in-node index; every other receiving
  // GPU of that node, and every receiving GPU of the sender's node but itself, is an NVLink copy.
  out.nvlink_copies = out.gpus * double(gpus_in_node - 1) / double(gpus_in_node);
  return out;
}


}  // namespace codesim::workloads
