#include "protocol/result.h"

#include <array>
#include <stdexcept>

namespace lowbit::protocol {

namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t b0 = bytes[i];
    const std::uint32_t b1 = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < bytes.size() ? bytes[i + 2] : 0;
    const std::uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out += kBase64Alphabet[(triple >> 18) & 63];
    out += kBase64Alphabet[(triple >> 12) & 63];
    out += i + 1 < bytes.size() ? kBase64Alphabet[(triple >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kBase64Alphabet[triple & 63] : '=';
  }
  return out;
}

std::vector<std::uint8_t> base64_decode(const std::string& text) {
  if (text.size() % 4 != 0) throw std::invalid_argument("base64: length is not a multiple of 4");
  std::array<int, 256> value{};
  value.fill(-1);
  for (std::size_t i = 0; i < kBase64Alphabet.size(); ++i) {
    value[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int>(i);
  }
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t triple = 0;
    int padding = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      int v = 0;
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++padding;
      } else if (padding > 0 || (v = value[static_cast<unsigned char>(c)]) < 0) {
        throw std::invalid_argument("base64: invalid character");
      }
      triple = (triple << 6) | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::uint8_t>(triple >> 16));
    if (padding < 2) out.push_back(static_cast<std::uint8_t>(triple >> 8));
    if (padding < 1) out.push_back(static_cast<std::uint8_t>(triple));
  }
  return out;
}

}  // namespace

std::string encode_bitset(const std::vector<bool>& bits) {
  std::vector<std::uint8_t> bytes((bits.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) bytes[i / 8] = static_cast<std::uint8_t>(bytes[i / 8] | (1u << (i % 8)));
  }
  return base64_encode(bytes);
}

std::vector<bool> decode_bitset(const std::string& text, std::size_t count) {
  const std::vector<std::uint8_t> bytes = base64_decode(text);
  if (bytes.size() != (count + 7) / 8) {
    throw std::invalid_argument("bitset: length does not match the image count");
  }
  std::vector<bool> bits(count);
  for (std::size_t i = 0; i < count; ++i) bits[i] = ((bytes[i / 8] >> (i % 8)) & 1u) != 0;
  return bits;
}

void to_json(nlohmann::json& j, const Result& r) {
  j = nlohmann::json::object();
  j["config"] = r.config;
  j["config_hash"] = r.config_hash;
  j["status"] = r.status;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.accuracy) {
    const Accuracy& a = *r.accuracy;
    j["accuracy"] = {{"top1", a.top1},           {"baseline_top1", a.baseline_top1},
                     {"delta", a.delta},         {"agreement", a.agreement},
                     {"images", a.images},       {"correct", a.correct}};
  }
  if (r.base_model) {
    const BaseModel& b = *r.base_model;
    j["base_model"] = {{"hash", b.hash},
                       {"cache_key", b.cache_key},
                       {"cache_hit", b.cache_hit},
                       {"validation_top1", b.validation_top1}};
  }
  if (r.status != kStatusSkipped) {
    j["sparsity"] = r.sparsity;
    j["params_nonzero"] = r.params_nonzero;
    j["model_bytes"] = r.model_bytes;
    j["weights"] = r.weights;
    j["train_seconds"] = r.train_seconds;
    j["kernel"] = r.kernel;
    j["layers"] = nlohmann::json::array();
    for (const LayerKernelResult& l : r.layers) {
      j["layers"].push_back({{"kernel", l.kernel}, {"impl", l.impl}});
    }
  }
  j["target"] = r.target;
  j["version"] = r.version;
  j["repro"] = r.repro;
}

void from_json(const nlohmann::json& j, Result& r) {
  j.at("config").get_to(r.config);
  j.at("config_hash").get_to(r.config_hash);
  j.at("status").get_to(r.status);
  r.reason = j.value("reason", "");
  if (j.contains("accuracy")) {
    const nlohmann::json& a = j.at("accuracy");
    r.accuracy = Accuracy{a.at("top1"), a.at("baseline_top1"), a.at("delta"), a.at("agreement"),
                          a.at("images"), a.at("correct")};
  }
  if (j.contains("base_model")) {
    const nlohmann::json& b = j.at("base_model");
    r.base_model = BaseModel{b.at("hash"), b.at("cache_key"), b.at("cache_hit"), b.at("validation_top1")};
  }
  r.sparsity = j.value("sparsity", 0.0);
  r.params_nonzero = j.value("params_nonzero", std::int64_t{0});
  r.model_bytes = j.value("model_bytes", std::int64_t{0});
  r.weights = j.value("weights", "real");
  r.train_seconds = j.value("train_seconds", 0.0);
  r.kernel = j.value("kernel", "");
  r.layers.clear();
  if (j.contains("layers")) {
    for (const nlohmann::json& l : j.at("layers")) r.layers.push_back({l.at("kernel"), l.at("impl")});
  }
  j.at("target").get_to(r.target);
  j.at("version").get_to(r.version);
  j.at("repro").get_to(r.repro);
}

}  // namespace lowbit::protocol
