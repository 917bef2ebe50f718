#include "syscall_trace.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <sstream>

namespace nvmfd::test {

namespace {

constexpr std::string_view unfinished = " <unfinished ...>";

// Splits "args)   = ret ..." (strace pads before "=") into call's args and ret.
void finish(traced_call& call, const std::string& text) {
  const auto eq = text.rfind(" = ");
  const auto close = eq == std::string::npos ? eq : text.rfind(')', eq);
  if (close == std::string::npos) {
    call.args = text;
    return;
  }
  call.args = text.substr(0, close);
  const char* r = text.c_str() + eq + 3;
  char* end = nullptr;
  const long long v = std::strtoll(r, &end, 0);
  if (end != r) call.ret = v;
}

}  // namespace

std::optional<int64_t> traced_call::first_number() const {
  char* end = nullptr;
  const long long v = std::strtoll(args.c_str(), &end, 10);
  if (end == args.c_str() || (*end != ',' && *end != '\0')) return std::nullopt;
  return v;
}

std::vector<std::string> traced_call::strings() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != '"') continue;
    std::string s;
    size_t j = i + 1;
    for (; j < args.size() && args[j] != '"'; ++j) {
      if (args[j] == '\\' && j + 3 < args.size() && args[j + 1] == 'x') {
        unsigned byte = 0;
        std::from_chars(args.data() + j + 2, args.data() + j + 4, byte, 16);
        s.push_back(static_cast<char>(byte));
        j += 3;
      } else {
        s.push_back(args[j]);
      }
    }
    out.push_back(std::move(s));
    i = j;
  }
  return out;
}

std::string traced_call::bytes() const {
  std::string all;
  for (auto& s : strings()) all += s;
  return all;
}

std::vector<traced_call> parse_strace(const std::string& strace_text) {
  std::vector<traced_call> calls;
  std::map<int, traced_call> open_calls;  // by pid: entered, not yet returned
  std::istringstream in(strace_text);
  std::string line;
  for (size_t n = 0; std::getline(in, line); ++n) {
    // "PID SECONDS.MICROS rest"
    std::istringstream fields(line);
    traced_call call;
    std::string time;
    if (!(fields >> call.pid >> time)) continue;
    std::string rest;
    std::getline(fields >> std::ws, rest);
    if (rest.rfind("<... ", 0) == 0) {
      auto it = open_calls.find(call.pid);
      const auto body = rest.find("resumed>");
      if (it == open_calls.end() || body == std::string::npos) continue;
      traced_call done = std::move(it->second);
      open_calls.erase(it);
      done.exit_line = n;
      finish(done, done.args + rest.substr(body + 8));
      calls.push_back(std::move(done));
      continue;
    }
    const auto paren = rest.find('(');
    if (paren == std::string::npos || rest.rfind("---", 0) == 0 || rest.rfind("+++", 0) == 0) continue;
    call.name = rest.substr(0, paren);
    call.entry_line = call.exit_line = n;
    std::string text = rest.substr(paren + 1);
    if (text.size() >= unfinished.size() && text.compare(text.size() - unfinished.size(), unfinished.size(), unfinished) == 0) {
      call.args = text.substr(0, text.size() - unfinished.size());
      open_calls[call.pid] = std::move(call);
      continue;
    }
    finish(call, text);
    calls.push_back(std::move(call));
  }
  for (auto& [pid, call] : open_calls) calls.push_back(std::move(call));  // killed inside a call
  std::stable_sort(calls.begin(), calls.end(), [](auto& a, auto& b) { return a.entry_line < b.entry_line; });
  return calls;
}

}  // namespace nvmfd::test
