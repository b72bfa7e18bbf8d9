// hull ps's ps(1) layouts over the agent's process list (runtime/cli/ps_format.h).
#include "runtime/cli/ps_format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hull::cli {
namespace {

using container::GuestProcessInfo;
using container::GuestProcessList;
using container::GuestThreadInfo;

// A process's main thread: the same stat values.
GuestThreadInfo thread_of(const GuestProcessInfo& p) {
  GuestThreadInfo t;
  t.tid = p.pid;
  t.comm = p.comm;
  t.state = p.state;
  t.cpu_time_ms = p.cpu_time_ms;
  t.elapsed_ms = p.elapsed_ms;
  t.priority = p.priority;
  t.nice = p.nice;
  t.processor = p.processor;
  t.wchan = p.wchan;
  return t;
}

std::vector<GuestProcessInfo> sample() {
  GuestProcessInfo init;
  init.pid = 1;
  init.ppid = 0;
  init.sid = 1;
  init.pgid = 1;
  init.comm = "sleep";
  init.args = {"sleep", "1000"};
  init.state = 'S';
  init.cpu_time_ms = 61000;  // 1:01
  init.elapsed_ms = 122000;
  init.priority = 20;
  init.threads = 1;
  init.vsz_kib = 1660;
  init.rss_kib = 264;
  init.mem_total_kib = 2640;
  init.user = init.ruser = init.suser = init.fsuser = "root";
  init.group = init.rgroup = init.sgroup = init.fsgroup = "root";
  init.tasks = {thread_of(init)};
  GuestProcessInfo sh = init;
  sh.pid = 7;
  sh.ppid = 1;
  sh.sid = 7;
  sh.pgid = 7;
  sh.uid = 1000;
  sh.gid = 1000;
  sh.comm = "sh";
  sh.args = {"sh", "-c", "echo hi"};
  sh.state = 'R';
  sh.tty = (136 << 8) | 2;  // pts/2
  sh.nice = 5;
  sh.threads = 2;
  sh.cpu_time_ms = 0;
  sh.euid = sh.suid = sh.fsuid = 1000;  // a real process has all four
  sh.egid = sh.sgid = sh.fsgid = 1000;
  sh.user = sh.ruser = sh.suser = sh.fsuser = "";  // no name in the image
  sh.group = sh.rgroup = sh.sgroup = sh.fsgroup = "";
  GuestThreadInfo worker = thread_of(sh);
  worker.tid = 8;
  worker.comm = "worker";
  worker.state = 'S';
  sh.tasks = {thread_of(sh), worker};
  return {init, sh};
}

PsNames names() {
  return PsNames{{{"root", 0}, {"daemon", 1}}, {{"root", 0}, {"tty", 5}}};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string table(const std::vector<std::string>& args) {
  auto q = parse_ps_args(args, names());
  EXPECT_TRUE(q) << q.error().what();
  return q ? format_ps(*q, sample(), 1'700'000'000) : "";
}

TEST(PsFormat, NoOptionsIsRuncsDashEf) {
  auto l = lines(table({}));
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0], "UID        PID  PPID  C STIME TTY          TIME CMD");
  auto w = words(l[1]);
  ASSERT_EQ(w.size(), 9u) << l[1];
  EXPECT_EQ(w[0], "root");
  EXPECT_EQ(w[1], "1");
  EXPECT_EQ(w[3], "50");  // 61 s of CPU in 122 s
  EXPECT_EQ(w[5], "?");
  EXPECT_EQ(w[6], "00:01:01");
  EXPECT_EQ(w[7] + " " + w[8], "sleep 1000");
  w = words(l[2]);
  EXPECT_EQ(w[0], "1000");
  EXPECT_EQ(w[5], "pts/2");
  EXPECT_EQ(table({"-ef"}), table({}));
  EXPECT_EQ(table({"-e", "-f"}), table({}));
}

TEST(PsFormat, LayoutsOfTheCommonOptions) {
  EXPECT_EQ(lines(table({"-e"}))[0], "  PID TTY          TIME CMD");
  EXPECT_EQ(words(lines(table({"-e"}))[1]).back(), "sleep");  // CMD is comm here
  EXPECT_EQ(lines(table({"-e", "-x"}))[0], "  PID TTY      STAT   TIME COMMAND");
  EXPECT_EQ(lines(table({"ax"}))[0], "  PID TTY      STAT   TIME COMMAND");
  auto aux = lines(table({"aux"}));
  EXPECT_EQ(words(aux[0]), (std::vector<std::string>{"USER", "PID", "%CPU", "%MEM", "VSZ", "RSS",
                                                     "TTY", "STAT", "START", "TIME", "COMMAND"}));
  auto w = words(aux[1]);
  EXPECT_EQ(w[2], "50.0");
  EXPECT_EQ(w[3], "10.0");  // 264 of 2640 KiB
  EXPECT_EQ(w[7], "Ss");
  EXPECT_EQ(w[9], "1:01");
  EXPECT_EQ(words(aux[2])[7], "RNsl");
  EXPECT_EQ(words(lines(table({"-l"}))[0]),
            (std::vector<std::string>{"F", "S", "UID", "PID", "PPID", "C", "PRI", "NI", "ADDR",
                                      "SZ", "WCHAN", "TTY", "TIME", "CMD"}));
  EXPECT_EQ(words(lines(table({"-l"}))[1])[6], "80");  // 60 + priority 20
  EXPECT_EQ(words(lines(table({"-j"}))[0]),
            (std::vector<std::string>{"PID", "PGID", "SID", "TTY", "TIME", "CMD"}));
  EXPECT_EQ(words(lines(table({"-F"}))[0]),
            (std::vector<std::string>{"UID", "PID", "PPID", "C", "SZ", "RSS", "PSR", "STIME", "TTY",
                                      "TIME", "CMD"}));
}

TEST(PsFormat, UserDefinedColumns) {
  EXPECT_EQ(table({"-o", "pid,comm"}), "  PID COMMAND\n    1 sleep\n    7 sh\n");
  EXPECT_EQ(table({"-opid,comm"}), table({"-o", "pid,comm"}));
  EXPECT_EQ(table({"--format=pid,comm"}), table({"-o", "pid,comm"}));
  EXPECT_EQ(table({"-o", "pid", "-o", "comm"}), table({"-o", "pid,comm"}));
  EXPECT_EQ(table({"-o", "pid,args=CMDLINE"}),
            "  PID CMDLINE\n    1 sleep 1000\n    7 sh -c echo hi\n");
  EXPECT_EQ(table({"-o", "pid="}), "    1\n    7\n");  // no header at all
  EXPECT_EQ(table({"--no-headers", "-o", "pid"}), "    1\n    7\n");
  auto l = lines(table({"-o", "user,group,uid,gid,stat,etime,etimes,nlwp,ni,vsz,rss,s"}));
  EXPECT_EQ(words(l[2]), (std::vector<std::string>{"1000", "1000", "1000", "1000", "RNsl", "02:02",
                                                   "122", "2", "5", "1660", "264", "R"}));
  auto bad = parse_ps_args({"-o", "pid,bogus"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid);
  EXPECT_NE(bad.error().msg.find("unknown format keyword \"bogus\""), std::string::npos);
  EXPECT_FALSE(parse_ps_args({"-o"}));
}

TEST(PsFormat, Selections) {
  EXPECT_EQ(table({"-p", "7", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"-C", "sleep", "-o", "pid"}), "  PID\n    1\n");
  EXPECT_EQ(table({"-u", "1000", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"-U", "root", "-o", "pid"}), "  PID\n    1\n");
  EXPECT_EQ(table({"r", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"1", "-o", "pid"}), "  PID\n    1\n");
  EXPECT_EQ(table({"-A", "-o", "pid"}), "  PID\n    1\n    7\n");
}

// The process tree of a shell script, as a host's ps showed it: tree.sh runs
// sleep, sh (with two sleeps) and a three-threaded python3.
GuestProcessList tree() {
  auto proc = [](int pid, int ppid, std::string comm, std::vector<std::string> args,
                 uint64_t age_ms) {
    GuestProcessInfo p;
    p.pid = p.pgid = pid;
    p.sid = 12104;
    p.pgid = 12104;
    p.ppid = ppid;
    p.comm = std::move(comm);
    p.args = std::move(args);
    p.state = 'S';
    p.elapsed_ms = age_ms;
    p.priority = 20;
    p.threads = 1;
    p.user = p.ruser = p.suser = p.fsuser = "root";
    p.group = p.rgroup = p.sgroup = p.fsgroup = "root";
    p.tasks = {thread_of(p)};
    return p;
  };
  GuestProcessList l;
  l.processes = {
      proc(12107, 12104, "sh", {"sh", "-c", "sleep 1002 & sleep 1003"}, 9990),
      proc(12104, 1, "tree.sh", {"/bin/sh", "./tree.sh"}, 10000),
      proc(12106, 12104, "sleep", {"sleep", "1001"}, 9990),
      proc(12108, 12104, "python3", {"python3"}, 9990),
      proc(12109, 12107, "sleep", {"sleep", "1002"}, 9980),
      proc(12110, 12107, "sleep", {"sleep", "1003"}, 9980),
  };
  GuestProcessInfo& py = l.processes[3];
  py.threads = 3;
  for (int tid : {12189, 12190}) {
    GuestThreadInfo t = thread_of(py);
    t.tid = tid;
    py.tasks.push_back(t);
  }
  l.user_ids = {{"root", 0}, {"daemon", 1}};
  l.group_ids = {{"root", 0}};
  return l;
}

std::string tree_table(const std::vector<std::string>& args) {
  GuestProcessList l = tree();
  PsNames n{l.user_ids, l.group_ids};
  auto q = parse_ps_args(args, n);
  EXPECT_TRUE(q) << q.error().what();
  PsContext ctx;
  ctx.now = 1'700'000'000;
  return q ? format_ps(*q, l, ctx) : "";
}

TEST(PsFormat, ThreadsAsPsShowsThem) {
  EXPECT_EQ(tree_table({"-L"}),
            "  PID   LWP TTY          TIME CMD\n"
            "12104 12104 ?        00:00:00 tree.sh\n"
            "12106 12106 ?        00:00:00 sleep\n"
            "12107 12107 ?        00:00:00 sh\n"
            "12108 12108 ?        00:00:00 python3\n"
            "12108 12189 ?        00:00:00 python3\n"
            "12108 12190 ?        00:00:00 python3\n"
            "12109 12109 ?        00:00:00 sleep\n"
            "12110 12110 ?        00:00:00 sleep\n");
  EXPECT_EQ(lines(tree_table({"-T"}))[0], "  PID  SPID TTY          TIME CMD");
  EXPECT_EQ(lines(tree_table({"-eLf"}))[0],
            "UID        PID  PPID   LWP  C NLWP STIME TTY          TIME CMD");
  auto elf = lines(tree_table({"-eLf"}));
  ASSERT_EQ(elf.size(), 9u);
  EXPECT_EQ(words(elf[5])[0], "root");
  EXPECT_EQ(words(elf[5])[1], "12108");
  EXPECT_EQ(words(elf[5])[3], "12189");
  EXPECT_EQ(words(elf[5])[5], "3");  // NLWP
  auto m = lines(tree_table({"-m"}));
  ASSERT_EQ(m.size(), 15u);
  EXPECT_EQ(m[1], "12104 ?        00:00:00 tree.sh");
  EXPECT_EQ(m[2], "    - -        00:00:00 -");
  EXPECT_EQ(tree_table({"H", "-o", "pid,tid,stat,comm"}),
            "  PID   TID STAT COMMAND\n"
            "12104 12104 Ss   tree.sh\n"
            "12106 12106 S    sleep\n"
            "12107 12107 S    sh\n"
            "12108 12108 Sl   python3\n"
            "12108 12189 Sl   python3\n"
            "12108 12190 Sl   python3\n"
            "12109 12109 S    sleep\n"
            "12110 12110 S    sleep\n");
  // -m: the process's columns on its line, the thread's on theirs.
  auto mo = lines(tree_table({"-m", "-p", "12104", "-o", "pid,tid,nlwp,user,stat,time,comm"}));
  ASSERT_EQ(mo.size(), 3u);
  EXPECT_EQ(words(mo[1]),
            (std::vector<std::string>{"12104", "-", "1", "root", "-", "00:00:00", "tree.sh"}));
  EXPECT_EQ(words(mo[2]),
            (std::vector<std::string>{"-", "12104", "-", "root", "Ss", "00:00:00", "-"}));
}

TEST(PsFormat, ThreadsOfTheSampleKeepTheirOwnValues) {
  auto l = lines(table({"-L", "-o", "pid,lwp,stat,comm"}));
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(words(l[3]), (std::vector<std::string>{"7", "8", "SNsl", "worker"}));
}

TEST(PsFormat, TheTreeAsPsDrawsIt) {
  EXPECT_EQ(tree_table({"-o", "pid,args", "--forest"}),
            "  PID COMMAND\n"
            "12104 /bin/sh ./tree.sh\n"
            "12106  \\_ sleep 1001\n"
            "12107  \\_ sh -c sleep 1002 & sleep 1003\n"
            "12109  |   \\_ sleep 1002\n"
            "12110  |   \\_ sleep 1003\n"
            "12108  \\_ python3\n");
  EXPECT_EQ(tree_table({"-H"}),
            "  PID TTY          TIME CMD\n"
            "12104 ?        00:00:00 tree.sh\n"
            "12106 ?        00:00:00   sleep\n"
            "12107 ?        00:00:00   sh\n"
            "12109 ?        00:00:00     sleep\n"
            "12110 ?        00:00:00     sleep\n"
            "12108 ?        00:00:00   python3\n");
  auto f = lines(tree_table({"f"}));
  EXPECT_EQ(f[0], "  PID TTY      STAT   TIME COMMAND");
  EXPECT_EQ(f[4], "12109 ?        S      0:00  |   \\_ sleep 1002");
  EXPECT_EQ(tree_table({"-ef", "--forest"}).find(" \\_ sleep 1001") != std::string::npos, true);
  // Sorted, a tree keeps its shape and orders siblings by the key.
  auto sorted = lines(tree_table({"-o", "pid,comm", "f", "--sort=-pid"}));
  EXPECT_EQ(sorted[1], "12104 tree.sh");
  EXPECT_EQ(sorted[2], "12108  \\_ python3");
  EXPECT_EQ(sorted[3], "12107  \\_ sh");
  EXPECT_EQ(sorted[4], "12110  |   \\_ sleep");
  for (std::vector<std::string> bad :
       std::vector<std::vector<std::string>>{{"-L", "f"}, {"H", "-H"}, {"-L", "--forest"}}) {
    auto q = parse_ps_args(bad);
    ASSERT_FALSE(q) << bad[0];
    EXPECT_EQ(q.error().code, Errc::Invalid);
    EXPECT_NE(q.error().msg.find("thread display conflicts with forest display"),
              std::string::npos);
  }
  // As with ps, -m that fails as UNIX is BSD's old m: the memory layout.
  EXPECT_EQ(words(lines(tree_table({"-m", "--forest"}))[0]),
            (std::vector<std::string>{"PID", "TTY", "MAJFLT", "MINFLT", "TRS", "DRS", "SIZE",
                                      "SWAP", "RSS", "SHRD", "LIB", "DT", "COMMAND"}));
}

TEST(PsFormat, TheTreeOfALyingGuestEnds) {
  GuestProcessList l;
  for (int pid = 1; pid <= 3000; ++pid) {  // one long chain, and a loop
    GuestProcessInfo p;
    p.pid = pid;
    p.ppid = pid - 1;
    p.comm = "x";
    l.processes.push_back(p);
  }
  GuestProcessInfo a, b;
  a.pid = 5000, a.ppid = 5001, b.pid = 5001, b.ppid = 5000;
  l.processes.push_back(a);
  l.processes.push_back(b);
  auto q = parse_ps_args({"-o", "pid,comm", "--forest"});
  ASSERT_TRUE(q);
  auto out = lines(format_ps(*q, l, PsContext{}));
  EXPECT_EQ(out.size(), 3001u);  // the chain; the loop has no root
}

TEST(PsFormat, TheEnvironment) {
  std::vector<GuestProcessInfo> ps = sample();
  ps[0].environ = {"PATH=/bin", "HOME=/root"};
  auto q = parse_ps_args({"e", "-o", "pid,args"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, ps, 0),
            "  PID COMMAND\n    1 sleep 1000 PATH=/bin HOME=/root\n    7 sh -c echo hi\n");
  q = parse_ps_args({"-e", "-x"});  // as ps: BSD e x
  ASSERT_TRUE(q);
  EXPECT_NE(format_ps(*q, ps, 0).find("sleep 1000 PATH=/bin HOME=/root"), std::string::npos);
  q = parse_ps_args({"-o", "pid,comm", "e"});
  ASSERT_TRUE(q);
  EXPECT_EQ(lines(format_ps(*q, ps, 0))[1], "    1 sleep PATH=/bin HOME=/root");
}

TEST(PsFormat, Sort) {
  EXPECT_EQ(tree_table({"--sort=-pid", "-o", "pid"}),
            "  PID\n12110\n12109\n12108\n12107\n12106\n12104\n");
  EXPECT_EQ(tree_table({"--sort", "comm,-pid", "-o", "pid,comm"}),
            "  PID COMMAND\n12108 python3\n12107 sh\n12110 sleep\n12109 sleep\n12106 sleep\n"
            "12104 tree.sh\n");
  EXPECT_EQ(tree_table({"k", "ppid,-pid", "-o", "pid"}),
            "  PID\n12104\n12108\n12107\n12106\n12110\n12109\n");
  EXPECT_EQ(tree_table({"O-p", "-o", "pid"}), tree_table({"--sort=-pid", "-o", "pid"}));
  EXPECT_EQ(table({"--sort=-nlwp", "-o", "pid"}), "  PID\n    7\n    1\n");
  auto bad = parse_ps_args({"--sort=bogus"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("unknown sort specifier"), std::string::npos);
}

TEST(PsFormat, UserNamesAreTheContainers) {
  std::vector<GuestProcessInfo> ps = sample();
  ps[1].user = "systemd-network";  // longer than USER's 8 columns
  auto q = parse_ps_args({"-o", "user,pid"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, ps, 0), "USER       PID\nroot         1\nsystemd+     7\n");
  q = parse_ps_args({"-o", "pid,user"});  // the last column is not cut
  ASSERT_TRUE(q);
  EXPECT_EQ(lines(format_ps(*q, ps, 0))[2], "    7 systemd-network");
  q = parse_ps_args({"n", "-o", "user,pid"});  // numbers, right-aligned
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, ps, 0), "    USER   PID\n       0     1\n    1000     7\n");
  // Selection by name goes through the container's names.
  EXPECT_EQ(table({"-u", "root", "-o", "pid"}), "  PID\n    1\n");
  EXPECT_EQ(table({"-u", "daemon", "-o", "pid"}), "  PID\n");
  EXPECT_EQ(table({"-G", "root", "-o", "pid"}), "  PID\n    1\n");
  auto unknown = parse_ps_args({"-u", "alice"}, names());
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().msg.find("user name does not exist"), std::string::npos);
  // -aux is not -a -u "x": as with ps, the UNIX parse fails and BSD's wins.
  EXPECT_EQ(table({"-aux"}), table({"aux"}));
}

