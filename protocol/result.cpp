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

void to_json(nlohmann::json& j, const Latency& l) {
  j = {{"batch", l.batch},
       {"median_us", l.median_us},
       {"p90_us", l.p90_us},
       {"p99_us", l.p99_us},
       {"mean_us", l.mean_us},
       {"stddev_us", l.stddev_us},
       {"min_us", l.min_us},
       {"cv", l.cv},
       {"repetitions", l.repetitions},
       {"iterations", l.iterations},
       {"samples_us", l.samples_us},
       {"cpu_samples_us", l.cpu_samples_us},
       {"throughput_per_s", l.throughput_per_s},
       {"gflops", l.gflops},
       {"arithmetic_intensity", l.arithmetic_intensity},
       {"noisy", l.noisy}};
  if (l.pct_of_peak) j["pct_of_peak"] = *l.pct_of_peak;
  if (!l.bound.empty()) j["bound"] = l.bound;
}

void from_json(const nlohmann::json& j, Latency& l) {
  j.at("batch").get_to(l.batch);
  j.at("median_us").get_to(l.median_us);
  j.at("p90_us").get_to(l.p90_us);
  j.at("p99_us").get_to(l.p99_us);
  j.at("mean_us").get_to(l.mean_us);
  j.at("stddev_us").get_to(l.stddev_us);
  j.at("min_us").get_to(l.min_us);
  j.at("cv").get_to(l.cv);
  j.at("repetitions").get_to(l.repetitions);
  j.at("iterations").get_to(l.iterations);
  j.at("samples_us").get_to(l.samples_us);
  j.at("cpu_samples_us").get_to(l.cpu_samples_us);
  j.at("throughput_per_s").get_to(l.throughput_per_s);
  j.at("gflops").get_to(l.gflops);
  j.at("arithmetic_intensity").get_to(l.arithmetic_intensity);
  j.at("noisy").get_to(l.noisy);
  if (j.contains("pct_of_peak")) l.pct_of_peak = j.at("pct_of_peak").get<double>();
  l.bound = j.value("bound", "");
}

void to_json(nlohmann::json& j, const Measurement& m) {
  j = {{"batches", m.batches},
       {"repetitions", m.repetitions},
       {"min_time_ms", m.min_time_ms},
       {"warmup_ms", m.warmup_ms}};
}

void from_json(const nlohmann::json& j, Measurement& m) {
  j.at("batches").get_to(m.batches);
  j.at("repetitions").get_to(m.repetitions);
  j.at("min_time_ms").get_to(m.min_time_ms);
  j.at("warmup_ms").get_to(m.warmup_ms);
}

void to_json(nlohmann::json& j, const Context& c) {
  j = {{"date", c.date},
       {"host_name", c.host_name},
       {"num_cpus", c.num_cpus},
       {"mhz_per_cpu", c.mhz_per_cpu},
       {"cpu_scaling", c.cpu_scaling},
       {"load_avg_start", c.load_avg_start},
       {"load_avg_end", c.load_avg_end},
       {"overloaded", c.overloaded},
       {"os_threads", c.os_threads},
       {"peak_gflops_per_core", c.peak_gflops_per_core},
       {"read_gbytes_per_s", c.read_gbytes_per_s}};
  if (c.injected_slowdown) j["injected"] = {{"slowdown", *c.injected_slowdown}};
}

void from_json(const nlohmann::json& j, Context& c) {
  j.at("date").get_to(c.date);
  j.at("host_name").get_to(c.host_name);
  j.at("num_cpus").get_to(c.num_cpus);
  j.at("mhz_per_cpu").get_to(c.mhz_per_cpu);
  j.at("cpu_scaling").get_to(c.cpu_scaling);
  j.at("load_avg_start").get_to(c.load_avg_start);
  j.at("load_avg_end").get_to(c.load_avg_end);
  j.at("overloaded").get_to(c.overloaded);
  j.at("os_threads").get_to(c.os_threads);
  j.at("peak_gflops_per_core").get_to(c.peak_gflops_per_core);
  j.at("read_gbytes_per_s").get_to(c.read_gbytes_per_s);
  if (j.contains("injected")) c.injected_slowdown = j.at("injected").at("slowdown").get<double>();
}

