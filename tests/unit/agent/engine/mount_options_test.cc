#include "agent/engine/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace hull::engine {
namespace {

MountOptions parse(std::vector<std::string> o) {
  auto r = parse_mount_options(o, "mounts[0].options");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().what());
  return r.value_or(MountOptions{});
}

TEST(MountOptions, FlagsAndData) {
  auto m = parse({"nosuid", "strictatime", "mode=755", "size=65536k"});
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(m.data, "mode=755,size=65536k");
  EXPECT_FALSE(m.is_bind());
}

TEST(MountOptions, DevptsDataKeepsOrder) {
  auto m = parse({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(m.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST(MountOptions, RoBindNeedsRemount) {
  auto m = parse({"rbind", "ro", "nosuid", "nodev", "noexec", "relatime"});
  EXPECT_TRUE(m.is_bind());
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID |
                                                MS_NODEV | MS_NOEXEC | MS_RELATIME));
  EXPECT_TRUE(m.bind_needs_remount());
  EXPECT_FALSE(parse({"bind"}).bind_needs_remount());
  EXPECT_FALSE(parse({"rbind", "rprivate"}).bind_needs_remount());
}

TEST(MountOptions, LaterOptionWins) {
  auto m = parse({"ro", "rw", "nosuid", "suid", "noexec"});
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_NOEXEC));
  EXPECT_EQ(m.clear, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  m = parse({"rw", "ro"});
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_RDONLY));
}

TEST(MountOptions, PropagationInOrder) {
  auto m = parse({"bind", "rprivate", "shared", "runbindable"});
  ASSERT_EQ(m.propagation.size(), 3u);
  EXPECT_EQ(m.propagation[0], static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(m.propagation[1], static_cast<unsigned long>(MS_SHARED));
  EXPECT_EQ(m.propagation[2], static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  EXPECT_EQ(propagation_flag("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(propagation_flag("bogus"), 0u);
}

TEST(MountOptions, RecursiveAttributes) {
  auto m = parse({"rbind", "rro", "rnosuid", "rnoatime"});
  EXPECT_EQ(m.rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
  EXPECT_EQ(m.rec_attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  EXPECT_FALSE(m.bind_needs_remount());  // rro goes through mount_setattr, not a remount
  m = parse({"rro", "rrw"});
  EXPECT_EQ(m.rec_attr_set, 0u);
  EXPECT_EQ(m.rec_attr_clr, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
}

TEST(MountOptions, Errors) {
  auto r = parse_mount_options({"ro", ""}, "mounts[4].options");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_EQ(r.error().msg, "mounts[4].options[1]: empty option");
  r = parse_mount_options({"idmap"}, "mounts[2].options");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unsupported);
  EXPECT_EQ(r.error().msg, "mounts[2].options[0]: option \"idmap\" is not supported by hull");
}

}  // namespace
}  // namespace hull::engine
