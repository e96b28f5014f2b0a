#include "protocol/target.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <tuple>

namespace lowbit::protocol {

namespace {

// Bump when the fields below change meaning: every target id changes with it, on purpose, so
// old and new ids never collide across the change.
constexpr int kTargetIdScheme = 1;

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

// Nearest GiB: MemTotal moves by a few MiB between boots (kernel reservations), never by half a
// GiB, so the same machine always lands on the same number.
std::int64_t round_to_gib(std::int64_t bytes) { return (bytes + kGiB / 2) / kGiB; }

// "Linux 6.1.0-18-amd64" -> "Linux".
std::string kernel_name(const std::string& os) { return os.substr(0, os.find(' ')); }

}  // namespace

std::string compute_target_id(const Target& target) {
  std::vector<std::string> flags = target.isa_flags;
  std::sort(flags.begin(), flags.end());
  flags.erase(std::unique(flags.begin(), flags.end()), flags.end());

  std::vector<CacheLevel> caches = target.caches;
  std::sort(caches.begin(), caches.end(), [](const CacheLevel& a, const CacheLevel& b) {
    return std::tie(a.level, a.type, a.size_bytes, a.shared_by_cpus) <
           std::tie(b.level, b.type, b.size_bytes, b.shared_by_cpus);
  });

  // nlohmann's default object keeps keys sorted, so dump() is a canonical byte string.
  const nlohmann::json hashed = {
      {"scheme", kTargetIdScheme},
      {"cpu", target.cpu},
      {"isa_flags", flags},
      {"isa_effective", target.isa_effective},
      {"isa_cap", target.isa_cap},
      {"threads", target.threads},
      {"num_cpus", target.num_cpus},
      {"caches", caches},
      {"memory_gib", round_to_gib(target.memory_bytes)},
      {"os_kernel", kernel_name(target.os)},
  };
  const std::string bytes = hashed.dump();
  return fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

std::string make_target_label(const Target& target) {
  return fmt::format("{}-t{}", target.isa_cap, target.threads);
}

void to_json(nlohmann::json& j, const CacheLevel& cache) {
  j = {{"type", cache.type},
       {"level", cache.level},
       {"size", cache.size_bytes},
       {"num_sharing", cache.shared_by_cpus}};
}

void from_json(const nlohmann::json& j, CacheLevel& cache) {
  j.at("type").get_to(cache.type);
  j.at("level").get_to(cache.level);
  j.at("size").get_to(cache.size_bytes);
  j.at("num_sharing").get_to(cache.shared_by_cpus);
}

void to_json(nlohmann::json& j, const Target& target) {
  j = {{"id", target.id},
       {"label", target.label},
       {"cpu", target.cpu},
       {"isa_flags", target.isa_flags},
       {"isa_effective", target.isa_effective},
       {"isa_cap", target.isa_cap},
       {"threads", target.threads},
       {"num_cpus", target.num_cpus},
       {"caches", target.caches},
       {"memory_bytes", target.memory_bytes},
       {"os", target.os}};
}

void from_json(const nlohmann::json& j, Target& target) {
  j.at("id").get_to(target.id);
  j.at("label").get_to(target.label);
  j.at("cpu").get_to(target.cpu);
  j.at("isa_flags").get_to(target.isa_flags);
  j.at("isa_effective").get_to(target.isa_effective);
  j.at("isa_cap").get_to(target.isa_cap);
  j.at("threads").get_to(target.threads);
  j.at("num_cpus").get_to(target.num_cpus);
  j.at("caches").get_to(target.caches);
  j.at("memory_bytes").get_to(target.memory_bytes);
  j.at("os").get_to(target.os);
}

void to_json(nlohmann::json& j, const VersionInfo& version) {
  j = {{"lowbit", version.lowbit},
       {"compiler", version.compiler},
       {"openblas", version.openblas},
       {"openblas_core", version.openblas_core},
       {"onednn", version.onednn}};
}

void from_json(const nlohmann::json& j, VersionInfo& version) {
  j.at("lowbit").get_to(version.lowbit);
  j.at("compiler").get_to(version.compiler);
  j.at("openblas").get_to(version.openblas);
  j.at("openblas_core").get_to(version.openblas_core);
  j.at("onednn").get_to(version.onednn);
}

}  // namespace lowbit::protocol
