// The Python tools end to end. tools/sweep.py on configs/sweeps/tiny.json (seconds): every point has
// the serial, parallel and modeled times, speedups that follow from them, and the table is printed.
// tools/plot.py --check on small files; tools/accuracy.py --split-seeds on a shortened Amazon Photo,
// --against on synthetic runs; tools/bench_ab.py on synthetic runs; tools/bench_reference.py's
// transcription against the reference vectors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace {

using Result = pdadmm::test::CommandResult;
using pdadmm::test::have_python3;

Result run(const std::string& cmd) { return pdadmm::test::run_command(cmd); }

const std::string kSweep = "python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/sweep.py --pdadmm " + PDADMM_BINARY;

// docs/benchmarks.md names a sweep file's keys (sweep.py's KNOWN_KEYS) and every key of sweep.json
// and its rows; per-link entries by their inner keys (the link names are the user's).
void expect_sweep_documented(const nlohmann::json& j) {
  const std::string doc = pdadmm::test::slurp(std::string(PDADMM_SOURCE_DIR) + "/docs/benchmarks.md");
  const auto named = [&](const std::string& key) { return doc.find("`" + key + "`") != std::string::npos; };
  const std::string py = pdadmm::test::slurp(std::string(PDADMM_SOURCE_DIR) + "/tools/sweep.py");
  const size_t a = py.find("KNOWN_KEYS = {"), b = py.find('}', a);
  ASSERT_NE(a, std::string::npos) << "tools/sweep.py has no KNOWN_KEYS";
  int known = 0;
  for (size_t q = py.find('"', a); q < b; q = py.find('"', py.find('"', q + 1) + 1), ++known) {
    const std::string key = py.substr(q + 1, py.find('"', q + 1) - q - 1);
    EXPECT_TRUE(named(key)) << "sweep file key " << key << " is not in docs/benchmarks.md";
  }
  EXPECT_GT(known, 8);
  for (const auto& [key, v] : j.items()) EXPECT_TRUE(named(key)) << "sweep.json key " << key;
  for (const auto& row : j["rows"])
    for (const auto& [key, v] : row.items()) {
      EXPECT_TRUE(named(key)) << "sweep.json row key " << key;
      if (key != "modeled") continue;
      for (const auto& [link, m] : v.items())
        for (const auto& [inner, x] : m.items()) EXPECT_TRUE(named(inner)) << "row modeled." << link << "." << inner;
    }
}

TEST(Sweep, TinyGridRunsEndToEnd) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string out = ::testing::TempDir() + "/sweep_tiny";
  // An earlier sweep's run file, first in name order: the sweep's machine is still its own run's.
  std::filesystem::create_directories(out + "/runs");
  std::ofstream(out + "/runs/a_stale.json") << R"({"machine": {"cpu_model": "stale"}})";
  Result r = run(kSweep + " --quiet --config " + PDADMM_SOURCE_DIR + "/configs/sweeps/tiny.json --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("speedup"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nvlink x"), std::string::npos) << r.out;
  std::ifstream f(out + "/sweep.json");
  ASSERT_TRUE(f.good());
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["axis"], "model.layers");
  expect_sweep_documented(j);
  EXPECT_FALSE(j["machine"]["cpu_model"].get<std::string>().empty());
  EXPECT_NE(j["machine"]["cpu_model"], "stale");
  ASSERT_EQ(j["rows"].size(), 2u);
  int layers = 2;
  for (const auto& row : j["rows"]) {
    EXPECT_EQ(row["layers"], layers);
    EXPECT_EQ(row["groups"], layers);  // "groups": "layers"
    const double serial = row["serial_s"], wall = row["serial_wall_s"], parallel = row["parallel_s"];
    EXPECT_EQ(row["stat"], "cpu");
    EXPECT_EQ(row["timed_iterations"], 2);  // tiny.json's "iterations"
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
  EXPECT_NE(p.out.find("measured line: measured here ("), std::string::npos) << p.out;
}

// A variant sweep (the wire comparison): bytes by hand from the formats, and each variant's groups
// run one after another (--serialize) with threads_per_group threads: G groups at once on fewer
// cores timed their contention, and the link model used that time.
TEST(Sweep, VariantsCountBytesAndRunSerialised) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string out = ::testing::TempDir() + "/sweep_variants", cfg = out + "/wire.json";
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  std::ofstream(cfg) << R"({"base": ")" << PDADMM_SOURCE_DIR << R"(/configs/synthetic.json",
    "set": {"model.layers": 3, "model.hidden": 16, "data.synthetic.nodes": 2000},
    "variants": [{"name": "fp32"}, {"name": "q int8", "set": {"admm.wire.q": "int8"}}],
    "groups": "layers", "iterations": 1, "warmup": 0})";
  const Result r = run(kSweep + " --quiet --config " + cfg + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(--serialize)"), std::string::npos) << r.out;
  const nlohmann::json j = pdadmm::test::read_json(out + "/sweep.json");
  expect_sweep_documented(j);
  ASSERT_EQ(j["rows"].size(), 2u);
  // 2 boundaries of 16 x N = 100: p and q fp32 (12800 a boundary), then q int8 (100 scales + 1600 codes).
  EXPECT_EQ(j["rows"][0]["bytes_per_iter"], 2 * 12800);
  EXPECT_EQ(j["rows"][1]["bytes_per_iter"], 2 * (6400 + 400 + 1600));
  for (const auto& row : j["rows"]) {
    EXPECT_EQ(row["serialize"], true) << row;
    EXPECT_EQ(row["model_compute"], "busy_s") << row;
    EXPECT_EQ(row["timed_iterations"], 1) << row;  // the sweep file's "iterations": what its times are of
    EXPECT_EQ(row["groups"], 3);
  }
  const nlohmann::json run0 = pdadmm::test::read_json(out + "/runs/variant0.json");
  EXPECT_EQ(run0["serialize"], true);
  EXPECT_EQ(run0["threads"], 1) << "threads_per_group (1), not G of them";
}

// A sweep whose "set" leaves model.layers to the base config: "groups": "layers" means the base
// config's layers (3 here), not pdadmm's default 2.
TEST(Sweep, GroupsFollowTheBaseConfigsLayers) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir() + "/sweep_base_layers";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/base.json") << R"({"model": {"layers": 3, "hidden": 8}})";
  std::ofstream(dir + "/sweep.json") << R"({"base": "base.json", "set": {"data.synthetic.nodes": 300,
    "data.synthetic.val": 50, "data.synthetic.test": 50, "data.synthetic.features": 20, "output.progress": "off"},
    "axis": {"key": "model.hidden", "values": [8]}, "groups": "layers", "iterations": 1, "warmup": 0,
    "measure_parallel": false})";
  Result r = run(kSweep + " --quiet --config " + dir + "/sweep.json --out " + dir + "/out");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = pdadmm::test::read_json(dir + "/out/sweep.json");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["layers"], 3);
  EXPECT_EQ(j["rows"][0]["groups"], 3);
  EXPECT_EQ(j["rows"][0]["ideal_speedup"], 3);
  const nlohmann::json model = pdadmm::test::read_json(dir + "/out/runs/hidden8_model.json");
  EXPECT_EQ(model["groups"], 3) << "the serialised run split the 3 layers in 3 groups";
  // Nothing measured: the plot has no measured line.
  Result p = run("python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/plot.py speedup --check " + dir + "/out/sweep.json");
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_NE(p.out.find("measured line: none\n"), std::string::npos) << p.out;
}

// --mpirun may start the parallel runs on other machines: a row whose parallel run's first process
// reports another host than the serial run's keeps that machine and says so (a fake launcher runs
// the bench here and renames the host in its JSON).
TEST(Sweep, ParallelRunsOnAnotherMachineAreFlagged) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir() + "/sweep_other_host", fake = dir + "/launch.sh";
  std::filesystem::create_directories(dir);
  std::ofstream(fake) << "#!/bin/sh\nshift\n\"$@\" || exit $?\nfor a; do [ \"$prev\" = --json ] && out=$a; prev=$a; done\n"
                         "python3 -c 'import json, sys; p = sys.argv[1]; j = json.load(open(p)); "
                         "j[\"machine\"][\"hostname\"] = \"elsewhere\"; json.dump(j, open(p, \"w\"))' \"$out\"\n";
  Result r = run(kSweep + " --quiet --config " + PDADMM_SOURCE_DIR + "/configs/sweeps/tiny.json --out " + dir +
                 "/out --mpirun 'sh " + fake + " {groups}'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: model.layers = 2: the parallel run's first process ran on elsewhere"), std::string::npos)
      << r.out;
  const nlohmann::json j = pdadmm::test::read_json(dir + "/out/sweep.json");
  EXPECT_NE(j["machine"]["hostname"], "elsewhere");
  for (const auto& row : j["rows"]) EXPECT_EQ(row["parallel_machine"]["hostname"], "elsewhere") << row;
}

TEST(Plot, ChecksBytesTablesAndMetricsFiles) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
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
  // null (NaN written as JSON) passes the check of the lines: "none", not a format error.
  std::ofstream(dir + "/metrics_null.jsonl") << R"({"iter": 1, "objective": 5.0, "residual": 2.0, "test_acc": 0.5})" "\n"
                                             << R"({"iter": 2, "objective": null, "residual": null, "test_acc": 0.75})" "\n";
  r = run(plot + "convergence --check " + dir + "/metrics_null.jsonl");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("objective 5 -> none, residual 2 -> none"), std::string::npos) << r.out;
}

// `python3 -c` running code after `import tool_common` from this checkout's tools/.
std::string with_tool_common(const std::string& code) {
  return "python3 -c 'import sys; sys.path.insert(0, \"" + std::string(PDADMM_SOURCE_DIR) +
         "/tools\"); import tool_common; " + code + "'";
}

