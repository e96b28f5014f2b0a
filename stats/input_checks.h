#pragma once
// The argument checks every statistic shares, so each names itself in the same words.

#include <span>
#include <string_view>

namespace lowbit::stats {

// Throws std::invalid_argument "<what>: empty input".
void require_nonempty(std::span<const double> values, std::string_view what);

// require_nonempty, and no NaN, which has no place in an ordering.
void require_orderable(std::span<const double> values, std::string_view what);

}  // namespace lowbit::stats
