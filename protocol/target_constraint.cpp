#include "protocol/target_constraint.h"

#include <fmt/format.h>

#include <stdexcept>

namespace lowbit::protocol {

bool TargetConstraint::satisfied_by(const Target& target) const {
  if (isa && *isa != target.isa_cap) return false;
  if (threads && *threads != target.threads) return false;
  if (label && *label != target.label) return false;
  if (id && *id != target.id) return false;
  return true;
}

std::string describe(const TargetConstraint& c) {
  if (c.is_any()) return "any";
  std::string text;
  const auto add = [&](const char* name, const std::string& value) {
    if (!text.empty()) text += ' ';
    text += fmt::format("{}={}", name, value);
  };
  if (c.isa) add("isa", *c.isa);
  if (c.threads) add("threads", std::to_string(*c.threads));
  if (c.label) add("label", *c.label);
  if (c.id) add("id", *c.id);
  return text;
}

void to_json(nlohmann::json& j, const TargetConstraint& c) {
  if (c.is_any()) {
    j = "any";
    return;
  }
  j = nlohmann::json::object();
  if (c.isa) j["isa"] = *c.isa;
  if (c.threads) j["threads"] = *c.threads;
  if (c.label) j["label"] = *c.label;
  if (c.id) j["id"] = *c.id;
}

void from_json(const nlohmann::json& j, TargetConstraint& c) {
  c = {};
  if (j.is_string()) {
    if (j.get<std::string>() != "any") {
      throw std::invalid_argument(
          fmt::format("a target is \"any\" or an object, not {}", j.dump()));
    }
    return;
  }
  if (j.contains("isa")) c.isa = j.at("isa").get<std::string>();
  if (j.contains("threads")) c.threads = j.at("threads").get<int>();
  if (j.contains("label")) c.label = j.at("label").get<std::string>();
  if (j.contains("id")) c.id = j.at("id").get<std::string>();
}

}  // namespace lowbit::protocol