// A fresh folder holding an earlier result file r.json; expect_earlier_result_alone checks that it
// is unchanged and nothing (no temporary) lies beside it.
std::string folder_with_earlier_result(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/r.json") << "{\"earlier\": 1}\n";
  return dir;
}

void expect_earlier_result_alone(const std::string& dir) {
  EXPECT_EQ(pdadmm::test::slurp(dir + "/r.json"), "{\"earlier\": 1}\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
}

// Ctrl-C is one line saying so and exit 130, as a shell reports SIGINT (it was a silent 130).
TEST(Tools, CtrlCIsOneLine) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  Result r = run(with_tool_common("\ndef m(): raise KeyboardInterrupt\ntool_common.run_main(m)"));
  EXPECT_EQ(r.code, 130) << r.out;
  EXPECT_EQ(r.out, "error: interrupted (Ctrl-C)\n");
}

// SIGTERM (kill, a batch system's limit) is one line and exit 143, as Ctrl-C's, and the child the tool
// was waiting for gets SIGTERM too and is waited for (it was a silent 143 with pdadmm left running).
TEST(Tools, SigtermStopsTheChildAndIsOneLine) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir(), pid = dir + "/tools_term.pid", script = dir + "/tools_term.sh";
  std::remove(pid.c_str());
  // The child writes its pid once it runs; the tool is then waiting for it.
  std::ofstream(dir + "/tools_term.py")
      << "import sys; sys.path.insert(0, \"" << PDADMM_SOURCE_DIR << "/tools\"); import tool_common\n"
      << "tool_common.run_main(lambda: tool_common.run_child([\"sh\", \"-c\", \"echo $$ > " << pid
      << ".tmp && mv " << pid << ".tmp " << pid << " && exec sleep 60\"]))\n";
  std::ofstream(script) << "#!/bin/bash\npython3 " << dir << "/tools_term.py & p=$!\n"
                        << "for i in $(seq 200); do [ -s " << pid << " ] && break; sleep 0.05; done\n"
                        << "kill -TERM $p; wait $p; s=$?\n"
                        << "kill -0 $(cat " << pid << ") 2>/dev/null && echo 'the child is still running'\n"
                        << "exit $s\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  const Result r = run(script);
  EXPECT_EQ(r.code, 143) << r.out;
  EXPECT_EQ(r.out, "error: terminated (SIGTERM)\n");
}

// A result file is renamed over the earlier one when complete: a write that fails half-way (here an
// object JSON cannot hold) leaves the earlier file as it was and no temporary beside it.
TEST(Tools, AResultFileIsNeverHalfWritten) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = folder_with_earlier_result("tools_atomic");
  Result r = run(with_tool_common("tool_common.write_json(\"" + dir + "/r.json\", {\"a\": 1, \"b\": object()})"));
  EXPECT_NE(r.code, 0) << r.out;
  expect_earlier_result_alone(dir);
}

// A full disk (here a file size limit, ulimit -f, reached while the buffered text is flushed: the
// write "succeeded" and the flush fails) is one line naming the file, with exit 1: it was "malformed
// input: [Errno 28] No space left on device", no file named. The earlier file stays, no temporary.
TEST(Tools, AResultFileOnAFullDiskIsOneLineNamingIt) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = folder_with_earlier_result("tools_full");
  const Result r = run("ulimit -f 1 && exec " +
                       with_tool_common("tool_common.run_main(lambda: tool_common.write_json(\"" + dir +
                                        "/r.json\", {\"a\": \"x\" * 5000}))"));
  pdadmm::test::expect_one_line_error(r, "error: cannot write " + dir + "/r.json: File too large\n");
  expect_earlier_result_alone(dir);
}

// A stream is written as it is: /dev/stdout with stdout redirected to a file (a rename there
// replaced /dev/stdout's link, as root for every later process); a symlink keeps its link.
TEST(Tools, AResultFileKeepsStreamsAndSymlinks) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir() + "/tools_streams";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/store");
  std::filesystem::create_symlink("store/r.json", dir + "/r.json");
  const std::string py =
      with_tool_common("print(\"before\", flush=True); tool_common.write_json(sys.argv[1], {\"a\": 1}); print(\"after\")") +
      " ";
  Result r = run(py + "/dev/stdout > " + dir + "/out.txt");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::is_symlink("/dev/stdout"));
  EXPECT_EQ(pdadmm::test::slurp(dir + "/out.txt"), "before\n{\n  \"a\": 1\n}\nafter\n");
  r = run(py + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::is_symlink(dir + "/r.json"));
  EXPECT_EQ(pdadmm::test::slurp(dir + "/store/r.json"), "{\n  \"a\": 1\n}\n");
}

// `tools/sweep.py … | head`: the reader gone is one line that says so, not "malformed input: [Errno 32]
// Broken pipe" (and no "Exception ignored" at exit).
TEST(Tools, AClosedPipeIsNotMalformedInput) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir(), script = dir + "/tools_pipe.sh";
  std::ofstream(script) << "#!/bin/bash\n" << kSweep << " --config " << PDADMM_SOURCE_DIR << "/configs/sweeps/tiny.json --out "
                        << dir << "/tools_pipe 2>" << dir << "/tools_pipe.err | true\ns=${PIPESTATUS[0]}\ncat " << dir
                        << "/tools_pipe.err\nexit $s\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  pdadmm::test::expect_one_line_error(run(script), "stdout was closed before the end");
}

// Open MPI's refusal to run as root (here a stand-in launcher printing it) says which variables to
// set: its last 3 lines began mid-sentence, OMPI_ALLOW_RUN_AS_ROOT=1 cut off. Another framed mpirun
// message is quoted as its first paragraph and its last, whole.
const char kOmpiRoot[] = R"(--------------------------------------------------------------------------
mpirun has detected an attempt to run as root.

Running as root is *strongly* discouraged as any mistake (e.g., in
defining TMPDIR) or bug can result in catastrophic damage to the OS
file system, leaving your system in an unusable state.

We strongly suggest that you run mpirun as a non-root user.

You can override this protection by adding the --allow-run-as-root option
to the cmd line or by setting two environment variables in the following way:
the variable OMPI_ALLOW_RUN_AS_ROOT=1 to indicate the desire to override this
protection, and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 to confirm the choice and
add one more layer of certainty that you want to do so.
We reiterate our advice against doing so - please proceed at your own risk.
--------------------------------------------------------------------------
)";

TEST(Sweep, MpirunsRefusalsAreQuotedWhole) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir(), msg = dir + "/sweep_ompi_root.txt";
  std::ofstream(msg) << kOmpiRoot;
  const Result r = run(kSweep + " --config " + PDADMM_SOURCE_DIR + "/configs/sweeps/tiny.json --quiet --out " + dir +
                       "/sweep_root --mpirun \"sh -c 'cat " + msg + " >&2; exit 1' {groups}\"");
  pdadmm::test::expect_one_line_error(
      r, "error: mpirun refuses to run as root: set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1");
  const std::string slots =
      "-----\\nThere are not enough slots available in the system to satisfy the 3\\nslots that were requested:\\n\\n"
      "  pdadmm\\n\\nEither request fewer slots.\\n\\nAlternatively, you can use the --oversubscribe option to\\n"
      "ignore the number of available slots.\\n-----\\n";
  const auto last_words = [&](const std::string& text) {  // sweep.py's reason for a failed run's output
    return run("python3 -c \"import sys; sys.path.insert(0, '" + std::string(PDADMM_SOURCE_DIR) +
               "/tools'); import sweep; print(sweep.last_words('" + text + "'))\"");
  };
  const Result w = last_words(slots);
  EXPECT_EQ(w.code, 0) << w.out;
  EXPECT_EQ(w.out, "There are not enough slots available in the system to satisfy the 3 slots that were requested: … "
                   "Alternatively, you can use the --oversubscribe option to ignore the number of available slots.\n");
  // A process's own error line above mpirun's abort banner is the reason, `error (process 1):` too
  // (the sweep's error was the banner alone).
  const std::string aborted =
      "error (process 1): it broke\\n-----\\nMPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD\\n"
      "with errorcode 1.\\n\\nNOTE: invoking MPI_ABORT causes Open MPI to kill all MPI processes.\\n-----\\n";
  const Result a = last_words(aborted);
  EXPECT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, "error (process 1): it broke … MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD with "
                   "errorcode 1. … NOTE: invoking MPI_ABORT causes Open MPI to kill all MPI processes.\n");
  // ORTE's "internal error" frame after the one that says what (Open MPI 4, a hostfile it cannot open).
  const std::string hostfile =
      "-----\\nOpen RTE was unable to open the hostfile:\\n    hosts\\nCheck to make sure the path and filename are "
      "correct.\\n-----\\n-----\\nAn internal error has occurred in ORTE:\\n\\n[[1,0],0] FORCE-TERMINATE AT (null):1\\n\\n"
      "This is something that should be reported to the developers.\\n-----\\n";
  const Result h = last_words(hostfile);
  EXPECT_EQ(h.code, 0) << h.out;
  EXPECT_EQ(h.out, "Open RTE was unable to open the hostfile: hosts Check to make sure the path and filename are correct.\n");
  // A hostfile that is not there is named before any run (it surfaced after the serial runs' minutes).
  for (const std::string& opt : {std::string("--hostfile ") + dir + "/no_hosts", "--machinefile=" + dir + "/no_hosts"}) {
    const Result nh = run(kSweep + " --config " + PDADMM_SOURCE_DIR + "/configs/sweeps/tiny.json --quiet --out " + dir +
                          "/sweep_hosts --mpirun 'true -np {groups} " + opt + "'");
    pdadmm::test::expect_one_line_error(nh, "the hostfile '" + dir + "/no_hosts' is not a file here");
    EXPECT_FALSE(std::filesystem::exists(dir + "/sweep_hosts/runs")) << nh.out;
  }
}

