// parse_spec / to_json / serialize_spec / load_spec_file: syntax errors with
// line and column, type and range errors naming the JSON path, limits, and
// unknown keys surviving a round trip.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "common/oci/limits.h"
#include "common/oci/spec.h"

namespace hull::oci {
namespace {

using Clock = std::chrono::steady_clock;

std::string parse_error(std::string_view text) {
  auto r = parse_spec(text);
  if (r) return "<accepted>";
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_EQ(r.error().sys_errno, 0);
  return r.error().what();
}

// A valid base document with `inner` spliced into "process".
std::string with_process(const std::string& inner) {
  return R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"])" +
         (inner.empty() ? "" : "," + inner) + "}}";
}

TEST(SpecParse, ExactMessageShapes) {
  EXPECT_EQ(parse_error(with_process(R"("user":{"uid":-1,"gid":0})")),
            "config.json: process.user.uid: must be an integer between 0 and 4294967295");
  EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","mounts":[{"destination":"/a"},
                           {"destination":"/b"},{"destination":5}]})"),
            "config.json: mounts[2].destination: must be a string");
  EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":{}}})"),
            "config.json: process.args: must be a non-empty array");
  std::string syntax = parse_error("{\n  \"ociVersion\": \"1.0.2\",\n      x\n}");
  EXPECT_EQ(syntax.rfind("config.json: line 3, column 7: syntax error: while parsing object key - "
                         "invalid literal; last read: '",
                         0),
            0u)
      << syntax;
}