TEST(PsFormat, MoreSelections) {
  EXPECT_EQ(table({"-N", "-p", "7", "-o", "pid"}), "  PID\n    1\n");
  EXPECT_EQ(table({"--deselect", "-C", "sh", "-o", "pid"}), "  PID\n    1\n");
  EXPECT_EQ(table({"--ppid", "1", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"-s", "7", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"-g", "1", "-o", "pid"}), "  PID\n    1\n");  // a session
  EXPECT_EQ(table({"-t", "pts/2", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"t", "2", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"-t", "-", "-o", "pid"}), "  PID\n    1\n");                     // no terminal
  EXPECT_EQ(table({"-p", "1", "-C", "sh", "-o", "pid"}), "  PID\n    1\n    7\n");  // ORed
  EXPECT_EQ(table({"-a", "-o", "pid"}), "  PID\n");  // a tty, no session leader: none here
  EXPECT_EQ(table({"-d", "-o", "pid"}), "  PID\n");
  EXPECT_EQ(table({"a", "-o", "pid"}), "  PID\n    7\n");  // those with a terminal
  EXPECT_EQ(table({"x", "-o", "pid"}), "  PID\n    1\n");  // the caller's (euid 0)
  EXPECT_EQ(table({"T", "-o", "pid"}), "  PID\n");         // a host terminal: none of the VM's
  EXPECT_EQ(table({"+7", "-o", "pid"}), "  PID\n    7\n");
  EXPECT_EQ(table({"-1", "-o", "pid"}), "  PID\n    1\n");
}

