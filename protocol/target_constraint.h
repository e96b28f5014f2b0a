#pragma once
// What a sweep asks of the machine a job runs on (docs/coordinator.md "Leases"): `"any"`, or some
// of the fields of a target fingerprint that must match exactly. The scheduler hands a job only to
// a worker whose fingerprint satisfies the job's constraint. `isa` matches the worker's ISA *cap*,
// not what the CPU could do: a native AVX-512 worker is a different target from an AVX2-capped one,
// because its kernels run differently.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "protocol/target.h"

namespace lowbit::protocol {

struct TargetConstraint {
  std::optional<std::string> isa;    // Target::isa_cap
  std::optional<int> threads;        // Target::threads
  std::optional<std::string> label;  // Target::label
  std::optional<std::string> id;     // Target::id

  // No field set: any worker.
  bool is_any() const { return !isa && !threads && !label && !id; }
  bool satisfied_by(const Target& target) const;

  friend bool operator==(const TargetConstraint&, const TargetConstraint&) = default;
};

// For messages: "any", "isa=avx2 threads=1".
std::string describe(const TargetConstraint& constraint);

// `"any"` for is_any(), else an object with the fields that are set. Its dump() is canonical
// (sorted keys), so equal constraints have equal text.
void to_json(nlohmann::json& j, const TargetConstraint& constraint);
// Accepts `"any"` or an object of the four fields (as schemas/sweep.schema.json allows).
void from_json(const nlohmann::json& j, TargetConstraint& constraint);

}  // namespace lowbit::protocol
