#pragma once
// log_capture: while alive, the target's log (spdlog's default logger, which NVMFD_LOG_*
// use) goes to memory at `level` and above, so a test can check what the target logged.
// The previous default logger comes back at destruction.
//
// Threading: reactors log from their threads; lines() and wait_for() may be called from
// the test thread at any time. One capture at a time. The capturing logger lives for the
// whole process, so a reactor that logs while the capture is being removed never touches
// a destroyed logger.
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace nvmfd {

class log_capture {
 public:
  explicit log_capture(spdlog::level::level_enum level = spdlog::level::warn) : previous_(spdlog::default_logger()) {
    auto& c = capturer();
    c.sink->clear();
    c.logger->set_level(level);
    spdlog::set_default_logger(c.logger);
  }
  ~log_capture() { spdlog::set_default_logger(previous_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  std::vector<std::string> lines() const { return capturer().sink->lines(); }

  // The first line captured so far that contains every part; empty if none.
  std::string find(std::initializer_list<std::string_view> parts) const {
    for (const auto& l : lines())
      if (contains_all(l, parts)) return l;
    return {};
  }

  // find(), waiting up to `timeout` for such a line (the target logs on its reactor, which
  // may run a little after the host saw the completion).
  std::string wait_for(std::initializer_list<std::string_view> parts,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const {
    std::string found;
    capturer().sink->wait_for_line([&](const std::string& l) { return contains_all(l, parts); }, timeout, found);
    return found;
  }

  // Everything captured, one line each (for failure messages).
  std::string dump() const {
    std::string out;
    for (const auto& l : lines()) out += l;
    return out;
  }

 private:
  static bool contains_all(const std::string& line, std::initializer_list<std::string_view> parts) {
    for (auto p : parts)
      if (line.find(p) == std::string::npos) return false;
    return true;
  }

  class memory_sink final : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> lines() {
      std::lock_guard lk(mutex_);
      return lines_;
    }
    void clear() {
      std::lock_guard lk(mutex_);
      lines_.clear();
    }
    // Waits until a line captured (before or during the wait) matches; the first such line
    // goes to out. False on timeout.
    template <class Match>
    bool wait_for_line(Match match, std::chrono::milliseconds timeout, std::string& out) {
      std::unique_lock lk(mutex_);
      return logged_.wait_for(lk, timeout, [&] {
        for (const auto& l : lines_)
          if (match(l)) {
            out = l;
            return true;
          }
        return false;
      });
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      spdlog::memory_buf_t buf;
      formatter_->format(msg, buf);
      lines_.emplace_back(buf.data(), buf.size());
      logged_.notify_all();
    }
    void flush_() override {}

   private:
    std::vector<std::string> lines_;
    std::condition_variable logged_;  // notified with every line; waited on under mutex_
  };

  struct capturing_logger {
    std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
    std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>("nvmfd-test-capture", sink);
  };
  static capturing_logger& capturer() {
    static capturing_logger* c = new capturing_logger;  // never destroyed: see the header comment
    return *c;
  }

  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace nvmfd
