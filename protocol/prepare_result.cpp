#include "protocol/prepare_result.h"

namespace lowbit::protocol {

void to_json(nlohmann::json& j, const PreparedModel& m) {
  j = {{"role", m.role},
       {"cache_key", m.cache_key},
       {"hash", m.hash},
       {"test_top1", m.test_top1},
       {"validation_top1", m.validation_top1}};
}

void from_json(const nlohmann::json& j, PreparedModel& m) {
  j.at("role").get_to(m.role);
  j.at("cache_key").get_to(m.cache_key);
  j.at("hash").get_to(m.hash);
  j.at("test_top1").get_to(m.test_top1);
  j.at("validation_top1").get_to(m.validation_top1);
}

void to_json(nlohmann::json& j, const PrepareResult& r) {
  j = {{"models", r.models},
       {"data_hash", r.data_hash},
       {"train_seconds", r.train_seconds},
       {"target", r.target},
       {"version", r.version}};
}

void from_json(const nlohmann::json& j, PrepareResult& r) {
  j.at("models").get_to(r.models);
  j.at("data_hash").get_to(r.data_hash);
  j.at("train_seconds").get_to(r.train_seconds);
  j.at("target").get_to(r.target);
  j.at("version").get_to(r.version);
}

}  // namespace lowbit::protocol
