#include "kernels/measure/peak_cache.h"

#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <vector>

#include "kernels/base/file_io.h"

namespace lowbit::kernels {

namespace {

// The cached peaks, or nothing when the file is absent, unreadable, malformed, from another
// version of the probes or for another thread count: each of those is measured afresh.
std::optional<Peaks> load(const std::filesystem::path& path, int threads) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    Peaks peaks = peaks_from_json(nlohmann::json::parse(in));
    if (peaks.threads != threads) return std::nullopt;
    return peaks;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

}  // namespace

std::filesystem::path peaks_cache_path(const std::filesystem::path& cache_dir,
                                       const std::string& target_id) {
  if (target_id.empty() || target_id == "." || target_id == ".." ||
      target_id.find_first_of("/\\") != std::string::npos) {
    throw std::invalid_argument("peaks: target id \"" + target_id + "\" is not a file name");
  }
  return cache_dir / "peaks" / (target_id + ".json");
}

Peaks load_or_measure_peaks(const std::filesystem::path& cache_dir, const std::string& target_id,
                            int threads, const std::string& isa_cap) {
  const std::filesystem::path path = peaks_cache_path(cache_dir, target_id);
  if (threads < 1) throw std::invalid_argument("peaks: threads must be at least 1");
  if (std::optional<Peaks> cached = load(path, threads)) return *std::move(cached);

  Peaks peaks = measure_peaks(threads, isa_cap);
  const std::string text = to_json(peaks).dump(2) + "\n";
  write_file_atomically(path, std::vector<std::uint8_t>(text.begin(), text.end()));
  return peaks;
}

}  // namespace lowbit::kernels