TEST(Sweep, BadSweepConfigIsOneClearLine) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string bad = ::testing::TempDir() + "/bad_sweep.json";
  std::ofstream(bad) << R"({"axis": {"key": "model.layers", "values": [2]}, "colour": 1})";
  Result r = run(kSweep + " --config " + bad + " --out " + ::testing::TempDir() + "/bad_sweep");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("colour"), std::string::npos) << r.out;
  // --mpirun where no parallel run is measured: refused, not named in sweep.json as if it had run.
  const std::string quiet = ::testing::TempDir() + "/no_parallel_sweep.json";
  std::ofstream(quiet) << R"({"axis": {"key": "model.layers", "values": [2]}, "measure_parallel": false})";
  std::filesystem::remove_all(::testing::TempDir() + "/no_parallel_sweep");
  pdadmm::test::expect_one_line_error(run(kSweep + " --config " + quiet + " --out " + ::testing::TempDir() +
                                          "/no_parallel_sweep --mpirun \"mpirun -np {groups}\""),
                                      "error: --mpirun: " + quiet +
                                          " has \"measure_parallel\": false, so no run would be launched with it");
  EXPECT_FALSE(std::filesystem::exists(::testing::TempDir() + "/no_parallel_sweep"));
  // A point pdadmm refuses (0 neurons): its line, from pdadmm info before any run, and no empty --out left behind.
  const std::string one = ::testing::TempDir() + "/zero_width_sweep.json", out = ::testing::TempDir() + "/zero_width";
  std::ofstream(one) << R"({"axis": {"key": "model.hidden", "values": [0]}, "iterations": 1})";
  std::filesystem::remove_all(out);
  pdadmm::test::expect_one_line_error(run(kSweep + " --quiet --config " + one + " --out " + out + "/sweep"),
                                      "error: sweep config " + one + ": model.hidden = 0: config: model.hidden: must be >= 1, got 0");
  EXPECT_FALSE(std::filesystem::exists(out)) << "the folders made for a sweep that wrote nothing";
  // model.layers outside pdadmm's bounds: before the first point's runs, not at its own.
  const std::string late = ::testing::TempDir() + "/late_layer_sweep.json";
  std::ofstream(late) << R"({"axis": {"key": "model.layers", "values": [2, 1]}, "iterations": 1})";
  pdadmm::test::expect_one_line_error(run(kSweep + " --quiet --config " + late + " --out " + out + "/late"),
                                      "error: sweep config " + late + ": model.layers 1: must be an integer in [2, 10000]");
  EXPECT_FALSE(std::filesystem::exists(out));
}

// A sweep file's keys that its runs would have lost or misread, and an --mpirun launcher that is
// not there, refused in one exact line before any run: a fake pdadmm notes each run it is asked
// for, and none may be. "set" keys each run sets itself (they lost to its own groups and threads
// without a word) or the axis key, a key twice in one object at any depth (the last one won), an
// empty "links" (it meant every preset), a timeout_s of 0 or less or not a number, two variants of
// one name, a launcher found missing only at the first parallel run, after the serial runs.
TEST(Sweep, SweepFileMistakesAreRefusedBeforeAnyRun) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, dir = ::testing::TempDir() + "/sweep_refused";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string fake = dir + "/pdadmm", ran = dir + "/ran.txt", out = dir + "/out";
  std::ofstream(fake) << "#!/bin/sh\necho \"$@\" >> " << ran << "\nexit 1\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const std::string sweep = "python3 " + src + "/tools/sweep.py --pdadmm " + fake + " --out " + out + " --config ";
  const std::string axis = R"({"base": ")" + src +
                           R"(/configs/synthetic.json", "axis": {"key": "model.layers", "values": [2]}, "iterations": 1)";
  const std::string variants = R"({"base": ")" + src + R"(/configs/synthetic.json", "iterations": 1, "variants": )";
  const std::string per_run = "is set by the sweep per run; use the sweep's \"groups\"";
  struct Case {
    std::string name, json, args, message;  // message: after "error: sweep config FILE: " (args: "error: ")
  };
  for (const Case& c : std::vector<Case>{
           {"set_groups", axis + R"(, "set": {"model.hidden": 16, "groups": 1, "threads": 2}})", "",
            "set key 'groups' " + per_run + " (a list, one per axis value) or \"threads_per_group\""},
           {"set_threads", axis + R"(, "set": {"threads": 2}})", "",
            "set key 'threads' " + per_run + " (a list, one per axis value) or \"threads_per_group\""},
           {"set_axis_key", axis + R"(, "set": {"model.layers": 3}})", "",
            "set key 'model.layers' is the axis key, which each run sets to its axis value; drop it from \"set\""},
           {"variant_groups", variants + R"([{"name": "fp32"}, {"name": "g2", "set": {"groups": 2}}]})", "",
            "set key 'groups' of variant 'g2' " + per_run + " or \"threads_per_group\""},
           {"key_twice", axis + R"(, "warmup": 0, "warmup": 1})", "", "key \"warmup\" appears twice in one object"},
           {"key_twice_deep", axis + R"(, "set": {"model.hidden": 16, "model.hidden": 8}})", "",
            "key \"model.hidden\" appears twice in one object"},
           {"links_empty", axis + R"(, "links": []})", "",
            "links must be a non-empty list of link names and {\"name\", \"bandwidth_GBps\", \"latency_us\"} objects "
            "(leave it out for every preset)"},
           {"timeout_zero", axis + R"(, "timeout_s": 0})", "", "timeout_s must be a number of seconds > 0"},
           {"timeout_negative", axis + R"(, "timeout_s": -1.5})", "", "timeout_s must be a number of seconds > 0"},
           {"timeout_string", axis + R"(, "timeout_s": "600"})", "", "timeout_s must be a number of seconds > 0"},
           {"variant_names",
            variants + R"([{"name": "fp32"}, {"name": "int8", "set": {"admm.wire.q": "int8"}}, {"name": "fp32"}]})",
            "", "variant names: fp32, int8, fp32 lists a value twice; each must count once"},
           {"no_launcher", axis + "}", " --mpirun 'pdadmm_no_such_launcher -np {groups}'",
            "--mpirun pdadmm_no_such_launcher -np {groups}: the launcher 'pdadmm_no_such_launcher' is not on PATH "
            "(install it, e.g. Open MPI's mpirun, or give its full path)"},
           {"launcher_path", axis + "}", " --mpirun '/nonexistent_pdadmm/mpirun -np {groups}'",
            "--mpirun /nonexistent_pdadmm/mpirun -np {groups}: the launcher '/nonexistent_pdadmm/mpirun' is not an "
            "executable file"}}) {
    const std::string file = dir + "/" + c.name + ".json";
    std::ofstream(file) << c.json;
    const Result r = run(sweep + file + c.args);
    EXPECT_EQ(r.code, 1) << c.name << "\n" << r.out;
    EXPECT_EQ(r.out, "error: " + (c.args.empty() ? "sweep config " + file + ": " : "") + c.message + "\n") << c.name;
    EXPECT_FALSE(std::filesystem::exists(ran)) << c.name << ": a run started";
    EXPECT_FALSE(std::filesystem::exists(out)) << c.name << ": --out was left behind";
    std::filesystem::remove(ran);
  }
  // The fake does note a run: a sweep file without those mistakes starts one (its failure is the fake's).
  const Result r = run(sweep + dir + "/no_launcher.json --quiet");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: pdadmm bench failed (exited with 1)"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(ran)) << r.out;
}

// A sweep of one point of tiny.json's model (2 layers of 16, 300 nodes, one iteration) in FILE,
// with `extra` keys after its own (", \"links\": [...]").
std::string one_point_sweep(const std::string& file, const std::string& extra) {
  std::ofstream(file) << R"({"base": ")" << PDADMM_SOURCE_DIR << R"(/configs/synthetic.json", "set": {
    "data.synthetic.nodes": 300, "data.synthetic.val": 50, "data.synthetic.test": 50, "data.synthetic.features": 20,
    "model.hidden": 16, "output.progress": "off"}, "axis": {"key": "model.layers", "values": [2]}, "iterations": 1,
    "warmup": 0)" << extra << "}";
  return file;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// pdadmm's threads note has two forms (host/admm/trainer.cpp: `note: threads: N of C cores …` with
// threads 0, `note: threads N on C cores, …` with a count given), each with the busy cores its run
// measured: one note a sitting, whichever (the second form was passed on for every run). --quiet
// prints the table without the notes and progress lines (the notes came with it); sweep.json keeps
// them. A fake pdadmm adds both forms, with a busy figure of its own, to each bench run of the real one.
TEST(Sweep, ThreadsNotePassesOnceAndQuietLeavesNotesOut) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir() + "/sweep_notes", fake = dir + "/pdadmm";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(fake) << "#!/bin/sh\n" << PDADMM_BINARY << " \"$@\" || exit $?\n[ \"$1\" = bench ] || exit 0\n"
                      << "n=$(cat " << dir << "/count 2>/dev/null || echo 0); echo $((n + 1)) > " << dir << "/count\n"
                      << "echo \"note: threads 3 on 2 cores, of which other processes kept 1.$n busy when this run "
                         "started\"\necho \"note: threads: 1 of 2 cores (other processes kept 1.$n busy when this run "
                         "started)\"\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const std::string sweep = one_point_sweep(dir + "/sweep.json", R"(, "links": ["nvlink"])");
  const std::string cmd = "python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/sweep.py --pdadmm " + fake +
                          " --config " + sweep + " --out " + dir + "/out";
  Result r = run(cmd);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(occurrences(r.out, "note: threads"), 1u) << r.out;
  EXPECT_NE(r.out.find("\nnote: threads 3 on 2 cores, of which other processes kept 1.0 busy when this run started "
                       "(layers2_serial.json)\n"),
            std::string::npos)
      << r.out;
  r = run(cmd + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(occurrences(r.out, "note: threads"), 0u) << r.out;  // the table's own note on busy/ser may come
  EXPECT_EQ(r.out.find("model.layers = 2:"), std::string::npos) << "a progress line: " << r.out;
  EXPECT_EQ(r.out.find("wrote "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nvlink x"), std::string::npos) << "the table: " << r.out;
  const nlohmann::json j = pdadmm::test::read_json(dir + "/out/sweep.json");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_GE(occurrences(j["rows"][0]["said"].dump(), "note: threads"), 6u) << "2 from each of 3 runs: " << j["rows"][0];
}

// A sweep's links are read by pdadmm bench before any run, which stops before it reads data (a
// misspelt preset failed the first run): one line naming the key, with pdadmm's own reason and
// presets; a bandwidth of 0 and a name given twice as well.
TEST(Sweep, LinksAreReadByPdadmmBeforeAnyRun) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir() + "/sweep_links", out = dir + "/out";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [links, message] : std::vector<std::pair<std::string, std::string>>{
           {R"(["nvlink", "nvlnk"])", "link \"nvlnk\": not a preset (nvlink, pcie4, "},
           {R"(["nvlink", {"name": "slow", "bandwidth_GBps": 0, "latency_us": 5}])",
            "link \"slow:0:5\": bandwidth \"0\" must be a number in [1e-9, 1e9]"},
           {R"(["pcie4", "pcie4:30:4"])", "bench: --link pcie4 is given twice; name each link once"}}) {
    const std::string sweep = one_point_sweep(dir + "/sweep.json", ", \"links\": " + links);
    pdadmm::test::expect_one_line_error(run(kSweep + " --config " + sweep + " --out " + out),
                                        "error: sweep config " + sweep + ": links: " + message);
    EXPECT_FALSE(std::filesystem::exists(out)) << links << ": a run started";
  }
}

