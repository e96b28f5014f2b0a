#pragma once
// Descriptive statistics of latency repetitions. Each reproduces numpy exactly (median,
// std(ddof=1), percentile with its default "linear" method), so a figure reported here can be
// recomputed in Python and must agree.
//
// Errors: every function throws std::invalid_argument on empty input; those that order their
// input (median, minimum, maximum, percentile, summarize) also reject NaN. ±infinity is an
// ordinary (extreme) value.

#include <span>

namespace lowbit::stats {

double mean(std::span<const double> values);

// Middle value; for an even count the average of the two middle values (numpy.median).
double median(std::span<const double> values);

// Standard deviation with the n − 1 denominator (numpy.std(ddof=1)); 0 for one value.
double sample_stddev(std::span<const double> values);

// sample_stddev / mean; 0 when the mean is 0.
double coefficient_of_variation(std::span<const double> values);

double minimum(std::span<const double> values);
double maximum(std::span<const double> values);

// The p-th percentile, p in [0, 100], of unsorted values, as numpy.percentile
// with its default method "linear" (Hyndman & Fan type 7): h = (n − 1)·p/100,
// interpolating between the sorted values x[floor(h)] and x[floor(h) + 1].
// The interpolation is evaluated in numpy's order (from the nearer end), so
// results agree with numpy to the last bit. Throws for p outside [0, 100].
double percentile(std::span<const double> values, double p);

struct Summary {
  int count = 0;
  double mean = 0.0;
  double median = 0.0;
  double stddev = 0.0;  // sample_stddev
  double cv = 0.0;      // coefficient_of_variation
  double min = 0.0;
  double max = 0.0;
};

// All of the above from one sort of the values.
Summary summarize(std::span<const double> values);

}  // namespace lowbit::stats
