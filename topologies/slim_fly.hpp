#pragma once
// Slim Fly (Besta & Hoefler, SC14): the McKay-Miller-Siran (MMS) graph of q, 2q^2 switches of
// network degree (3q - delta)/2, q = 4w + delta. For odd prime powers q the switch graph is the
// MMS graph over GF(q) (diameter 2). For other q (powers of two, whose delta = 0 generator sets
// are not implemented, and numbers that are no prime power, such as the q = 28 of isca25
// Table 3) the builder keeps the MMS layout over the ring Z_q with circulant column sets of the
// same sizes: same switch count and degree, deterministic, but not diameter 2 in general.

#include <vector>

#include "topologies/topology.hpp"

namespace codesim::topo {

int slim_fly_delta(int q);           // q mod 4 as -1, 0 or 1; 2 when q = 2 mod 4 (no Slim Fly)
int slim_fly_network_degree(int q);  // (3q - delta) / 2

// The column generator sets X (for subgraph 0) and X' (for subgraph 1): elements of GF(q) in
// GaloisField's encoding for the MMS graph, residues mod q for the stand-in.
struct SlimFlyGenerators {
  std::vector<int> x;
  std::vector<int> x_prime;
  bool mms = false;  // true: the MMS sets over GF(q); false: the Z_q stand-in
};
SlimFlyGenerators slim_fly_generators(int q);

Topology build_slim_fly(const TopologyParams& params);

}  // namespace codesim::topo