TEST(SpecParse, OriginPrefixesMessages) {
  auto r = parse_spec("[]", "/run/bundle/config.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "/run/bundle/config.json: top level must be a JSON object");
}

TEST(SpecParse, SyntaxErrorsCarryLineAndColumn) {
  struct Case {
    std::string text;
    std::string want;
  } cases[] = {
      {"", "config.json: line 1, column 1: syntax error: while parsing value - unexpected end"},
      {"{", "config.json: line 1, column 2: syntax error"},
      {"{\"ociVersion\": \"1.0.2\"", "config.json: line 1, column 23: syntax error"},
      {"{\"a\":\n\n   tru}", "config.json: line 3, column 7: syntax error"},
      {"{\"a\": 1} x", "config.json: line 1, column 10: syntax error"},
      {"{\"a\": \"\x01\"}", "syntax error"},
      {"{\"a\": \"\xc3\x28\"}", "invalid string: ill-formed UTF-8 byte"},
      {"{\"a\": \"\xed\xa0\x80\"}", "ill-formed UTF-8"},  // UTF-16 surrogate encoded in UTF-8
      {"{\"a\": \"\\ud800\"}", "surrogate"},
      {"{\"a\": 01}", "syntax error"},
      {"{\"a\": NaN}", "syntax error"},
      {"{\"a\": 1e400}", "config.json: line 1, column 11: number overflow parsing '1e400'"},
      {"{\"a\": -1e400}", "number overflow"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string got = parse_error(c.text);
    EXPECT_NE(got.find(c.want), std::string::npos) << got;
    for (unsigned char ch : got) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << got;
  }
}

TEST(SpecParse, TopLevelMustBeAnObject) {
  for (const char* text : {"[]", "1", "\"x\"", "null", "true"}) {
    EXPECT_EQ(parse_error(text), "config.json: top level must be a JSON object") << text;
  }
}

TEST(SpecParse, WrongTypesNameThePath) {
  struct Case {
    std::string text;
    std::string want;
  } cases[] = {
      {R"({"ociVersion":1})", "ociVersion: must be a string"},
      {R"({"ociVersion":"1.0.2","process":[]})", "process: must be an object"},
      {R"({"ociVersion":"1.0.2","process":{"terminal":1}})", "process.terminal: must be a boolean"},
      {R"({"ociVersion":"1.0.2","process":{"cwd":["/"]}})", "process.cwd: must be a string"},
      {R"({"ociVersion":"1.0.2","process":{"env":["A=1",null]}})",
       "process.env[1]: must be a string"},
      {R"({"ociVersion":"1.0.2","process":{"consoleSize":{"height":"24","width":80}}})",
       "process.consoleSize.height: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0,"additionalGids":[1,-2]}}})",
       "process.user.additionalGids[1]: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0,"umask":"022"}}})",
       "process.user.umask: must be an integer"},
      {R"({"ociVersion":"1.0.2","process":{"capabilities":{"bounding":"CAP_KILL"}}})",
       "process.capabilities.bounding: must be an array"},
      {R"({"ociVersion":"1.0.2","process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":1}]}})",
       "process.rlimits[0].soft: must be an integer between 0 and 18446744073709551615"},
      {R"({"ociVersion":"1.0.2","process":{"oomScoreAdj":2147483648}})",
       "process.oomScoreAdj: must be an integer between -2147483648 and 2147483647"},
      {R"({"ociVersion":"1.0.2","process":{"noNewPrivileges":"true"}})",
       "process.noNewPrivileges: must be a boolean"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r","readonly":0}})",
       "root.readonly: must be a boolean"},
      {R"({"ociVersion":"1.0.2","root":{}})", "root.path: must be a string"},
      {R"({"ociVersion":"1.0.2","hostname":7})", "hostname: must be a string"},
      {R"({"ociVersion":"1.0.2","mounts":[{"destination":"/x","options":"ro"}]})",
       "mounts[0].options: must be an array"},
      {R"({"ociVersion":"1.0.2","mounts":[{"destination":"/x","uidMappings":[{"containerID":0,"hostID":0}]}]})",
       "mounts[0].uidMappings[0].size: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","hooks":{"poststart":[{"path":"/h","timeout":"5"}]}})",
       "hooks.poststart[0].timeout: must be an integer"},
      {R"({"ociVersion":"1.0.2","hooks":{"createRuntime":{}}})",
       "hooks.createRuntime: must be an array"},
      {R"({"ociVersion":"1.0.2","annotations":[]})", "annotations: must be an object"},
      {R"({"ociVersion":"1.0.2","annotations":{"a b":1}})",
       "annotations[\"a b\"]: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"namespaces":[{"path":"/x"}]}})",
       "linux.namespaces[0].type: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"uidMappings":[{"containerID":0,"hostID":-5,"size":1}]}})",
       "linux.uidMappings[0].hostID: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","linux":{"devices":[{"type":"c","path":"/dev/x","major":1,"minor":1,"fileMode":-1}]}})",
       "linux.devices[0].fileMode: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"devices":[{"access":"rwm"}]}}})",
       "linux.resources.devices[0].allow: must be a boolean"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"cpu":{"shares":-1}}}})",
       "linux.resources.cpu.shares: must be an integer between 0 and 18446744073709551615"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"cpu":{"cpus":0}}}})",
       "linux.resources.cpu.cpus: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"pids":{"limit":1.0}}}})",
       "linux.resources.pids.limit: must be an integer"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"memory":{"swappiness":-1}}}})",
       "linux.resources.memory.swappiness: must be an integer between 0 and 18446744073709551615"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"hugepageLimits":[{"pageSize":"2MB"}]}}})",
       "linux.resources.hugepageLimits[0].limit: must be an integer"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"network":{"classID":4294967296}}}})",
       "linux.resources.network.classID: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"rdma":{"mlx":{"hcaHandles":-1}}}}})",
       "linux.resources.rdma.mlx.hcaHandles: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"unified":{"memory.max":1}}}})",
       "linux.resources.unified[\"memory.max\"]: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"resources":{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":-1}]}}}})",
       "linux.resources.blockIO.throttleReadBpsDevice[0].rate: must be an integer"},
      {R"({"ociVersion":"1.0.2","linux":{"sysctl":{"net.ipv4.ip_forward":1}}})",
       "linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"seccomp":{}}})",
       "linux.seccomp.defaultAction: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":-1}]}}})",
       "linux.seccomp.syscalls[0].errnoRet: must be an integer between 0 and 4294967295"},
      {R"({"ociVersion":"1.0.2","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":18446744073709551616,"op":"SCMP_CMP_EQ"}]}]}}})",
       "linux.seccomp.syscalls[0].args[0].value: must be an integer between 0 and "
       "18446744073709551615"},
      {R"({"ociVersion":"1.0.2","linux":{"personality":{"flags":[]}}})",
       "linux.personality.domain: must be a string"},
      {R"({"ociVersion":"1.0.2","linux":{"intelRdt":"x"}})", "linux.intelRdt: must be an object"},
      {R"({"ociVersion":"1.0.2","linux":{"maskedPaths":[1]}})",
       "linux.maskedPaths[0]: must be a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(parse_error(c.text).rfind("config.json: " + c.want, 0), 0u) << parse_error(c.text);
  }
}

TEST(SpecParse, IntegerRanges) {
  struct Case {
    std::string value;
    bool ok;
  } uid_cases[] = {
      {"0", true},
      {"4294967295", true},
      {"4294967296", false},
      {"-1", false},
      {"1.0", false},
      {"1e2", false},
      {"18446744073709551615", false},
      {"18446744073709551616", false},
      {"-9223372036854775809", false},
      {"\"1\"", false},
      {"true", false},
      {"{}", false},
  };
  for (const auto& c : uid_cases) {
    SCOPED_TRACE(c.value);
    auto r = parse_spec(with_process(R"("user":{"gid":0,"uid":)" + c.value + "}"));
    EXPECT_EQ(bool(r), c.ok);
  }
  Case i64_cases[] = {
      {"9223372036854775807", true},   {"-9223372036854775808", true},
      {"9223372036854775808", false},  {"-9223372036854775809", false},
      {"18446744073709551615", false}, {"0.5", false},
  };
  for (const auto& c : i64_cases) {
    SCOPED_TRACE(c.value);
    auto r = parse_spec(R"({"ociVersion":"1.0.2","linux":{"resources":{"memory":{"limit":)" +
                        c.value + "}}}}");
    EXPECT_EQ(bool(r), c.ok);
    if (r && c.value == "-9223372036854775808") {
      EXPECT_EQ(*r->linux->resources->memory->limit, INT64_MIN);
    }
  }
  auto big = parse_spec(
      with_process(R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":0}])"));
  ASSERT_TRUE(big);
  EXPECT_EQ((*big->process->rlimits)[0].hard, UINT64_MAX);
}

