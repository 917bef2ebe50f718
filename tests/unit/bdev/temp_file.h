#pragma once
// A temporary file for file_bdev tests, removed on destruction.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace nvmfd::test {

class temp_file {
 public:
  temp_file() = default;
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() { remove(); }

  // Creates an empty file of size bytes (sparse: reads as zeroes) in dir.
  bool create(const std::string& dir, uint64_t size) {
    remove();
    std::string tmpl = dir + "/nvmfd_bdev_test_XXXXXX";
    int fd = mkstemp(tmpl.data());
    if (fd < 0) return false;
    path_ = tmpl;
    bool ok = ftruncate(fd, static_cast<off_t>(size)) == 0;
    close(fd);
    return ok;
  }
  void remove() {
    if (!path_.empty()) unlink(path_.c_str());
    path_.clear();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nvmfd::test
