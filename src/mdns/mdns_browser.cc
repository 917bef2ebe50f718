#include "mdns/mdns_browser.h"

#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <strings.h>

#include <map>
#include <optional>
#include <tuple>

#include "base/log.h"
#include "mdns/avahi_connection.h"

namespace nvmfd {

namespace {

// One instance as DNS-SD sees it: the same name may come on several interfaces and protocols.
using instance_key = std::tuple<int, int, std::string, std::string, std::string>;

struct instance {
  AvahiServiceResolver* resolver = nullptr;   // while resolving
  std::optional<mdns_discovered_service> svc;  // once found() reported it
};

std::string txt_value(AvahiStringList* txt, std::string_view key) {
  for (AvahiStringList* l = txt; l; l = avahi_string_list_get_next(l)) {
    char* k = nullptr;
    char* v = nullptr;
    if (avahi_string_list_get_pair(l, &k, &v, nullptr) < 0) continue;
    bool match = key.size() == std::string_view(k).size() && strncasecmp(k, key.data(), key.size()) == 0;
    std::string value = match && v ? v : "";
    avahi_free(k);
    avahi_free(v);
    if (match) return value;
  }
  return {};
}

}  // namespace

class mdns_browser::impl {
 public:
  impl(callbacks cb, std::string type) : cb_(std::move(cb)), type_(std::move(type)) {}

  // On the loop.
  ~impl() {
    if (!conn_) return;
    forget_all(false);
    conn_.reset();
  }

  // On the loop.
  result<void> connect(reactor& loop) {
    auto c = avahi_connection::open(loop, [this](AvahiClient* client, AvahiClientState st) { on_client_state(client, st); });
    if (!c) return c.take_err();
    conn_ = std::move(c.value());
    if (!browser_ && avahi_client_get_state(conn_->client()) == AVAHI_CLIENT_S_RUNNING)
      return error{errc::io_error, "mDNS: cannot browse " + type_ + ": " + avahi_strerror(avahi_client_errno(conn_->client()))};
    return success();
  }

 private:
  // On the loop (Avahi's callbacks), the first time within avahi_connection::open().
  void on_client_state(AvahiClient* c, AvahiClientState st) {
    if (st == AVAHI_CLIENT_S_RUNNING && !browser_) {
      browser_ = avahi_service_browser_new(c, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type_.c_str(), nullptr,
                                           AvahiLookupFlags(0), on_browse, this);
      if (!browser_) NVMFD_LOG_WARN("mDNS: cannot browse {}: {}", type_, avahi_strerror(avahi_client_errno(c)));
    } else if (st == AVAHI_CLIENT_CONNECTING || st == AVAHI_CLIENT_FAILURE) {
      forget_all(true);  // the daemon is gone, and its browser and resolvers with it
    }
  }

  static void on_browse(AvahiServiceBrowser* b, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent ev,
                        const char* name, const char* type, const char* domain, AvahiLookupResultFlags,
                        void* arg) {
    auto* me = static_cast<impl*>(arg);
    if (ev == AVAHI_BROWSER_FAILURE) {
      NVMFD_LOG_WARN("mDNS: browsing {} failed: {}", me->type_,
                     avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b))));
      return;
    }
    if (ev != AVAHI_BROWSER_NEW && ev != AVAHI_BROWSER_REMOVE) return;  // ALL_FOR_NOW, CACHE_EXHAUSTED
    instance_key key{iface, proto, name, type, domain};
    if (ev == AVAHI_BROWSER_NEW) {
      if (me->instances_.count(key)) return;
      instance& in = me->instances_[key];
      // Resolve over the protocol it was seen on: an IPv4 announcement gives an IPv4 address.
      in.resolver = avahi_service_resolver_new(avahi_service_browser_get_client(b), iface, proto, name, type, domain,
                                               proto, AvahiLookupFlags(0), on_resolve, me);
      if (!in.resolver)
        NVMFD_LOG_WARN("mDNS: cannot resolve '{}': {}", name,
                       avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b))));
      return;
    }
    auto it = me->instances_.find(key);
    if (it == me->instances_.end()) return;
    if (it->second.resolver) avahi_service_resolver_free(it->second.resolver);
    std::optional<mdns_discovered_service> gone = std::move(it->second.svc);
    me->instances_.erase(it);
    if (gone && me->cb_.removed) me->cb_.removed(*gone);
  }

  static void on_resolve(AvahiServiceResolver* r, AvahiIfIndex iface, AvahiProtocol proto, AvahiResolverEvent ev,
                         const char* name, const char* type, const char* domain, const char*,
                         const AvahiAddress* address, uint16_t port, AvahiStringList* txt,
                         AvahiLookupResultFlags flags, void* arg) {
    auto* me = static_cast<impl*>(arg);
    auto it = me->instances_.find(instance_key{iface, proto, name, type, domain});
    if (it == me->instances_.end() || it->second.resolver != r) {
      avahi_service_resolver_free(r);
      return;
    }
    it->second.resolver = nullptr;
    if (ev != AVAHI_RESOLVER_FOUND || !address) {
      NVMFD_LOG_WARN("mDNS: resolving '{}' failed: {}", name,
                     avahi_strerror(avahi_client_errno(avahi_service_resolver_get_client(r))));
      avahi_service_resolver_free(r);
      return;
    }
    mdns_discovered_service s;
    s.name = name;
    s.type = type;
    s.domain = domain;
    s.interface = iface;
    s.adrfam = address->proto == AVAHI_PROTO_INET6 ? "IPv6" : "IPv4";
    char text[AVAHI_ADDRESS_STR_MAX] = {};
    avahi_address_snprint(text, sizeof text, address);
    s.traddr = text;
    s.port = port;
    s.transport = txt_value(txt, nvme_disc_txt_transport_key);
    s.nqn = txt_value(txt, nvme_disc_txt_nqn_key);
    s.local = (flags & (AVAHI_LOOKUP_RESULT_LOCAL | AVAHI_LOOKUP_RESULT_OUR_OWN)) != 0;
    avahi_service_resolver_free(r);  // one answer is enough: removal comes from the browser
    it->second.svc = s;
    if (me->cb_.found) me->cb_.found(s);
  }

  // Frees the browser and every resolver; reports the found instances removed if asked.
  void forget_all(bool report) {
    for (auto& [key, in] : instances_) {
      if (in.resolver) avahi_service_resolver_free(in.resolver);
      if (report && in.svc && cb_.removed) cb_.removed(*in.svc);
    }
    instances_.clear();
    if (browser_) avahi_service_browser_free(browser_);
    browser_ = nullptr;
  }

  callbacks cb_;
  std::string type_;
  std::unique_ptr<avahi_connection> conn_;
  AvahiServiceBrowser* browser_ = nullptr;
  std::map<instance_key, instance> instances_;
};

mdns_browser::mdns_browser(reactor& loop, std::unique_ptr<impl> i) : loop_(loop), impl_(std::move(i)) {}
mdns_browser::~mdns_browser() {
  run_on_loop(loop_, [&] { impl_.reset(); });
}

result<std::unique_ptr<mdns_browser>> mdns_browser::start(reactor& loop, callbacks cb, std::string type) {
  auto i = std::make_unique<impl>(std::move(cb), std::move(type));
  result<void> r = success();
  run_on_loop(loop, [&] {
    r = i->connect(loop);
    if (!r) i.reset();
  });
  if (!r) return r.take_err();
  return std::unique_ptr<mdns_browser>(new mdns_browser(loop, std::move(i)));
}

}  // namespace nvmfd
