#pragma once
// Whether two models classify the same test images differently often enough to matter: McNemar's
// test on the paired per-image correctness of a baseline and a variant. Only the discordant
// images carry information; the images both get right or both get wrong cancel.

#include <cstdint>
#include <span>

namespace lowbit::stats {

struct McNemarResult {
  std::int64_t baseline_only = 0;  // images the baseline gets right and the variant wrong
  std::int64_t variant_only = 0;   // images the variant gets right and the baseline wrong
  double p_value = 1.0;            // two-sided, exact
};

// The exact (binomial) McNemar test: under the null each of the n = b + c discordant images
// is equally likely to favour either side, so p = min(1, 2·P(X ≤ min(b, c))) with
// X ~ Binomial(n, ½); p = 1 when n = 0. As statsmodels' mcnemar(exact=True) and R's
// binom.test(min(b, c), n). Any n: the tail is summed relative to its largest term, to ~1e-10
// relative at n = 10⁴ (lgamma sets that limit).
// Throws std::invalid_argument for a negative count.
McNemarResult mcnemar_exact(std::int64_t baseline_only, std::int64_t variant_only);

// The same test from the two per-image correctness vectors (1 = correct), which must have the
// same length; throws std::invalid_argument naming both lengths otherwise.
McNemarResult mcnemar_exact(std::span<const std::uint8_t> baseline_correct,
                            std::span<const std::uint8_t> variant_correct);

}  // namespace lowbit::stats
