#include "cli/serve_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "coordinator/http_types.h"

namespace lowbit::cli {

ListenAddress parse_listen(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument(fmt::format("--listen: \"{}\" is not HOST:PORT", text));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code bad_host;
  coordinator::http_api::net::ip::make_address(host, bad_host);
  if (bad_host)
    throw std::invalid_argument(fmt::format("--listen: \"{}\" is not an IP address", host));
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    throw std::invalid_argument(
        fmt::format("--listen: port \"{}\" is not a number in 0..65535", port_text));
  }
  return {host, static_cast<std::uint16_t>(port)};
}

std::chrono::milliseconds reap_interval(coordinator::TimeMs lease_ttl_ms) {
  return std::chrono::milliseconds(std::clamp<coordinator::TimeMs>(lease_ttl_ms / 4, 10, 1000));
}

}  // namespace lowbit::cli