TEST(PsFormat, TheOtherLayouts) {
  EXPECT_EQ(words(lines(table({"j"}))[0]),
            (std::vector<std::string>{"PPID", "PID", "PGID", "SID", "TTY", "TPGID", "STAT", "UID",
                                      "TIME", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"l"}))[0]),
            (std::vector<std::string>{"F", "UID", "PID", "PPID", "PRI", "NI", "VSZ", "RSS", "WCHAN",
                                      "STAT", "TTY", "TIME", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"s"}))[0]),
            (std::vector<std::string>{"UID", "PID", "PENDING", "BLOCKED", "IGNORED", "CAUGHT",
                                      "STAT", "TTY", "TIME", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"v"}))[0]),
            (std::vector<std::string>{"PID", "TTY", "STAT", "TIME", "MAJFL", "TRS", "DRS", "RSS",
                                      "%MEM", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"X"}))[0]),
            (std::vector<std::string>{"PID", "STACKP", "ESP", "EIP", "TMOUT", "ALARM", "STAT",
                                      "TTY", "TIME", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"-c"}))[0]),
            (std::vector<std::string>{"PID", "CLS", "PRI", "TTY", "TIME", "CMD"}));
  EXPECT_EQ(words(lines(table({"-fc"}))[0]),
            (std::vector<std::string>{"UID", "PID", "PPID", "CLS", "PRI", "STIME", "TTY", "TIME",
                                      "CMD"}));
  EXPECT_EQ(words(lines(table({"-jl"}))[0]),
            (std::vector<std::string>{"F", "S", "UID", "PID", "PPID", "PGID", "SID", "C", "PRI",
                                      "NI", "ADDR", "SZ", "WCHAN", "TTY", "TIME", "CMD"}));
  EXPECT_EQ(words(lines(table({"-lF"}))[0]),
            (std::vector<std::string>{"F", "S", "UID", "PID", "PPID", "C", "PRI", "NI", "ADDR",
                                      "SZ", "WCHAN", "RSS", "PSR", "STIME", "TTY", "TIME", "CMD"}));
  EXPECT_EQ(lines(table({"-M"}))[0], "LABEL                             PID TTY          TIME CMD");
  EXPECT_EQ(words(lines(table({"--context"}))[0]),
            (std::vector<std::string>{"PID", "CONTEXT", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"-O", "rss"}))[0]),
            (std::vector<std::string>{"PID", "RSS", "S", "TTY", "TIME", "COMMAND"}));
  EXPECT_EQ(words(lines(table({"-O", "rss"}))[1]).back(), "1000");  // args
  EXPECT_EQ(words(lines(table({"O", "rss"}))[1]).back(), "sleep");  // comm
  EXPECT_EQ(words(lines(table({"u", "-L"}))[0]),
            (std::vector<std::string>{"USER", "PID", "LWP", "%CPU", "NLWP", "%MEM", "VSZ", "RSS",
                                      "TTY", "STAT", "START", "TIME", "COMMAND"}));
}

