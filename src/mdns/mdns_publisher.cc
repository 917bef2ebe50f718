#include "mdns/mdns_publisher.h"

#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <list>

#include "base/log.h"
#include "mdns/avahi_connection.h"
#include "mdns/local_interface.h"
#include "mdns/nvme_disc_service.h"

namespace nvmfd {

namespace {

constexpr size_t max_instance_name = 63;  // RFC 6763 4.1.1
constexpr int max_collision_renames = 16;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string h(buf);
  return h.substr(0, h.find('.'));
}

bool is_ipv6(const std::string& traddr) { return traddr.find(':') != std::string::npos; }
bool is_wildcard(const std::string& traddr) { return traddr == "0.0.0.0" || traddr == "::"; }

}  // namespace

struct mdns_publisher::service {
  mdns_listener listener;
  std::string name;
  AvahiEntryGroup* group = nullptr;
  bool committed = false;
  bool established = false;
};

class mdns_publisher::impl {
 public:
  explicit impl(std::string prefix) : prefix_(std::move(prefix)), host_(host_name()) {}

  // Everything below on the loop.
  ~impl() {
    if (!conn_) return;
    for (auto& s : services_) drop(s);  // withdraws: the daemon sends goodbyes
    conn_.reset();
  }

  result<void> connect(reactor& loop) {
    auto c = avahi_connection::open(loop, [this](AvahiClient* client, AvahiClientState st) { on_client_state(client, st); });
    if (!c) return c.take_err();
    conn_ = std::move(c.value());
    return success();
  }

  void publish(const std::vector<mdns_listener>& wanted) {
    for (auto it = services_.begin(); it != services_.end();) {
      if (std::find(wanted.begin(), wanted.end(), it->listener) != wanted.end()) {
        ++it;
        continue;
      }
      NVMFD_LOG_INFO("mDNS: withdrawing '{}'", it->name);
      drop(*it);
      it = services_.erase(it);
    }
    for (auto& l : wanted) {
      if (std::any_of(services_.begin(), services_.end(), [&](const service& s) { return s.listener == l; })) continue;
      service& s = services_.emplace_back();
      s.listener = l;
      s.name = fmt::format("{} {} {}:{}", prefix_, host_, l.traddr, l.port).substr(0, max_instance_name);
      AvahiClient* c = conn_->client();
      if (c && avahi_client_get_state(c) == AVAHI_CLIENT_S_RUNNING) add(c, s);
    }
  }

  std::vector<std::string> established() {
    std::vector<std::string> out;
    for (auto& s : services_)
      if (s.established) out.push_back(s.name);
    return out;
  }

 private:
  // Avahi's callback.
  void on_client_state(AvahiClient* c, AvahiClientState st) {
    switch (st) {
      case AVAHI_CLIENT_S_RUNNING:
        for (auto& s : services_)
          if (!s.committed) add(c, s);
        break;
      case AVAHI_CLIENT_S_COLLISION:
      case AVAHI_CLIENT_S_REGISTERING:
        // The host name is being (re)registered: services wait for S_RUNNING.
        for (auto& s : services_)
          if (s.group) {
            avahi_entry_group_reset(s.group);
            s.committed = s.established = false;
          }
        break;
      case AVAHI_CLIENT_CONNECTING:
      case AVAHI_CLIENT_FAILURE:
        // The daemon is gone: its entry groups with it. Registered again at S_RUNNING.
        for (auto& s : services_) drop(s);
        break;
    }
  }