// As root, an Open MPI launcher (its --version says so) without --allow-run-as-root in the template
// or both OMPI_ALLOW_RUN_AS_ROOT variables set is refused before any run, with the line its refusal
// gave at the first parallel run (after the first point's serial and model runs). The fake launcher
// refuses as Open MPI does, else runs the command.
TEST(Sweep, MpirunAsRootIsRefusedBeforeAnyRun) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  if (geteuid() != 0) GTEST_SKIP() << "not root: mpirun runs";
  const std::string dir = ::testing::TempDir() + "/sweep_as_root", fake = dir + "/mpirun", out = dir + "/out";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/refusal.txt") << kOmpiRoot;
  std::ofstream(fake) << "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'mpirun (Open MPI) 4.1.4'; exit 0; }\n"
                         "if [ \"$1\" = --allow-run-as-root ]; then shift\n"
                         "elif [ \"$OMPI_ALLOW_RUN_AS_ROOT\" != 1 ] || [ \"$OMPI_ALLOW_RUN_AS_ROOT_CONFIRM\" != 1 ]; then\n"
                         "  cat " << dir << "/refusal.txt >&2; exit 1\nfi\nshift 2\nexec \"$@\"\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const std::string sweep = one_point_sweep(dir + "/sweep.json", "");
  const std::string unset = "env -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM ";
  const std::string sweep_cmd = kSweep + " --quiet --config " + sweep + " --out " + out + " --mpirun ";
  for (const char* set : {"", "OMPI_ALLOW_RUN_AS_ROOT=1 "}) {
    const Result r = run(unset + set + sweep_cmd + "'" + fake + " -np {groups}'");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(r.out, "error: mpirun refuses to run as root: set OMPI_ALLOW_RUN_AS_ROOT=1 and "
                     "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, add --allow-run-as-root to --mpirun, or run as another user: " +
                         fake + " -np {groups}\n")
        << set;
    EXPECT_FALSE(std::filesystem::exists(out)) << set << ": a run started";
  }
  // Either way of allowing it: the sweep runs.
  for (const std::string& cmd : {unset + sweep_cmd + "'" + fake + " --allow-run-as-root -np {groups}'",
                                 unset + "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + sweep_cmd + "'" +
                                     fake + " -np {groups}'"}) {
    const Result r = run(cmd);
    EXPECT_EQ(r.code, 0) << cmd << "\n" << r.out;
  }
}

// Mistakes the tools refuse before any run, each in one `error:` line: a value twice, an output
// folder that is missing, a sweep axis the sweep sets itself, no variants, a baseline on another
// kind of split, a bytes table with NaN.
TEST(Tools, MistakesAreRefusedBeforeAnyRun) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, tmp = ::testing::TempDir(), syn = src + "/configs/synthetic.json";
  const std::string acc = "python3 " + src + "/tools/accuracy.py " + syn + " --binary " + PDADMM_BINARY;
  const std::string base = tmp + "/tools_val_base.json", axis = tmp + "/tools_axis.json", none = tmp + "/tools_none.json";
  std::ofstream(base) << R"({"runs": [{"seed": 0, "val_split_seed": 1, "val_acc": 0.5, "test_acc": 0.5, "val_nodes": 500}]})";
  std::ofstream(axis) << R"({"axis": {"key": "groups", "values": [1, 2]}})";
  std::ofstream(none) << R"({"variants": []})";
  std::ofstream(tmp + "/tools_nan.json") << R"([{"name": "a", "bytes_per_iter": NaN}])";
  std::ofstream(tmp + "/tools_empty.npz", std::ios::binary) << std::string("PK\x05\x06", 4) << std::string(18, '\0');
  // groups entries and axis values checked before the first point's runs, not when theirs come up
  const std::string groups = tmp + "/tools_groups.json", twice = tmp + "/tools_twice.json";
  const std::string tiny = src + "/configs/sweeps/tiny.json";
  std::ofstream(groups) << R"({"base": ")" << src << R"(/configs/synthetic.json", "axis": {"key": "model.layers", "values": [2, 3]}, "groups": [2, 0]})";
  std::ofstream(twice) << R"({"base": ")" << src << R"(/configs/synthetic.json", "axis": {"key": "model.layers", "values": [2, 2]}})";
  // a path under a regular file (root writes anywhere else), a base that is not a path
  const std::string regular = tmp + "/tools_regular_file", int_base = tmp + "/tools_int_base.json";
  std::ofstream(regular) << "x\n";
  std::ofstream(int_base) << R"({"base": 5, "axis": {"key": "model.layers", "values": [2]}})";
  // model.layers, warmup and a bool for an integer: checked before the first point's runs
  const std::string list_layers = tmp + "/tools_list_layers.json", bad_warmup = tmp + "/tools_bad_warmup.json";
  std::ofstream(list_layers) << R"({"base": ")" << src << R"(/configs/synthetic.json", "axis": {"key": "model.layers", "values": [2, [2]]}})";
  std::ofstream(bad_warmup) << R"({"base": ")" << src << R"(/configs/synthetic.json", "axis": {"key": "model.layers", "values": [2]}, "warmup": "x"})";
  const std::string no_val = tmp + "/tools_no_val.json";
  std::ofstream(no_val) << R"({"runs": [{"seed": 0, "test_acc": 0.5, "val_nodes": 500}]})";
  const std::string commented = tmp + "/tools_commented.json";
  std::ofstream(commented) << "{\n  // 3 layers\n  \"model\": {\"layers\": 3 /* deep */}, \"_url\": \"http://x\"\n}\n";
  const std::string bool_tpg = tmp + "/tools_bool_tpg.json";
  std::ofstream(bool_tpg) << R"({"base": ")" << src << R"(/configs/synthetic.json", "axis": {"key": "model.layers", "values": [2]}, "threads_per_group": true})";
  // an axis value pdadmm refuses, after one it takes (its runs came first); nesting past Python's
  // recursion limit and bytes that are not UTF-8 (a traceback; a line naming no file)
  const std::string late_rho = tmp + "/tools_late_rho.json", deep = tmp + "/tools_deep.json";
  const std::string deep_lines = tmp + "/tools_deep.jsonl", latin1 = tmp + "/tools_latin1.json";
  std::ofstream(late_rho) << R"({"base": ")" << src << R"(/configs/synthetic.json", "axis": {"key": "admm.rho", "values": [0.5, "x"]}})";
  std::ofstream(deep) << std::string(5000, '[');
  std::ofstream(deep_lines) << R"({"iter": 1, "objective": 5.0, "residual": 2.0, "test_acc": 0.5})" "\n" << std::string(5000, '[');
  std::ofstream(latin1) << "{\"model\": {\"layers\": 3}, \"_note\": \"caf\xe9\"}";
  const std::string syn_copy = tmp + "/tools_syn_copy.json", foreign_dir = tmp + "/tools_foreign_sweep";
  std::ofstream(syn_copy) << R"({"model": {"layers": 3}})";
  std::filesystem::create_directories(foreign_dir);
  std::ofstream(foreign_dir + "/sweep.json") << R"({"my": "notes"})";
  for (const auto& [cmd, message] : std::vector<std::pair<std::string, std::string>>{
           {acc + " --seeds 0,0", "--seeds: 0, 0 lists a value twice"},
           // a result path that holds something else (the config itself, a data file): it was
           // deleted before any run, or replaced after them
           {acc + " --seeds 0 --json " + syn_copy, "--json " + syn_copy + ": is not a result of accuracy.py (a config"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --out " + syn_copy,
            "--out " + syn_copy + ": is not a table of quant_table.py"},
           {kSweep + " --config " + tiny + " --out " + foreign_dir, "--out " + foreign_dir + "/sweep.json: is not a sweep.json"},
           {acc + " --seeds 0 --json /nonexistent_pdadmm/a.json", "--json /nonexistent_pdadmm/a.json: its folder"},
           {acc + " --seeds 0 --out " + tmp + "/tools_acc --against " + base, "cannot be paired"},
           // pdADMM's own error, once, with the run it came from
           {acc + " --seeds 0 --out " + tmp + "/tools_acc_bad --set admm.bogus=1",
            "error: seed 0: config: unknown key \"admm.bogus\"\n"},
           {kSweep + " --config " + axis, "axis key 'groups' is set by the sweep"},
           {kSweep + " --config " + none, "variants must be a non-empty list"},
           {kSweep + " --config " + groups, "each entry of groups must be \"layers\" or an integer >= 1"},
           {kSweep + " --config " + twice, "axis values: 2, 2 lists a value twice"},
           {kSweep + " --config " + tiny + " --mpirun 'mpirun -np {groups} -H {hosts}'", "{groups} is the only placeholder"},
           {"python3 " + src + "/tools/plot.py bytes " + tmp + "/tools_nan.json --check", "finite \"bytes_per_iter\""},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --rows nomatch",
            "--rows: 'nomatch' matches no -Q row"},
           {"python3 " + src + "/tools/bench_ab.py --a " + PDADMM_BINARY + " --b " + PDADMM_BINARY + " " + syn + " " + syn,
            "lists a value twice"},
           // 0 groups was taken for "not given" (one per layer), then called "one group"; a folder
           // passed os.access(X_OK)
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --groups 0",
            "--groups 0: the layer groups the model is split into are 1 or more"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --groups -3",
            "--groups -3: the layer groups the model is split into are 1 or more"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --groups 1",
            "--groups 1: with one group nothing crosses the wire"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + tmp + "/tools_nan.json",
            "--config " + tmp + "/tools_nan.json: not JSON (NaN is not a JSON value)"},
           {kSweep.substr(0, kSweep.find("--pdadmm")) + "--pdadmm " + tmp + " --config " + src + "/configs/sweeps/tiny.json",
            "--pdadmm: " + tmp + " is not an executable"},
           {acc + " --seeds 0 --binary " + tmp, "--binary: " + tmp + " is not an executable"},
           // a folder for a config was "does not exist"; a negative seed failed after the earlier seeds' runs;
           // an output folder under a file was "PATH: Not a directory", no option named
           {"python3 " + src + "/tools/accuracy.py " + tmp + " --binary " + PDADMM_BINARY + " --seeds 0",
            "config " + tmp + ": is a folder, not a file"},
           {"python3 " + src + "/tools/bench_ab.py --a " + PDADMM_BINARY + " --b " + PDADMM_BINARY + " " + tmp,
            "config " + tmp + ": is a folder, not a file"},
           {acc + " --seeds 0,-1 --out " + tmp + "/tools_acc_neg", "--seeds: -1: a seed is an integer >= 0"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --seeds 0 -1",
            "--seeds: -1: a seed is an integer >= 0"},
           {acc + " --seeds 0 --out " + regular + "/x",
            "--out " + regular + "/x: is under " + regular + ", which is a file, not a folder"},
           {kSweep + " --config " + tiny + " --out " + regular + "/x",
            "--out " + regular + "/x: is under " + regular + ", which is a file, not a folder"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --work " +
            regular + "/w", "--work " + regular + "/w: is under " + regular + ", which is a file, not a folder"},
           // the file itself: it said "cannot create the folder (File exists)"
           {kSweep + " --config " + tiny + " --out " + regular, "--out " + regular + ": is a file, not a folder"},
           // a --summary that is no summary.json (a config): the file named, not "missing key 'train'"
           {"python3 " + src + "/tools/check_export.py " + tmp + "/tools_empty.npz --summary " + syn,
            "--summary " + syn + ": not a run's summary.json (no train.acc)"},
           // a baseline that is not an accuracy.json: the key missing, not Python's KeyError('val_acc')
           {acc + " --seeds 0 --out " + tmp + "/tools_acc_nokey --against " + no_val,
            "--against " + no_val + ": not an accuracy.json (no \"val_acc\" in a run)"},
           // a grid pdadmm refuses: named before the fp32 row trains, not at the first -Q row
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --grid '[1]'",
            "error: the -Q rows' settings: config: admm.grid: needs between 2 and 65536 values, got 1\n"},
           {kSweep + " --config " + int_base, "base must be a config file's path"},
           {kSweep + " --config " + list_layers, "model.layers [2]: must be an integer in [2, 10000]"},
           {kSweep + " --config " + bad_warmup, "warmup must be an integer >= 0"},
           {kSweep + " --config " + bool_tpg, "threads_per_group must be an integer >= 1"},
           {kSweep + " --config " + late_rho,
            "sweep config " + late_rho + ": admm.rho = \"x\": config: admm.rho: expected a number, got \"x\""},
           {kSweep + " --config " + deep, "sweep config " + deep + ": nested too deeply"},
           {"python3 " + src + "/tools/plot.py convergence --check " + deep_lines, deep_lines + ":2: nested too deeply"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + latin1,
            "--config " + latin1 + ": not UTF-8 text (byte 38: invalid continuation byte)"},
           // model.layers too few for the default groups: named as given, not as a --groups never given
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn +
                " --set model.layers=0",
            "--set model.layers=0: model.layers 0: must be in [2, 10000]"},
           {acc + " --seeds 1,,2", "--seeds 1,,2: item 2 of 3 is empty"},
           // a key every row sets itself (it lost to the row's own without a word)
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn + " --set seed=7",
            "--set seed=7: every row sets seed itself; choose it with --seeds"},
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + syn +
                " --set admm.grid.levels=32",
            "--set admm.grid.levels=32: every row sets admm.grid itself; choose it with --grid"},
           // a config with comments, which pdadmm reads, is read (it was "not a pdadmm config")
           {"python3 " + src + "/tools/quant_table.py --pdadmm " + PDADMM_BINARY + " --config " + commented + " --groups 1",
            "--groups 1: with one group nothing crosses the wire"}}) {
    Result r = run(cmd);
    EXPECT_EQ(r.code, 1) << cmd << "\n" << r.out;
    EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << cmd << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << cmd << "\n" << r.out;
  }
}

