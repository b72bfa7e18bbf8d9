// The agent's parsers of what ps(1) shows besides stat and cmdline
// (agent/rpc/proc_info.h), on texts the kernel and images write.
#include "agent/rpc/proc_info.h"

#include <gtest/gtest.h>

namespace hull::agent::rpc {
namespace {

constexpr std::string_view kStatus =
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t7\nPid:\t7\n"
    "Uid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\nFDSize:\t64\n"
    "Groups:\t5 20 65534 \nVmPeak:\t    1664 kB\nVmSize:\t    1660 kB\nVmLck:\t       4 kB\n"
    "VmData:\t     192 kB\nVmStk:\t     132 kB\nVmExe:\t     596 kB\nVmLib:\t       8 kB\n"
    "VmSwap:\t       0 kB\nThreads:\t1\nSigQ:\t0/7861\nSigPnd:\t0000000000000100\n"
    "ShdPnd:\t0000000000004000\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000000006\n"
    "SigCgt:\t0000000180000000\n";

TEST(ParseProcStatus, IdsGroupsSignalsAndSizes) {
  ProcStatus s = parse_proc_status(kStatus);
  EXPECT_EQ(s.uid[0], 1000u);
  EXPECT_EQ(s.uid[1], 1001u);
  EXPECT_EQ(s.uid[2], 1002u);
  EXPECT_EQ(s.uid[3], 1003u);
  EXPECT_EQ(s.gid[0], 50u);
  EXPECT_EQ(s.gid[3], 53u);
  EXPECT_EQ(s.groups, (std::vector<uint32_t>{5, 20, 65534}));
  EXPECT_EQ(s.sig_pnd, 0x100u);
  EXPECT_EQ(s.shd_pnd, 0x4000u);
  EXPECT_EQ(s.sig_blk, 0x10000u);
  EXPECT_EQ(s.sig_ign, 6u);
  EXPECT_EQ(s.sig_cgt, 0x180000000u);
  EXPECT_EQ(s.vm_lck_kib, 4u);
  EXPECT_EQ(s.vm_data_kib, 192u);
  EXPECT_EQ(s.vm_stk_kib, 132u);
  EXPECT_EQ(s.vm_exe_kib, 596u);
  EXPECT_EQ(s.vm_lib_kib, 8u);
}

TEST(ParseProcStatus, MissingAndMalformedLinesAreZero) {
  ProcStatus s = parse_proc_status("Uid:\tx\t1\nGroups:\t\nSigBlk:\tzz\nVmData:\n");
  EXPECT_EQ(s.uid[0], 0u);
  EXPECT_EQ(s.uid[1], 1u);
  EXPECT_TRUE(s.groups.empty());
  EXPECT_EQ(s.sig_blk, 0u);
  EXPECT_EQ(s.vm_data_kib, 0u);
  EXPECT_EQ(parse_proc_status("").uid[0], 0u);
}

TEST(ParseProcStatm, PagesInOrder) {
  ProcStatm m = parse_proc_statm("415 66 50 149 0 48 0\n");
  EXPECT_EQ(m.size, 415u);
  EXPECT_EQ(m.resident, 66u);
  EXPECT_EQ(m.shared, 50u);
  EXPECT_EQ(m.text, 149u);
  EXPECT_EQ(m.data, 48u);
  EXPECT_EQ(parse_proc_statm("7").resident, 0u);
}

TEST(ParseProcIo, EachCounter) {
  ProcessIo io = parse_proc_io(
      "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\n"
      "cancelled_write_bytes: 7\n");
  EXPECT_EQ(io.rchar(), 1u);
  EXPECT_EQ(io.wchar(), 2u);
  EXPECT_EQ(io.syscr(), 3u);
  EXPECT_EQ(io.syscw(), 4u);
  EXPECT_EQ(io.read_bytes(), 5u);
  EXPECT_EQ(io.write_bytes(), 6u);
  EXPECT_EQ(io.cancelled_write_bytes(), 7u);
  EXPECT_EQ(parse_proc_io("rchar: x\n").rchar(), 0u);
}

TEST(ParseNsLink, TheInode) {
  EXPECT_EQ(parse_ns_link("ipc:[4026531839]"), 4026531839u);
  EXPECT_EQ(parse_ns_link("pid_for_children:[4026531836]"), 4026531836u);
  EXPECT_EQ(parse_ns_link("ipc:[x]"), 0u);
  EXPECT_EQ(parse_ns_link("ipc:4026531839"), 0u);
  EXPECT_EQ(parse_ns_link(""), 0u);
}

TEST(ParseSmapsRollup, PssAndPrivate) {
  SmapsRollup r = parse_smaps_rollup(
      "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  1000 kB\nPss:   832 kB\n"
      "Pss_Anon:  300 kB\nShared_Clean: 500 kB\nPrivate_Clean:  28 kB\nPrivate_Dirty: 300 kB\n");
  EXPECT_EQ(r.pss_kib, 832u);
  EXPECT_EQ(r.uss_kib, 328u);
}

TEST(ParseAutogroup, IdAndNice) {
  EXPECT_EQ(parse_autogroup("/autogroup-25 nice 0\n"), (std::pair<int64_t, int32_t>{25, 0}));
  EXPECT_EQ(parse_autogroup("/autogroup-3 nice -5"), (std::pair<int64_t, int32_t>{3, -5}));
  EXPECT_EQ(parse_autogroup("autogroup-3 nice 0"), std::nullopt);
  EXPECT_EQ(parse_autogroup(""), std::nullopt);
}

TEST(ParseIdNames, FirstNameOfEachId) {
  auto m = parse_id_names(
      "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\n"
      "toor:x:0:0::/:/bin/sh\nnogroup:x:65534:\n# comment\nbroken\nbad:x:notanid:\n"
      ":x:7:\nctl\x01:x:8:\n");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], "root");  // the first of two, as getpwuid answers
  EXPECT_EQ(m[1], "daemon");
  EXPECT_EQ(m[65534], "nogroup");  // /etc/group's shape
  EXPECT_EQ(m.count(7), 0u);       // no name
  EXPECT_EQ(m.count(8), 0u);       // a control character
  EXPECT_EQ(parse_id_names(std::string(300, 'a') + ":x:9:\n").count(9), 0u);
}

