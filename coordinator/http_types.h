#pragma once
// The one place that includes Beast for the coordinator's HTTP layer. Boost 1.74's
// asio/awaitable.hpp uses std::exchange without including <utility> (with C++20 and g++ 12 every
// translation unit that reaches Asio then fails to compile), so <utility> must come first there:
// include Beast through this header.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

namespace lowbit::coordinator::http_api {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

// Bodies are small JSON documents or artifacts bounded by ApiLimits, so a string body suffices.
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace lowbit::coordinator::http_api