// A command-line mistake is refused as pdadmm refuses one: one `error:` line and exit 1 (argparse's
// own is the usage, a `prog: error:` line and exit 2; fetch_datasets.sh handed an option to mkdir).
TEST(Tools, CommandLineMistakesAreOneErrorLine) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR;
  for (const char* tool :
       {"sweep", "accuracy", "quant_table", "bench_ab", "plot", "bench_reference", "check_export", "pubmed_standin",
        "check_links"})
    pdadmm::test::expect_one_line_error(run("python3 " + src + "/tools/" + tool + ".py --bogus"), std::string(tool) + ".py --help");
  // A misspelt option names the one it is near, as pdadmm's CLI does (argparse alone reports the
  // required option it hides, or "unrecognized").
  pdadmm::test::expect_one_line_error(run("python3 " + src + "/tools/sweep.py --confg x.json"),
                                      "required: --config (--confg: did you mean --config?) (see sweep.py --help)");
  pdadmm::test::expect_one_line_error(run("python3 " + src + "/tools/accuracy.py c.json --sedes=0"),
                                      "unrecognized arguments: --sedes=0 (--sedes: did you mean --seeds?)");
  pdadmm::test::expect_one_line_error(run("python3 " + src + "/tools/bench_ab.py --a x --b y --rounds z c.json"),
                              "--rounds: invalid int value");
  const std::string fetch = "bash " + src + "/tools/fetch_datasets.sh ";
  pdadmm::test::expect_one_line_error(run(fetch + "--bogus"), "unknown option --bogus");
  pdadmm::test::expect_one_line_error(run(fetch + ::testing::TempDir() + "/a " + ::testing::TempDir() + "/b"),
                              "one folder at most");
}

// tools/check_links.py (ctest's Docs.RelativeLinksResolve) finds what it is for: a missing file and
// missing anchors, against GitHub's slugs (code marks and punctuation dropped, -1 for a repeat);
// web links and links in code are not followed. That test passes on a checker that checks nothing.
TEST(Tools, CheckLinksFindsBrokenLinks) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = ::testing::TempDir() + "/check_links";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/docs");
  std::ofstream(dir + "/README.md") << "# Top\n\n## A `code` heading!\n\n## Top\n\n"
                                       "[ok](docs/a.md#second-part) [self](#a-code-heading) [repeat](#top-1) "
                                       "[web](https://example.invalid/none)\n"
                                       "[gone](docs/none.md) [bad](docs/a.md#nowhere) `[in code](docs/none2.md)`\n";
  std::ofstream(dir + "/docs/a.md") << "# First\n\n## Second part\n\n[back](../README.md#top) [missing](#third)\n";
  const Result r = run("python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/check_links.py " + dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "README.md: missing file docs/none.md\nREADME.md: missing anchor docs/a.md#nowhere\n"
                   "docs/a.md: missing anchor #third\n3 broken link(s) in 2 files\n");
}

// Every shell script has -h/--help and refuses an option it does not know before doing anything:
// fresh_machine.sh took --help for DIR, carry_mpi.sh for DEST, the others ignored it and started
// (lint.sh and fuzz.sh exit 2 there: their 1 means findings). test.sh and run.sh pass other options
// on to ctest and pdadmm train, so only their --help is theirs.
TEST(Tools, ShellScriptsHaveHelpAndRefuseUnknownOptions) {
  const std::string src = PDADMM_SOURCE_DIR;
  for (const char* script : {"build", "carry_build", "carry_mpi", "fetch_datasets", "fresh_machine", "fuzz", "gpu_check",
                             "install_deps", "lint", "run", "test"}) {
    for (const char* help : {" --help", " -h"}) {
      const Result h = run("bash " + src + "/tools/" + script + ".sh" + help);
      EXPECT_EQ(h.code, 0) << script << help << "\n" << h.out;
      EXPECT_EQ(h.out.rfind("usage: ", 0), 0u) << script << help << "\n" << h.out;
      EXPECT_NE(h.out.find(std::string("tools/") + script + ".sh"), std::string::npos) << script << "\n" << h.out;
    }
    if (std::string(script) == "run" || std::string(script) == "test") continue;
    const Result r = run("bash " + src + "/tools/" + script + ".sh --bogus");
    const bool findings_are_1 = std::string(script) == "lint" || std::string(script) == "fuzz";
    EXPECT_EQ(r.code, findings_are_1 ? 2 : 1) << script << "\n" << r.out;
    EXPECT_EQ(r.out.rfind("error: unknown option --bogus (", 0), 0u) << script << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << script << "\n" << r.out;
  }
  // A stray argument where none is taken: `tools/build.sh build-cpu` built into build.
  pdadmm::test::expect_one_line_error(run("bash " + src + "/tools/build.sh build-cpu"), "unexpected argument build-cpu");
}

// accuracy.py --data goes to pdadmm train as its --data (pdadmm's hint for a missing folder names it).
TEST(Tools, AccuracyPassesTheDataFolderOn) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, none = ::testing::TempDir() + "/accuracy_no_data";
  const auto r = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/cora.json --seeds 0 --binary " +
                     PDADMM_BINARY + " --out " + ::testing::TempDir() + "/accuracy_data_out --data " + none);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("error: seed 0: " + none + "/planetoid/ind.cora.x: file not found (data folder " + none +
                       ", from data.root or --data;"),
            std::string::npos)
      << r.out;
}

