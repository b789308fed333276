// EchoServer: a TCP echo server on 127.0.0.1 (ephemeral port, one Asio thread) for the WAN
// emulator's test and benchmark: what goes in comes back, so a round trip through a proxy in front
// of it measures the link. Started by its constructor, stopped by its destructor. Test-only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <thread>

namespace meridian::wan {

class EchoServer {
 public:
  EchoServer()
      : acceptor_(ioc_,
                  boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~EchoServer() {
    ioc_.stop();
    thread_.join();
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  using tcp = boost::asio::ip::tcp;

  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    void Read() {
      socket.async_read_some(boost::asio::buffer(buffer),
                             [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                               if (ec) return;
                               boost::asio::async_write(
                                   self->socket, boost::asio::buffer(self->buffer, n),
                                   [self](boost::system::error_code write_ec, size_t) {
                                     if (!write_ec) self->Read();
                                   });
                             });
    }
    tcp::socket socket;
    std::array<char, 65536> buffer{};
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->Read();
      Accept();
    });
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace meridian::wan
