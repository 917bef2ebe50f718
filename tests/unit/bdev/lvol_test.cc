// lvol stores and volumes over a RAM bdev: thick and thin volumes, I/O across clusters,
// allocation on first write, release by unmap, ENOSPC, resize, rename, read-only, delete,
// reload from the base (the volumes and their data come back), and a damaged newest
// metadata slot (the older generation loads) or both slots (a clear error).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "bdev/bdev_registry.h"
#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_manager.h"
#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::lvol {
namespace {

using test::bdev_harness;
using buffer = test::aligned_buffer;
constexpr uint64_t mib = 1 << 20;

class lvol_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = ram_bdev::create("Malloc0", 512, 64 * mib / 512, std::nullopt);
    ASSERT_TRUE(r.ok());
    base = r.value();
    ASSERT_TRUE(bdevs.add(base).ok());
  }
  lvol_store& make_store(uint64_t cluster = mib) {
    auto s = mgr.create_store("Malloc0", "lvs0", cluster);
    EXPECT_TRUE(s.ok()) << s.err().message;
    return **s;
  }
  lvol_bdev& make_volume(lvol_store& s, const std::string& name, uint64_t size, bool thin) {
    auto v = mgr.create_volume(s, name, size, thin, std::nullopt);
    EXPECT_TRUE(v.ok()) << v.err().message;
    return *v.value()->bdev;
  }
  // Writes a pattern at [off, off+n) blocks and checks it reads back.
  void write_check(bdev& b, uint64_t off, uint64_t n, uint64_t seed) {
    buffer w(n * 512), r(n * 512);
    test::fill_pattern(w.span(), seed);
    ASSERT_EQ(h.write(b, off, n, w.data()), 0);
    ASSERT_EQ(h.read(b, off, n, r.data()), 0);
    ASSERT_EQ(std::memcmp(w.data(), r.data(), n * 512), 0);
  }
  bool reads_pattern(bdev& b, uint64_t off, uint64_t n, uint64_t seed) {
    buffer w(n * 512), r(n * 512);
    test::fill_pattern(w.span(), seed);
    return h.read(b, off, n, r.data()) == 0 && std::memcmp(w.data(), r.data(), n * 512) == 0;
  }
  bool reads_zero(bdev& b, uint64_t off, uint64_t n) {
    buffer r(n * 512);
    std::memset(r.data(), 0xAA, n * 512);
    return h.read(b, off, n, r.data()) == 0 && test::all_zero(r.span());
  }

  bdev_harness h;
  bdev_registry bdevs;
  lvol_manager mgr{h.pool(), bdevs};
  std::shared_ptr<ram_bdev> base;
};

TEST_F(lvol_test, thick_and_thin_volumes_do_io_across_clusters) {
  lvol_store& s = make_store();
  auto info = s.info();
  EXPECT_EQ(info.name, "lvs0");
  EXPECT_EQ(info.cluster_size, mib);
  uint64_t free0 = info.free_clusters;
  EXPECT_GT(free0, 50u);
  EXPECT_TRUE(base->claimed());

  lvol_bdev& thick = make_volume(s, "thick", 5 * mib + 1, false);  // rounded up to 6 clusters
  EXPECT_EQ(thick.num_blocks(), 6 * mib / 512);
  EXPECT_EQ(s.info().free_clusters, free0 - 6);
  EXPECT_EQ(bdevs.find("lvs0/thick").get(), &thick) << "found by its alias";
  EXPECT_EQ(bdevs.find(thick.name()).get(), &thick) << "and by its UUID";
  EXPECT_TRUE(reads_zero(thick, 0, 2048));
  write_check(thick, 2040, 16, 1);  // across the first cluster boundary
  write_check(thick, 0, 1, 2);

  lvol_bdev& thin = make_volume(s, "thin", 20 * mib, true);
  EXPECT_EQ(s.info().free_clusters, free0 - 6) << "a thin volume takes nothing at creation";
  EXPECT_TRUE(reads_zero(thin, 0, 4096));
  write_check(thin, 2047, 2, 3);  // two clusters allocated
  EXPECT_EQ(s.allocated_clusters(thin.vol()), 2u);
  EXPECT_EQ(s.info().free_clusters, free0 - 8);
  EXPECT_TRUE(reads_zero(thin, 0, 2047)) << "the rest of a new cluster reads as zeroes";
  EXPECT_TRUE(reads_zero(thin, 2049, 2047));

  // Unmap of a whole cluster gives it back; reuse only after a flush commits the release.
  EXPECT_EQ(h.unmap(thin, 2048, 2048), 0);
  EXPECT_EQ(s.allocated_clusters(thin.vol()), 1u);
  EXPECT_TRUE(reads_zero(thin, 2048, 2048));
  EXPECT_EQ(s.info().free_clusters, free0 - 8);
  EXPECT_EQ(h.flush(thin), 0);
  EXPECT_EQ(s.info().free_clusters, free0 - 7);
  // Part of a cluster: zeroed in place, still allocated.
  EXPECT_EQ(h.write_zeroes(thin, 2047, 1), 0);
  EXPECT_TRUE(reads_zero(thin, 2040, 8));
  EXPECT_EQ(s.allocated_clusters(thin.vol()), 1u);
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);
}