// accuracy.py's lists as quant_table.py writes them (`--seeds 0 100`) join into one value; the
// config after them ends the list (`--seeds 0 1` was "unrecognized arguments: 1").
TEST(Tools, AccuracyTakesSpaceSeparatedLists) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string py = "python3 -c \"import sys; sys.path.insert(0, '" + std::string(PDADMM_SOURCE_DIR) +
                         "/tools'); import accuracy; f = ('--seeds', '--val-splits'); "
                         "print(accuracy.join_lists(['--seeds', '0', '100,200', 'c.json', '--val-splits', '1', '2'], f))\"";
  const Result r = run(py);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "['--seeds', '0,100,200', 'c.json', '--val-splits', '1,2']\n");
}

// Every option's --help line says what it is and, where it has one, its default: the commands
// in docs/benchmarks.md leave most of them out.
TEST(Tools, HelpDescribesEveryOption) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR;
  for (const auto& [tool, text] : std::vector<std::pair<std::string, std::string>>{
           {"bench_ab", "(default 4;"}, {"bench_ab", "passed to every pdadmm train"}, {"bench_ab", "the medians"},
           {"accuracy", "the pdadmm binary (default $PDADMM_BUILD/pdadmm"}, {"accuracy", "else build/pdadmm)"},
           {"accuracy", "the pdadmm config to train"}, {"quant_table", "(default $PDADMM_BUILD/pdadmm"},
           {"sweep", "(default: $PDADMM_BUILD/pdadmm"}, {"bench_reference", "(default $PDADMM_BUILD/pdadmm"},
           {"quant_table", "(default configs/synthetic.json)"}, {"bench_reference", "(default 10)"},
           {"bench_reference", "weight decay (default 0.01)"}, {"bench_reference", "(default: all cores)"},
           // The binary is --binary in every tool (sweep and quant_table also take their older --pdadmm).
           {"sweep", "--binary PDADMM"}, {"quant_table", "--binary PDADMM"}}) {
    const Result r = run("python3 " + src + "/tools/" + tool + ".py --help");
    EXPECT_EQ(r.code, 0) << tool << r.out;
    EXPECT_NE(r.out.find(text), std::string::npos) << tool << ": " << text << "\n" << r.out;
  }
}

// The default binary is the one tools/build.sh built: $PDADMM_BUILD/pdadmm (a relative one the
// caller's, as in the shell tools) when PDADMM_BUILD is set; the tools looked in build/ only.
TEST(Tools, TheDefaultBinaryFollowsPdadmmBuild) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, none = ::testing::TempDir() + "/tools_no_build";
  const std::string syn = src + "/configs/synthetic.json";
  pdadmm::test::expect_one_line_error(
      run("PDADMM_BUILD=" + none + " python3 " + src + "/tools/accuracy.py " + syn + " --seeds 0"),
      "--binary: " + none + "/pdadmm is not an executable");
  pdadmm::test::expect_one_line_error(
      run("cd " + src + "/tools && PDADMM_BUILD=build-tools-none python3 quant_table.py --config " + syn),
      "--pdadmm: " + src + "/tools/build-tools-none/pdadmm is not an executable");
  pdadmm::test::expect_one_line_error(
      run("PDADMM_BUILD=" + none + " python3 " + src + "/tools/sweep.py --config " + src + "/configs/sweeps/tiny.json"),
      "no pdadmm binary found (" + none + "/pdadmm)");
  const std::string build = std::string(PDADMM_BINARY).substr(0, std::string(PDADMM_BINARY).find_last_of('/'));
  const Result r = run("PDADMM_BUILD=" + build + " python3 " + src + "/tools/accuracy.py " + syn + " --seeds 0 --out " +
                       ::testing::TempDir() + "/tools_pdadmm_build");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("seed 0 "), std::string::npos) << r.out;
}

// A "binary" that exits 0 and writes nothing: an earlier run's summary.json in the same folder must
// not be reported as this run's result.
TEST(Tools, AnEarlierResultNeverPassesForANewOne) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, out = ::testing::TempDir() + "/tools_stale";
  std::filesystem::create_directories(out + "/seed_0");
  std::ofstream(out + "/seed_0/summary.json")
      << R"({"test": {"acc": 0.9}, "val": {"acc": 0.9, "nodes": 500}, "train": {"acc": 1}})";
  Result r = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/synthetic.json --seeds 0 --binary /bin/true --out " + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("exited 0 but wrote no"), std::string::npos) << r.out;
}

// A failing run's output passes through: lines before the last as they were (blank ones dropped);
// a last "error: " line becomes accuracy.py's one error line, with the run it came from; any other
// last line is kept, and the error then gives the exit status.
TEST(Tools, AFailedRunsOutputPassesThroughWithItsRun) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, dir = ::testing::TempDir();
  const std::string erring = dir + "/tools_fake_error.sh", crashing = dir + "/tools_fake_crash.sh";
  std::ofstream(erring) << "#!/bin/sh\nprintf 'warning: w\\n\\nerror: it broke\\n'\nexit 1\n";
  std::ofstream(crashing) << "#!/bin/sh\nprintf 'warning: w\\nsomething else\\n'\nexit 3\n";
  std::filesystem::permissions(erring, std::filesystem::perms::owner_all);
  std::filesystem::permissions(crashing, std::filesystem::perms::owner_all);
  const std::string acc = "python3 " + src + "/tools/accuracy.py " + src + "/configs/synthetic.json --seeds 5 --out " +
                          dir + "/tools_fake --binary ";
  Result r = run(acc + erring);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "warning: w\nerror: seed 5: it broke\n");
  r = run(acc + crashing);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "warning: w\nsomething else\nerror: seed 5: pdadmm exited with 3\n");
  // Killed (the out-of-memory killer's SIGKILL): named, not "exited with -9"; sweep.py took the last
  // line for the reason ("pdadmm bench failed (something else)").
  const std::string killed = dir + "/tools_fake_killed.sh";
  std::ofstream(killed) << "#!/bin/sh\n[ \"$1\" = --version ] && { echo fake; exit 0; }\n"
                           "printf 'warning: w\\nsomething else\\n'\nkill -9 $$\n";
  std::filesystem::permissions(killed, std::filesystem::perms::owner_all);
  r = run(acc + killed);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "warning: w\nsomething else\nerror: seed 5: pdadmm was killed by SIGKILL\n");
  r = run("python3 " + src + "/tools/sweep.py --quiet --config " + src + "/configs/sweeps/tiny.json --out " + dir +
          "/tools_fake_sweep --pdadmm " + killed);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("error: pdadmm bench failed (was killed by SIGKILL; its last output: warning: w something else): " +
                            killed + " bench ",
                        0),
            0u)
      << r.out;
  // quant_table.py the same way (it printed "error: CMD failed (exit 1):" and then the run's output);
  // its check of the -Q rows' settings (pdadmm info) first passes its error line through the same way
  const std::string work = dir + "/tools_fake_q", train_erring = dir + "/tools_fake_train_error.sh";
  std::ofstream(train_erring) << "#!/bin/sh\n[ \"$1\" = info ] && exit 0\nprintf 'warning: w\\n\\nerror: it broke\\n'\nexit 1\n";
  std::filesystem::permissions(train_erring, std::filesystem::perms::owner_all);
  const std::string qt = "python3 " + src + "/tools/quant_table.py --config " + src + "/configs/synthetic.json --work " +
                         work + " --pdadmm ";
  r = run(qt + train_erring);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "warning: w\nerror: run " + work + "/row00_seed0: it broke\n");
  r = run(qt + erring);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "warning: w\nerror: the -Q rows' settings: it broke\n");
  // bench_ab.py the same way (it printed "error: BINARY on CONFIG: error: it broke", the warning lost)
  const std::string versioned = dir + "/tools_fake_versioned.sh";
  std::ofstream(versioned) << "#!/bin/sh\n[ \"$1\" = --version ] && { echo fake; exit 0; }\n"
                              "printf 'warning: w\\n' >&2\nprintf 'error: it broke\\n' >&2\nexit 1\n";
  std::filesystem::permissions(versioned, std::filesystem::perms::owner_all);
  r = run("python3 " + src + "/tools/bench_ab.py --rounds 1 --a " + versioned + " --b " + versioned + " " + src +
          "/configs/synthetic.json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "warning: w\nerror: " + versioned + " on " + src + "/configs/synthetic.json: it broke\n");
}

// tools/accuracy.py on a real data set's config, shrunk to 2 layers x 16 trained for `iterations`.
std::string small_accuracy_run(const std::string& config, const std::string& out, const std::string& flags,
                               int iterations) {
  const std::string src = PDADMM_SOURCE_DIR;
  return "python3 " + src + "/tools/accuracy.py " + src + "/configs/" + config + ".json --binary " + PDADMM_BINARY +
         " --out " + out + " " + flags + " --set data.root=\"" + pdadmm::test::data_root() +
         "\" --set model.layers=2 --set model.hidden=16 --set 'model.stages=[{\"layers\": 2, \"iterations\": " +
         std::to_string(iterations) + "}]'";
}

// OUT/accuracy.json of a run over splits; checks that each run's folder (OUT/<folder>K/seed_S)
// holds the config it trained with: data.<key> = K and seed = S.
nlohmann::json read_split_runs(const std::string& out, const std::string& key, const std::string& folder) {
  std::ifstream f(out + "/accuracy.json");
  EXPECT_TRUE(f.good()) << out << "/accuracy.json";
  if (!f.good()) return nlohmann::json::object({{"runs", nlohmann::json::array()}});
  const nlohmann::json j = nlohmann::json::parse(f);
  for (const auto& run : j["runs"]) {
    const int k = run[key], s = run["seed"];
    std::ifstream cf(out + "/" + folder + std::to_string(k) + "/seed_" + std::to_string(s) + "/config.json");
    EXPECT_TRUE(cf.good()) << k << " " << s;
    if (!cf.good()) continue;
    const nlohmann::json c = nlohmann::json::parse(cf);
    EXPECT_EQ(c["data"][key], k);
    EXPECT_EQ(c["seed"], s);
  }
  return j;
}