// Lines a host's ps printed, from the same values.
TEST(PsFormat, ColumnsLandWherePsPutsThem) {
  GuestProcessInfo bash;
  bash.pid = 6448;
  bash.ppid = 6447;
  bash.pgid = bash.sid = 6448;
  bash.comm = "bash";
  bash.args = {"bash"};
  bash.state = 'S';
  bash.priority = 20;
  bash.threads = 1;
  bash.rss_kib = 4240;
  bash.vsz_kib = 5248;
  bash.wchan = "poll_schedule_timeout";
  bash.user = "root";
  bash.flags = 0x400100;  // F 4
  auto q = parse_ps_args({"-ly"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, {bash}, 0),
            "S   UID   PID  PPID  C PRI  NI   RSS    SZ WCHAN  TTY          TIME CMD\n"
            "S     0  6448  6447  0  80   0  4240  1312 poll_s ?        00:00:00 bash\n");
  bash.pid = 12936, bash.ppid = 12933, bash.comm = "tree.sh", bash.vsz_kib = 2592;
  bash.wchan = "sigsuspend";
  bash.flags = 0;
  q = parse_ps_args({"-l"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, {bash}, 0),
            "F S   UID   PID  PPID  C PRI  NI ADDR SZ WCHAN  TTY          TIME CMD\n"
            "0 S     0 12936 12933  0  80   0 -   648 sigsus ?        00:00:00 tree.sh\n");
  q = parse_ps_args({"-o", "pid:10,comm:3"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, {bash}, 0), "       PID COMMAND\n     12936 tree.sh\n");
  q = parse_ps_args({"-o", "args,pid"});  // a command before the last column is cut
  ASSERT_TRUE(q);
  bash.args = {"/process_api", "--firecracker-init", "--addr", "0.0.0.0:2024"};
  EXPECT_EQ(lines(format_ps(*q, {bash}, 0))[1], "/process_api --firecracker- 12936");
  q = parse_ps_args({"-o", "pid,user=X", "-o", "comm="});
  ASSERT_TRUE(q);
  EXPECT_EQ(lines(format_ps(*q, {bash}, 0))[0], "  PID X        ");
  q = parse_ps_args({"-o", "pid,comm=A,ppid"});  // a header ends at the comma
  ASSERT_TRUE(q);
  EXPECT_EQ(lines(format_ps(*q, {bash}, 0))[0], "  PID A                PPID");
}

