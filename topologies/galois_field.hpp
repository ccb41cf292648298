#pragma once
// Arithmetic in GF(q), q = p^k, for the Slim Fly (MMS) construction. Elements are encoded as
// integers 0 .. q-1 whose base-p digits are the coefficients of a polynomial over GF(p); the
// field is GF(p)[x] modulo the first primitive monic polynomial of degree k, in the order of
// its encoded lower coefficients (so x generates the multiplicative group). For k = 1 the
// encoding is the residue itself and the generator -c for the first primitive x + c (5 for q = 7).

#include <optional>
#include <vector>

namespace codesim::topo {

class GaloisField {
 public:
  // nullopt unless q is a prime power >= 2.
  static std::optional<GaloisField> make(int q);

  int order() const { return q_; }
  int characteristic() const { return p_; }
  int add(int a, int b) const;
  int negate(int a) const;
  int multiply(int a, int b) const;
  // xi^e for the primitive element xi; e may be any non-negative integer.
  int primitive_power(long long e) const { return exp_[e % (q_ - 1)]; }

 private:
  GaloisField(int p, int k, std::vector<int> exp);

  int p_ = 0;
  int k_ = 0;
  int q_ = 0;
  std::vector<int> exp_;  // exp_[i] = xi^i, i < q - 1
  std::vector<int> log_;  // log_[exp_[i]] = i; log_[0] unused
};

}  // namespace codesim::topo
