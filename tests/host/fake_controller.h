#pragma once
// fake_controller: the controller's end of a socketpair under a tcp_host_qpair, for tests that
// script what a controller sends. Reads whole PDUs (no digests) and writes crafted ones;
// waits at most 5 s for the host, failing the test (gtest assertions) instead of hanging.
// One thread at a time.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "proto/nvme_tcp_pdu.h"

namespace nvmfd {

// The controller side: reads whole PDUs (no digests) and writes crafted ones.
struct fake_controller {
  int fd;
  std::vector<std::byte> read_pdu() {
    std::vector<std::byte> buf(8);
    read_exact(buf.data(), 8);
    auto ch = load_wire<pdu_common_header>(buf.data());
    buf.resize(ch.plen.get());
    read_exact(buf.data() + 8, buf.size() - 8);
    return buf;
  }
  void read_exact(std::byte* p, size_t n) {
    size_t got = 0;
    while (got < n) {
      pollfd pf{fd, POLLIN, 0};
      ASSERT_GT(poll(&pf, 1, 5000), 0) << "timed out waiting for the host";
      ssize_t r = recv(fd, p + got, n - got, 0);
      ASSERT_GT(r, 0);
      got += static_cast<size_t>(r);
    }
  }
  template <class S>
  void send_pdu(S s, const std::vector<std::byte>& data = {}) {
    s.ch.hlen = sizeof(S);
    s.ch.pdo = data.empty() ? 0 : sizeof(S);
    s.ch.plen = static_cast<uint32_t>(sizeof(S) + data.size());
    std::vector<std::byte> out(sizeof(S));
    std::memcpy(out.data(), &s, sizeof(S));
    out.insert(out.end(), data.begin(), data.end());
    ASSERT_EQ(send(fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
  }
  // The data of a controller-to-host transfer in one C2HData PDU (a CapsuleResp follows).
  void send_data(uint16_t cid, const std::vector<std::byte>& data) {
    data_pdu d{};
    d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
    d.ch.flags = pdu_flags::last_pdu;
    d.cccid = cid;
    d.datal = static_cast<uint32_t>(data.size());
    send_pdu(d, data);
  }
  void respond(uint16_t cid, nvme_status st = {}) {
    capsule_resp_pdu r{};
    r.ch.type = static_cast<uint8_t>(pdu_type::capsule_resp);
    r.cqe.cid = cid;
    r.cqe.status = st.encode();
    send_pdu(r);
  }
};

}  // namespace nvmfd