TEST(PsFormat, HeadersAndWidth) {
  std::vector<GuestProcessInfo> ps;
  for (int pid = 1; pid <= 5; ++pid) {
    GuestProcessInfo p;
    p.pid = pid;
    p.comm = "x";
    ps.push_back(p);
  }
  GuestProcessList l;
  l.processes = ps;
  auto q = parse_ps_args({"--headers", "--rows", "3", "-o", "pid"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, l, PsContext{}),
            "  PID\n    1\n    2\n  PID\n    3\n    4\n  PID\n    5\n");
  q = parse_ps_args({"h", "-o", "pid"});
  ASSERT_TRUE(q);
  EXPECT_EQ(format_ps(*q, l, PsContext{}), "    1\n    2\n    3\n    4\n    5\n");
  EXPECT_FALSE(parse_ps_args({"h", "--headers"}));
  l.processes.resize(1);
  l.processes[0].args = {"a-long-command", "with", "arguments"};
  q = parse_ps_args({"--cols", "12", "-o", "pid,args"});
  ASSERT_TRUE(q);
  EXPECT_EQ(lines(format_ps(*q, l, PsContext{}))[1], "    1 a-long");  // 12 columns
  q = parse_ps_args({"-o", "pid,args"});
  ASSERT_TRUE(q);
  PsContext terminal;
  terminal.screen_cols = 12;
  EXPECT_EQ(lines(format_ps(*q, l, terminal))[1], "    1 a-long");
  q = parse_ps_args({"ww", "-o", "pid,args"});
  ASSERT_TRUE(q);
  EXPECT_EQ(lines(format_ps(*q, l, terminal))[1], "    1 a-long-command with arguments");
}

