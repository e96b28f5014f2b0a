#include "worker/worker_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernels/model/dataset.h"
#include "protocol/prepare_result.h"
#include "worker/backoff.h"
#include "worker/coordinator_client.h"
#include "worker/target_detect.h"

namespace lowbit::worker {
namespace {

using std::chrono::milliseconds;

class HttpArtifacts : public ArtifactStore {
 public:
  explicit HttpArtifacts(CoordinatorClient& client) : client_(client) {}
  void put(const std::string& hash, std::span<const std::uint8_t> bytes) override {
    client_.put_bytes("/api/v1/artifacts/" + hash, bytes);
  }
  std::optional<std::vector<std::uint8_t>> get(const std::string& hash) override {
    return client_.get_bytes("/api/v1/artifacts/" + hash);
  }

 private:
  CoordinatorClient& client_;
};

// Renews the lease every third of its TTL on its own connection until stopped, so a long job
// keeps its lease; notices when the coordinator says the lease is gone.
class Heartbeat {
 public:
  Heartbeat(const WorkerOptions& options, std::int64_t worker, std::int64_t lease, double ttl_s)
      : thread_([this, &options, worker, lease, ttl_s] { run(options, worker, lease, ttl_s); }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  bool lost() const { return lost_.load(); }

 private:
  void run(const WorkerOptions& options, std::int64_t worker, std::int64_t lease, double ttl_s) {
    CoordinatorClient client(options.coordinator_url, options.token,
                             milliseconds(static_cast<int>(std::max(0.2, ttl_s / 3) * 1000)));
    const auto period = std::chrono::duration<double>(std::max(0.02, ttl_s / 3.0));
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return done_; })) {
      lock.unlock();
      try {
        client.post(fmt::format("/api/v1/leases/{}/heartbeat", lease), {{"worker_id", worker}});
      } catch (const ApiError& e) {
        // Expired and requeued, or the job's timeout passed: the result will be refused.
        spdlog::warn("lease {} lost: {}", lease, e.what());
        lost_ = true;
        lock.lock();
        return;
      } catch (const Unreachable& e) {
        spdlog::warn("heartbeat: {}", e.what());  // keep trying while the TTL lasts
      }
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::atomic<bool> lost_{false};
  std::thread thread_;
};

// Posts until the coordinator answers: a result must not be lost to a coordinator restart. An
// ApiError (409: the lease expired and the job went elsewhere) ends it.
void post_until_answered(CoordinatorClient& client, const std::string& target,
                         const nlohmann::json& body, const WorkerOptions& options,
                         WorkerState& state) {
  Backoff backoff(options.backoff_min_s, options.backoff_max_s);
  for (;;) {
    try {
      client.post(target, body);
      return;
    } catch (const ApiError& e) {
      spdlog::warn("{}: refused ({}): {}", target, e.status, e.what());
      return;
    } catch (const Unreachable& e) {
      if (state.stop.load()) return;
      spdlog::warn("{}; retrying", e.what());
      sleep_unless_stopped(backoff.next(), state.stop);
    }
  }
}

std::int64_t register_worker(CoordinatorClient& client, const WorkerOptions& options,
                             WorkerState& state) {
  nlohmann::json body = {
      {"target", detect_target(options.settings.threads, options.settings.isa_cap)}};
  if (!options.name.empty()) body["name"] = options.name;
  Backoff backoff(options.backoff_min_s, options.backoff_max_s);
  while (!state.stop.load()) {
    try {
      const nlohmann::json answer = client.post("/api/v1/workers", body);
      const std::int64_t id = answer.at("id").get<std::int64_t>();
      spdlog::info("registered with {} as worker {} ({}), target {}", client.url(), id,
                   answer.value("name", ""), body["target"].value("label", ""));
      return id;
    } catch (const Unreachable& e) {
      spdlog::warn("{}; retrying", e.what());
      sleep_unless_stopped(backoff.next(), state.stop);
    }
  }
  return 0;
}

// Runs one leased job and delivers its outcome.
void run_job(const nlohmann::json& job, CoordinatorClient& client, const WorkerOptions& options,
             WorkerState& state) {
  const std::int64_t lease = job.at("lease").at("id").get<std::int64_t>();
  const std::string kind = job.at("kind").get<std::string>();
  const std::string base = fmt::format("/api/v1/leases/{}", lease);
  spdlog::info("job {} ({}, attempt {}) under lease {}", job.at("id").get<std::int64_t>(), kind,
               job.at("attempt").get<int>(), lease);
  state.current_lease = lease;
  nlohmann::json outcome;
  std::string error;
  {
    Heartbeat heartbeat(options, state.worker_id.load(), lease,
                        job.at("lease").at("ttl_s").get<double>());
    HttpArtifacts artifacts(client);
    try {
      if (kind == "prepare") {
        outcome = run_prepare_job(job.at("config"), options.settings, artifacts);
      } else {
        std::optional<protocol::PrepareResult> prepared;
        if (job.contains("prepared")) prepared = job.at("prepared").get<protocol::PrepareResult>();
        outcome = run_variant_job(job.at("config"), job.at("measurement"),
                                  prepared ? &*prepared : nullptr, options.settings, artifacts);
      }
    } catch (const std::exception& e) {  // the job's own error: reported, never a crash
      error = e.what();
    }
    if (heartbeat.lost())
      spdlog::warn("lease {} was lost while the job ran; posting anyway", lease);
  }
  if (error.empty()) {
    post_until_answered(client, base + "/result",
                        {{"worker_id", state.worker_id.load()}, {"result", outcome}}, options,
                        state);
  } else {
    spdlog::error("job failed: {}", error);
    post_until_answered(client, base + "/failure",
                        {{"worker_id", state.worker_id.load()}, {"error", error}}, options, state);
  }
  state.current_lease = 0;
}

}  // namespace

int run_worker(const WorkerOptions& options, WorkerState& state) {
  CoordinatorClient client(options.coordinator_url, options.token);
  state.worker_id = register_worker(client, options, state);
  Backoff backoff(options.backoff_min_s, options.backoff_max_s);
  int jobs = 0;
  const auto poll_timeout = milliseconds(static_cast<int>((options.lease_wait_s + 10.0) * 1000));
  while (!state.stop.load() && (options.max_jobs == 0 || jobs < options.max_jobs)) {
    nlohmann::json job;
    try {
      job = client.post("/api/v1/leases",
                        {{"worker_id", state.worker_id.load()}, {"wait_s", options.lease_wait_s}},
                        poll_timeout);
      backoff.reset();
    } catch (const Unreachable& e) {
      spdlog::warn("{}; retrying", e.what());
      sleep_unless_stopped(backoff.next(), state.stop);
      continue;
    } catch (const ApiError& e) {
      if (e.status != 404) throw;  // 401/403: this worker may not work here
      spdlog::warn("the coordinator does not know worker {} ({}); registering again",
                   state.worker_id.load(), e.what());
      state.worker_id = register_worker(client, options, state);
      continue;
    }
    if (job.is_null()) continue;  // 204: nothing to do within the wait
    if (state.stop.load()) {      // told to stop while the lease was on its way: hand it back
      release_lease(options, state.worker_id.load(), job.at("lease").at("id").get<std::int64_t>());
      break;
    }
    run_job(job, client, options, state);
    ++jobs;
  }
  return jobs;
}

void release_lease(const WorkerOptions& options, std::int64_t worker_id, std::int64_t lease_id) {
  try {
    CoordinatorClient client(options.coordinator_url, options.token, milliseconds(2000));
    client.post(fmt::format("/api/v1/leases/{}/release", lease_id), {{"worker_id", worker_id}});
    spdlog::info("lease {} given back", lease_id);
  } catch (const std::exception& e) {
    spdlog::warn("could not give lease {} back ({}): it will expire", lease_id, e.what());
  }
}

}  // namespace lowbit::worker
