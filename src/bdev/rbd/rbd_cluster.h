#pragma once
// rbd_cluster: one connection (rados_t) to a Ceph cluster, shared by the RBD bdevs that
// name it (SPDK's bdev_rbd_register_cluster). librados starts ~16 threads per connection
// (docs/ceph.md), so bdevs share one rather than each opening its own.
//
// Threads: connect() blocks (it waits for the monitors, up to client_mount_timeout) and so
// runs on the control thread, never on a reactor. The handle is then used by the bdevs
// from any thread (librados is thread-safe).
//
// Timeouts: unless config_param sets them, rados_osd_op_timeout, rados_mon_op_timeout and
// client_mount_timeout are 30 s (Ceph's defaults are 0 = for ever, and 300 s), so that an
// I/O to a cluster that has gone away completes with an error instead of never.
//
// Cache: unless config_param sets it, rbd_cache_writethrough_until_flush is false (Ceph's
// default is true: librbd's cache stays writethrough until the image's first flush, for
// guests that never flush). Our bdevs report a volatile write cache whenever rbd_cache is on
// (NVMe VWC), so hosts know to flush and only a completed FLUSH promises durability; the
// writethrough start only slowed writes down to about half (docs/ceph.md), and protected
// nothing a host relying on VWC may count on.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

typedef void* rados_t;

namespace nvmfd {

struct rbd_cluster_options {
  std::string user_id;                              // "admin" when empty
  std::map<std::string, std::string> config_param;  // rados_conf_set, after the file
  std::string config_file;                          // read when set; the default search when
                                                    // neither it nor config_param is given
  std::string key_file;                             // the "keyring" option when set
};

class rbd_cluster {
 public:
  // Control thread. Creates the handle, applies the options and connects. Fails with
  // invalid_argument (a config option Ceph refuses, an unreadable config file) or io_error
  // (the connection failed; sys_errno is librados' errno), the message naming the cause.
  static result<std::shared_ptr<rbd_cluster>> connect(std::string name, rbd_cluster_options opts);
  ~rbd_cluster();  // rados_shutdown
  rbd_cluster(const rbd_cluster&) = delete;
  rbd_cluster& operator=(const rbd_cluster&) = delete;

  // "" for a bdev's private connection (bdev_rbd_create without cluster_name).
  const std::string& name() const { return name_; }
  const rbd_cluster_options& options() const { return opts_; }
  rados_t handle() const { return handle_; }
  // This connection's client address in the cluster (rados_getaddrs), what a blocklist
  // names; "" if unknown.
  std::string address() const;
  // A config value as librados sees it (rados_conf_get), "" if unknown.
  std::string conf_get(const std::string& option) const;

  // Bdevs using this connection (unregister is refused while any does). Control thread.
  int users() const { return users_.load(); }
  void add_user() { ++users_; }
  void remove_user() { --users_; }

  // A hint, any thread: set when an I/O of one of its bdevs timed out or an image's close
  // overran, cleared by the next I/O that succeeds. A bdev dropped while it is set closes
  // its image in the background at once (rbd_image_closer.h) instead of waiting a moment.
  bool unreachable() const { return unreachable_.load(std::memory_order_relaxed); }
  void note_unreachable(bool gone) { unreachable_.store(gone, std::memory_order_relaxed); }
  // rados_osd_op_timeout in seconds as librados sees it (0: none).
  unsigned osd_op_timeout_s() const;

 private:
  rbd_cluster(std::string name, rbd_cluster_options opts, rados_t h)
      : name_(std::move(name)), opts_(std::move(opts)), handle_(h) {}
  std::string name_;
  rbd_cluster_options opts_;
  rados_t handle_;
  std::atomic<int> users_{0};
  std::atomic<bool> unreachable_{false};
};

// The registered clusters by name (bdev_rbd_register_cluster). Control thread only.
class rbd_cluster_registry {
 public:
  // already_exists for a taken name; else connect()'s errors.
  result<std::shared_ptr<rbd_cluster>> add(const std::string& name, rbd_cluster_options opts);
  // not_found, or busy while a bdev uses it.
  result<void> remove(const std::string& name);
  std::shared_ptr<rbd_cluster> find(const std::string& name) const;
  std::vector<std::shared_ptr<rbd_cluster>> list() const;  // by name

 private:
  std::map<std::string, std::shared_ptr<rbd_cluster>> clusters_;
};

}  // namespace nvmfd
