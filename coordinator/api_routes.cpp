#include "coordinator/api_routes.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <charconv>
#include <ctime>
#include <map>
#include <string_view>
#include <vector>

#include "coordinator/api_bodies.h"
#include "coordinator/api_plan.h"
#include "coordinator/api_tracking.h"
#include "coordinator/http_errors.h"
#include "coordinator/results_csv.h"

namespace lowbit::coordinator::http_api {

namespace {

using Handler = Plan (*)(const Request&, const std::string& param, const RequestContext&);

struct Route {
  std::string_view pattern;  // segments; "{id}" and "{hash}" capture one segment
  http::verb verb;
  std::optional<Role> role;  // mutations need a role when there is a token file
  Handler handler;
};

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() != '/') return {"\x01"};  // not origin-form: matches no route
    path.remove_prefix(1);
    const std::size_t end = path.find('/');
    out.push_back(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return out;
}

std::string_view path_of(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  return target.substr(0, target.find('?'));
}

// Matches `path` against `pattern`; the captured segment goes to `param`.
bool matches(std::string_view pattern, const std::vector<std::string_view>& path,
             std::string& param) {
  const std::vector<std::string_view> want = segments(pattern);
  if (want.size() != path.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) {
      if (path[i].empty()) return false;
      param = std::string(path[i]);
    } else if (want[i] != path[i]) {
      return false;
    }
  }
  return true;
}

// --- routes ---------------------------------------------------------------------------------

Plan healthz(const Request&, const std::string&, const RequestContext&) {
  return answer(json_response(http::status::ok, {{"status", "ok"}}));
}

Plan metrics(const Request&, const std::string&, const RequestContext& context) {
  const Metrics* m = &context.metrics;
  return db([m](Backend& b) -> std::optional<Response> {
    StoreGauges gauges;
    for (const char* state : {"queued", "blocked", "leased", "done", "failed", "cancelled"}) {
      gauges.jobs_by_state[state] = 0;
    }
    for (const auto& [state, n] : b.store.job_counts()) gauges.jobs_by_state[to_string(state)] = n;
    gauges.active_leases = b.store.active_lease_count();
    gauges.workers = static_cast<std::int64_t>(b.store.workers().size());
    gauges.sweeps = static_cast<std::int64_t>(b.store.sweeps().size());
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = m->render(gauges);
    response.prepare_payload();
    return response;
  });
}

Plan submit_sweep(const Request& request, const std::string&, const RequestContext&) {
  Body body = parse_json_body(request);
  if (body.error) return answer(std::move(*body.error));
  return db(
      [document = std::move(body.document)](Backend& b) -> std::optional<Response> {
        auto outcome = b.scheduler.submit(document);
        if (!outcome.ok()) return error_from(outcome);
        Response response = json_response(http::status::created, outcome.value);
        response.set(http::field::location, fmt::format("/api/v1/sweeps/{}", outcome.value.id));
        return response;
      },
      true);
}

Plan list_sweeps(const Request&, const std::string&, const RequestContext&) {
  return db([](Backend& b) -> std::optional<Response> {
    return json_response(http::status::ok, {{"sweeps", b.scheduler.list()}});
  });
}

Plan get_sweep(const Request&, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("sweep", param));
  return db([id = *id](Backend& b) -> std::optional<Response> {
    auto status = b.scheduler.status(id);
    if (!status.ok()) return error_from(status);
    nlohmann::json doc = status.value;
    doc["skipped"] = b.scheduler.skipped(id).value;
    return json_response(http::status::ok, doc);
  });
}

Plan sweep_results(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("sweep", param));
  const auto query = query_of(request);
  const auto format = query.find("format");
  const std::string wanted = format == query.end() ? "json" : format->second;
  if (wanted != "json" && wanted != "csv") {
    return answer(error_response(
        http::status::bad_request,
        fmt::format("query parameter format: \"{}\" is not one of json, csv", wanted)));
  }
  return db([id = *id, csv = wanted == "csv"](Backend& b) -> std::optional<Response> {
    auto results = b.scheduler.results(id);
    if (!results.ok()) return error_from(results);
    if (!csv) return json_response(http::status::ok, {{"id", id}, {"results", results.value}});
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/csv; charset=utf-8");
    response.body() = results_csv(results.value);
    response.prepare_payload();
    return response;
  });
}

Plan cancel_sweep(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("sweep", param));
  if (auto error = expect_empty_object(request)) return answer(std::move(*error));
  return db([id = *id](Backend& b) -> std::optional<Response> {
    auto outcome = b.scheduler.cancel(id);
    if (!outcome.ok()) return error_from(outcome);
    auto status = b.scheduler.status(id);
    return json_response(http::status::ok, status.value);
  });
}

Plan register_worker(const Request& request, const std::string&, const RequestContext&) {
  Body body = parse_json_body(request, &worker_schema());
  if (body.error) return answer(std::move(*body.error));
  std::optional<std::string> name;
  if (body.document.contains("name")) name = body.document["name"].get<std::string>();
  protocol::Target target = body.document["target"].get<protocol::Target>();
  return db([name, target](Backend& b) -> std::optional<Response> {
    auto outcome = b.scheduler.register_worker(name, target);
    if (!outcome.ok()) return error_from(outcome);
    const auto row = b.store.worker(outcome.value);
    return json_response(http::status::ok, {{"id", outcome.value}, {"name", row->name}});
  });
}

