#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "apps/nvmfctl/rpc_client.h"

namespace nvmfd::ctl {
namespace {

// A bound Unix socket at path (closed at scope end; the file stays until unlinked).
struct bound_socket {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  explicit bound_socket(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  }
  ~bound_socket() { close(fd); }
};

TEST(DefaultRpcSocket, PrefersTheUsualSocketAndFallsBackToTheServiceOne) {
  char tmpl[] = "/tmp/nvmfctl_sock.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string usual = dir + "/usual.sock", service = dir + "/service.sock";
  EXPECT_EQ(default_rpc_socket(usual, service), usual);  // neither exists: the usual one's error
  {
    bound_socket s(service);
    EXPECT_EQ(default_rpc_socket(usual, service), service);
    bound_socket u(usual);
    EXPECT_EQ(default_rpc_socket(usual, service), usual);  // both: the usual one
  }
  unlink(usual.c_str());
  unlink(service.c_str());
  std::string plain = dir + "/plain";
  close(creat(plain.c_str(), 0600));
  EXPECT_EQ(default_rpc_socket(usual, plain), usual);  // not a socket: no fallback
  unlink(plain.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace nvmfd::ctl
