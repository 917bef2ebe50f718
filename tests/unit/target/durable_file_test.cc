// A simulated power cut during write_file_durably: the calls run on a model of a disk that
// keeps through a power cut only what was made durable, and after every call (and before
// the first) every state the disk may come back in is checked.
//
// The model is pessimistic, as Linux file systems allow: a file's data written since its last
// fsync may come back whole, or cut at any length (empty included); a directory's entries
// changed since its last fsync (create, rename, unlink) may come back as they were at that
// fsync or as they are now (a rename is atomic). fsync of a file keeps its data, not its
// name; fsync of the directory keeps its names.
//
// The claims: at every point, the file's name holds the old contents or the new, complete
// (or is missing, when there was no old file); never a truncated file; and once the call
// returns success, only the new contents. Mutants (a disk that drops one of the fsyncs, a
// writer that writes in place) are caught by the same check, so the check can fail.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "target/durable_file.h"

namespace nvmfd {
namespace {

constexpr const char* dir = "/d";
constexpr const char* file = "/d/ns1.ptpl";

struct inode {
  std::string data;     // what a read sees now
  std::string durable;  // what survives a power cut for certain (the data at the last fsync)
};

// One directory on a disk that loses what was not fsynced.
struct disk_model {
  std::vector<std::shared_ptr<inode>> inodes;
  std::map<std::string, size_t> names, durable_names;  // path -> inode

  size_t create(const std::string& path, std::string data) {
    inodes.push_back(std::make_shared<inode>(inode{data, data}));
    names[path] = durable_names[path] = inodes.size() - 1;
    return inodes.size() - 1;
  }
  // A deep copy: the state at this moment.
  disk_model snapshot() const {
    disk_model m = *this;
    for (auto& i : m.inodes) i = std::make_shared<inode>(*i);
    return m;
  }
  // Every contents path may have after a power cut now (nullopt: no such file).
  std::set<std::optional<std::string>> after_power_cut(const std::string& path) const {
    std::set<std::optional<std::string>> out;
    for (auto* dirent : {&names, &durable_names}) {
      auto it = dirent->find(path);
      if (it == dirent->end()) {
        out.insert(std::nullopt);
        continue;
      }
      const inode& i = *inodes[it->second];
      out.insert(i.durable);
      if (i.data != i.durable)
        for (size_t n = 0; n <= i.data.size(); ++n) out.insert(i.data.substr(0, n));
    }
    return out;
  }
};

// file_calls on a disk_model, with a snapshot after every call.
class model_calls final : public file_calls {
 public:
  explicit model_calls(disk_model& d) : disk_(d) { cuts.push_back(d.snapshot()); }

  bool drop_file_fsync = false;  // mutants: a writer without that fsync
  bool drop_dir_fsync = false;
  std::vector<disk_model> cuts;  // the disk before the first call and after each

  int open(const char* path, int flags, mode_t) override {
    const std::string p = path;
    if (flags & O_DIRECTORY) return record(p == dir ? dir_fd : fail(ENOENT));
    auto it = disk_.names.find(p);
    size_t ino;
    if (it != disk_.names.end()) {
      ino = it->second;
      if (flags & O_TRUNC) disk_.inodes[ino]->data.clear();
    } else {
      if (!(flags & O_CREAT)) return record(fail(ENOENT));
      disk_.inodes.push_back(std::make_shared<inode>());
      ino = disk_.inodes.size() - 1;
      disk_.names[p] = ino;
    }
    fds_[next_fd_] = ino;
    return record(next_fd_++);
  }
  // At most 7 bytes a call, as a short write may be.
  ssize_t write(int fd, const void* data, size_t len) override {
    auto& d = disk_.inodes.at(fds_.at(fd))->data;
    const size_t n = std::min<size_t>(len, 7);
    d.append(static_cast<const char*>(data), n);
    return record(static_cast<ssize_t>(n));
  }
  int fsync(int fd) override {
    if (fd == dir_fd) {
      if (!drop_dir_fsync) disk_.durable_names = disk_.names;
    } else if (!drop_file_fsync) {
      auto& i = *disk_.inodes.at(fds_.at(fd));
      i.durable = i.data;
    }
    return record(0);
  }
  int close(int fd) override {
    fds_.erase(fd);
    return record(0);
  }
  int rename(const char* from, const char* to) override {
    auto it = disk_.names.find(from);
    if (it == disk_.names.end()) return record(fail(ENOENT));
    disk_.names[to] = it->second;
    disk_.names.erase(it);
    return record(0);
  }
  int unlink(const char* path) override { return record(disk_.names.erase(path) ? 0 : fail(ENOENT)); }