// Two splits x two seeds of Amazon Photo (2 layers x 16, 3 iterations): every run trained on its own
// split and seed, and the means printed and saved follow from the runs.
TEST(Accuracy, SplitSeedsRepeatEverySeedOnEachSplit) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string root = pdadmm::test::data_root();
  if (!pdadmm::test::exists(root + "/npz/amazon_electronics_photo.npz"))
    GTEST_SKIP() << "real data not found: " << root << "/npz (set PDADMM_DATA)";
  const std::string out = ::testing::TempDir() + "/accuracy_splits";
  Result r = run(small_accuracy_run("amazon_photo", out, "--seeds 0,1 --split-seeds 3,7", 3));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(2 splits x 2 seeds"), std::string::npos) << r.out;
  const nlohmann::json j = read_split_runs(out, "split_seed", "split_");
  ASSERT_EQ(j["runs"].size(), 4u);
  double sum = 0;
  for (const auto& run : j["runs"]) sum += run["test_acc"].get<double>();
  EXPECT_NEAR(j["test_mean"].get<double>(), sum / 4, 1e-12);
  ASSERT_EQ(j["per_split"].size(), 2u);
  EXPECT_EQ(j["per_split"][0]["split_seed"], 3);
  const auto& r0 = j["runs"][0], r1 = j["runs"][1];
  EXPECT_NEAR(j["per_split"][0]["test_mean"].get<double>(), (r0["test_acc"].get<double>() + r1["test_acc"].get<double>()) / 2,
              1e-12);
}

// --val-splits on Cora (fixed Planetoid split): each run redraws train/val with its own seed,
// its folder and record name the seed, and validation differs between the splits.
TEST(Accuracy, ValSplitsRedrawTrainAndValidation) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string root = pdadmm::test::data_root();
  if (!pdadmm::test::exists(root + "/planetoid/ind.cora.graph"))
    GTEST_SKIP() << "real data not found: " << root << "/planetoid (set PDADMM_DATA)";
  const std::string src = PDADMM_SOURCE_DIR, out = ::testing::TempDir() + "/accuracy_val_splits";
  Result r = run(small_accuracy_run("cora", out, "--seeds 0 --val-splits 1,2", 20));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(2 splits x 1 seed"), std::string::npos) << r.out;
  const nlohmann::json j = read_split_runs(out, "val_split_seed", "val_split_");
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["val_split_seeds"], nlohmann::json::array({1, 2}));
  EXPECT_NE(j["runs"][0]["val_acc"], j["runs"][1]["val_acc"]);
  Result both = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/cora.json --binary " + PDADMM_BINARY +
                    " --split-seeds 1 --val-splits 1");
  EXPECT_NE(both.code, 0);
  EXPECT_NE(both.out.find("give one of them"), std::string::npos) << both.out;
}

// --against pairs runs by seed: the changes it prints equal those computed from the two files.
TEST(Accuracy, AgainstPairsTheRunsBySeed) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, dir = ::testing::TempDir() + "/accuracy_against";
  const std::string tool = "python3 " + src + "/tools/accuracy.py " + src + "/configs/synthetic.json --binary " +
                           PDADMM_BINARY + " --seeds 0,1 ";
  Result a = run(tool + "--out " + dir + "/a --set admm.iterations=5");
  ASSERT_EQ(a.code, 0) << a.out;
  Result b = run(tool + "--out " + dir + "/b --set admm.iterations=30 --against " + dir + "/a/accuracy.json");
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("against " + dir + "/a/accuracy.json: validation "), std::string::npos) << b.out;
  EXPECT_NE(b.out.find(" nodes in 2 runs, "), std::string::npos) << b.out;
  std::ifstream fa(dir + "/a/accuracy.json"), fb(dir + "/b/accuracy.json");
  const nlohmann::json ja = nlohmann::json::parse(fa), jb = nlohmann::json::parse(fb);
  const nlohmann::json& ch = jb["against"];
  double dv = 0, dt = 0;
  int nodes = 0, better = 0;
  for (int i = 0; i < 2; ++i) {
    const auto &ra = ja["runs"][i], &rb = jb["runs"][i];
    ASSERT_EQ(ra["seed"], rb["seed"]);
    const double d = rb["val_acc"].get<double>() - ra["val_acc"].get<double>();
    dv += d / 2;
    dt += (rb["test_acc"].get<double>() - ra["test_acc"].get<double>()) / 2;
    const int n = static_cast<int>(std::lround(d * rb["val_nodes"].get<int>()));
    nodes += n;
    better += n > 0;
  }
  EXPECT_NEAR(ch["val_change"].get<double>(), dv, 1e-12);
  EXPECT_NEAR(ch["test_change"].get<double>(), dt, 1e-12);
  EXPECT_EQ(ch["val_nodes_change"].get<int>(), nodes);
  EXPECT_EQ(ch["better"].get<int>(), better);
  EXPECT_EQ(ch["better"].get<int>() + ch["tied"].get<int>() + ch["worse"].get<int>(), 2);
  EXPECT_GT(dv, 0) << "30 iterations should beat 5 on validation";
  // A seed the base file lacks: one clear line, before any training.
  Result c = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/synthetic.json --binary " + PDADMM_BINARY +
                 " --seeds 0,7 --out " + dir + "/c --against " + dir + "/a/accuracy.json");
  EXPECT_EQ(c.code, 1) << c.out;
  EXPECT_EQ(c.out, "error: --against " + dir + "/a/accuracy.json: it has no run for seed 7\n");
  // The candidate into its baseline's folder overwrote the baseline's file and runs without a word.
  Result d = run(tool + "--out " + dir + "/a --against " + dir + "/a/accuracy.json");
  EXPECT_EQ(d.code, 1) << d.out;
  EXPECT_EQ(d.out.rfind("error: --against " + dir + "/a/accuracy.json: is this sitting's own result file", 0), 0u)
      << d.out;
  // Into the baseline's folder with another --json: its numbers stay, its runs are replaced (said).
  Result e = run(tool + "--out " + dir + "/a --json " + dir + "/e.json --against " + dir + "/a/accuracy.json");
  EXPECT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("note: --against " + dir + "/a/accuracy.json is in --out's folder"), std::string::npos) << e.out;
  std::ifstream fa2(dir + "/a/accuracy.json");
  EXPECT_EQ(nlohmann::json::parse(fa2), ja) << "the baseline must be left as it was";
}

// A run's warnings pass through (captured output hid them: a --set that did nothing read as
// measured), once for the seeds that repeat them, and stay in each run's record; the summary
// line says its std is the population's, and the build is the runs' own.
TEST(Accuracy, RunsWarningsPassOnceAndAreKept) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, out = ::testing::TempDir() + "/accuracy_said";
  Result r = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/synthetic.json --binary " + PDADMM_BINARY +
                 " --seeds 0,1 --out " + out + " --set admm.iterations=3 --set 'admm.grid=\"reference\"'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string warning = "warning: admm.grid is unused: nothing is quantized";
  const size_t at = r.out.find(warning);
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(warning, at + 1), std::string::npos) << "said once: " << r.out;
  EXPECT_NE(r.out.find("(seed 0)\n", at), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(2 seeds, population std, "), std::string::npos) << r.out;
  std::ifstream f(out + "/accuracy.json"), sf(out + "/seed_1/summary.json");
  const nlohmann::json j = nlohmann::json::parse(f), sm = nlohmann::json::parse(sf);
  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) {
    ASSERT_TRUE(run.contains("said")) << run.dump();
    EXPECT_EQ(run["said"][0].get<std::string>().rfind(warning, 0), 0u) << run.dump();
  }
  EXPECT_EQ(j["std"], "population");
  EXPECT_EQ(j["binary"], "pdadmm " + sm["version"].get<std::string>());
}

TEST(Accuracy, SplitSeedsOnAFixedSplitIsOneClearLine) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR;
  Result r = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/cora.json --binary " + PDADMM_BINARY +
                 " --split-seeds 1,2 --out " + ::testing::TempDir() + "/accuracy_cora");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out.rfind("error: --split-seeds: data set 'cora' has a fixed split", 0), 0u) << r.out;
  // A --set of what each run sets itself: every run trained seed 5, reported as five seeds, std 0.
  r = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/cora.json --binary " + PDADMM_BINARY +
          " --set seed=5 --out " + ::testing::TempDir() + "/accuracy_cora");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "error: --set seed=5: each run sets seed from --seeds; give the values there\n") << r.out;
  r = run("python3 " + src + "/tools/accuracy.py " + src + "/configs/cora.json --binary " + PDADMM_BINARY +
          " --val-splits 1,2 --set data.val_split_seed=3 --out " + ::testing::TempDir() + "/accuracy_cora");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "error: --set data.val_split_seed=3: each run sets data.val_split_seed from --val-splits; give the "
                   "values there\n")
      << r.out;
}

