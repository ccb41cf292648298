#include "topologies/galois_field.hpp"

#include <utility>

namespace codesim::topo {
namespace {

std::vector<int> digits(int value, int p, int k) {
  std::vector<int> d(k);
  for (int i = 0; i < k; ++i, value /= p) d[i] = value % p;
  return d;
}

int encode(const std::vector<int>& d, int p) {
  int value = 0;
  for (int i = static_cast<int>(d.size()) - 1; i >= 0; --i) value = value * p + d[i];
  return value;
}

// Powers x^0 .. x^(q-2) modulo the monic polynomial x^k + sum c_i x^i when x has multiplicative
// order exactly q - 1 there (x^i != 1 for 0 < i < q - 1 and x^(q-1) = 1), which makes the
// polynomial primitive and the quotient ring the field; empty otherwise.
std::vector<int> powers_of_x(const std::vector<int>& lower_coefficients, int p, int q) {
  const int k = static_cast<int>(lower_coefficients.size());
  std::vector<int> power(k, 0);
  power[0] = 1;
  std::vector<int> exp;
  for (int i = 0; i <= q - 1; ++i) {
    const int value = encode(power, p);
    if (i == q - 1) return value == 1 ? exp : std::vector<int>{};
    if (i > 0 && value == 1) return {};
    exp.push_back(value);
    // power *= x, with x^k = -sum c_i x^i.
    const int carry = power[k - 1];
    for (int j = k - 1; j > 0; --j) power[j] = power[j - 1];
    power[0] = 0;
    for (int j = 0; j < k; ++j) power[j] = ((power[j] - carry * lower_coefficients[j]) % p + p) % p;
  }
  return {};
}

}  // namespace

std::optional<GaloisField> GaloisField::make(int q) {
  if (q < 2) return std::nullopt;
  int p = 2;
  while (q % p != 0) ++p;
  int k = 0;
  for (int rest = q; rest > 1; rest /= p, ++k) {
    if (rest % p != 0) return std::nullopt;
  }
  for (int c = 0; c < q; ++c) {
    auto exp = powers_of_x(digits(c, p, k), p, q);
    if (static_cast<int>(exp.size()) == q - 1) return GaloisField(p, k, std::move(exp));
  }
  return std::nullopt;  // unreachable: every finite field has a primitive polynomial
}

GaloisField::GaloisField(int p, int k, std::vector<int> exp)
    : p_(p), k_(k), q_(static_cast<int>(exp.size()) + 1), exp_(std::move(exp)), log_(q_, 0) {
  for (int i = 0; i < q_ - 1; ++i) log_[exp_[i]] = i;
}

int GaloisField::add(int a, int b) const {
  int sum = 0;
  for (int place = 1, i = 0; i < k_; ++i, place *= p_, a /= p_, b /= p_) {
    sum += ((a % p_ + b % p_) % p_) * place;
  }
  return sum;
}

int GaloisField::negate(int a) const {
  int result = 0;
  for (int place = 1, i = 0; i < k_; ++i, place *= p_, a /= p_) {
    result += ((p_ - a % p_) % p_) * place;
  }
  return result;
}

int GaloisField::multiply(int a, int b) const {
  if (a == 0 || b == 0) return 0;
  return exp_[(log_[a] + log_[b]) % (q_ - 1)];
}

}  // namespace codesim::topo