nlohmann::json worker_json(const WorkerRow& row) {
  return {{"id", row.id},
          {"name", row.name},
          {"target", nlohmann::json::parse(row.fingerprint)},
          {"registered", iso_utc(row.registered_ms)},
          {"last_seen", iso_utc(row.last_seen_ms)}};
}

Plan list_workers(const Request&, const std::string&, const RequestContext&) {
  return db([](Backend& b) -> std::optional<Response> {
    nlohmann::json workers = nlohmann::json::array();
    for (const WorkerRow& row : b.store.workers()) workers.push_back(worker_json(row));
    return json_response(http::status::ok, {{"workers", workers}});
  });
}

// The targets registered workers offer: each distinct fingerprint once, with its workers.
Plan list_targets(const Request&, const std::string&, const RequestContext&) {
  return db([](Backend& b) -> std::optional<Response> {
    std::map<std::string, nlohmann::json> by_id;
    for (const WorkerRow& row : b.store.workers()) {
      nlohmann::json target = nlohmann::json::parse(row.fingerprint);
      const std::string id = target.value("id", "");
      auto [it, fresh] = by_id.try_emplace(id, std::move(target));
      if (fresh) it->second["workers"] = nlohmann::json::array();
      it->second["workers"].push_back(row.name);
    }
    nlohmann::json targets = nlohmann::json::array();
    for (auto& [id, target] : by_id) targets.push_back(std::move(target));
    return json_response(http::status::ok, {{"targets", targets}});
  });
}

Plan lease(const Request& request, const std::string&, const RequestContext& context) {
  Body body = parse_json_body(request, &lease_request_schema());
  if (body.error) return answer(std::move(*body.error));
  const WorkerId worker = body.document["worker_id"].get<WorkerId>();
  const double wait_s =
      std::min(body.document.value("wait_s", 0.0), context.limits.max_lease_wait_s);
  Plan plan = db([worker](Backend& b) -> std::optional<Response> {
    auto outcome = b.scheduler.lease(worker);
    if (!outcome.ok()) return error_from(outcome);
    if (!outcome.value) return std::nullopt;
    return json_response(http::status::ok, *outcome.value);
  });
  plan.wait_s = wait_s;
  return plan;
}

Plan heartbeat(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("lease", param));
  Body body = parse_json_body(request, &heartbeat_schema());
  if (body.error) return answer(std::move(*body.error));
  const WorkerId worker = body.document["worker_id"].get<WorkerId>();
  return db([id = *id, worker](Backend& b) -> std::optional<Response> {
    auto outcome = b.scheduler.heartbeat(id, worker);
    if (!outcome.ok()) return error_from(outcome);
    return json_response(http::status::ok,
                         {{"ttl_s", static_cast<double>(outcome.value.ttl_ms) / 1000.0},
                          {"timeout_s", static_cast<double>(outcome.value.timeout_ms) / 1000.0}});
  });
}

Plan post_result(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("lease", param));
  Body body = parse_json_body(request, &result_request_schema());
  if (body.error) return answer(std::move(*body.error));
  const WorkerId worker = body.document["worker_id"].get<WorkerId>();
  return db(
      [id = *id, worker,
       result = std::move(body.document["result"])](Backend& b) -> std::optional<Response> {
        auto outcome = b.scheduler.submit_result(id, worker, result);
        if (!outcome.ok()) return error_from(outcome);
        return json_response(http::status::ok,
                             {{"accepted", true}, {"duplicate", outcome.value.duplicate}});
      },
      true);
}

Plan post_failure(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("lease", param));
  Body body = parse_json_body(request, &failure_request_schema());
  if (body.error) return answer(std::move(*body.error));
  const WorkerId worker = body.document["worker_id"].get<WorkerId>();
  return db(
      [id = *id, worker,
       error = body.document["error"].get<std::string>()](Backend& b) -> std::optional<Response> {
        auto outcome = b.scheduler.report_failure(id, worker, error);
        if (!outcome.ok()) return error_from(outcome);
        return json_response(http::status::ok, nlohmann::json::object());
      },
      true);
}

// A stopping worker hands its lease back: the job is queued again at once (scheduler.h).
Plan post_release(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("lease", param));
  Body body = parse_json_body(request, &heartbeat_schema());  // {worker_id}
  if (body.error) return answer(std::move(*body.error));
  const WorkerId worker = body.document["worker_id"].get<WorkerId>();
  return db(
      [id = *id, worker](Backend& b) -> std::optional<Response> {
        auto outcome = b.scheduler.release(id, worker);
        if (!outcome.ok()) return error_from(outcome);
        return json_response(http::status::ok, nlohmann::json::object());
      },
      true);
}

