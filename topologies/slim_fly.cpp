#include "topologies/slim_fly.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "topologies/galois_field.hpp"

namespace codesim::topo {
namespace {

// `count` distinct residues closed under negation, taking +-d for d = first, first+1, ...
// cyclically over 1 .. (q-1)/2.
std::vector<int> symmetric_set(int q, int count, int first) {
  const int pairs = (q - 1) / 2;
  std::vector<int> set;
  for (int i = 0; static_cast<int>(set.size()) < count && i < pairs; ++i) {
    const int d = (first - 1 + i) % pairs + 1;
    set.push_back(d);
    set.push_back(q - d);
  }
  return set;
}

// Addition and multiplication of the MMS coordinates: GF(q) for the MMS graph, Z_q otherwise.
struct Coordinates {
  std::optional<GaloisField> field;
  int q = 0;
  int add(int a, int b) const { return field ? field->add(a, b) : (a + b) % q; }
  int multiply(int a, int b) const { return field ? field->multiply(a, b) : a * b % q; }
};

Coordinates coordinates(int q) {
  Coordinates c;
  c.q = q;
  if (slim_fly_delta(q) == 1 || slim_fly_delta(q) == -1) c.field = GaloisField::make(q);
  return c;
}

}  // namespace

int slim_fly_delta(int q) {
  switch (q % 4) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 3:
      return -1;
  }
  return 2;
}

int slim_fly_network_degree(int q) {
  return (3 * q - slim_fly_delta(q)) / 2;
}

// MMS (SC14, sec 2.1), xi a primitive element of GF(q):
//   delta = 1:  X = {1, xi^2, ..., xi^(q-3)},  X' = {xi, xi^3, ..., xi^(q-2)}
//   delta = -1: X = {1, xi^2, ..., xi^(2w-2), xi^(2w-1), xi^(2w+1), ..., xi^(4w-3)},
//               X' = {xi, xi^3, ..., xi^(2w-1), xi^(2w), xi^(2w+2), ..., xi^(4w-2)}
SlimFlyGenerators slim_fly_generators(int q) {
  SlimFlyGenerators g;
  const int delta = slim_fly_delta(q);
  const int column_degree = (q - delta) / 2;
  const auto field = delta == 0 ? std::nullopt : GaloisField::make(q);
  if (field) {
    g.mms = true;
    const auto xi = [&](int e) { return field->primitive_power(e); };
    if (delta == 1) {
      for (int e = 0; e <= q - 3; e += 2) g.x.push_back(xi(e));
      for (int e = 1; e <= q - 2; e += 2) g.x_prime.push_back(xi(e));
    } else {
      const int w = (q + 1) / 4;
      for (int e = 0; e <= 2 * w - 2; e += 2) g.x.push_back(xi(e));
      for (int e = 2 * w - 1; e <= 4 * w - 3; e += 2) g.x.push_back(xi(e));
      for (int e = 1; e <= 2 * w - 1; e += 2) g.x_prime.push_back(xi(e));
      for (int e = 2 * w; e <= 4 * w - 2; e += 2) g.x_prime.push_back(xi(e));
    }
    return g;
  }
  // Stand-in over Z_q: X takes +-1 .. +-n, X' the next n pairs (wrapping), n = column degree / 2.
  const int n = column_degree / 2;
  g.x = symmetric_set(q, column_degree, 1);
  g.x_prime = symmetric_set(q, column_degree, n + 1);
  return g;
}

// Switch (0, x, y) is vertex x*q + y, switch (1, m, c) is q^2 + m*q + c:
//   (0,x,y) ~ (0,x,y')  iff y - y' in X
//   (1,m,c) ~ (1,m,c')  iff c - c' in X'
//   (0,x,y) ~ (1,m,c)   iff y = m*x + c
// Endpoints (p per switch) are added after the switches. Bisection: the expected cut of a
// uniformly random balanced split of the switches, links * N / (2(N - 1)), capped at half the
// endpoints' line rate; an upper bound on the true minimum bisection (NP-hard in general).
Topology build_slim_fly(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kSlimFly;
  const int q = params.slim_fly.q;
  const int degree = slim_fly_network_degree(q);
  const int p = params.slim_fly.endpoints_per_switch > 0 ? params.slim_fly.endpoints_per_switch
                                                         : (degree + 1) / 2;
  t.switch_radix = params.switch_radix;
  const auto gen = slim_fly_generators(q);
  const Coordinates coords = coordinates(q);
  if (!gen.mms) {
    t.notes.push_back(fmt::format(
        "q = {} is not an odd prime power: built a deterministic {}-regular stand-in with {} "
        "switches (MMS layout over Z_{}), not the MMS graph",
        q, degree, 2 * q * q, q));
  }
  const double bw = params.link_Bps();
  const sim::Time lat = params.switch_link_latency();
  const sim::Time endpoint_lat = params.endpoint_link_latency();
  Graph& g = t.graph;
  for (int sub = 0; sub < 2; ++sub) {
    for (int a = 0; a < q; ++a) {
      for (int b = 0; b < q; ++b) {
        add_vertex(g, VertexKind::kSwitch, fmt::format("sf{}.{}.{}", sub, a, b), 0, 1);
      }
    }
  }
  const auto v0 = [q](int x, int y) { return static_cast<VertexId>(x * q + y); };
  const auto v1 = [q](int m, int c) { return static_cast<VertexId>(q * q + m * q + c); };
  for (int a = 0; a < q; ++a) {
    for (int b = 0; b < q; ++b) {
      // X and X' are closed under negation: each link is added once, from its lower end.
      for (int d : gen.x) {
        const int other = coords.add(b, d);
        if (other > b) add_link(g, v0(a, b), v0(a, other), bw, lat);
      }
      for (int d : gen.x_prime) {
        const int other = coords.add(b, d);
        if (other > b) add_link(g, v1(a, b), v1(a, other), bw, lat);
      }
    }
  }
  for (int x = 0; x < q; ++x) {
    for (int m = 0; m < q; ++m) {
      for (int c = 0; c < q; ++c) {
        add_link(g, v0(x, coords.add(coords.multiply(m, x), c)), v1(m, c), bw, lat);
      }
    }
  }
  const int switches = 2 * q * q;
  for (int s = 0; s < switches; ++s) {
    for (int e = 0; e < p; ++e) {
      const VertexId endpoint =
          add_vertex(g, VertexKind::kEndpoint, fmt::format("s{}.ep{}", s, e), 0, 0);
      add_link(g, endpoint, static_cast<VertexId>(s), bw, endpoint_lat);
    }
  }
  const double links = static_cast<double>(switches) * degree / 2.0;
  const double random_cut = links * switches / (2.0 * (switches - 1));
  const double endpoints = static_cast<double>(switches) * p;
  t.bisection_Bps = std::min(random_cut, endpoints / 2.0) * bw;
  return t;
}

}  // namespace codesim::topo
