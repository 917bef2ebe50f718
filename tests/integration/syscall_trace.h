#pragma once
// syscall_trace: the system calls of an `strace -f -xx` output file, each call's entry and
// exit joined (strace splits a call that another thread interrupts into "<unfinished ...>"
// and "<... resumed>" lines). Lines are in the order strace saw the events, and a traced
// thread stays stopped at each event until strace has written it, so that when a call's
// exit line comes before another call's entry line, the first returned before the second
// began, whichever threads made them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nvmfd::test {

struct traced_call {
  int pid = 0;
  std::string name;  // "openat", "sendmsg", ...
  std::string args;  // the text between the parentheses (-xx: every string in \x escapes)
  std::optional<int64_t> ret;  // nullopt when the call never returned ("= ?")
  size_t entry_line = 0, exit_line = 0;

  // The first argument as a number (a file descriptor), nullopt when it is not one.
  std::optional<int64_t> first_number() const;
  // The string arguments, decoded, in order (paths; a write's data; a sendmsg's iov_bases).
  std::vector<std::string> strings() const;
  // All of them, one after the other (what a write or a sendmsg sent).
  std::string bytes() const;
};

// The calls of strace_text in the order they began.
std::vector<traced_call> parse_strace(const std::string& strace_text);

}  // namespace nvmfd::test
