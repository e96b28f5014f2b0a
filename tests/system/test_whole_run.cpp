// The whole service as users run it: `lowbit run`, and a `lowbit coordinator` with `lowbit
// worker` processes surviving SIGKILL, SIGSTOP and a coordinator restart. Real processes, a
// real SQLite file, loopback HTTP; TTLs and measurements short by flag.
#include <random>
#include <set>

#include "coordinator/sqlite.h"
#include "protocol/json_schema.h"
#include "tests/system/system_fixture.h"

using namespace lowbit::testing;
using lowbit::worker::CoordinatorClient;

namespace {

// One model cache for the suite: peaks are measured once, and the tiny base model trained once.
const std::string& shared_cache() {
  static TempDir dir("lowbit-system-cache");
  return dir.path();
}

std::int64_t submit(CoordinatorClient& client, const nlohmann::json& sweep) {
  return client.post("/api/v1/sweeps", sweep).at("id").get<std::int64_t>();
}

nlohmann::json results(CoordinatorClient& client, std::int64_t id) {
  return client.get("/api/v1/sweeps/" + std::to_string(id) + "/results?format=json").at("results");
}

// Every job done exactly once: as many results as jobs, no configuration twice.
void check_exactly_once(CoordinatorClient& client, std::int64_t id) {
  const nlohmann::json status = sweep_status(client, id);
  const nlohmann::json list = results(client, id);
  CHECK(status.at("counts").at("done") == status.at("jobs"));
  CHECK(list.size() == status.at("jobs").get<std::size_t>());
  std::set<std::string> configs;
  for (const nlohmann::json& r : list)
    configs.insert(r.at("config_hash").get<std::string>() +
                   r.at("target").at("id").get<std::string>());
  CHECK(configs.size() == list.size());
}

std::string integrity(const std::string& db) {
  lowbit::coordinator::Database database(db);
  return database.scalar_text("PRAGMA integrity_check");
}

}  // namespace

TEST_CASE(
    "lowbit run: a sweep in, every job done once, schema-valid results and a Pareto front out") {
  TempDir dir("lowbit-run");
  std::ofstream(dir.path() + "/tiny.json") << R"({
    "name": "tiny", "workload": {"kind": "mlp", "layers": [784, 16, 10],
      "training": {"epochs": 1, "train_images": 2000, "validation_images": 500}},
    "axes": {"pruning": [0, 0.5], "bits": [32, 8], "precision": ["fp32", "int8", "bf16"]},
    "pruning": {"method": "magnitude", "finetune_epochs": 0},
    "batches": [1, 8], "measurement": {"repetitions": 2, "min_time_ms": 1, "warmup_ms": 0}})";
  const auto r = run_command(kLowbit + " run " + dir.path() +
                             "/tiny.json --workers 2 --no-serve --json --db " + dir.path() +
                             "/run.db --cache " + shared_cache());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.starts_with("http://127.0.0.1:"));  // the bound URL first on stderr
  const nlohmann::json out = nlohmann::json::parse(r.out);
  // fp32 and bf16 at 32 and 8 bits, int8 at 8: 5 per pruning point; int8 at 32 is skipped.
  CHECK(out.at("counts").at("done") == 10);
  CHECK(out.at("results").size() == 10);
  CHECK(out.at("skipped").size() == 2);
  static const auto schema = lowbit::protocol::JsonSchema::load("result");
  for (const nlohmann::json& result : out.at("results")) {
    for (const auto& e : schema.validate(result)) FAIL_CHECK(e.to_string());
  }
  REQUIRE(out.at("pareto").size() == 2);  // batches 1 and 8
  CHECK(out.at("pareto")[0].at("batch") == 1);
  CHECK_FALSE(out.at("pareto")[0].at("points").empty());
  CHECK(integrity(dir.path() + "/run.db") == "ok");
}

TEST_CASE(
    "a worker SIGKILLed in the middle of a job: the job is requeued and finished by another") {
  TempDir dir("lowbit-kill-worker");
  // TTLs of a few seconds: a loaded CI machine can stall a healthy worker's heartbeat for a while.
  Coordinator coordinator(dir.path(), {"--lease-ttl", "2", "--max-attempts", "10"});
  CoordinatorClient client(coordinator.url(), "");
  const std::int64_t id = submit(client, gemm_sweep(1, 300));  // each job measures ≥ 2 × 300 ms
  auto a = start_worker(dir.path(), coordinator.url(), "a", shared_cache());
  REQUIRE(wait_until([&] { return sweep_status(client, id).at("counts").at("leased") == 1; }, 20));
  a->kill(SIGKILL);
  auto b = start_worker(dir.path(), coordinator.url(), "b", shared_cache());
  REQUIRE(wait_until([&] { return sweep_finished(client, id); }, 60));
  check_exactly_once(client, id);
  CHECK(sweep_status(client, id).at("counts").at("failed") == 0);
}

