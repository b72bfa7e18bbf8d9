// hull ps's ps(1) layouts over the agent's process list (runtime/cli/ps_format.h).
#include "runtime/cli/ps_format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hull::cli {
namespace {

using container::GuestProcessInfo;

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
  GuestProcessInfo sh = init;
  sh.pid = 7;
  sh.ppid = 1;
  sh.sid = 7;
  sh.uid = 1000;
  sh.gid = 1000;
  sh.comm = "sh";
  sh.args = {"sh", "-c", "echo hi"};
  sh.state = 'R';
  sh.tty = (136 << 8) | 2;  // pts/2
  sh.nice = 5;
  sh.threads = 2;
  sh.cpu_time_ms = 0;
  return {init, sh};
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
  auto q = parse_ps_args(args);
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

TEST(PsFormat, OptionsThatCannotApplySaySo) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"-L"},
                                                                             {"-T"},
                                                                             {"-eLf"},
                                                                             {"-H"},
                                                                             {"f"},
                                                                             {"--forest"},
                                                                             {"e"},
                                                                             {"--sort", "pid"},
                                                                             {"-g", "1"},
                                                                             {"-t", "pts/0"},
                                                                             {"-u", "alice"}}) {
    auto q = parse_ps_args(args);
    ASSERT_FALSE(q) << args[0];
    EXPECT_EQ(q.error().code, Errc::Unsupported) << args[0];
    EXPECT_NE(q.error().msg.find("not supported by hull ps"), std::string::npos) << q.error().msg;
  }
}

}  // namespace
}  // namespace hull::cli
