#include "scripted_controller.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "proto/fabrics.h"
#include "proto/nvme_tcp_pdu.h"

namespace nvmfd::test {

namespace {

constexpr uint32_t maxh2cdata = 128 * 1024;

bool read_exact(int fd, std::byte* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_all(int fd, const std::byte* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// One whole PDU (no digests are ever enabled), or empty at EOF.
std::vector<std::byte> read_pdu(int fd) {
  std::vector<std::byte> pdu(sizeof(pdu_common_header));
  if (!read_exact(fd, pdu.data(), pdu.size())) return {};
  uint32_t plen = load_wire<pdu_common_header>(pdu.data()).plen.get();
  if (plen < pdu.size() || plen > (16u << 20)) return {};
  pdu.resize(plen);
  if (!read_exact(fd, pdu.data() + sizeof(pdu_common_header), plen - sizeof(pdu_common_header))) return {};
  return pdu;
}

template <class S>
void append_pdu(std::vector<std::byte>& out, S s, std::span<const std::byte> data = {}) {
  s.ch.hlen = sizeof(S);
  s.ch.pdo = data.empty() ? 0 : sizeof(S);
  s.ch.plen = static_cast<uint32_t>(sizeof(S) + data.size());
  size_t at = out.size();
  out.resize(at + sizeof(S));
  std::memcpy(out.data() + at, &s, sizeof(S));
  out.insert(out.end(), data.begin(), data.end());
}

}  // namespace

scripted_controller::scripted_controller() {
  id_ctrl.cntrltype = static_cast<uint8_t>(controller_type::io);
  id_ctrl.mdts = 5;
  id_ctrl.ioccsz = 4;
  id_ctrl.iorcsz = 1;
  id_ctrl.nn = 1024;
}

identify_namespace scripted_controller::make_namespace(uint8_t lbads, uint64_t num_blocks) {
  identify_namespace ns{};
  ns.nsze = num_blocks;
  ns.ncap = num_blocks;
  ns.nuse = num_blocks;
  ns.lbaf[0].lbads = lbads;
  return ns;
}

void scripted_controller::start(script s) {
  script_ = std::move(s);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("scripted_controller: cannot listen on 127.0.0.1");
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

scripted_controller::~scripted_controller() {
  stopping_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lk(mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : conns_) t.join();
  for (int fd : conn_fds_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::vector<scripted_controller::command> scripted_controller::commands() const {
  std::lock_guard lk(mu_);
  return log_;
}

void scripted_controller::accept_loop() {
  while (!stopping_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard lk(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    conn_fds_.push_back(fd);
    conns_.emplace_back([this, fd] { serve(fd); });
  }
}

void scripted_controller::serve(int fd) {
  auto icreq = read_pdu(fd);
  if (icreq.size() != sizeof(ic_req_pdu)) return;
  ic_resp_pdu icresp{};
  icresp.ch.type = static_cast<uint8_t>(pdu_type::ic_resp);
  icresp.maxh2cdata = maxh2cdata;
  std::vector<std::byte> out;
  append_pdu(out, icresp);
  if (!write_all(fd, out.data(), out.size())) return;
  uint16_t qid = 0;
  for (;;) {
    auto pdu = read_pdu(fd);
    if (pdu.size() < sizeof(capsule_cmd_pdu)) return;
    auto cap = load_wire<capsule_cmd_pdu>(pdu.data());
    if (cap.ch.type != static_cast<uint8_t>(pdu_type::capsule_cmd)) return;
    command c;
    c.sqe = cap.sqe;
    if (cap.ch.pdo) c.data.assign(pdu.begin() + cap.ch.pdo, pdu.end());
    c.in_capsule_bytes = static_cast<uint32_t>(c.data.size());
    if (c.sqe.opcode == static_cast<uint8_t>(admin_opcode::fabrics) &&
        c.sqe.nsid.raw[0] == static_cast<uint8_t>(fabrics_type::connect))
      qid = decode_connect(c.sqe).qid.value;
    c.qid = qid;
    uint32_t sgl_len = c.sqe.sgl.length.get();
    bool writes = (c.sqe.opcode & 3) == 1 && c.sqe.opcode != static_cast<uint8_t>(admin_opcode::fabrics);
    if (writes && c.data.empty() && sgl_len > 0) {  // one R2T for all of it
      r2t_pdu r{};
      r.ch.type = static_cast<uint8_t>(pdu_type::r2t);
      r.cccid = c.sqe.cid.get();
      r.ttag = 1;
      r.r2tl = sgl_len;
      out.clear();
      append_pdu(out, r);
      if (!write_all(fd, out.data(), out.size())) return;
      while (c.data.size() < sgl_len) {
        auto d = read_pdu(fd);
        if (d.size() < sizeof(data_pdu)) return;
        auto h = load_wire<data_pdu>(d.data());
        c.data.insert(c.data.end(), d.begin() + h.ch.pdo, d.end());
      }
    }
    {
      std::lock_guard lk(mu_);
      log_.push_back(c);
    }
    std::optional<reply> scripted = script_ ? script_(c) : std::nullopt;
    reply rep = scripted ? std::move(*scripted) : default_reply(c);
    if (c.sqe.opcode == static_cast<uint8_t>(admin_opcode::async_event_request) && !scripted) continue;  // held
    out.clear();
    if (!rep.raw.empty()) {
      out = std::move(rep.raw);
    } else {
      if (!rep.data.empty()) {
        rep.data.resize(sgl_len);
        data_pdu d{};
        d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
        d.ch.flags = pdu_flags::last_pdu;
        d.cccid = c.sqe.cid.get();
        d.datal = sgl_len;
        append_pdu(out, d, rep.data);
      }
      capsule_resp_pdu r{};
      r.ch.type = static_cast<uint8_t>(pdu_type::capsule_resp);
      r.cqe.cid = c.sqe.cid.get();
      r.cqe.status = rep.status.encode();
      r.cqe.dw0 = rep.dw0;
      r.cqe.dw1 = rep.dw1;
      append_pdu(out, r);
    }
    if (!write_all(fd, out.data(), out.size())) return;
  }
}

scripted_controller::reply scripted_controller::default_reply(const command& c) const {
  reply r;
  const nvme_sqe& s = c.sqe;
  uint32_t sgl_len = s.sgl.length.get();
  auto bytes_of = [](const auto& v) {
    std::vector<std::byte> b(sizeof(v));
    std::memcpy(b.data(), &v, sizeof(v));
    return b;
  };
  switch (s.opcode) {
    case static_cast<uint8_t>(admin_opcode::fabrics): {
      auto type = static_cast<fabrics_type>(s.nsid.raw[0]);
      if (type == fabrics_type::connect) r.dw0 = 1;  // cntlid
      if (type == fabrics_type::property_get) {
        auto p = load_wire<property_command>(&s);
        // CAP: MQES 127, TO 500 ms, CSS NVM; CSTS: ready; VS 2.0.
        uint64_t v = p.ofst.get() == 0x00 ? (127 | (uint64_t{1} << 24) | (uint64_t{1} << 37))
                     : p.ofst.get() == 0x1c ? 1
                     : p.ofst.get() == 0x08 ? 0x00020000
                                            : 0;
        r.dw0 = static_cast<uint32_t>(v);
        r.dw1 = static_cast<uint32_t>(v >> 32);
      }
      return r;
    }
    case static_cast<uint8_t>(admin_opcode::identify): {
      auto cns = static_cast<identify_cns>(s.cdw10.get() & 0xff);
      uint32_t nsid = s.nsid.get();
      r.data.assign(4096, std::byte{0});
      if (cns == identify_cns::controller) r.data = bytes_of(id_ctrl);
      if (cns == identify_cns::active_namespace_list) {
        size_t i = 0;
        for (auto& [id, ns] : namespaces)
          if (id > nsid && i < 1024) {
            le32 v{};
            v = id;
            std::memcpy(r.data.data() + 4 * i++, &v, 4);
          }
      }
      if (cns == identify_cns::namespace_) {
        auto it = namespaces.find(nsid);
        if (it == namespaces.end()) return reply{nvme_status::generic(sc_generic::invalid_namespace_or_format, false)};
        r.data = bytes_of(it->second);
      }
      return r;
    }
    case static_cast<uint8_t>(admin_opcode::set_features):
      return r;  // Number of Queues: dw0 0 grants one submission and one completion queue
    default:
      if (c.qid == 0 && s.opcode == static_cast<uint8_t>(admin_opcode::get_log_page)) r.data.assign(sgl_len, std::byte{0});
      if (c.qid != 0 && s.opcode == static_cast<uint8_t>(io_opcode::read)) r.data.assign(sgl_len, std::byte{0});
      return r;
  }
}

}  // namespace nvmfd::test
