#pragma once
// The routes of regression tracking (docs/regressions.md):
//   GET /api/v1/sweeps/{id}/regressions?baseline=&alpha=&min_effect=&min_drop=
// Handlers for api_routes.cpp's table.

#include <string>

#include "coordinator/api_routes.h"

namespace lowbit::coordinator::http_api {

Plan sweep_regressions(const Request& request, const std::string& param,
                       const RequestContext& context);

}  // namespace lowbit::coordinator::http_api
