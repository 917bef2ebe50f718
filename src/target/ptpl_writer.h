#pragma once
// ptpl_writer: one namespace's reservation (ptpl) file, kept in the order the reservation
// changed. The changes of all hosts are made one at a time under the target mutex, but
// their writes run later (after the I/O a preempt and abort waits for, on the worker
// thread), so they may come out of order; a write that came later than a newer one would
// put an older reservation on disk after a newer command completed. So each change is
// staged with its number, and a write always writes the newest staged text: a change that
// a newer write already made durable needs no write of its own.
//
// Threading: stage() under the target mutex (any reactor or the control thread);
// make_durable() on one thread at a time (the target's worker), blocking.
#include <cstdint>
#include <mutex>
#include <string>

#include "base/result.h"
#include "target/durable_file.h"

namespace nvmfd {

class ptpl_writer {
 public:
  explicit ptpl_writer(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // The file's text after a change (empty: PTPL turned off); returns the change's number.
  uint64_t stage(std::string text);
  // When it returns success, change `number` (or a newer one) is on disk durably
  // (write_file_durably); a failure says why and leaves the file as it was.
  result<void> make_durable(uint64_t number, file_calls& calls = posix_file_calls());

 private:
  const std::string path_;
  std::mutex mu_;  // the staged text, between stage() and make_durable()
  std::string staged_text_;
  uint64_t staged_ = 0;
  uint64_t durable_ = 0;  // the newest change on disk (make_durable's thread only)
};

}  // namespace nvmfd