TEST_F(lvol_test, many_writes_to_one_new_cluster_allocate_it_once) {
  lvol_store& s = make_store();
  lvol_bdev& thin = make_volume(s, "thin", 4 * mib, true);
  std::vector<buffer> bufs;
  std::vector<bdev_io> ios;
  for (int i = 0; i < 64; ++i) {
    bufs.emplace_back(4096);
    test::fill_pattern(bufs.back().span(), 100 + i);
  }
  for (int i = 0; i < 64; ++i) ios.push_back(h.make(bdev_op::write, uint64_t(i) * 8, 8, bufs[i].data()));
  ASSERT_TRUE(h.run_all(thin, ios));
  for (auto& io : ios) EXPECT_EQ(io.status, 0);
  EXPECT_EQ(s.allocated_clusters(thin.vol()), 1u);
  for (int i = 0; i < 64; ++i) EXPECT_TRUE(reads_pattern(thin, uint64_t(i) * 8, 8, 100 + i)) << i;
}

TEST_F(lvol_test, overcommitted_thin_volumes_get_enospc) {
  lvol_store& s = make_store(4 * mib);
  uint64_t free = s.info().free_clusters;
  lvol_bdev& a = make_volume(s, "a", 1024 * mib, true);
  buffer w(4096);
  uint64_t bpc = 4 * mib / 512;
  for (uint64_t c = 0; c < free; ++c) ASSERT_EQ(h.write(a, c * bpc, 8, w.data()), 0) << c;
  EXPECT_EQ(h.write(a, free * bpc, 8, w.data()), -ENOSPC);
  EXPECT_EQ(s.info().free_clusters, 0u);
  EXPECT_FALSE(mgr.create_volume(s, "thick", 4 * mib, false, std::nullopt).ok());
  EXPECT_EQ(h.read(a, 0, 8, w.data()), 0);
}