Plan put_artifact(const Request& request, const std::string& hash, const RequestContext&) {
  std::vector<std::uint8_t> bytes(request.body().begin(), request.body().end());
  return db([hash, bytes = std::move(bytes)](Backend& b) -> std::optional<Response> {
    auto outcome = b.scheduler.put_artifact(hash, bytes);
    if (!outcome.ok()) return error_from(outcome);
    return json_response(outcome.value ? http::status::created : http::status::ok,
                         {{"hash", hash}, {"bytes", bytes.size()}, {"stored", outcome.value}});
  });
}

Plan get_artifact(const Request&, const std::string& hash, const RequestContext&) {
  return db([hash](Backend& b) -> std::optional<Response> {
    auto bytes = b.scheduler.artifact(hash);
    if (!bytes) return not_found("artifact", hash);
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "application/octet-stream");
    response.body().assign(bytes->begin(), bytes->end());
    response.prepare_payload();
    return response;
  });
}

constexpr std::string_view kArtifactPattern = "/api/v1/artifacts/{hash}";

const std::array<Route, 18> kRoutes = {{
    {"/healthz", http::verb::get, std::nullopt, healthz},
    {"/metrics", http::verb::get, std::nullopt, metrics},
    {"/api/v1/sweeps", http::verb::post, Role::kSubmit, submit_sweep},
    {"/api/v1/sweeps", http::verb::get, std::nullopt, list_sweeps},
    {"/api/v1/sweeps/{id}", http::verb::get, std::nullopt, get_sweep},
    {"/api/v1/sweeps/{id}/results", http::verb::get, std::nullopt, sweep_results},
    {"/api/v1/sweeps/{id}/cancel", http::verb::post, Role::kSubmit, cancel_sweep},
    {"/api/v1/sweeps/{id}/regressions", http::verb::get, std::nullopt, sweep_regressions},
    {"/api/v1/workers", http::verb::post, Role::kWorker, register_worker},
    {"/api/v1/workers", http::verb::get, std::nullopt, list_workers},
    {"/api/v1/targets", http::verb::get, std::nullopt, list_targets},
    {"/api/v1/leases", http::verb::post, Role::kWorker, lease},
    {"/api/v1/leases/{id}/heartbeat", http::verb::post, Role::kWorker, heartbeat},
    {"/api/v1/leases/{id}/result", http::verb::post, Role::kWorker, post_result},
    {"/api/v1/leases/{id}/failure", http::verb::post, Role::kWorker, post_failure},
    {"/api/v1/leases/{id}/release", http::verb::post, Role::kWorker, post_release},
    {kArtifactPattern, http::verb::put, Role::kWorker, put_artifact},
    {kArtifactPattern, http::verb::get, std::nullopt, get_artifact},
}};

}  // namespace

std::size_t body_limit(const Request& request, const ApiLimits& limits) {
  const auto path = segments(path_of(request));
  std::string param;
  if (request.method() == http::verb::put && matches(kArtifactPattern, path, param)) {
    return limits.artifact_body_bytes;
  }
  return limits.json_body_bytes;
}

std::string route_of(const Request& request) {
  const auto path = segments(path_of(request));
  std::string param;
  for (const Route& route : kRoutes) {
    if (matches(route.pattern, path, param)) {
      return fmt::format(
          "{} {}", std::string_view(request.method_string().data(), request.method_string().size()),
          route.pattern);
    }
  }
  return "unknown";
}

Plan plan_request(const Request& request, const RequestContext& context) {
  Plan plan;
  plan.route = route_of(request);
  // Without a token file, a client from elsewhere gets nothing, not even a 404.
  if (auto refused = context.auth.check(request, std::nullopt, context.loopback_client)) {
    plan.answer = std::move(refused);
    return plan;
  }
  const auto path = segments(path_of(request));
  std::vector<std::string> allowed;
  for (const Route& route : kRoutes) {
    std::string param;
    if (!matches(route.pattern, path, param)) continue;
    if (route.verb != request.method()) {
      allowed.emplace_back(http::to_string(route.verb));
      continue;
    }
    if (auto refused = context.auth.check(request, route.role, context.loopback_client)) {
      plan.answer = std::move(refused);
      return plan;
    }
    // Handlers read only documents their schema has accepted; should a conversion still throw,
    // the client gets a 400 naming it, and the server goes on.
    try {
      Plan routed = route.handler(request, param, context);
      routed.route = plan.route;
      return routed;
    } catch (const nlohmann::json::exception& e) {
      plan.answer = error_response(http::status::bad_request,
                                   fmt::format("unreadable request body: {}", e.what()), "");
      return plan;
    }
  }
  if (allowed.empty()) {
    plan.answer = error_response(http::status::not_found,
                                 fmt::format("no route {}", std::string_view(path_of(request))));
  } else {
    plan.answer = error_response(
        http::status::method_not_allowed,
        fmt::format(
            "{} does not take {}; it takes {}", std::string_view(path_of(request)),
            std::string_view(request.method_string().data(), request.method_string().size()),
            fmt::join(allowed, ", ")));
    plan.answer->set(http::field::allow, fmt::format("{}", fmt::join(allowed, ", ")));
  }
  return plan;
}

}  // namespace lowbit::coordinator::http_api
