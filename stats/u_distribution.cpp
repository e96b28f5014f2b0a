#include "stats/u_distribution.h"

#include <algorithm>
#include <cmath>

namespace lowbit::stats {

// Each step c·(n + i)/i is exact: it equals C(n + i, i); nothing when a product would pass 2^128.
std::optional<OrderingCount> orderings(std::size_t m, std::size_t n) {
  OrderingCount c = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    OrderingCount product;
    if (__builtin_mul_overflow(c, static_cast<OrderingCount>(n + i), &product)) return std::nullopt;
    c = product / i;
  }
  return c;
}

// The counts of each U are the coefficients of the Gaussian binomial
//   [m+n choose m]_q = Π_{i=1..m} (1 − q^(n+i)) / (1 − q^i),
// built up one factor at a time, truncated after q^max_u: multiplying by (1 − q^k) and dividing
// by (1 − q^k) are each one pass of dynamic programming over the coefficients. Intermediate
// coefficients may be negative or huge, so the arithmetic is modulo 2^128 (unsigned wrap-around
// is exact ring arithmetic); the final counts are all below C(m + n, m) < 2^128, so they come
// out exact. Cost O(m·max_u).
std::vector<OrderingCount> orderings_by_u(std::size_t m, std::size_t n, std::size_t max_u) {
  std::vector<OrderingCount> coeff(max_u + 1, 0);
  coeff[0] = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    const std::size_t up = n + i;  // × (1 − q^up), high degrees first
    if (up <= max_u) {
      for (std::size_t k = max_u; k >= up; --k) coeff[k] -= coeff[k - up];
    }
    for (std::size_t k = i; k <= max_u; ++k) coeff[k] += coeff[k - i];  // ÷ (1 − q^i)
  }
  return coeff;
}

double u_null_sigma(double n1, double n2, double tie_term) {
  const double n = n1 + n2;
  const double variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
  return std::sqrt(std::max(0.0, variance));
}

}  // namespace lowbit::stats