void to_json(nlohmann::json& j, const Result& r) {
  j = nlohmann::json::object();
  j["config"] = r.config;
  j["config_hash"] = r.config_hash;
  j["status"] = r.status;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.accuracy) {
    const Accuracy& a = *r.accuracy;
    j["accuracy"] = {{"top1", a.top1},     {"baseline_top1", a.baseline_top1},
                     {"delta", a.delta},   {"agreement", a.agreement},
                     {"images", a.images}, {"correct", a.correct}};
  }
  if (r.base_model) {
    const BaseModel& b = *r.base_model;
    j["base_model"] = {{"hash", b.hash},
                       {"cache_key", b.cache_key},
                       {"cache_hit", b.cache_hit},
                       {"validation_top1", b.validation_top1}};
  }
  if (r.distillation) {
    const Distillation& d = *r.distillation;
    j["distillation"] = {{"teacher_top1", d.teacher_top1},
                         {"scratch_top1", d.scratch_top1},
                         {"teacher_hash", d.teacher_hash},
                         {"scratch_hash", d.scratch_hash}};
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
  if (r.error) {
    j["error"] = {{"max_rel", r.error->max_rel}};
    if (r.error->sqnr_db) j["error"]["sqnr_db"] = *r.error->sqnr_db;
  }
  if (r.policy) j["policy"] = *r.policy;
  if (r.candidates) j["candidates"] = *r.candidates;
  if (!r.latency.empty()) j["latency"] = r.latency;
  if (r.measurement) j["measurement"] = *r.measurement;
  if (r.context) j["context"] = *r.context;
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
    r.accuracy = Accuracy{a.at("top1"),      a.at("baseline_top1"), a.at("delta"),
                          a.at("agreement"), a.at("images"),        a.at("correct")};
  }
  if (j.contains("base_model")) {
    const nlohmann::json& b = j.at("base_model");
    r.base_model =
        BaseModel{b.at("hash"), b.at("cache_key"), b.at("cache_hit"), b.at("validation_top1")};
  }
  if (j.contains("distillation")) {
    const nlohmann::json& d = j.at("distillation");
    r.distillation = Distillation{d.at("teacher_top1"), d.at("scratch_top1"), d.at("teacher_hash"),
                                  d.at("scratch_hash")};
  }
  r.sparsity = j.value("sparsity", 0.0);
  r.params_nonzero = j.value("params_nonzero", std::int64_t{0});
  r.model_bytes = j.value("model_bytes", std::int64_t{0});
  r.weights = j.value("weights", "real");
  r.train_seconds = j.value("train_seconds", 0.0);
  r.kernel = j.value("kernel", "");
  r.layers.clear();
  if (j.contains("layers")) {
    for (const nlohmann::json& l : j.at("layers"))
      r.layers.push_back({l.at("kernel"), l.at("impl")});
  }
  if (j.contains("error")) {
    const nlohmann::json& e = j.at("error");
    r.error = GemmError{e.at("max_rel").get<double>(), std::nullopt};
    if (e.contains("sqnr_db")) r.error->sqnr_db = e.at("sqnr_db").get<double>();
  }
  if (j.contains("policy")) r.policy = j.at("policy");
  if (j.contains("candidates")) r.candidates = j.at("candidates");
  r.latency = j.value("latency", std::vector<Latency>{});
  if (j.contains("measurement")) r.measurement = j.at("measurement").get<Measurement>();
  if (j.contains("context")) r.context = j.at("context").get<Context>();
  j.at("target").get_to(r.target);
  j.at("version").get_to(r.version);
  j.at("repro").get_to(r.repro);
}

}  // namespace lowbit::protocol
