#pragma once
// A folder of trained models keyed by everything that determines them: the
// training spec, the data's hash and the model format version. A different
// spec, other data or a new format gives a new key, so a stale file is never
// reused; equal keys reuse the file instead of retraining.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/model/model_file.h"
#include "kernels/train/train.h"

namespace lowbit::kernels {

// Canonical JSON of a training spec (stable key order and number formats).
nlohmann::json to_json(const TrainSpec& spec);

std::string model_cache_key(const TrainSpec& spec, const std::string& data_hash);
// For a model whose training is more than a spec (a distilled student names its teacher):
// `training` is the canonical JSON of everything that determines it.
std::string model_cache_key(const nlohmann::json& training, const std::string& data_hash);

// $XDG_CACHE_HOME/lowbit, else $HOME/.cache/lowbit, else ./.lowbit-cache.
std::filesystem::path default_cache_dir();

struct CachedModel {
  ModelArtifact artifact;
  std::string hash;  // content hash of the file
};

class ModelCache {
 public:
  explicit ModelCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path path_for(const std::string& key) const;

  // The model under `key`, or nothing on a miss. An unreadable or corrupt
  // file counts as a miss (and is replaced by the next store()).
  std::optional<CachedModel> load(const std::string& key) const;

  // Stores the artifact under `key`; returns its content hash.
  std::string store(const std::string& key, const ModelArtifact& artifact) const;

  // The file under `key` as stored, byte for byte (what a worker uploads), or nothing on a miss.
  std::optional<std::vector<std::uint8_t>> bytes(const std::string& key) const;

  // Stores a model file received from elsewhere under `key`, byte for byte, after checking that
  // its content hash is `hash` and that it reads as a model. Throws ModelFileError otherwise,
  // leaving the cache as it was.
  void install(const std::string& key, const std::string& hash,
               std::span<const std::uint8_t> file) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace lowbit::kernels