 private:
  static constexpr int dir_fd = 3;
  static int fail(int e) {
    errno = e;
    return -1;
  }
  template <class T>
  T record(T rc) {
    cuts.push_back(disk_.snapshot());
    return rc;
  }
  disk_model& disk_;
  std::map<int, size_t> fds_;
  int next_fd_ = 10;
};

std::string show(const std::optional<std::string>& s) { return s ? "\"" + *s + "\"" : "(no file)"; }

// The first power-cut state of file that is neither old nor new (complete), if any, with
// the step it follows.
std::optional<std::string> first_torn_state(const model_calls& calls, const std::optional<std::string>& old_text,
                                            const std::string& new_text) {
  for (size_t step = 0; step < calls.cuts.size(); ++step)
    for (auto& state : calls.cuts[step].after_power_cut(file))
      if (state != old_text && state != new_text)
        return "after call " + std::to_string(step) + ": " + show(state);
  return std::nullopt;
}

const std::string old_text = R"({"ptpl": true, "registrants": [{"rkey": 1}]})"
                             "\n";
const std::string new_text = R"({"ptpl": true, "registrants": [{"rkey": 1}, {"rkey": 2}]})"
                             "\n";

TEST(durable_file_test, a_power_cut_at_any_point_leaves_the_old_file_or_the_new_never_a_torn_one) {
  disk_model disk;
  disk.create(file, old_text);
  model_calls calls(disk);
  ASSERT_TRUE(write_file_durably(file, new_text, calls).ok());
  EXPECT_GT(calls.cuts.size(), 10u) << "short writes: several write calls";
  EXPECT_EQ(first_torn_state(calls, old_text, new_text), std::nullopt);
  EXPECT_EQ(calls.cuts.back().after_power_cut(file), (std::set<std::optional<std::string>>{new_text}))
      << "once it returns, only the new text survives a power cut";
  EXPECT_EQ(calls.cuts.back().after_power_cut(std::string(file) + ".tmp"),
            (std::set<std::optional<std::string>>{std::nullopt}));
}

TEST(durable_file_test, the_first_write_leaves_no_file_or_the_whole_one) {
  disk_model disk;
  model_calls calls(disk);
  ASSERT_TRUE(write_file_durably(file, new_text, calls).ok());
  EXPECT_EQ(first_torn_state(calls, std::nullopt, new_text), std::nullopt);
  EXPECT_EQ(calls.cuts.back().after_power_cut(file), (std::set<std::optional<std::string>>{new_text}));
}

TEST(durable_file_test, a_leftover_temporary_file_of_an_earlier_crash_changes_nothing) {
  disk_model disk;
  disk.create(file, old_text);
  disk.create(std::string(file) + ".tmp", "{\"ptpl\": tr");
  model_calls calls(disk);
  ASSERT_TRUE(write_file_durably(file, new_text, calls).ok());
  EXPECT_EQ(first_torn_state(calls, old_text, new_text), std::nullopt);
}

TEST(durable_file_test, the_check_catches_a_writer_without_either_fsync) {
  {
    disk_model disk;
    disk.create(file, old_text);
    model_calls calls(disk);
    calls.drop_file_fsync = true;
    ASSERT_TRUE(write_file_durably(file, new_text, calls).ok());
    EXPECT_NE(first_torn_state(calls, old_text, new_text), std::nullopt)
        << "renamed before its data is on disk: an empty or short file";
  }
  {
    disk_model disk;
    disk.create(file, old_text);
    model_calls calls(disk);
    calls.drop_dir_fsync = true;
    ASSERT_TRUE(write_file_durably(file, new_text, calls).ok());
    EXPECT_EQ(first_torn_state(calls, old_text, new_text), std::nullopt);
    EXPECT_TRUE(calls.cuts.back().after_power_cut(file).count(old_text))
        << "without the directory's fsync the rename may be lost after success";
  }
}

TEST(durable_file_test, the_check_catches_a_writer_that_writes_in_place) {
  disk_model disk;
  disk.create(file, old_text);
  model_calls calls(disk);
  int fd = calls.open(file, O_WRONLY | O_TRUNC, 0);
  for (size_t done = 0; done < new_text.size();)
    done += static_cast<size_t>(calls.write(fd, new_text.data() + done, new_text.size() - done));
  calls.fsync(fd);
  calls.close(fd);
  EXPECT_NE(first_torn_state(calls, old_text, new_text), std::nullopt);
}

TEST(durable_file_test, a_failed_step_leaves_the_old_file_and_names_the_step) {
  // A disk whose fsync of files fails (EIO): the old text stays, the temporary file goes.
  struct failing_fsync final : file_calls {
    file_calls& real = posix_file_calls();
    int open(const char* p, int f, mode_t m) override { return real.open(p, f, m); }
    ssize_t write(int fd, const void* d, size_t n) override { return real.write(fd, d, n); }
    int fsync(int) override {
      errno = EIO;
      return -1;
    }
    int close(int fd) override { return real.close(fd); }
    int rename(const char* a, const char* b) override { return real.rename(a, b); }
    int unlink(const char* p) override { return real.unlink(p); }
  } calls;
  char tmpl[] = "/tmp/nvmfd-durable-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/f";
  ASSERT_TRUE(write_file_durably(path, old_text).ok());
  auto r = write_file_durably(path, new_text, calls);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("fsync " + path + ".tmp"), std::string::npos) << r.err().message;
  std::FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), old_text);
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0) << "the temporary file is removed";
  std::remove(path.c_str());
  ::rmdir(tmpl);
}

}  // namespace
}  // namespace nvmfd