// tools/bench_ab.py with the same binary both ways: two rounds each, the same (deterministic) test
// accuracy in every run, medians and the ratio that follow from the runs; a failing run is one line.
TEST(BenchAb, AlternatesTheBinariesAndSummarises) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, json = ::testing::TempDir() + "/bench_ab.json";
  const std::string tool = "python3 " + src + "/tools/bench_ab.py --a " + PDADMM_BINARY + " --b " + PDADMM_BINARY +
                           " " + src + "/configs/synthetic.json --rounds 2 ";
  Result r = run(tool + "--set admm.iterations=5 --json " + json);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("A / B = "), std::string::npos) << r.out;
  // A goes first in round 1, B in round 2: running second is slower on a small machine.
  const std::string cfg = src + "/configs/synthetic.json round ";
  EXPECT_LT(r.out.find("A " + cfg + "1:"), r.out.find("B " + cfg + "1:")) << r.out;
  EXPECT_LT(r.out.find("B " + cfg + "2:"), r.out.find("A " + cfg + "2:")) << r.out;
  EXPECT_NE(r.out.find("A " + cfg + "2:"), std::string::npos) << r.out;
  const nlohmann::json j = pdadmm::test::read_json(json);
  // Each binary's --version as it prints it (two nulls, a key the tool left out, were equal too).
  const Result version = run(std::string(PDADMM_BINARY) + " --version");
  ASSERT_EQ(version.code, 0) << version.out;
  ASSERT_EQ(version.out.rfind("pdadmm ", 0), 0u) << version.out;
  const std::string printed = version.out.substr(0, version.out.find_last_not_of("\n") + 1);
  EXPECT_EQ(j["versions"]["a"], printed);
  EXPECT_EQ(j["versions"]["b"], printed);
  // The CPU the times were measured on, as pdadmm bench's machine.cpu_model names it.
  const std::string bench_json = ::testing::TempDir() + "/bench_ab_machine.json";
  const Result bench = run(std::string(PDADMM_BINARY) + " bench -c " + src +
                           "/configs/synthetic.json --set model.hidden=8 -n 1 --no-peak --json " + bench_json);
  ASSERT_EQ(bench.code, 0) << bench.out;
  EXPECT_EQ(j["machine"]["cpu_model"], pdadmm::test::read_json(bench_json)["machine"]["cpu_model"]) << j["machine"];
  const nlohmann::json& c = j["configs"][src + "/configs/synthetic.json"];
  ASSERT_EQ(c["runs"]["a"].size(), 2u);
  ASSERT_EQ(c["runs"]["b"].size(), 2u);
  for (const char* k : {"a", "b"}) {
    const nlohmann::json& runs = c["runs"][k];
    EXPECT_EQ(runs[0]["test_acc"], c["runs"]["a"][0]["test_acc"]);
    EXPECT_EQ(runs[1]["test_acc"], c["runs"]["a"][0]["test_acc"]);
    const double median = (runs[0]["wall_s"].get<double>() + runs[1]["wall_s"].get<double>()) / 2;
    EXPECT_NEAR(c["median_wall_s"][k].get<double>(), median, 1e-9);
    EXPECT_GT(runs[0]["s_per_iter_mean"].get<double>(), 0);
    EXPECT_EQ(runs[0]["stage_s"].get<double>(), 0.0) << "one stage: no stage changes";
  }
  EXPECT_FALSE(c.contains("stage_ratio_a_over_b")) << "no stage changes to compare";
  EXPECT_NEAR(c["ratio_a_over_b"].get<double>(),
              c["median_wall_s"]["a"].get<double>() / c["median_wall_s"]["b"].get<double>(), 1e-12);
  // The paired view: each round's A / B, their median and the rounds A was slower in.
  ASSERT_EQ(c["paired_ratios"].size(), 2u);
  int slower = 0;
  for (int i = 0; i < 2; ++i) {
    const double ratio = c["runs"]["a"][i]["wall_s"].get<double>() / c["runs"]["b"][i]["wall_s"].get<double>();
    EXPECT_NEAR(c["paired_ratios"][i].get<double>(), ratio, 1e-12);
    slower += ratio > 1;
  }
  EXPECT_NEAR(c["paired_ratio_median"].get<double>(),
              (c["paired_ratios"][0].get<double>() + c["paired_ratios"][1].get<double>()) / 2, 1e-12);
  EXPECT_EQ(c["rounds_a_slower"].get<int>(), slower);
  EXPECT_NE(r.out.find(" rounds\n"), std::string::npos) << r.out;
  // Greedy growth: the stage changes' seconds and their ratio as well.
  Result grown = run(tool + "--set admm.iterations=4 --set model.layers=3 --set 'model.stages=[{\"layers\":2,"
                            "\"iterations\":2},{\"layers\":3,\"iterations\":2}]' --json " + json);
  ASSERT_EQ(grown.code, 0) << grown.out;
  EXPECT_NE(grown.out.find("stage changes median"), std::string::npos) << grown.out;
  const nlohmann::json g = pdadmm::test::read_json(json)["configs"][src + "/configs/synthetic.json"];
  EXPECT_GT(g["runs"]["a"][0]["stage_s"].get<double>(), 0);
  EXPECT_NEAR(g["stage_ratio_a_over_b"].get<double>(),
              g["median_stage_s"]["a"].get<double>() / g["median_stage_s"]["b"].get<double>(), 1e-12);
  Result bad = run(tool + "--set bogus.key=1");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_EQ(bad.out, std::string("error: ") + PDADMM_BINARY + " on " + src +
                         "/configs/synthetic.json: config: unknown key \"bogus\"\n");  // its error line, once
}

// With threads: 0 a run beside a busy neighbour uses fewer threads (a `note: threads:` line): runs of
// a config that chose differently are flagged, since A / B then compares thread counts too. Fakes:
// A reports one thread of two, B none; both write a summary.json.
TEST(BenchAb, FlagsRunsThatChoseDifferentThreadCounts) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, dir = ::testing::TempDir() + "/bench_ab_threads";
  std::filesystem::create_directories(dir);
  for (const auto& [name, note] : {std::pair{"a.sh", "note: threads: 1 of 2 cores (other processes kept 2.0 busy)"},
                                   std::pair{"b.sh", "time: 1 s/iteration"}}) {
    std::ofstream(dir + "/" + name)
        << "#!/bin/sh\n[ \"$1\" = --version ] && { echo fake; exit 0; }\n"
           "for a; do last=$a; done\nout=$(echo \"$last\" | sed 's/^output.dir=\"\\(.*\\)\"$/\\1/')\n"
           "mkdir -p \"$out\"\necho '" << note << "'\n"
           "echo '{\"seconds_per_iter_mean\": 1, \"seconds_per_iter_median\": 1, \"eval_seconds\": 0, "
           "\"test_acc\": 0.5}' > \"$out/summary.json\"\n";
    std::filesystem::permissions(dir + "/" + name, std::filesystem::perms::owner_all);
  }
  const std::string cfg = src + "/configs/synthetic.json", json = dir + "/ab.json";
  Result r = run("python3 " + src + "/tools/bench_ab.py --a " + dir + "/a.sh --b " + dir + "/b.sh " + cfg +
                 " --rounds 1 --json " + json);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: " + cfg + ": the runs chose different thread counts"), std::string::npos) << r.out;
  const nlohmann::json c = pdadmm::test::read_json(json)["configs"][cfg];
  EXPECT_FALSE(c["same_threads"].get<bool>());
  EXPECT_EQ(c["runs"]["a"][0]["threads"], nlohmann::json::array({"1 of 2 cores"}));
  EXPECT_EQ(c["runs"]["b"][0]["threads"], nlohmann::json::array());
  // The same binary both ways: nothing to flag.
  r = run("python3 " + src + "/tools/bench_ab.py --a " + dir + "/b.sh --b " + dir + "/b.sh " + cfg + " --rounds 1 --json " + json);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;
  EXPECT_TRUE(pdadmm::test::read_json(json)["configs"][cfg]["same_threads"].get<bool>());
}

// With PyTorch: the transcription of the reference's iteration reproduces shared/reference_vectors
// (the script checks every W, b, z, p, q, u and count). Without: one clear error line.
TEST(BenchReference, TranscriptionMatchesTheVectorsOrNamesPyTorch) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string vectors = pdadmm::test::shared_dir() + "/reference_vectors/pdadmm_reference.json";
  if (!pdadmm::test::exists(vectors)) GTEST_SKIP() << "not found: " << vectors;
  Result r = run("python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/bench_reference.py --check-only --vectors " +
                 vectors);
  if (std::system("python3 -c 'import torch' > /dev/null 2>&1") != 0) {
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(r.out, "error: tools/bench_reference.py needs PyTorch (pip install torch)\n");
    GTEST_SKIP() << "PyTorch is not installed: its error line checked, the transcription not";
  }
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("reference transcription matches", 0), 0u) << r.out;
}

// check_export.py scores an `export --inputs` archive with numpy and agrees with the run's
// summary.json; without numpy, one line says what it needs. Its input checks come first.
TEST(Tools, CheckExportAgreesWithTheRunOrNamesNumpy) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string src = PDADMM_SOURCE_DIR, dir = ::testing::TempDir() + "/check_export";
  std::filesystem::remove_all(dir);
  const Result t = run(std::string(PDADMM_BINARY) + " train --config " + src + "/configs/synthetic.json --out " + dir +
                       " --set data.synthetic.nodes=400 --set data.synthetic.val=50 --set data.synthetic.test=100"
                       " --set model.hidden=16 --set model.layers=3 --set admm.iterations=10 --set output.progress=off");
  ASSERT_EQ(t.code, 0) << t.out;
  ASSERT_EQ(run(std::string(PDADMM_BINARY) + " export -m " + dir + "/model.bin --npz " + dir + "/in.npz --inputs").code, 0);
  // The python3 first on PATH (a pyenv one, say) may lack numpy where Debian's has it.
  std::string py = "python3";
  if (run("python3 -c 'import numpy'").code != 0 && run("/usr/bin/python3 -c 'import numpy'").code == 0)
    py = "/usr/bin/python3";
  const std::string tool = py + " " + src + "/tools/check_export.py ";
  pdadmm::test::expect_one_line_error(run(tool + dir + "/summary.json"), "not a .npz archive");
  pdadmm::test::expect_one_line_error(run(tool + dir + "/in.npz --summary " + dir + "/none.json"), "none.json");
  const Result r = run(tool + dir + "/in.npz --summary " + dir + "/summary.json");
  if (run(py + " -c 'import numpy'").code != 0) {
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(r.out, "error: tools/check_export.py needs numpy (pip install numpy, or apt-get install python3-numpy "
                     "for Debian's python3)\n");
    GTEST_SKIP() << "numpy is not installed: its error line checked, the scoring not";
  }
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("agrees with " + dir + "/summary.json"), std::string::npos) << r.out;
  // Another split's summary (its node counts differ): refused, not scored against these counts.
  nlohmann::json other = pdadmm::test::read_json(dir + "/summary.json");
  other["test"]["nodes"] = other["test"]["nodes"].get<int>() + 7;
  std::ofstream(dir + "/other.json") << other.dump();
  pdadmm::test::expect_one_line_error(run(tool + dir + "/in.npz --summary " + dir + "/other.json"),
                                      "its test split has 107 nodes, the archive's 100: another run's summary?");
}

}  // namespace