TEST_F(lvol_test, control_operations) {
  lvol_store& s = make_store();
  uint64_t free0 = s.info().free_clusters;
  lvol_bdev& v = make_volume(s, "v", 4 * mib, false);
  write_check(v, 0, 8, 7);
  // duplicate and bad names
  EXPECT_EQ(mgr.create_volume(s, "v", mib, true, std::nullopt).err().code, errc::already_exists);
  EXPECT_EQ(mgr.create_volume(s, "a/b", mib, true, std::nullopt).err().code, errc::invalid_argument);
  EXPECT_EQ(mgr.create_volume(s, "", mib, true, std::nullopt).err().code, errc::invalid_argument);
  EXPECT_EQ(mgr.create_volume(s, "z", 0, true, std::nullopt).err().code, errc::invalid_argument);
  // grow keeps the data, adds zeroed clusters; shrink gives clusters back
  ASSERT_TRUE(s.resize_volume(v.vol(), 8 * mib).ok());
  EXPECT_EQ(v.num_blocks(), 8 * mib / 512);
  EXPECT_TRUE(reads_pattern(v, 0, 8, 7));
  EXPECT_TRUE(reads_zero(v, 4 * mib / 512, 2048));
  write_check(v, 8 * mib / 512 - 8, 8, 8);
  ASSERT_TRUE(s.resize_volume(v.vol(), 2 * mib).ok());
  EXPECT_EQ(v.num_blocks(), 2 * mib / 512);
  buffer w(4096);
  EXPECT_EQ(h.read(v, 2 * mib / 512, 8, w.data()), -EINVAL);
  EXPECT_EQ(s.info().free_clusters, free0 - 2);
  // rename: the alias follows
  ASSERT_TRUE(s.rename_volume(v.vol(), "w").ok());
  EXPECT_EQ(bdevs.find("lvs0/w").get(), &v);
  EXPECT_FALSE(bdevs.find("lvs0/v"));
  // read-only
  ASSERT_TRUE(s.set_read_only(v.vol()).ok());
  EXPECT_EQ(h.write(v, 0, 8, w.data()), -EROFS);
  EXPECT_TRUE(reads_pattern(v, 0, 8, 7));
  // in use: not deleted
  v.claim("a namespace");
  EXPECT_EQ(mgr.delete_volume(v.vol()).err().code, errc::busy);
  v.release();
  std::string name = v.name();
  ASSERT_TRUE(mgr.delete_volume(v.vol()).ok());
  EXPECT_FALSE(bdevs.find(name));
  EXPECT_EQ(s.info().free_clusters, free0);
  // the base is claimed while the store exists; deleting the store frees it
  EXPECT_EQ(bdevs.remove("Malloc0").err().code, errc::busy);
  make_volume(s, "x", mib, true);
  ASSERT_TRUE(mgr.delete_store(s).ok());
  EXPECT_FALSE(base->claimed());
  EXPECT_TRUE(mgr.stores().empty());
}

TEST_F(lvol_test, a_store_loads_again_from_its_base) {
  uuid thin_id;
  {
    lvol_store& s = make_store();
    lvol_bdev& thick = make_volume(s, "thick", 3 * mib, false);
    lvol_bdev& thin = make_volume(s, "thin", 9 * mib, true);
    thin_id = thin.id();
    write_check(thick, 100, 16, 11);
    write_check(thin, 5000, 16, 12);
    ASSERT_TRUE(s.set_read_only(thick.vol()).ok());
    ASSERT_EQ(h.flush(thin), 0);
  }
  // Another process: a new registry and manager see the same base bdev.
  bdev_registry bdevs2;
  lvol_manager mgr2(h.pool(), bdevs2);
  base->release();  // the first manager's claim (its store object is still alive here)
  ASSERT_TRUE(bdevs2.add(base).ok());
  ASSERT_EQ(mgr2.stores().size(), 1u);
  auto thick = bdevs2.find("lvs0/thick");
  auto thin = bdevs2.find("lvs0/thin");
  ASSERT_TRUE(thick && thin);
  EXPECT_EQ(thin->id(), thin_id);
  EXPECT_EQ(thin->name(), thin_id.to_string());
  EXPECT_TRUE(reads_pattern(*thick, 100, 16, 11));
  EXPECT_TRUE(reads_pattern(*thin, 5000, 16, 12));
  EXPECT_TRUE(thick->read_only());
  EXPECT_EQ(mgr2.stores()[0]->allocated_clusters(static_cast<lvol_bdev&>(*thin).vol()), 1u);
}

