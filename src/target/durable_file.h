#pragma once
// durable_file: replacing a small file's contents so that a power cut at any moment leaves
// either the old contents or the new, complete, never a mix or a truncated file (used for
// the reservation (ptpl) files).
//
// The order, and why each step is needed on Linux file systems:
//   1. create "<path>.tmp" (truncating a leftover of an earlier crash) and write the text;
//   2. fsync it: its data is on disk before any name points at it (without this, ext4 and
//      XFS may persist the rename of step 3 ahead of the data: an empty or short file);
//   3. rename it over path: atomic, a reader or a crash sees the old file or the new one;
//   4. fsync the directory: the rename itself is on disk. Only then has the write succeeded.
// A failure at any step returns the errno with the step and path; path then still holds the
// old contents (a leftover "<path>.tmp" is harmless: the next write truncates it).
//
// The calls go through file_calls, so that a test can run the sequence on a model of what a
// disk keeps through a power cut (tests/unit/target/durable_file_test.cc).
//
// Threading: blocking file I/O; any thread that may block (the target's worker thread).
#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace nvmfd {

// The system calls of write_file_durably, as POSIX defines them (-1 and errno on failure).
class file_calls {
 public:
  virtual ~file_calls() = default;
  virtual int open(const char* path, int flags, mode_t mode) = 0;
  virtual ssize_t write(int fd, const void* data, size_t len) = 0;
  virtual int fsync(int fd) = 0;
  virtual int close(int fd) = 0;
  virtual int rename(const char* from, const char* to) = 0;
  virtual int unlink(const char* path) = 0;
};

// The real ones.
file_calls& posix_file_calls();

// Replaces path's contents with text in the order above. When it returns success, the text
// survives a power cut.
result<void> write_file_durably(const std::string& path, const std::string& text,
                                file_calls& calls = posix_file_calls());

}  // namespace nvmfd