TEST_CASE(
    "a worker SIGTERMed mid-job gives its lease back: the job is requeued at once, same attempt") {
  TempDir dir("lowbit-sigterm-worker");
  // A TTL far longer than the test: only the given-back lease can requeue the job in time.
  Coordinator coordinator(dir.path(), {"--lease-ttl", "600"});
  CoordinatorClient client(coordinator.url(), "");
  nlohmann::json sweep = gemm_sweep(1, 300);
  sweep["axes"]["precision"] = {"fp32"};
  sweep["axes"]["bits"] = {32};
  const std::int64_t id = submit(client, sweep);
  auto a = start_worker(dir.path(), coordinator.url(), "a", shared_cache());
  REQUIRE(wait_until([&] { return sweep_status(client, id).at("counts").at("leased") == 1; }, 20));
  const int status = a->kill(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(a->log().find("given back") != std::string::npos);
  CHECK(sweep_status(client, id).at("counts").at("queued") == 1);
  auto b = start_worker(dir.path(), coordinator.url(), "b", shared_cache());
  REQUIRE(wait_until([&] { return sweep_finished(client, id); }, 30));
  check_exactly_once(client, id);
}

TEST_CASE(
    "the coordinator SIGKILLed mid-sweep and restarted on the same file: the sweep completes") {
  TempDir dir("lowbit-kill-coordinator");
  auto coordinator = std::make_unique<Coordinator>(
      dir.path(), std::vector<std::string>{"--lease-ttl", "3", "--max-attempts", "10"});
  const std::string url = coordinator->url();
  std::int64_t id = 0;
  {
    CoordinatorClient client(url, "");
    id = submit(client, gemm_sweep(2, 100));
  }
  auto w = start_worker(dir.path(), url, "w", shared_cache());
  REQUIRE(wait_until(
      [&] {
        CoordinatorClient client(url, "");
        return sweep_status(client, id).at("counts").at("done").get<int>() >= 1;
      },
      30));
  coordinator->process().kill(SIGKILL);
  coordinator = std::make_unique<Coordinator>(
      dir.path(), std::vector<std::string>{"--lease-ttl", "3", "--max-attempts", "10"},
      url.substr(7));  // the same port: the worker reconnects
  CoordinatorClient client(url, "");
  REQUIRE(wait_until([&] { return sweep_finished(client, id); }, 60));
  check_exactly_once(client, id);
  CHECK(w->running());  // it waited for the coordinator instead of crashing
  CHECK(integrity(coordinator->db()) == "ok");
}

TEST_CASE("an avx2-capped worker never gets a job for another ISA; that job waits and says why") {
  TempDir dir("lowbit-capability");
  Coordinator coordinator(dir.path(), {"--lease-ttl", "2"});
  CoordinatorClient client(coordinator.url(), "");
  const nlohmann::json targets = {{{"isa", "avx2"}}, {{"isa", "avx512_core"}}};
  nlohmann::json sweep = gemm_sweep(1, 1, targets);
  sweep["axes"]["precision"] = {"fp32"};
  sweep["axes"]["bits"] = {32};
  const std::int64_t id = submit(client, sweep);
  auto w =
      start_worker(dir.path(), coordinator.url(), "capped", shared_cache(), {"--max-isa", "avx2"});
  REQUIRE(wait_until([&] { return sweep_status(client, id).at("counts").at("done") == 1; }, 30));
  const nlohmann::json status = sweep_status(client, id);
  CHECK(status.at("counts").at("queued") == 1);
  CHECK(status.at("waiting").dump().find("avx512_core") != std::string::npos);
  const nlohmann::json list = results(client, id);
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("target").at("isa_cap") == "avx2");
  const auto r = run_command(kLowbit + " status " + std::to_string(id) + " --coordinator " +
                             coordinator.url());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("avx512_core") != std::string::npos);
}

TEST_CASE(
    "a worker SIGSTOPped past its lease: its late result is refused, the other worker's stands") {
  TempDir dir("lowbit-sigstop");
  Coordinator coordinator(dir.path(), {"--lease-ttl", "2", "--max-attempts", "10"});
  CoordinatorClient client(coordinator.url(), "");
  nlohmann::json sweep = gemm_sweep(1, 300);
  sweep["axes"]["precision"] = {"fp32"};
  sweep["axes"]["bits"] = {32};
  const std::int64_t id = submit(client, sweep);
  auto a = start_worker(dir.path(), coordinator.url(), "a", shared_cache());
  REQUIRE(wait_until([&] { return sweep_status(client, id).at("counts").at("leased") == 1; }, 20));
  a->signal(SIGSTOP);
  auto b = start_worker(dir.path(), coordinator.url(), "b", shared_cache());
  REQUIRE(wait_until([&] { return sweep_finished(client, id); }, 60));
  a->signal(SIGCONT);
  REQUIRE(wait_until([&] { return a->log().find("refused (409)") != std::string::npos; }, 20));
  check_exactly_once(client, id);
  CHECK(b->log().find("refused") == std::string::npos);
}

TEST_CASE(
    "churn: 60 short jobs, 3 workers, one SIGKILLed and restarted every 2 s: 60 results, none "
    "twice") {
  TempDir dir("lowbit-churn");
  Coordinator coordinator(dir.path(), {"--lease-ttl", "1.5", "--max-attempts", "20"});
  CoordinatorClient client(coordinator.url(), "");
  const std::int64_t id = submit(client, gemm_sweep(10, 20));
  REQUIRE(sweep_status(client, id).at("jobs") == 60);
  std::vector<std::unique_ptr<Process>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(
        start_worker(dir.path(), coordinator.url(), "w" + std::to_string(i), shared_cache()));
  }
  std::mt19937 rng(5);
  int kills = 0;
  const bool finished = wait_until(
      [&] {
        if (sweep_finished(client, id)) return true;
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const std::size_t victim = rng() % workers.size();
        workers[victim]->kill(SIGKILL);
        workers[victim] = start_worker(dir.path(), coordinator.url(), "w" + std::to_string(victim),
                                       shared_cache());
        ++kills;
        return false;
      },
      120);
  REQUIRE(finished);
  MESSAGE(kills << " workers killed and restarted");
  check_exactly_once(client, id);
  CHECK(sweep_status(client, id).at("counts").at("failed") == 0);
  CHECK(integrity(coordinator.db()) == "ok");
}
