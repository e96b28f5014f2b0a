#include "tests/coordinator/http_fixture.h"

namespace lowbit::testing {

std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  net::io_context ioc;
  coordinator::http_api::beast::tcp_stream stream(ioc);
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  // The server may stop reading early (a 413); what it answered is still there to read.
  net::write(stream.socket(), net::buffer(bytes), ec);
  std::string out;
  char chunk[4096];
  stream.socket().non_blocking(false);
  // The server closes after answering these requests; a 5 s receive timeout guards a hang.
  struct timeval tv {
    5, 0
  };
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) {
    const std::size_t n = stream.socket().read_some(net::buffer(chunk), ec);
    if (ec || n == 0) break;
    out.append(chunk, n);
  }
  return out;
}

}  // namespace lowbit::testing