TEST_F(lvol_test, a_torn_newest_slot_falls_back_and_two_bad_slots_refuse_to_load) {
  superblock sb;
  {
    lvol_store& s = make_store();
    make_volume(s, "first", mib, true);   // generation 2
    make_volume(s, "second", mib, true);  // generation 3, in slot 1
    buffer block(4096);
    ASSERT_TRUE(sync_bdev_io(h.pool(), *base, bdev_op::read, 0, 8, block.data()).ok());
    sb = *decode_superblock({block.data(), 4096});
  }
  auto corrupt_slot = [&](int i) {  // one payload byte changed: a torn write
    buffer block(512);
    uint64_t lba = sb.slot_offset[i] / 512;
    ASSERT_TRUE(sync_bdev_io(h.pool(), *base, bdev_op::read, lba, 1, block.data()).ok());
    block.data()[100] ^= std::byte{0x20};
    ASSERT_TRUE(sync_bdev_io(h.pool(), *base, bdev_op::write, lba, 1, block.data()).ok());
  };
  corrupt_slot(1);
  base->release();
  {
    bdev_registry bdevs2;
    lvol_manager mgr2(h.pool(), bdevs2);
    ASSERT_TRUE(bdevs2.add(base).ok());
    ASSERT_EQ(mgr2.stores().size(), 1u) << "the older slot (generation 2) loads";
    EXPECT_TRUE(bdevs2.find("lvs0/first"));
    EXPECT_FALSE(bdevs2.find("lvs0/second")) << "its commit never completed";
    base->release();
  }
  corrupt_slot(0);
  auto r = lvol_store::load(h.pool(), base);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_NE(r.err().message.find("checksum"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace nvmfd::lvol

namespace nvmfd::lvol {
namespace {

TEST_F(lvol_test, snapshots_clones_inflate_decouple_and_merge) {
  lvol_store& s = make_store();
  uint64_t bpc = mib / 512;
  lvol_bdev& v = make_volume(s, "v", 4 * mib, false);
  write_check(v, 0, 8, 1);
  write_check(v, 2 * bpc, 8, 2);
  uint64_t free0 = s.info().free_clusters;

  // Snapshot: it takes the clusters; v reads through it and copies on write.
  auto snap = mgr.snapshot(v.vol(), "snap");
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  lvol_bdev& sb = *(*snap)->bdev;
  EXPECT_EQ(bdevs.find("lvs0/snap").get(), &sb);
  EXPECT_TRUE(sb.read_only());
  EXPECT_EQ(s.allocated_clusters(v.vol()), 0u);
  EXPECT_EQ(s.allocated_clusters(sb.vol()), 4u);
  EXPECT_EQ(s.info().free_clusters, free0) << "no copy at snapshot time";
  EXPECT_TRUE(reads_pattern(v, 0, 8, 1));
  write_check(v, 8, 8, 3);  // cluster 0 copied on write: the rest of it comes from the snapshot
  EXPECT_TRUE(reads_pattern(v, 0, 8, 1));
  EXPECT_TRUE(reads_pattern(sb, 0, 8, 1));
  EXPECT_TRUE(reads_zero(sb, 8, 8)) << "the snapshot does not see the clone's write";
  EXPECT_EQ(s.allocated_clusters(v.vol()), 1u);
  buffer w(4096);
  EXPECT_EQ(h.write(sb, 0, 8, w.data()), -EROFS);
  EXPECT_FALSE(mgr.snapshot(sb.vol(), "snap2").ok()) << "a snapshot of a snapshot";
  EXPECT_EQ(mgr.snapshot(v.vol(), "snap").err().code, errc::already_exists);

  // A clone of the snapshot: reads it, writes its own.
  auto cl = mgr.clone(sb.vol(), "clone");
  ASSERT_TRUE(cl.ok()) << cl.err().message;
  lvol_bdev& c = *(*cl)->bdev;
  EXPECT_TRUE(reads_pattern(c, 2 * bpc, 8, 2));
  write_check(c, 2 * bpc, 8, 4);
  EXPECT_TRUE(reads_pattern(sb, 2 * bpc, 8, 2));
  EXPECT_FALSE(mgr.clone(v.vol(), "x").ok()) << "only snapshots are cloned";
  // Two clones: the snapshot cannot go.
  EXPECT_EQ(mgr.delete_volume(sb.vol()).err().code, errc::busy);

  // Decouple the clone: it copies what the snapshot owns, and has no parent then.
  ASSERT_TRUE(mgr.run_long_operation(c.vol(), long_operation::decouple_parent, true).ok());
  EXPECT_EQ(c.vol().parent.load(), nullptr);
  EXPECT_EQ(s.allocated_clusters(c.vol()), 4u);
  EXPECT_TRUE(reads_pattern(c, 0, 8, 1));
  EXPECT_TRUE(reads_pattern(c, 2 * bpc, 8, 4));
  EXPECT_EQ(s.operation_of(c.vol()).state, "done");
  EXPECT_EQ(mgr.run_long_operation(c.vol(), long_operation::decouple_parent, true).err().code, errc::invalid_argument);

  // One clone left (v): deleting the snapshot merges it into v, no copy.
  uint64_t free1 = s.info().free_clusters;
  std::string snap_name = sb.name();
  ASSERT_TRUE(mgr.delete_volume(sb.vol()).ok());
  EXPECT_FALSE(bdevs.find(snap_name));
  EXPECT_EQ(v.vol().parent.load(), nullptr);
  EXPECT_EQ(s.allocated_clusters(v.vol()), 4u);
  EXPECT_TRUE(reads_pattern(v, 0, 8, 1));
  EXPECT_TRUE(reads_pattern(v, 8, 8, 3));
  EXPECT_TRUE(reads_pattern(v, 2 * bpc, 8, 2));
  EXPECT_EQ(h.flush(v), 0);
  EXPECT_EQ(s.info().free_clusters, free1 + 1) << "the snapshot's cluster 0 (overwritten in v) is freed";

  // Inflate: a thin clone becomes thick and independent; thin volume, zero fill.
  auto snap2 = mgr.snapshot(v.vol(), "snap2");
  ASSERT_TRUE(snap2.ok());
  ASSERT_TRUE(mgr.run_long_operation(v.vol(), long_operation::inflate, false).ok());
  // The job runs on the store's home reactor (reactor 0): round trips to it until it has
  // ended, no sleep.
  while (s.operation_of(v.vol()).state == "running") h.pool().run_on(0, [] {});
  EXPECT_EQ(s.operation_of(v.vol()).state, "done");
  EXPECT_EQ(s.operation_of(v.vol()).total, 4u);
  EXPECT_EQ(v.vol().parent.load(), nullptr);
  EXPECT_FALSE(v.vol().thin.load());
  EXPECT_TRUE(reads_pattern(v, 2 * bpc, 8, 2));
  ASSERT_TRUE(mgr.delete_volume((*snap2)->bdev->vol()).ok()) << "no clone left";
  EXPECT_TRUE(reads_pattern(v, 0, 8, 1));

  // Everything survives a reload.
  base->release();
  bdev_registry bdevs2;
  lvol_manager mgr2(h.pool(), bdevs2);
  ASSERT_TRUE(bdevs2.add(base).ok());
  auto v2 = bdevs2.find("lvs0/v");
  auto c2 = bdevs2.find("lvs0/clone");
  ASSERT_TRUE(v2 && c2);
  EXPECT_TRUE(reads_pattern(*v2, 8, 8, 3));
  EXPECT_TRUE(reads_pattern(*c2, 2 * bpc, 8, 4));
  EXPECT_FALSE(bdevs2.find("lvs0/snap"));
}

TEST_F(lvol_test, writes_during_snapshots_land_in_the_volume_not_the_snapshot) {
  lvol_store& s = make_store();
  lvol_bdev& v = make_volume(s, "v", 8 * mib, true);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> seed{1000};
  std::thread writer([&] {
    buffer w(4096);
    while (!stop) {
      test::fill_pattern(w.span(), ++seed);
      ASSERT_EQ(h.write(v, (seed % 2000) * 8, 8, w.data()), 0);
    }
  });
  std::vector<volume*> snaps;
  for (int i = 0; i < 5; ++i) {
    auto sn = mgr.snapshot(v.vol(), "s" + std::to_string(i));
    ASSERT_TRUE(sn.ok()) << sn.err().message;
    snaps.push_back(*sn);
  }
  stop = true;
  writer.join();
  // Each snapshot is frozen in time: reading it twice gives the same, whatever v does.
  buffer a(8 * mib), b(8 * mib);
  lvol_bdev& last = *snaps.back()->bdev;
  ASSERT_EQ(h.read(last, 0, 8 * mib / 512, a.data()), 0);
  buffer w(4096);
  test::fill_pattern(w.span(), 5);
  for (uint64_t u = 0; u < 2000; u += 7) ASSERT_EQ(h.write(v, u * 8, 8, w.data()), 0);
  ASSERT_EQ(h.read(last, 0, 8 * mib / 512, b.data()), 0);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), 8 * mib), 0);
  EXPECT_TRUE(reads_pattern(v, 7 * 8, 8, 5));
}

}  // namespace
}  // namespace nvmfd::lvol
