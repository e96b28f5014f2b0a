#pragma once
// The API as a pure function of the request (after Beast's advanced server example): route,
// method, auth, body parsing and validation happen here without touching the database, and what
// needs the store comes back as a step for the database thread to run. The server owns sockets,
// threads and timers; this file owns what each route means.
//
// Routes (docs/coordinator.md "Routes" lists their bodies and answers):
//   GET  /healthz, GET /metrics
//   POST /api/v1/sweeps (submit)       GET /api/v1/sweeps       GET /api/v1/sweeps/{id}
//   GET  /api/v1/sweeps/{id}/results?format=json|csv           POST /api/v1/sweeps/{id}/cancel
//   GET  /api/v1/sweeps/{id}/regressions?baseline=&alpha=&min_effect=&min_drop= (api_tracking.h)
//   POST /api/v1/workers (worker)      GET /api/v1/workers      GET /api/v1/targets
//   POST /api/v1/leases (worker, long-poll)
//   POST /api/v1/leases/{id}/heartbeat|result|failure (worker)
//   PUT  /api/v1/artifacts/{hash} (worker)                      GET /api/v1/artifacts/{hash}

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "coordinator/auth.h"
#include "coordinator/http_types.h"
#include "coordinator/metrics.h"
#include "coordinator/scheduler.h"
#include "coordinator/store.h"

namespace lowbit::coordinator::http_api {

struct ApiLimits {
  std::size_t json_body_bytes = std::size_t{1} << 20;        // every JSON body
  std::size_t artifact_body_bytes = std::size_t{256} << 20;  // PUT /artifacts/{hash}
  double max_lease_wait_s = 30;  // the longest long-poll a lease request may ask for
};

// What the database thread works with. Only that thread ever touches them.
struct Backend {
  Store& store;
  Scheduler& scheduler;
};

// A step answers, or says "nothing yet" (nullopt) for a long-poll to retry after the next change.
using DbStep = std::function<std::optional<Response>(Backend&)>;

struct Plan {
  std::string route;               // the pattern, for metrics: "POST /api/v1/leases/{id}/result"
  std::optional<Response> answer;  // answered without the database
  DbStep step;                     // else this runs on the database thread
  double wait_s = 0;               // a step answering nullopt is retried this long, then 204
  bool may_free_jobs = false;      // after this step, retry waiting long-polls
};

struct RequestContext {
  const AuthPolicy& auth;
  const ApiLimits& limits;
  const Metrics& metrics;
  bool loopback_client = true;
};

// The body limit for a request, decided from its start line before any body byte is read.
std::size_t body_limit(const Request& request, const ApiLimits& limits);

// The route pattern of a request ("GET /api/v1/sweeps/{id}", or "unknown"), for metrics and logs.
std::string route_of(const Request& request);

Plan plan_request(const Request& request, const RequestContext& context);

}  // namespace lowbit::coordinator::http_api
