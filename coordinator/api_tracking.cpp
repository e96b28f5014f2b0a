#include "coordinator/api_tracking.h"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

#include "coordinator/api_plan.h"
#include "coordinator/http_errors.h"
#include "coordinator/regressions.h"

namespace lowbit::coordinator::http_api {

namespace {

// An unknown parameter is a mistake (a misspelt `min-effect` would silently use the default).
std::optional<Response> unknown_parameter(const std::map<std::string, std::string>& query,
                                          const std::set<std::string>& known) {
  for (const auto& [name, value] : query) {
    if (!known.contains(name)) {
      std::string names;
      for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
      return error_response(http::status::bad_request,
                            fmt::format("query parameter {}: unknown (known: {})", name, names));
    }
  }
  return std::nullopt;
}

}  // namespace

Plan sweep_regressions(const Request& request, const std::string& param, const RequestContext&) {
  const auto id = parse_id(param);
  if (!id) return answer(not_found("sweep", param));
  const auto query = query_of(request);
  if (auto error = unknown_parameter(query, {"baseline", "alpha", "min_effect", "min_drop"})) {
    return answer(std::move(*error));
  }
  RegressionRequest wanted;
  wanted.sweep = *id;
  try {
    if (const auto it = query.find("baseline"); it != query.end()) {
      wanted.baseline = parse_id(it->second);
      if (!wanted.baseline) {
        throw std::invalid_argument(
            fmt::format("query parameter baseline: \"{}\" is not a sweep id", it->second));
      }
    }
    wanted.options.alpha = number_parameter(query, "alpha").value_or(wanted.options.alpha);
    wanted.options.min_effect =
        number_parameter(query, "min_effect").value_or(wanted.options.min_effect);
    wanted.options.min_drop = number_parameter(query, "min_drop").value_or(wanted.options.min_drop);
  } catch (const std::invalid_argument& e) {
    return answer(error_response(http::status::bad_request, e.what()));
  }
  if (const std::string error = check_options(wanted.options); !error.empty()) {
    return answer(error_response(http::status::bad_request, "query parameter " + error));
  }
  return db([wanted](Backend& b) -> std::optional<Response> {
    auto report = regressions(b.store, wanted);
    if (!report.ok()) return error_from(report);
    return json_response(http::status::ok, report.value);
  });
}

}  // namespace lowbit::coordinator::http_api
