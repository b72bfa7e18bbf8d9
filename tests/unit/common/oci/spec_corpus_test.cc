// The corpus in tests/data/specs: every valid spec loads and round-trips to
// an equal JSON value; every invalid one fails with the message in its
// sidecar .expect file.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/oci/limits.h"
#include "common/oci/spec.h"

namespace hull::oci {
namespace {

namespace fs = std::filesystem;

const fs::path kSpecs = fs::path(HULL_SOURCE_DIR) / "tests/data/specs";

std::vector<fs::path> files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  auto r = read_file(p.string(), kMaxConfigBytes);
  EXPECT_TRUE(r) << p;
  return r ? *r : std::string();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(SpecCorpus, HasFiles) {
  EXPECT_GE(files(kSpecs / "valid", ".json").size(), 4u);
  EXPECT_GE(files(kSpecs / "invalid", ".json").size(), 40u);
}

TEST(SpecCorpus, ValidFilesLoadAndRoundTrip) {
  for (const auto& path : files(kSpecs / "valid", ".json")) {
    SCOPED_TRACE(path.string());
    auto loaded = load_spec_file(path.string());
    ASSERT_TRUE(loaded) << loaded.error().what();

    std::string text = slurp(path);
    Json original = Json::parse(text);
    EXPECT_EQ(to_json(*loaded), original);

    // serialize -> parse gives the same model back.
    auto again = parse_spec(serialize_spec(*loaded));
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_EQ(*again, *loaded);
    EXPECT_EQ(Json::parse(serialize_spec(*again)), original);
  }
}

TEST(SpecCorpus, InvalidFilesFailWithTheirMessage) {
  auto all = files(kSpecs / "invalid", ".json");
  for (const auto& path : all) {
    SCOPED_TRACE(path.string());
    fs::path expect_path = path;
    expect_path.replace_extension(".expect");
    ASSERT_TRUE(fs::exists(expect_path));
    std::string expect = trim(slurp(expect_path));
    ASSERT_FALSE(expect.empty());

    // parse + validate with the default origin: the message names config.json.
    auto spec = parse_spec(slurp(path));
    std::string msg;
    if (!spec) {
      EXPECT_EQ(spec.error().code, Errc::Invalid);
      msg = spec.error().what();
    } else {
      auto st = validate(*spec);
      ASSERT_FALSE(st) << "accepted";
      EXPECT_EQ(st.error().code, Errc::Invalid);
      msg = st.error().what();
    }
    EXPECT_NE(msg.find(expect), std::string::npos) << "got: " << msg << "\nwant: " << expect;

    // load_spec_file names the file instead.
    auto loaded = load_spec_file(path.string());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, Errc::Invalid);
    std::string file_msg = loaded.error().what();
    EXPECT_EQ(file_msg.rfind(path.string() + ": ", 0), 0u) << file_msg;
    const std::string prefix = "config.json: ";
    ASSERT_EQ(expect.rfind(prefix, 0), 0u) << "an .expect file starts with " << prefix;
    std::string rest = expect.substr(prefix.size());
    EXPECT_NE(file_msg.find(rest), std::string::npos) << file_msg;
  }
}

TEST(SpecCorpus, EveryExpectFileHasASpec) {
  for (const auto& path : files(kSpecs / "invalid", ".expect")) {
    fs::path json = path;
    json.replace_extension(".json");
    EXPECT_TRUE(fs::exists(json)) << json;
  }
}

}  // namespace
}  // namespace hull::oci