TEST(SpecParse, NulInStringsIsRefused) {
  EXPECT_EQ(parse_error(with_process(R"("env":["A=1\u0000B=2"])")),
            "config.json: process.env[0]: must not contain a NUL character");
  EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","annotations":{"a\u0000b":"x"}})"),
            "config.json: annotations[\"a\\x00b\"]: key must not contain a NUL character");
  // Unknown keys are data, not interpreted: kept as they are.
  auto r = parse_spec(R"({"ociVersion":"1.0.2","x-nul":"a\u0000b"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->extra["x-nul"].get<std::string>(), std::string("a\0b", 3));
}

TEST(SpecParse, NullMeansAbsent) {
  auto r = parse_spec(R"({"ociVersion":"1.0.2","process":null,"hostname":null,"linux":
                          {"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":null}}})");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_FALSE(r->process);
  EXPECT_FALSE(r->hostname);
  EXPECT_FALSE(r->linux->seccomp->syscalls);
  EXPECT_EQ(parse_error(R"({"ociVersion":null})"), "config.json: ociVersion: must be a string");
}

TEST(SpecParse, DeepNestingIsRefusedQuickly) {
  auto start = Clock::now();
  std::string deep(100000, '[');
  EXPECT_EQ(parse_error(deep),
            "config.json: nesting is deeper than 64 levels of arrays and objects");
  std::string objects = "{\"ociVersion\":\"1.0.2\",\"x\":";
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_NE(parse_error(objects).find("nesting is deeper than 64"), std::string::npos);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

TEST(SpecParse, DepthLimitIsExact) {
  // The top-level object is level 1, so 63 arrays inside it reach 64.
  auto nested = [](int arrays) {
    return "{\"ociVersion\":\"1.0.2\",\"x\":" + std::string(static_cast<size_t>(arrays), '[') +
           std::string(static_cast<size_t>(arrays), ']') + "}";
  };
  EXPECT_TRUE(parse_spec(nested(static_cast<int>(kMaxJsonDepth) - 1)));
  EXPECT_FALSE(parse_spec(nested(static_cast<int>(kMaxJsonDepth))));
}

TEST(SpecParse, OversizedTextIsRefused) {
  std::string text(kMaxConfigBytes + 1, ' ');
  std::string got = parse_error(text);
  EXPECT_NE(got.find("larger than the limit of 16777216 bytes"), std::string::npos) << got;
}

TEST(SpecParse, UnknownFieldsSurviveAtEveryLevel) {
  const char* text = R"({
    "ociVersion": "1.1.0", "x-top": [1, {"a": null}],
    "process": {"args": ["sh"], "cwd": "/", "x-p": 1,
                "user": {"uid": 1, "gid": 2, "x-u": "u"},
                "capabilities": {"bounding": [], "x-c": true},
                "rlimits": [{"type": "RLIMIT_CORE", "hard": 0, "soft": 0, "x-r": {}}]},
    "root": {"path": "rootfs", "x-root": 1.25},
    "mounts": [{"destination": "/a", "x-m": ["k"]}],
    "hooks": {"x-h": 1, "prestart": [{"path": "/h", "x-hook": 2}]},
    "linux": {"x-l": "l",
              "namespaces": [{"type": "pid", "x-ns": 3}],
              "resources": {"x-r": 4, "cpu": {"x-cpu": 5}, "memory": {"x-mem": 6},
                            "blockIO": {"x-b": 7, "weightDevice": [{"major": 1, "minor": 2,
                                                                   "x-wd": 8}]}},
              "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "x-s": 9,
                          "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                        "x-rule": 10,
                                        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ",
                                                  "x-arg": 11}]}]}},
    "windows": {"layerFolders": ["C:\\x"]}
  })";
  auto spec = parse_spec(text);
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_EQ(to_json(*spec), Json::parse(text));
  EXPECT_EQ(spec->extra["x-top"], Json::parse(R"([1, {"a": null}])"));
  EXPECT_TRUE(spec->extra.contains("windows"));
  EXPECT_EQ(spec->process->extra["x-p"], 1);
  EXPECT_EQ(spec->process->user.extra["x-u"], "u");
  EXPECT_EQ((*spec->linux->seccomp->syscalls)[0].extra["x-rule"], 10);
  EXPECT_EQ((*(*spec->linux->seccomp->syscalls)[0].args)[0].extra["x-arg"], 11);
  EXPECT_EQ((*spec->mounts)[0].extra["x-m"], Json::parse(R"(["k"])"));
  EXPECT_FALSE(spec->extra.contains("process"));
}