TEST(PsFormat, EveryKeywordRenders) {
  for (const auto& key :
       {"%cpu",   "ag_id", "blocked", "bsdstart", "c",       "cgroup", "class",  "cp",
        "cuc",    "cuu",   "drs",     "egroup",   "eip",     "etime",  "exe",    "f",
        "fname",  "ipcns", "label",   "lim",      "lstart",  "luid",   "lwp",    "m_size",
        "majflt", "nice",  "numa",    "oom",      "pri_api", "pss",    "rbytes", "rtprio",
        "sched",  "sgi_p", "size",    "stackp",   "start",   "supgrp", "sz",     "tpgid",
        "trs",    "tsig",  "uss",     "wchan",    "zoneid"}) {
    auto q = parse_ps_args({"-o", std::string("pid,") + key});
    ASSERT_TRUE(q) << key;
    auto l = lines(table({"-o", std::string("pid,") + key}));
    ASSERT_EQ(l.size(), 3u) << key;
    EXPECT_GE(words(l[1]).size(), 2u) << key << ": " << l[1];
  }
  std::vector<GuestProcessInfo> ps = sample();
  ps[1].policy = 2;  // SCHED_RR
  ps[1].rt_priority = 10;
  ps[1].priority = -11;
  ps[1].tasks.clear();
  ps[1].groups = {5, 20};
  ps[1].group_names = {"tty", ""};
  ps[1].rss_rlim = UINT64_MAX;
  ps[1].cgroups = {"0::/hull/c1"};
  auto q = parse_ps_args({"-o", "cls,pri,rtprio,ni,pri_foo,pri_api,supgid,supgrp,lim,cgroup"});
  ASSERT_TRUE(q);
  EXPECT_EQ(words(lines(format_ps(*q, ps, 0))[2]),
            (std::vector<std::string>{"RR", "50", "10", "-", "-31", "10", "5,20", "tty,20", "xx",
                                      "0::/hull/c1"}));
}

