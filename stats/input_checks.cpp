#include "stats/input_checks.h"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>

namespace lowbit::stats {

void require_nonempty(std::span<const double> values, std::string_view what) {
  if (values.empty()) throw std::invalid_argument(fmt::format("{}: empty input", what));
}

void require_orderable(std::span<const double> values, std::string_view what) {
  require_nonempty(values, what);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      throw std::invalid_argument(fmt::format("{}: value {} is NaN", what, i));
    }
  }
}

}  // namespace lowbit::stats
