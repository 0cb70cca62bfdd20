// tools/sweep.py end to end on configs/sweeps/tiny.json (seconds): every point has the serial,
// parallel and modeled times, speedups that follow from them, and the table is printed.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct Result {
  int code;
  std::string out;
};

Result run(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

bool have_python() { return std::system("python3 -c 'import json' > /dev/null 2>&1") == 0; }

const std::string kSweep = "python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/sweep.py --pdadmm " + PDADMM_BINARY;

TEST(Sweep, TinyGridRunsEndToEnd) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  const std::string out = ::testing::TempDir() + "/sweep_tiny";
  Result r = run(kSweep + " --quiet --config " + PDADMM_SOURCE_DIR + "/configs/sweeps/tiny.json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("speedup"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nvlink x"), std::string::npos) << r.out;
  std::ifstream f(out + "/sweep.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["axis"], "model.layers");
  EXPECT_FALSE(j["machine"]["cpu_model"].get<std::string>().empty());
  ASSERT_EQ(j["rows"].size(), 2u);
  int layers = 2;
  for (const auto& row : j["rows"]) {
    EXPECT_EQ(row["layers"], layers);
    EXPECT_EQ(row["groups"], layers);  // "groups": "layers"
    const double serial = row["serial_s"], wall = row["serial_wall_s"], parallel = row["parallel_s"];
    EXPECT_EQ(row["stat"], "cpu");
    EXPECT_GT(serial, 0);
    EXPECT_GT(parallel, 0);
    EXPECT_DOUBLE_EQ(row["speedup_measured"].get<double>(), wall / parallel);
    EXPECT_EQ(row["bytes_per_iter"].get<long>(), (layers - 1) * 2L * 16 * 100 * 4);  // p + q, 16 x N=100 fp32
    for (const char* link : {"nvlink", "pcie4", "pcie5", "ib-hdr", "eth100"}) {
      ASSERT_TRUE(row["modeled"].contains(link)) << link;
      const double s = row["modeled"][link]["seconds"];
      EXPECT_GE(s, row["busy_max_s"].get<double>());
      EXPECT_DOUBLE_EQ(row["modeled"][link]["speedup"].get<double>(), serial / s);
    }
    // A slower link can only be slower.
    EXPECT_GE(row["modeled"]["eth100"]["seconds"].get<double>(), row["modeled"]["nvlink"]["seconds"].get<double>());
    ++layers;
  }
  // tools/plot.py reads the sweep (--check: the same parsing, without matplotlib).
  Result p = run("python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/plot.py speedup --check " + out + "/sweep.json");
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_NE(p.out.find("model.layers=3: ideal 3"), std::string::npos) << p.out;
}

TEST(Plot, ChecksBytesTablesAndMetricsFiles) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir(), plot = "python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/plot.py ";
  std::ofstream(dir + "/table.json") << R"([{"name": "fp32", "bytes_per_iter": 800}, {"name": "codes", "bytes_per_iter": 100}])";
  Result r = run(plot + "bytes --check " + dir + "/table.json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("codes: 100 bytes/iteration"), std::string::npos) << r.out;
  std::ofstream(dir + "/metrics.jsonl") << R"({"iter": 1, "objective": 5.0, "residual": 2.0, "test_acc": 0.5})" "\n"
                                        << R"({"iter": 2, "objective": 4.0, "residual": 1.0, "test_acc": 0.75})" "\n";
  r = run(plot + "convergence --check " + dir + "/metrics.jsonl");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("iterations 1..2"), std::string::npos) << r.out;
  std::ofstream(dir + "/bad_table.json") << R"([{"name": "fp32"}])";
  r = run(plot + "bytes --check " + dir + "/bad_table.json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("bytes_per_iter"), std::string::npos) << r.out;
}

TEST(Sweep, BadSweepConfigIsOneClearLine) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  const std::string bad = ::testing::TempDir() + "/bad_sweep.json";
  std::ofstream(bad) << R"({"axis": {"key": "model.layers", "values": [2]}, "colour": 1})";
  Result r = run(kSweep + " --config " + bad + " --out " + ::testing::TempDir() + "/bad_sweep");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("colour"), std::string::npos) << r.out;
}

}  // namespace