TEST(PsFormat, OptionsThatPrintPsItselfAreRefused) {
  auto alone = parse_ps_args({"-V", "-e"});  // ps takes them alone only
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code, Errc::Invalid);
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"-V"}, {"V"}, {"--version"}, {"--help"}, {"--info"}, {"L"}}) {
    auto q = parse_ps_args(args);
    ASSERT_FALSE(q) << args[0];
    EXPECT_EQ(q.error().code, Errc::Unsupported) << args[0];
    EXPECT_NE(q.error().msg.find("not supported by hull ps"), std::string::npos) << q.error().msg;
    EXPECT_NE(q.error().msg.find("\"" + args[0] + "\""), std::string::npos) << q.error().msg;
  }
}

TEST(PsFormat, WhatPsRefusesIsRefused) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"-o", "pid", "-l"},  // conflicting format options
                                             {"-y"},               // -y without -l
                                             {"-L", "-T"},
                                             {"-o", "pid", "-O", "rss"},
                                             {"-o", "pid,,comm"},
                                             {"--bogus"},
                                             {"-ef", "--forest", "-L"},
                                             {"-p", "x"}}) {
    auto q = parse_ps_args(args);
    ASSERT_FALSE(q) << args[0];
    EXPECT_EQ(q.error().code, Errc::Invalid) << args[0] << ": " << q.error().msg;
  }
}
}  // namespace
}  // namespace hull::cli