  static void on_group_state(AvahiEntryGroup* g, AvahiEntryGroupState st, void* arg) {
    auto* s = static_cast<service*>(arg);
    if (s->group && s->group != g) return;
    switch (st) {
      case AVAHI_ENTRY_GROUP_ESTABLISHED:
        s->established = true;
        NVMFD_LOG_INFO("mDNS: published '{}' ({}:{})", s->name, s->listener.traddr, s->listener.port);
        break;
      case AVAHI_ENTRY_GROUP_COLLISION:
        // Another host has this name: take the next alternative and register again.
        s->established = false;
        rename(*s);
        avahi_entry_group_reset(g);
        s->committed = false;
        add(avahi_entry_group_get_client(g), *s);
        break;
      case AVAHI_ENTRY_GROUP_FAILURE:
        s->established = false;
        NVMFD_LOG_WARN("mDNS: publishing '{}' failed: {}", s->name,
                       avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
        break;
      default:
        break;
    }
  }

  static void rename(service& s) {
    char* alt = avahi_alternative_service_name(s.name.c_str());
    NVMFD_LOG_WARN("mDNS: service name '{}' is taken; using '{}'", s.name, alt);
    s.name = alt;
    avahi_free(alt);
  }

  // Registers s (its group created if needed) and commits. On the loop.
  static void add(AvahiClient* c, service& s) {
    if (!s.group) {
      s.group = avahi_entry_group_new(c, on_group_state, &s);
      if (!s.group) {
        NVMFD_LOG_WARN("mDNS: cannot create an entry group: {}", avahi_strerror(avahi_client_errno(c)));
        return;
      }
    }
    const std::string& a = s.listener.traddr;
    unsigned ifindex = local_interface_of(a);
    if (ifindex == 0 && !is_wildcard(a))
      NVMFD_LOG_WARN("mDNS: {} is on no local interface; publishing '{}' on all", a, s.name);
    AvahiIfIndex iface = ifindex ? AvahiIfIndex(ifindex) : AVAHI_IF_UNSPEC;
    AvahiProtocol proto = a == "::" ? AVAHI_PROTO_UNSPEC : is_ipv6(a) ? AVAHI_PROTO_INET6 : AVAHI_PROTO_INET;
    std::string txt_p = fmt::format("{}={}", nvme_disc_txt_transport_key, nvme_disc_transport_tcp);
    std::string txt_nqn = fmt::format("{}={}", nvme_disc_txt_nqn_key, nvme_disc_nqn);
    std::string type(nvme_disc_service_type);
    for (int attempt = 0;; ++attempt) {
      int r = avahi_entry_group_add_service(s.group, iface, proto, AvahiPublishFlags(0), s.name.c_str(), type.c_str(),
                                            nullptr, nullptr, s.listener.port, txt_p.c_str(), txt_nqn.c_str(),
                                            static_cast<const char*>(nullptr));
      if (r == AVAHI_ERR_COLLISION && attempt < max_collision_renames) {  // a local name clash
        rename(s);
        continue;
      }
      if (r < 0) {
        NVMFD_LOG_WARN("mDNS: cannot add '{}': {}", s.name, avahi_strerror(r));
        return;
      }
      break;
    }
    if (int r = avahi_entry_group_commit(s.group); r < 0) {
      NVMFD_LOG_WARN("mDNS: cannot commit '{}': {}", s.name, avahi_strerror(r));
      return;
    }
    s.committed = true;
  }

  // Withdraws s: freeing the group removes its records. On the loop.
  static void drop(service& s) {
    if (s.group) avahi_entry_group_free(s.group);
    s.group = nullptr;
    s.committed = s.established = false;
  }

  std::string prefix_;
  std::string host_;
  std::list<service> services_;  // a list: group callbacks hold service pointers
  std::unique_ptr<avahi_connection> conn_;
};

mdns_publisher::mdns_publisher(reactor& loop, std::unique_ptr<impl> i) : loop_(loop), impl_(std::move(i)) {}
mdns_publisher::~mdns_publisher() {
  run_on_loop(loop_, [&] { impl_.reset(); });
}

result<std::unique_ptr<mdns_publisher>> mdns_publisher::start(reactor& loop, std::string prefix) {
  auto i = std::make_unique<impl>(std::move(prefix));
  result<void> r = success();
  run_on_loop(loop, [&] {
    r = i->connect(loop);
    if (!r) i.reset();
  });
  if (!r) return r.take_err();
  return std::unique_ptr<mdns_publisher>(new mdns_publisher(loop, std::move(i)));
}

void mdns_publisher::publish(const std::vector<mdns_listener>& listeners) {
  run_on_loop(loop_, [&] { impl_->publish(listeners); });
}

std::vector<std::string> mdns_publisher::established() const {
  std::vector<std::string> out;
  run_on_loop(loop_, [&] { out = impl_->established(); });
  return out;
}

}  // namespace nvmfd