TEST(ThreadInfo, FromTheTasksStatStatusAndWchan) {
  auto st = parse_proc_stat(
      "208 (worker) S 1 205 205 0 -1 4194368 7 0 2 0 120 80 0 0 20 0 3 0 1500 "
      "1699840 66 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0");
  ASSERT_TRUE(st);
  ProcStatus status = parse_proc_status(kStatus);
  ThreadInfo t = thread_info(*st, status, "futex_wait_queue\n", 20000, 100);
  EXPECT_EQ(t.tid(), 208);
  EXPECT_EQ(t.comm(), "worker");
  EXPECT_EQ(t.state(), "S");
  EXPECT_EQ(t.cpu_time_ms(), 2000u);  // 200 ticks at 100 Hz
  EXPECT_EQ(t.elapsed_ms(), 5000u);   // started at 15 s, now 20 s
  EXPECT_EQ(t.priority(), 20);
  EXPECT_EQ(t.processor(), 1);
  EXPECT_EQ(t.flags(), 4194368u);
  EXPECT_EQ(t.min_flt(), 7u);
  EXPECT_EQ(t.maj_flt(), 2u);
  EXPECT_EQ(t.wchan(), "futex_wait_queue");
  EXPECT_EQ(t.sig_pending(), 0x100u);  // SigPnd: the thread's own
  EXPECT_EQ(t.sig_blocked(), 0x10000u);
  EXPECT_EQ(thread_info(*st, status, "0", 20000, 100).wchan(), "");  // running
}

TEST(ParseProcStat, TheFieldsOfTheOtherLayouts) {
  auto st = parse_proc_stat(
      "207 (sleep) S 1 205 205 34816 207 4194560 105 0 3 0 12 34 5 6 20 -5 3 0 1500 "
      "1699840 66 18446744073709551615 4194304 4800000 140733000000000 0 0 0 0 0 0 0 0 0 17 "
      "1 42 2 0 0 0");
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->tpgid, 207);
  EXPECT_EQ(st->flags, 4194560u);
  EXPECT_EQ(st->min_flt, 105u);
  EXPECT_EQ(st->maj_flt, 3u);
  EXPECT_EQ(st->cutime, 5u);
  EXPECT_EQ(st->cstime, 6u);
  EXPECT_EQ(st->rsslim, 18446744073709551615u);
  EXPECT_EQ(st->start_code, 4194304u);
  EXPECT_EQ(st->end_code, 4800000u);
  EXPECT_EQ(st->start_stack, 140733000000000u);
  EXPECT_EQ(st->rt_priority, 42u);
  EXPECT_EQ(st->policy, 2u);  // SCHED_RR
  auto short_line = parse_proc_stat("1 (sh) S 0 1 1 0");
  ASSERT_TRUE(short_line);
  EXPECT_EQ(short_line->tpgid, -1);  // not in the line: no terminal
}

}  // namespace
}  // namespace hull::agent::rpc
