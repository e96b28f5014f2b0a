#pragma once
// Peaks are a property of the target (CPU, ISA cap, threads), not of a run: measuring them costs
// a few hundred milliseconds and adds noise to every job, so each target measures once and keeps
// the figures in the cache folder beside the models, keyed by the target id (which already
// encodes the threads and the ISA cap).

#include <filesystem>
#include <string>

#include "kernels/measure/peak.h"

namespace lowbit::kernels {

// <cache_dir>/peaks/<target_id>.json
std::filesystem::path peaks_cache_path(const std::filesystem::path& cache_dir,
                                       const std::string& target_id);

// The peaks cached for `target_id` when that file exists, parses and was measured with `threads`
// by this version of the probes; otherwise measure_peaks(threads, isa_cap), written to the file
// atomically (temp file + rename) before it is returned, so a concurrent reader sees the old file
// or the new one, never half of one. Throws std::invalid_argument for a target id that is not a
// plain file name or threads < 1, and FileError (kernels/base/file_io.h) or
// std::filesystem::filesystem_error when the file cannot be written.
Peaks load_or_measure_peaks(const std::filesystem::path& cache_dir, const std::string& target_id,
                            int threads, const std::string& isa_cap = "native");

}  // namespace lowbit::kernels
