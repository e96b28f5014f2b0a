#include "worker/target_detect.h"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_set>

#include "kernels/base/library_info.h"

#ifndef LOWBIT_REVISION
#error "LOWBIT_REVISION must come from the build (worker/CMakeLists.txt)"
#endif

namespace lowbit::worker {

namespace {

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Whole non-negative integer, nothing after it.
bool parse_int64(std::string_view text, std::int64_t& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && value >= 0;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string to_lower(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// Caches of CPU 0 only: on a hybrid CPU the other cores' caches differ, but a target is one
// machine and CPU 0 names it the same way every time.
std::vector<protocol::CacheLevel> detect_caches() {
  namespace fs = std::filesystem;
  const fs::path root = "/sys/devices/system/cpu/cpu0/cache";
  std::vector<protocol::CacheLevel> caches;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
    if (!entry.path().filename().string().starts_with("index")) continue;
    std::int64_t level = 0;
    if (!parse_int64(trim(read_text(entry.path() / "level")), level)) continue;
    protocol::CacheLevel cache;
    cache.level = static_cast<int>(level);
    cache.type = to_lower(trim(read_text(entry.path() / "type")));
    cache.size_bytes = parse_cache_size(read_text(entry.path() / "size"));
    cache.shared_by_cpus = count_cpu_list(read_text(entry.path() / "shared_cpu_list"));
    caches.push_back(cache);
  }
  std::sort(caches.begin(), caches.end(),
            [](const protocol::CacheLevel& a, const protocol::CacheLevel& b) {
              return std::tie(a.level, a.type) < std::tie(b.level, b.type);
            });
  return caches;
}

std::string detect_os() {
  utsname names{};
  if (uname(&names) != 0) return {};
  return fmt::format("{} {}", names.sysname, names.release);
}

}  // namespace

CpuInfo parse_cpuinfo(std::string_view text) {
  std::string model_name;
  std::string family;
  std::string model;
  std::unordered_set<std::string_view> flags;
  bool in_block = false;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      // A blank line ends a processor's block; the first block describes them all.
      if (in_block && trim(line).empty()) break;
      continue;
    }
    in_block = true;
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (key == "model name") {
      model_name = value;
    } else if (key == "cpu family") {
      family = value;
    } else if (key == "model") {
      model = value;
    } else if (key == "flags") {
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t space = rest.find(' ');
        const std::string_view flag = rest.substr(0, space);
        if (!flag.empty()) flags.insert(flag);
        rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
      }
    }
  }

  CpuInfo info;
  // Virtual machines often show a generic name ("AMD EPYC") for several generations; family and
  // model tell them apart. Stepping is left out: same core, so a fleet of one SKU stays one target.
  info.cpu = model_name.empty() ? "unknown" : model_name;
  if (!family.empty() && !model.empty()) {
    info.cpu += fmt::format(" (family {}, model {})", family, model);
  }
  for (const std::string_view flag : kIsaFlags) {
    if (flags.contains(flag)) info.isa_flags.emplace_back(flag);
  }
  return info;
}

std::int64_t parse_mem_total(std::string_view meminfo) {
  constexpr std::string_view kKey = "MemTotal:";
  const std::size_t at = meminfo.find(kKey);
  if (at == std::string_view::npos) return 0;
  std::string_view rest = meminfo.substr(at + kKey.size());
  rest = trim(rest.substr(0, rest.find('\n')));
  constexpr std::string_view kUnit = " kB";  // the kernel always writes kibibytes here
  if (!rest.ends_with(kUnit)) return 0;
  std::int64_t kib = 0;
  if (!parse_int64(trim(rest.substr(0, rest.size() - kUnit.size())), kib)) return 0;
  return kib * 1024;
}

std::int64_t parse_cache_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return 0;
  std::int64_t scale = 1;
  switch (text.back()) {
    case 'K':
      scale = std::int64_t{1} << 10;
      break;
    case 'M':
      scale = std::int64_t{1} << 20;
      break;
    case 'G':
      scale = std::int64_t{1} << 30;
      break;
    default:
      break;
  }
  if (scale != 1) text.remove_suffix(1);
  std::int64_t value = 0;
  if (!parse_int64(text, value)) return 0;
  return value * scale;
}

int count_cpu_list(std::string_view list) {
  list = trim(list);
  if (list.empty()) return 0;
  int count = 0;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view range = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    const std::size_t dash = range.find('-');
    std::int64_t first = 0;
    std::int64_t last = 0;
    if (!parse_int64(range.substr(0, dash), first)) return 0;
    if (dash == std::string_view::npos) {
      last = first;
    } else if (!parse_int64(range.substr(dash + 1), last) || last < first) {
      return 0;
    }
    count += static_cast<int>(last - first + 1);
  }
  return count;
}

protocol::Target detect_target(int threads, const std::string& isa_cap) {
  if (threads < 1) {
    throw std::invalid_argument(fmt::format("threads must be at least 1, got {}", threads));
  }
  if (isa_cap.empty()) throw std::invalid_argument("isa cap must be \"native\" or an ISA name");

  protocol::Target target;
  CpuInfo cpu = parse_cpuinfo(read_text("/proc/cpuinfo"));
  target.cpu = std::move(cpu.cpu);
  target.isa_flags = std::move(cpu.isa_flags);
  target.isa_effective = kernels::onednn_effective_isa();
  target.isa_cap = isa_cap;
  target.threads = threads;
  target.num_cpus = static_cast<int>(std::thread::hardware_concurrency());
  target.caches = detect_caches();
  target.memory_bytes = parse_mem_total(read_text("/proc/meminfo"));
  target.os = detect_os();
  target.label = protocol::make_target_label(target);
  target.id = protocol::compute_target_id(target);
  return target;
}

protocol::VersionInfo detect_versions() {
  protocol::VersionInfo version;
  version.lowbit = LOWBIT_REVISION;
#if defined(__clang__)
  version.compiler = std::string(trim("clang " __clang_version__));
#elif defined(__GNUC__)
  version.compiler = "g++ " __VERSION__;
#else
  version.compiler = __VERSION__;
#endif
  version.openblas = kernels::openblas_version();
  version.openblas_core = kernels::openblas_core();
  version.onednn = kernels::onednn_version();
  return version;
}

}  // namespace lowbit::worker