TEST(SpecParse, AbsentStaysAbsentAndEmptyStaysEmpty) {
  auto spec = parse_spec(R"({"ociVersion":"1.0.2","process":{"cwd":"/","args":["a"],
      "env":[],"terminal":false,"user":{"uid":0,"gid":0}},"linux":{"maskedPaths":[]}})");
  ASSERT_TRUE(spec);
  Json j = to_json(*spec);
  EXPECT_EQ(j["process"]["env"], Json::array());
  EXPECT_EQ(j["process"]["terminal"], false);
  EXPECT_FALSE(j["process"].contains("capabilities"));
  EXPECT_FALSE(j["process"].contains("noNewPrivileges"));
  EXPECT_FALSE(j.contains("root"));
  EXPECT_FALSE(j.contains("hostname"));
  EXPECT_EQ(j["linux"]["maskedPaths"], Json::array());
  EXPECT_FALSE(j["linux"].contains("readonlyPaths"));
}

TEST(SpecParse, ProcessUserAndCwdMayBeAbsentInInput) {
  // runc reads Go zero values for these; validate() then insists on cwd.
  auto spec = parse_spec(R"({"ociVersion":"1.0.2","process":{"args":["sh"]}})");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->process->user.uid, 0u);
  EXPECT_EQ(spec->process->cwd, "");
}

TEST(SpecSerialize, TabIndentedAndParsesBack) {
  Spec s;
  s.oci_version = "1.1.0";
  s.hostname = "h";
  std::string out = serialize_spec(s);
  EXPECT_EQ(out, "{\n\t\"hostname\": \"h\",\n\t\"ociVersion\": \"1.1.0\"\n}\n");
}

TEST(SpecSerialize, InvalidUtf8InAHandBuiltSpecDoesNotThrow) {
  Spec s;
  s.oci_version = "1.1.0";
  s.hostname = std::string("bad\xff");
  std::string out = serialize_spec(s);
  EXPECT_NE(out.find("bad\xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

TEST(SpecSerialize, ExtraNeverOverridesAModelledField) {
  Spec s;
  s.oci_version = "1.1.0";
  s.extra = Json{{"ociVersion", "9.9.9"}, {"hostname", "sneaky"}, {"x", 1}};
  Json j = to_json(s);
  EXPECT_EQ(j["ociVersion"], "1.1.0");
  EXPECT_FALSE(j.contains("hostname"));
  EXPECT_EQ(j["x"], 1);
  s.extra = Json::array();  // not an object: ignored
  EXPECT_EQ(to_json(s), Json({{"ociVersion", "1.1.0"}}));
}

TEST(SpecFromJson, MatchesParseSpec) {
  Json j = Json::parse(with_process(R"("env":["A=1"])"));
  auto a = spec_from_json(j);
  auto b = parse_spec(j.dump());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  auto bad = spec_from_json(Json::array(), "x.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().what(), "x.json: top level must be a JSON object");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-oci-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    return path;
  }
  std::string dir_;
};

using LoadSpecFile = TempDir;

TEST_F(LoadSpecFile, HundredMegabyteFileIsRefusedQuickly) {
  std::string path = dir_ + "/config.json";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 100 << 20), 0);  // sparse: no disk space used
  ::close(fd);
  auto start = Clock::now();
  auto r = load_spec_file(path);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_NE(r.error().what().find(path), std::string::npos);
  EXPECT_NE(r.error().what().find("larger than the limit"), std::string::npos);
}

TEST_F(LoadSpecFile, MissingFileIsNotFoundErrno) {
  auto r = load_spec_file(dir_ + "/nope.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
}

TEST_F(LoadSpecFile, ErrorsNameTheFile) {
  std::string path = write("config.json", with_process(R"("cwd":"rel")"));
  auto r = load_spec_file(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), path + ": process.cwd: must be an absolute path");
  std::string bad = write("bad.json", "{\n\"ociVersion\": }");
  auto r2 = load_spec_file(bad);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().what().rfind(bad + ": line 2, column 15: syntax error: ", 0), 0u)
      << r2.error().what();
}

TEST_F(LoadSpecFile, LoadsAValidFile) {
  std::string path = write("config.json", serialize_spec(default_spec()));
  auto r = load_spec_file(path);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(*r, default_spec());
}

}  // namespace
}  // namespace hull::oci
