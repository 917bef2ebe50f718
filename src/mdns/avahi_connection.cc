#include "mdns/avahi_connection.h"

#include <avahi-common/error.h>
#include <avahi-common/timeval.h>
#include <errno.h>

#include <fmt/format.h>

#include "base/log.h"
#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {
constexpr unsigned reconnect_delay_ms = 1000;
}

error mdns_unavailable(int avahi_error) {
  return error{errc::io_error, fmt::format("mDNS unavailable: {}", avahi_strerror(avahi_error)), ECONNREFUSED};
}

void run_on_loop(reactor& loop, const std::function<void()>& fn) {
  if (reactor::current() == &loop) return fn();
  assert_off_reactor("an mDNS call from a reactor of the pool");
  (void)blocking_call<void>(loop, [&fn](completion<void> done) {
    fn();
    done(success());
  }, std::nullopt, "mDNS call on its loop");
}

avahi_connection::avahi_connection(reactor& loop, state_callback on_state)
    : on_state_(std::move(on_state)), poll_(loop) {}

result<std::unique_ptr<avahi_connection>> avahi_connection::open(reactor& loop, state_callback on_state) {
  assert_on(loop, "avahi_connection::open");
  std::unique_ptr<avahi_connection> c(new avahi_connection(loop, std::move(on_state)));
  // Without AVAHI_CLIENT_NO_FAIL the first client fails at once when no daemon is reachable,
  // which is the answer open() promises; later clients (reconnect) wait for a daemon.
  int err = 0;
  c->client_ = avahi_client_new(c->poll_.api(), AvahiClientFlags(0), on_client_state, c.get(), &err);
  if (!c->client_) return mdns_unavailable(err);
  return c;
}

avahi_connection::~avahi_connection() {
  assert_on(loop(), "avahi_connection::~avahi_connection");
  if (client_) avahi_client_free(client_);
  if (reconnect_timer_) poll_.api()->timeout_free(reconnect_timer_);
}

void avahi_connection::on_client_state(AvahiClient* c, AvahiClientState s, void* self) {
  auto* me = static_cast<avahi_connection*>(self);
  me->on_state_(c, s);
  // client_ is null only within open()'s avahi_client_new: open() reports that failure.
  if (s != AVAHI_CLIENT_FAILURE || !me->client_) return;
  NVMFD_LOG_WARN("mDNS: lost the avahi-daemon ({}); reconnecting", avahi_strerror(avahi_client_errno(c)));
  // The failed client cannot be freed inside its own callback: a timer does it.
  const AvahiPoll* api = me->poll_.api();
  struct timeval tv;
  avahi_elapse_time(&tv, reconnect_delay_ms, 0);
  if (me->reconnect_timer_) {
    api->timeout_update(me->reconnect_timer_, &tv);
  } else {
    me->reconnect_timer_ = api->timeout_new(api, &tv, on_reconnect_timer, me);
  }
}

void avahi_connection::on_reconnect_timer(AvahiTimeout*, void* self) { static_cast<avahi_connection*>(self)->reconnect(); }

void avahi_connection::reconnect() {
  if (client_ && avahi_client_get_state(client_) != AVAHI_CLIENT_FAILURE) return;
  if (client_) avahi_client_free(client_);
  client_ = nullptr;
  int err = 0;
  // NO_FAIL: the new client waits in AVAHI_CLIENT_CONNECTING until a daemon is on the bus.
  client_ = avahi_client_new(poll_.api(), AVAHI_CLIENT_NO_FAIL, on_client_state, this, &err);
  if (client_) return;
  // No bus at all: try again later.
  struct timeval tv;
  avahi_elapse_time(&tv, reconnect_delay_ms, 0);
  poll_.api()->timeout_update(reconnect_timer_, &tv);
}

}  // namespace nvmfd
