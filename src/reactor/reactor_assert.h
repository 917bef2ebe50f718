#pragma once
// Guards for the two thread rules that, broken, hang rather than crash:
//  - code that blocks until a reactor has done something (run_on, blocking_call, run_sync,
//    sync_bdev_io, lvol control operations) must not run on a reactor: on the reactor it
//    waits for, the work never runs; on another, two reactors can wait for each other;
//  - state owned by one reactor is touched on that reactor's thread only.
// They are always on (one thread-local load, control paths only) and abort with the name of
// what was misused and where it was called, so that a misuse fails at once in every build.
#include <source_location>

namespace nvmfd {

class reactor;

// Aborts if the calling thread runs a reactor that must not block: any but a loop_thread's
// (loop_thread.h), whose thread may wait. what: the blocking function's name.
void assert_off_reactor(const char* what, std::source_location where = std::source_location::current());
// Aborts if the calling thread is r's own thread (blocking on r there never returns).
void assert_not_on(const reactor& r, const char* what, std::source_location where = std::source_location::current());
// Aborts unless the calling thread is r's own thread.
void assert_on(const reactor& r, const char* what, std::source_location where = std::source_location::current());

}  // namespace nvmfd
