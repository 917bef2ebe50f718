#include "reactor/reactor_assert.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "reactor/reactor.h"

namespace nvmfd {

namespace {

[[noreturn]] void broken(const char* what, const char* rule, const std::source_location& where) {
  // On stderr, as assert() would: the log may be buffered, and the process ends here.
  const reactor* r = reactor::current();
  std::string on = !r ? "no reactor" : r->blocking_allowed() ? "a loop thread" : "reactor " + std::to_string(r->index());
  std::fprintf(stderr, "nvmfd: %s %s (called at %s:%u, on %s)\n", what, rule, where.file_name(),
               static_cast<unsigned>(where.line()), on.c_str());
  std::abort();  // a broken invariant of our own (docs/architecture.md "Errors")
}

}  // namespace

void assert_off_reactor(const char* what, std::source_location where) {
  const reactor* r = reactor::current();
  if (r && !r->blocking_allowed()) broken(what, "blocks: it must not be called on a reactor", where);
}

void assert_not_on(const reactor& r, const char* what, std::source_location where) {
  if (reactor::current() == &r) broken(what, "waits for the reactor it was called on", where);
}

void assert_on(const reactor& r, const char* what, std::source_location where) {
  if (reactor::current() != &r) broken(what, "is called off its owner reactor", where);
}

}  // namespace nvmfd
