// pdadmm under mpirun (one layer group per process, MPI transport) against the same groups as
// threads of one process: train gives the same model to the bit and the same metrics; bench
// counts the same work; tools/sweep.py --mpirun measures its parallel runs as processes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "host/io/host_memory.h"
#include "host/io/stop_signal.h"
#include "tests/test_util.h"

namespace {

using pdadmm::test::model_payload;
using pdadmm::test::run_command;
using pdadmm::test::slurp;
using pdadmm::test::timeless_metrics;

#ifdef PDADMM_MPIEXEC
// Root is allowed (CI runs as root); more processes than cores (2-core CI); no CMA single-copy,
// which containers often forbid. A hang (a process left waiting on a dead peer) fails the test
// after two minutes (ten under ThreadSanitizer, whose 2500-iteration launches take two on 2 cores).
#ifdef PDADMM_TEST_TSAN  // test_util.h
const std::string kHung = "timeout 600 ";
#else
const std::string kHung = "timeout 120 ";
#endif
const std::string kAsRoot = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ";
const std::string kLauncher =
    kHung + std::string(PDADMM_MPIEXEC) + " --oversubscribe --mca btl_vader_single_copy_mechanism none";
const std::string kMpirun = kAsRoot + kLauncher;

// mpirun -np 2 with process 0 running the sh command `first` and process 1 `second`, chosen by rank
// in a script: MPMD's `mpirun … : …` crashes in Open MPI 5.0.7 as Debian 13 ships it, `true : true`
// too (open-mpi/ompi#13303).
std::string two_processes(const std::string& first, const std::string& second) {
  // ctest runs each test in a process of its own, all in one TempDir(), two at a time: the pid
  // keeps one test from running another's script (a count alone restarts at 0 in each).
  static int made = 0;
  const std::string script =
      ::testing::TempDir() + "/by_rank_" + std::to_string(getpid()) + "_" + std::to_string(made++) + ".sh";
  std::ofstream(script) << "#!/bin/sh\nif [ \"$OMPI_COMM_WORLD_RANK\" = 0 ]; then\n  exec " << first
                        << "\nelse\n  exec " << second << "\nfi\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return kMpirun + " -np 2 " + script;
}
#endif

// Synthetic, 6 layers in 3 groups grown 2 -> 3 -> 6 layers (the first stage has 2 groups: process 2
// waits), keeping the duals and the last layer: at 2 -> 3 the last layer's z goes from process 1
// to process 2, at 3 -> 6 layer 2's z, q, p, u from process 1 to process 0 (Transport::give).
// pdADMM-G-Q with 4-bit q codes and int8 p on the wire. No `threads`: one process runs its evaluations on all
// cores, each MPI process on its share, and the scores must still agree.
// Writes it to a fresh TempDir()/name; returns that folder.
std::string fresh_config_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  run_command("rm -rf " + dir + " && mkdir -p " + dir);
  const nlohmann::json c = {
      {"seed", 3},
      {"groups", 3},
      {"algorithm", "pdadmm-g-q"},
      {"data", {{"name", "synthetic"}, {"synthetic", {{"nodes", 600}, {"val", 100}, {"test", 200}}}}},
      {"model",
       {{"layers", 6},
        {"hidden", 48},
        {"stage_last", "keep"},
        {"stage_duals", "keep"},
        {"stages",
         {{{"layers", 2}, {"iterations", 8}}, {{"layers", 3}, {"iterations", 4}}, {{"layers", 6}, {"iterations", 8}}}}}},
      {"admm",
       {{"nu", 0.1},
        {"rho", 0.5},
        {"mu", 1.0},
        // Every loss "stalls" by 100: ρ × 10 at the 4th loss of each stage, then settled at 5
        // (the schedule's ρ broadcast and its skipped losses run under mpirun too).
        {"rho_schedule", {{"type", "reference"}, {"threshold", 100}, {"max", 5}}},
        {"quantize", "q"},
        {"grid", {{"min", 0}, {"max", 2}, {"levels", 16}}},
        {"wire", {{"p", "int8"}, {"q", "codes"}}}}},
      {"output", {{"log_every", 4}, {"progress", "off"}}}};
  std::ofstream(dir + "/mpi.json") << c.dump(2);
  return dir;
}

// The pid of the running process whose argv[0] is `argv0` and whose command line holds `marker`
// (an output folder); with `rank` >= 0, the one mpirun started as that rank. 0 if none.
pid_t find_process(const std::string& argv0, const std::string& marker, int rank = -1) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmd = slurp(e.path() / "cmdline");
    if (cmd.compare(0, argv0.size() + 1, argv0 + '\0') != 0 || cmd.find(marker) == std::string::npos) continue;
    if (rank >= 0 && slurp(e.path() / "environ").find('\0' + std::string("OMPI_COMM_WORLD_RANK=") +
                                                       std::to_string(rank) + '\0') == std::string::npos)
      continue;
    return static_cast<pid_t>(std::stol(pid));
  }
  return 0;
}

// A small 2-group model of `iterations` as c.json in a fresh TempDir()/name; returns that folder.
std::string two_group_config_dir(const std::string& name, int iterations) {
  const std::string dir = fresh_config_dir(name);
  std::ofstream(dir + "/c.json") << R"({"groups": 2, "model": {"layers": 4, "hidden": 16}, "admm": {"iterations": )" +
                                        std::to_string(iterations) +
                                        R"(}, "data": {"synthetic": {"nodes": 400, "val": 50, "test": 100}},
                                            "output": {"progress": "off"}})";
  return dir;
}

TEST(MpiTrain, OneProcessPerGroupMatchesThreadsBitForBit) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI (apt-get install libopenmpi-dev openmpi-bin, then rebuild)";
#else
  const std::string dir = fresh_config_dir("mpi_train"), cfg = dir + "/mpi.json";
  const std::string out = dir + "/run";  // the same folder both ways: the checkpoint records it
  // output.predictions: process 0 holds every layer's final weights (as for model.bin) and writes the file.
  const std::string predict = " --set output.predictions=true";
  auto threads = run_command(std::string(PDADMM_BINARY) + " train -c " + cfg + " -o " + out + predict);
  ASSERT_EQ(threads.code, 0) << threads.out;
  const std::string model = slurp(out + "/model.bin"), metrics = timeless_metrics(out + "/metrics.jsonl");
  const std::string predictions = slurp(out + "/predictions.csv");
  ASSERT_GT(model.size(), 1000u);
  ASSERT_EQ(std::count(predictions.begin(), predictions.end(), '\n'), 601) << "a header and 600 nodes";
  ASSERT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 6) << metrics;
  run_command("rm -rf " + out);
  auto mpi = run_command(kMpirun + " -np 3 " + PDADMM_BINARY + " train -c " + cfg + " -o " + out + predict);
  ASSERT_EQ(mpi.code, 0) << mpi.out;
  EXPECT_EQ(slurp(out + "/model.bin"), model) << "the MPI run's weights differ from the threads' run";
  EXPECT_EQ(slurp(out + "/predictions.csv"), predictions);
  EXPECT_EQ(timeless_metrics(out + "/metrics.jsonl"), metrics);
  // One process speaks: one header, one result.
  EXPECT_EQ(mpi.out.find("pdadmm: synthetic"), mpi.out.rfind("pdadmm: synthetic")) << mpi.out;
  EXPECT_NE(mpi.out.find("3 group(s) (2 in the first stage)"), std::string::npos) << mpi.out;
  EXPECT_NE(mpi.out.find("stage 2/3: 3 layers from iteration 9"), std::string::npos) << mpi.out;
  EXPECT_NE(mpi.out.find("stage 3/3: 6 layers from iteration 13"), std::string::npos) << mpi.out;
  EXPECT_NE(mpi.out.find("final: test acc"), std::string::npos) << mpi.out;
#endif
}

// train --resume under mpirun, from a state one process wrote (SIGTERM), from one the processes
// wrote (output.checkpoint_every, then the launch killed) and from ones the processes wrote when a
// signal stopped them (SIGUSR1 to mpirun, which forwards it to each; SIGTERM to one process, which
// the others learn of after the iteration): all end with the bytes of the uninterrupted
// single-process run.
TEST(MpiTrain, ResumesAStateOfOneProcessOrOfProcesses) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string args = " --config " + std::string(PDADMM_SOURCE_DIR) +
                           "/configs/synthetic.json --set model.layers=4 --set groups=2 --set model.hidden=256"
                           " --set output.progress=off --set admm.iterations=2500 --set output.log_every=7";
  const std::string dir = ::testing::TempDir() + "/mpi_resume";
  run_command("rm -rf " + dir + " && mkdir -p " + dir);
  const auto s = run_command(std::string(PDADMM_BINARY) + " train" + args + " --out " + dir + "/straight");
  ASSERT_EQ(s.code, 0) << s.out;
  const std::string weights = model_payload(dir + "/straight"), metrics = timeless_metrics(dir + "/straight/metrics.jsonl");
  ASSERT_GT(weights.size(), 100000u);
  const std::string mpirun = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + kLauncher + " -np 2 ";
  const auto resume_matches = [&](const std::string& out) {
    const auto r = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " train --resume" + args + " --out " + out);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(model_payload(out) == weights) << out << ": model.bin weights differ";
    EXPECT_EQ(timeless_metrics(out + "/metrics.jsonl"), metrics) << out;
    EXPECT_GT(pdadmm::test::read_json(out + "/summary.json")["resumed_from"].get<int>(), 0) << out;
  };
  const auto one = pdadmm::test::train_until_signal(args, dir + "/one", SIGTERM, "metrics.jsonl", 1000000);
  ASSERT_EQ(one.first, 128 + SIGTERM) << one.second;
  resume_matches(dir + "/one");
  // Killed, not stopped: SIGKILL to each process (mpirun's SIGTERM with Open MPI 4's `--mca
  // odls_base_sigkill_timeout 0` did it; Open MPI 5 has no such parameter and lets them stop).
  const std::string many_out = dir + "/many";
  const auto many = pdadmm::test::train_until_signal(
      args + " --set output.checkpoint_every=300", many_out, 0, "state.bin", 0, mpirun, [&] {
        usleep(200000);
        for (int rank : {0, 1})
          if (const pid_t p = find_process(PDADMM_BINARY, many_out, rank)) kill(p, SIGKILL);
      });
  ASSERT_NE(many.first, 0) << "the launch ended before the signal: " << many.second;
  const nlohmann::json st = pdadmm::test::read_json(dir + "/many/summary.json");
  ASSERT_TRUE(st.is_null()) << "the processes were killed, yet wrote a summary";
  resume_matches(dir + "/many");
  // Stopped: each process finishes the same iteration, model.bin and summary.json hold it.
  for (const auto& [name, which] : {std::pair{"usr1", SIGUSR1}, std::pair{"term1", SIGTERM}}) {
    const std::string out = dir + "/" + name;
    const int sig = which;  // a lambda cannot capture a structured binding before C++20 (clang refuses)
    const auto stopped = pdadmm::test::train_until_signal(args, out, 0, "metrics.jsonl", 0, mpirun, [&] {
      usleep(300000);
      pid_t to = find_process(PDADMM_BINARY, out, 1);
      if (sig == SIGUSR1) {  // to the pid the run's first lines name: the launcher, process 0's parent
        const std::string log = slurp(out + ".log"), say = "note: to stop after an iteration with the outputs written: kill -USR1 ";
        const size_t at = log.find(say);
        ASSERT_NE(at, std::string::npos) << log;
        to = static_cast<pid_t>(std::atol(log.c_str() + at + say.size()));
        const std::string stat = slurp("/proc/" + std::to_string(find_process(PDADMM_BINARY, out, 0)) + "/stat");
        const size_t paren = stat.rfind(')');
        ASSERT_NE(paren, std::string::npos) << "no process 0 for " << out;
        int parent = 0;
        ASSERT_EQ(std::sscanf(stat.c_str() + paren + 1, " %*c %d", &parent), 1) << stat;
        EXPECT_EQ(to, parent) << log;
      }
      ASSERT_GT(to, 0) << "no " << (sig == SIGUSR1 ? "launcher" : "process 1") << " for " << out;
      kill(to, sig);
    });
    ASSERT_EQ(stopped.first, 128 + sig) << stopped.second;
    const nlohmann::json sum = pdadmm::test::read_json(out + "/summary.json");
    ASSERT_TRUE(sum.is_object()) << stopped.second;
    EXPECT_TRUE(sum["interrupted"].get<bool>());
    EXPECT_NE(stopped.second.find("interrupted by " + std::string(pdadmm::signal_name(sig)) + " after iteration " +
                                  std::to_string(sum["iterations"].get<int>()) + " of 2500"),
              std::string::npos)
        << stopped.second;
    resume_matches(out);
  }
#endif
}

TEST(MpiTrain, WrongProcessCountAndOtherCommandsAreOneError) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = fresh_config_dir("mpi_errors"), cfg = dir + "/mpi.json";
  auto two = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " train -c " + cfg + " -o " + dir + "/run");
  EXPECT_NE(two.code, 0) << two.out;
  const std::string want = "error (process 0): mpirun started 2 processes for 3 layer groups: one process per group "
                           "(mpirun -np 3, or --set groups=2)";
  EXPECT_NE(two.out.find(want), std::string::npos) << two.out;
  EXPECT_EQ(two.out.find("(process 1)"), std::string::npos) << "the same error printed twice:\n" << two.out;
  auto info = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " info -c " + cfg);
  EXPECT_NE(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("under mpirun only `pdadmm train` and `pdadmm bench` run"), std::string::npos) << info.out;
  // A bad command line (parsed before MPI starts) is also one line, not one per process.
  for (const std::string& args : {std::string(" train --bogus"), std::string(" trian")}) {
    auto bad = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + args);
    EXPECT_NE(bad.code, 0) << bad.out;
    EXPECT_NE(bad.out.find("error (process 0): "), std::string::npos) << bad.out;
    EXPECT_EQ(bad.out.find("(process 1)"), std::string::npos) << "the same error printed twice:\n" << bad.out;
  }
#endif
}

// Process 1 fails on its own (its config has an unknown key) while process 0 is already waiting
// for it inside the solver: the run ends with process 1's line and a non-zero exit, no hang, and
// the output folder process 0 made before the data loaded is gone (left empty by mpirun's SIGTERM).
TEST(MpiTrain, OneFailingProcessEndsTheRunWithItsError) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = fresh_config_dir("mpi_failure"), good = dir + "/good.json", bad = dir + "/bad.json";
  std::ofstream(good) << R"({"groups": 2, "model": {"layers": 4, "hidden": 16}, "output": {"progress": "off"}})";
  std::ofstream(bad) << R"({"groups": 2, "model": {"layers": 4, "hidden": 16}, "oops": 1})";
  const std::string train = std::string(PDADMM_BINARY) + " train -o " + dir + "/run -c ";
  auto r = run_command(two_processes(train + good, train + bad));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("error (process 1): config: " + bad + ": unknown key \"oops\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("final: test acc"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/run")) << "an empty output folder was left\n" << r.out;
#endif
}

// Process 1 killed mid-run: mpirun sends process 0 SIGTERM, then SIGKILL, and process 0's
// iteration cannot end without its peer, so its line must not promise outputs (it said "the outputs
// are written", and none were).
TEST(MpiTrain, AProcessKilledMidRunLeavesNoPromiseOfOutputs) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = two_group_config_dir("mpi_killed", 1000000), out = dir + "/run";
  const std::string mpirun = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + kLauncher + " -np 2 ";
  const auto r = pdadmm::test::train_until_signal(" -c " + dir + "/c.json", out, 0, "metrics.jsonl", 0, mpirun, [&] {
    usleep(200000);
    const pid_t p = find_process(PDADMM_BINARY, out, 1);
    ASSERT_GT(p, 0) << "no process 1 for " << out;
    kill(p, SIGKILL);
  });
  EXPECT_NE(r.first, 0) << r.second;
  EXPECT_NE(r.first, 124) << "the run hung:\n" << r.second;
  EXPECT_FALSE(std::filesystem::exists(out + "/summary.json")) << r.second;
  EXPECT_NE(r.second.find("pdadmm: stopping: the iteration in progress finishes and the outputs are written, unless "
                          "mpirun kills the processes first"),
            std::string::npos)
      << r.second;
  EXPECT_EQ(r.second.find("outputs are written (the same signal"), std::string::npos) << r.second;
#endif
}

// Every process must run the same config: one with more iterations hung the run, one with another
// seed or rho trained a different model with exit 0, one with another output.log_every (when the
// processes download collectively) hung it too. Threads, the output folder and progress may differ.
TEST(MpiTrain, ProcessesWithDifferentConfigsAreRefused) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = two_group_config_dir("mpi_differ", 3), cfg = dir + "/c.json";
  const std::string train = std::string(PDADMM_BINARY) + " train -o " + dir + "/run -c " + cfg;
  // Another groups in one process was reported as the wrong -np ("mpirun started 2 processes for 3 layer groups").
  for (const char* other :
       {" --set admm.iterations=5", " --set seed=7", " --set output.log_every=3", " --set groups=3"}) {
    auto r = run_command(two_processes(train, train + other));
    EXPECT_NE(r.code, 0) << other << "\n" << r.out;
    EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
    EXPECT_NE(r.out.find("error (process 1): this process's config differs from process 0's"), std::string::npos)
        << r.out;
  }
  auto ok =
      run_command(two_processes(train, train + " --set threads=1 --set output.progress=lines"));
  EXPECT_EQ(ok.code, 0) << ok.out;
  // Accepted: the model of that config, as one process runs its two groups.
  const auto one = run_command(std::string(PDADMM_BINARY) + " train -o " + dir + "/one -c " + cfg);
  ASSERT_EQ(one.code, 0) << one.out;
  EXPECT_TRUE(model_payload(dir + "/run") == model_payload(dir + "/one")) << "model.bin weights differ";
#endif
}

// Every process reads the data set itself and must read the same one: a process whose files had
// other labels trained another model with exit 0; one whose labels had another class count (so
// other shapes) ended the run with "MPI transport: group 0 expected 3840 bytes from group 1, got
// 5120". Own files, each process in its own folder (-wdir), so that the configs are the same.
TEST(MpiTrain, ProcessesWithDifferentDataAreRefused) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = fresh_config_dir("mpi_data_differ");
  const auto write_graph = [&](const std::string& name, int label_shift, int classes) {
    run_command("mkdir -p " + dir + "/" + name);
    std::ofstream edges(dir + "/" + name + "/edges.txt"), x(dir + "/" + name + "/features.csv"),
        y(dir + "/" + name + "/labels.txt");
    for (int i = 0; i < 300; ++i) {
      edges << i << " " << (i * 7 + 1) % 300 << "\n" << i << " " << (i + 3) % 300 << "\n";
      for (int j = 0; j < 8; ++j) x << (j ? "," : "") << (j == i % 3) + 0.1 * ((i * 5 + j) % 7);
      x << "\n";
      y << (i + label_shift) % classes << "\n";
    }
  };
  write_graph("a", 0, 3);
  write_graph("labels", 1, 3);
  write_graph("classes", 0, 4);
  std::ofstream(dir + "/c.json") << R"({"groups": 2, "model": {"layers": 4, "hidden": 16, "hops": 2},
      "admm": {"iterations": 3}, "output": {"progress": "off"}, "data": {"name": "files", "files":
      {"edges": "edges.txt", "features": "features.csv", "labels": "labels.txt", "val": 60, "test": 120}}})";
  const std::string train = " " + std::string(PDADMM_BINARY) + " train -c " + dir + "/c.json -o " + dir + "/run";
  const auto in = [&](const std::string& name) { return "sh -c 'cd " + dir + "/" + name + " && exec" + train + "'"; };
  const auto same = run_command(two_processes(in("a"), in("a")));
  EXPECT_EQ(same.code, 0) << same.out;
  for (const std::string other : {"labels", "classes"}) {
    const auto r = run_command(two_processes(in("a"), in(other)));
    EXPECT_NE(r.code, 0) << other << "\n" << r.out;
    EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
    EXPECT_NE(r.out.find(std::string("error (process 1): this process's data set differs from process 0's (the ") +
                         (other == "labels" ? "labels of its training nodes"
                                             : "shapes of its training inputs or labels") +
                         ", read from data.files's paths"),
              std::string::npos)
        << other << "\n" << r.out;
    EXPECT_EQ(pdadmm::test::error_lines(r.out), 1) << r.out;
  }
  // No files at all in process 1 (a host without the data set): its error, and no empty output
  // folder left by process 0, which made it before the data loaded.
  run_command("mkdir -p " + dir + "/none");
  const auto fresh_in = [&](const std::string& name) {
    return "sh -c 'cd " + dir + "/" + name + " && exec " + PDADMM_BINARY + " train -c " + dir + "/c.json -o " + dir +
           "/fresh/run'";
  };
  const auto none = run_command(two_processes(fresh_in("a"), fresh_in("none")));
  EXPECT_NE(none.code, 0) << none.out;
  EXPECT_NE(none.code, 124) << "the run hung:\n" << none.out;
  EXPECT_NE(none.out.find("error (process 1): edges.txt: file not found"), std::string::npos) << none.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/fresh")) << "an empty output folder was left\n" << none.out;
#ifdef __x86_64__
  // Not X's bits: a host on other OpenBLAS kernels generates a synthetic data set's X to other
  // bits, and trains with the others (only process 0 trains on X).
  std::ofstream(dir + "/s.json") << R"({"groups": 2, "model": {"layers": 4, "hidden": 16}, "admm": {"iterations": 3},
      "data": {"synthetic": {"nodes": 400, "val": 50, "test": 100}}, "output": {"progress": "off"}})";
  const std::string synthetic = std::string(PDADMM_BINARY) + " train -c " + dir + "/s.json -o " + dir + "/run";
  const auto kernels =
      run_command(two_processes(synthetic, "env OPENBLAS_CORETYPE=Prescott " + synthetic));
  EXPECT_EQ(kernels.code, 0) << kernels.out;
#endif
#endif
}

// A process without the memory for its group: under mpirun the advice was to "run the groups as
// processes on several machines (mpirun)"; it names more groups (processes) instead.
TEST(MpiTrain, AProcessOutOfMemoryIsToldToUseMoreGroups) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory cannot live under ulimit -v";
  const std::string dir = fresh_config_dir("mpi_memory");
  // Process 1's layers 7..12 hold 0.65 GiB (128 x 15000 iterates, 0.11 GiB a layer; weights of
  // 1 MiB, all of which process 0 holds: where those alone, or one layer beside them, do not fit, the
  // advice says more processes do not help, as Cli.AStageLargerThanMemoryStopsBeforeTheFirst and
  // Cli.MemoryThatMoreProcessesDoNotSplitIsNamed check); ulimit -v leaves it about 350 MiB, with
  // room either way for a launcher that maps more.
  const std::string train = std::string(PDADMM_BINARY) + " train -o " + dir + "/run -c " + PDADMM_SOURCE_DIR +
                            "/configs/synthetic.json --set model.layers=12 --set groups=2 --set threads=1"
                            " --set model.hidden=128 --set data.synthetic.nodes=20000"
                            " --set data.synthetic.train_per_class=3000 --set output.progress=off";
  const auto r = run_command(two_processes(train, "sh -c 'ulimit -v 1000000 && exec " + train + "'"));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("error (process 1): out of host memory: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("or more groups (mpirun -np: fewer layers per process)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("several machines"), std::string::npos) << r.out;
  EXPECT_EQ(pdadmm::test::error_lines(r.out), 1) << r.out;
#endif
}

// "9.5 GiB" / "618.5 MiB" as human_bytes prints them, in bytes; -1 if `text` has none at `at`.
double parse_human_bytes(const std::string& text, size_t at) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::istringstream in(text.substr(at));
  double v = 0;
  std::string unit;
  if (!(in >> v >> unit)) return -1;
  for (int i = 0; i < 5; ++i)
    if (unit.rfind(units[i], 0) == 0) return v * std::pow(1024.0, i);
  return -1;
}

// Processes on one machine share its memory: each one's need fitting alone let three start
// together on a model that needed more than the machine had, and the OOM killer ended one with
// Open MPI's banner alone. Sized from this machine's MemAvailable: together about 1.5 times it,
// each (its group beside, at most, every weight's host copy) at most 0.85 times it.
TEST(MpiTrain, ProcessesOnOneMachineNeedingMoreThanItHasAreRefused) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory changes what fits";
  const int64_t avail = pdadmm::parse_meminfo_available(slurp("/proc/meminfo"));
  if (avail <= 0) GTEST_SKIP() << "no MemAvailable in /proc/meminfo";
  const std::string dir = fresh_config_dir("mpi_machine_memory");
  const std::string model = " -c " + std::string(PDADMM_SOURCE_DIR) +
                            "/configs/synthetic.json --set model.layers=6 --set groups=3 --set threads=1"
                            " --set data.synthetic.nodes=20000 --set data.synthetic.train_per_class=3000"
                            " --set output.progress=off --set admm.iterations=1";
  int hidden = 0;
  double largest = 0, all = 0;
  // 15000 training columns: a boundary message of h x 15000 floats stays under MPI's 2 GiB (the
  // check before this one) up to h = 35791; a machine with more free memory skips.
  for (int h = 1024; h < 35000 && all < 1.5 * static_cast<double>(avail); h = h * 9 / 8) {
    const auto info = run_command(std::string(PDADMM_BINARY) + " info" + model + " --set model.hidden=" + std::to_string(h));
    ASSERT_EQ(info.code, 0) << info.out;
    const size_t host = info.out.find("\nhost          "), side = info.out.find(" for the groups + ", host);
    ASSERT_TRUE(host != std::string::npos && side != std::string::npos) << info.out;
    const double weights = parse_human_bytes(info.out, side + 18);
    all = parse_human_bytes(info.out, host + 15) + weights;
    largest = 0;
    for (const char* g : {"group 0       layers 1..2, ", "group 1       layers 3..4, ", "group 2       layers 5..6, "}) {
      const size_t at = info.out.find(g);
      ASSERT_NE(at, std::string::npos) << info.out;
      largest = std::max(largest, parse_human_bytes(info.out, at + std::strlen(g)) + weights);
    }
    hidden = h;
  }
  if (all < 1.5 * static_cast<double>(avail) || largest > 0.85 * static_cast<double>(avail))
    GTEST_SKIP() << "no model of this shape splits " << avail << " bytes so (largest process " << largest << ", all "
                 << all << ")";
  const auto r = run_command(kMpirun + " -np 3 " + PDADMM_BINARY + " train -o " + dir + "/run" + model +
                             " --set model.hidden=" + std::to_string(hidden));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("out of host memory: with the other 2 processes on this machine, the layer groups' tensors"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is available on this machine (pdadmm info prints the plan per group); use fewer layers or "
                       "hidden units, or spread the processes over more machines"),
            std::string::npos) << r.out;
  EXPECT_EQ(pdadmm::test::error_lines(r.out), 1) << r.out;
  // Where process 0's host copy of the weights (3 hidden x hidden layers) alone is twice the room,
  // no number of machines helps: that, not "spread the processes", is said.
  const int big = static_cast<int>(std::sqrt(2.0 * static_cast<double>(avail) / 12.0));
  const auto w = run_command(kMpirun + " -np 4 " + PDADMM_BINARY + " train -o " + dir + "/weights -c " +
                             PDADMM_SOURCE_DIR + "/configs/synthetic.json --set model.layers=5 --set groups=4 "
                             "--set threads=1 --set admm.iterations=1 --set model.hidden=" + std::to_string(big));
  EXPECT_NE(w.code, 0) << w.out;
  EXPECT_NE(w.out.find("which process 0 holds (it scores the evaluations and writes model.bin), so more processes do "
                       "not help"),
            std::string::npos) << w.out;
  EXPECT_EQ(w.out.find("spread the processes"), std::string::npos) << w.out;
#endif
}

// A boundary message past MPI's int count (2 GiB) is refused before any tensor is allocated, by
// every process alike: it failed at the first iteration's send, on the sending process alone.
TEST(MpiTrain, ABoundaryMessageOverTwoGiBIsRefusedAtTheStart) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = fresh_config_dir("mpi_big_message");
  const auto r = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " train -o " + dir + "/run -c " + PDADMM_SOURCE_DIR +
                             "/configs/synthetic.json --set model.layers=4 --set groups=2 --set threads=1"
                             " --set model.hidden=33000 --set data.synthetic.nodes=20000"
                             " --set data.synthetic.train_per_class=3300 --set output.progress=off");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("error (process 0): a boundary message between processes 0 and 1 is 2178000000 bytes (33000 x "
                       "16500 values), over MPI's 2 GiB per message; use fewer training nodes, a narrower layer or a "
                       "smaller admm.wire format\n"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/run/config.json"));
  // bench alike (it failed at its first warm-up send, after the setup, with the transport's line).
  const auto b = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " bench -c " + PDADMM_SOURCE_DIR +
                             "/configs/synthetic.json --set model.layers=4 --set groups=2 --set threads=1"
                             " --set model.hidden=33000 --set data.synthetic.nodes=20000"
                             " --set data.synthetic.train_per_class=3300");
  EXPECT_NE(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("error (process 0): a boundary message between processes 0 and 1 is 2178000000 bytes"),
            std::string::npos)
      << b.out;
  EXPECT_EQ(b.out.find("bench: 4 layers"), std::string::npos) << b.out;
#endif
}

// Every process must run the same build: one host with an older pdadmm (other collectives) made
// the run wait for ever, or end at "MPI: broadcast: MPI_ERR_TRUNCATE: message truncated". A copy of
// the binary with another commit in its version stands for that build.
TEST(MpiTrain, ProcessesOfAnotherBuildAreRefused) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string version = run_command(std::string(PDADMM_BINARY) + " --version").out;
  const size_t at = version.find("(git ");
  ASSERT_NE(at, std::string::npos) << version;
  const std::string commit = version.substr(at + 5, version.find_first_of("-)", at) - at - 5);
  if (commit == "unknown") GTEST_SKIP() << "built outside git: no commit to compare";
  const std::string dir = two_group_config_dir("mpi_build_differ", 3), other = dir + "/pdadmm_other";
  std::string binary = slurp(PDADMM_BINARY);
  ASSERT_GT(binary.size(), 1000u);
  for (size_t i = binary.find(commit); i != std::string::npos; i = binary.find(commit, i))
    binary.replace(i, commit.size(), std::string(commit.size(), '0'));
  std::ofstream(other, std::ios::binary) << binary;
  std::filesystem::permissions(other, std::filesystem::perms::owner_all);
  ASSERT_NE(run_command(other + " --version").out.find("(git " + std::string(commit.size(), '0')), std::string::npos);
  const std::string args = " train -c " + dir + "/c.json -o " + dir + "/run";
  const auto r = run_command(two_processes(PDADMM_BINARY + args, other + args));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("error (process 1): this process runs pdadmm 0.1 (git " + std::string(commit.size(), '0')),
            std::string::npos)
      << r.out;
  EXPECT_EQ(pdadmm::test::error_lines(r.out), 1) << r.out;
#endif
}

// Every process must start where process 0 does: one resuming a state.bin while process 0 started
// afresh (or the reverse, or another state.bin) hung the run or ended it with an MPI error.
TEST(MpiTrain, ProcessesResumingDifferentStatesAreRefused) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = two_group_config_dir("mpi_resume_differ", 6), cfg = dir + "/c.json";
  const std::string train = std::string(PDADMM_BINARY) + " train -c " + cfg + " -o " + dir;
  auto first = run_command(train + "/kept --set admm.iterations=3 --set output.keep_state=true");
  ASSERT_EQ(first.code, 0) << first.out;
  const std::string resumes = train + "/kept --resume", fresh = train + "/fresh";
  auto r = run_command(two_processes(resumes, fresh));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("error (process 1): this process starts afresh, process 0 resumes at iteration 3"),
            std::string::npos) << r.out;
  r = run_command(two_processes(fresh, resumes));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("error (process 1): this process resumes at iteration 3 of " + dir +
                       "/kept/state.bin, process 0 starts afresh"),
            std::string::npos) << r.out;
  // A process whose output folder is another (not shared) is told that, not "state.bin not found (a
  // run writes it …)" as if no run had stopped.
  r = run_command(two_processes(resumes, train + "/elsewhere --resume"));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("error (process 1): --resume: " + dir + "/elsewhere/state.bin is not there: process 0 writes "
                       "the state, and every process reads it, so under mpirun the output folder must be shared"),
            std::string::npos) << r.out;
  // The same with the documented `train --out OUT --resume` (no --config): process 1 read the
  // defaults and was told its config differed from process 0's. (Process 0, running longer, waits
  // for process 1 and is ended.)
  const std::string bare = " train --resume --set admm.iterations=6 -o " + dir;
  r = run_command(two_processes(PDADMM_BINARY + bare + "/kept", PDADMM_BINARY + bare + "/elsewhere"));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("error (process 1): --resume: " + dir + "/elsewhere/state.bin is not there: process 0 writes"),
            std::string::npos) << r.out;
  auto ok = run_command(kMpirun + " -np 2 " + resumes);
  EXPECT_EQ(ok.code, 0) << ok.out;
  // Resumed at 3, it ends with the weights of the 6 iterations run straight.
  const nlohmann::json sum = pdadmm::test::read_json(dir + "/kept/summary.json");
  EXPECT_EQ(sum["resumed_from"], 3) << sum.dump();
  EXPECT_EQ(sum["iterations"], 6) << sum.dump();
  const auto straight = run_command(train + "/straight");
  ASSERT_EQ(straight.code, 0) << straight.out;
  EXPECT_TRUE(model_payload(dir + "/kept") == model_payload(dir + "/straight")) << "model.bin weights differ";
#endif
}

// The counters of groups in other processes reach process 0: the same FLOPs per group, GEMM
// shapes and bytes as the one-process bench of the same model.
TEST(MpiBench, CountsTheSameWorkAsOneProcess) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = fresh_config_dir("mpi_bench"), cfg = dir + "/mpi.json";
  const std::string bench = std::string(PDADMM_BINARY) + " bench -c " + cfg + " -n 2 --no-peak --json ";
  auto one = run_command(bench + dir + "/threads.json");
  ASSERT_EQ(one.code, 0) << one.out;
  auto mpi = run_command(kMpirun + " -np 3 " + bench + dir + "/processes.json");
  ASSERT_EQ(mpi.code, 0) << mpi.out;
  EXPECT_EQ(mpi.out.find("bench: wrote"), mpi.out.rfind("bench: wrote")) << "more than one process wrote:\n" << mpi.out;
  const nlohmann::json a = pdadmm::test::read_json(dir + "/threads.json");
  const nlohmann::json b = pdadmm::test::read_json(dir + "/processes.json");
  ASSERT_FALSE(a.is_null() || b.is_null());
  EXPECT_EQ(a["processes"], 1);
  EXPECT_EQ(b["processes"], 3);
  EXPECT_GT(a["gemm_flops_per_iter"].get<double>(), 0);
  EXPECT_EQ(b["gemm_flops_per_iter"], a["gemm_flops_per_iter"]);
  EXPECT_EQ(b["gemm_shapes"], a["gemm_shapes"]);
  EXPECT_EQ(b["boundary_bytes"], a["boundary_bytes"]);
  ASSERT_EQ(b["group_stats"].size(), 3u);
  for (size_t g = 0; g < 3; ++g) {
    EXPECT_EQ(b["group_stats"][g]["gemm_flops"], a["group_stats"][g]["gemm_flops"]) << "group " << g;
    EXPECT_GT(b["group_stats"][g]["busy_s"].get<double>(), 0) << "group " << g;
  }
  auto serialized = run_command(kMpirun + " -np 3 " + bench + dir + "/x.json --serialize");
  EXPECT_NE(serialized.code, 0);
  EXPECT_NE(serialized.out.find("drop it under mpirun"), std::string::npos) << serialized.out;
#endif
}

// Only process 0 writes --json, so only its folder must hold the file: process 1 on a machine (here
// in a folder) without it stopped the run with "error (process 1): bench: cannot write --json".
TEST(MpiBench, OnlyProcessZeroNeedsTheJsonsFolder) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = two_group_config_dir("mpi_bench_json", 3);
  run_command("mkdir -p " + dir + "/head/res " + dir + "/other");
  const auto in = [&](const std::string& folder) {
    return "sh -c 'cd " + dir + "/" + folder + " && exec " + PDADMM_BINARY + " bench -c " + dir +
           "/c.json -n 1 --no-peak --json res/b.json'";
  };
  const auto r = run_command(two_processes(in("head"), in("other")));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(pdadmm::test::read_json(dir + "/head/res/b.json")["processes"], 2) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/other/res"));
  // Process 0's folder is still checked before the iterations run.
  const auto bad = run_command(two_processes(in("other"), in("head")));
  EXPECT_NE(bad.code, 0) << bad.out;
  EXPECT_NE(bad.out.find("error (process 0): bench: cannot write --json res/b.json (its folder is missing)"),
            std::string::npos)
      << bad.out;
  // No roofline under mpirun: a time given for it was silently unused.
  const auto peak = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " bench -c " + dir + "/c.json -n 1 --peak-seconds 0.1");
  EXPECT_NE(peak.code, 0) << peak.out;
  EXPECT_NE(peak.out.find("bench: --peak-seconds times the roofline, which a run under mpirun does not measure; drop it"),
            std::string::npos)
      << peak.out;
#endif
}

TEST(MpiBench, SweepMeasuresTheParallelRunsAsProcesses) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  if (!pdadmm::test::have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string out = ::testing::TempDir() + "/mpi_sweep";
  auto r = run_command(kAsRoot + "python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/sweep.py --quiet --pdadmm " +
                       PDADMM_BINARY + " --config " + PDADMM_SOURCE_DIR + "/configs/sweeps/tiny.json --out " + out +
                       " --mpirun \"" + kLauncher + " -np {groups}\"");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json s = pdadmm::test::read_json(out + "/sweep.json");
  ASSERT_EQ(s["rows"].size(), 2u) << s.dump();
  for (const auto& row : s["rows"]) {
    EXPECT_EQ(row["parallel_processes"], row["groups"]) << row.dump();
    EXPECT_GT(row["parallel_s"].get<double>(), 0) << row.dump();
  }
  // The plot's measured line is the processes', not "measured here (2 cores)" of the JSON's machine.
  const auto p = run_command("python3 " + std::string(PDADMM_SOURCE_DIR) + "/tools/plot.py speedup --check " + out +
                             "/sweep.json");
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_NE(p.out.find("measured line: measured, G processes (mpirun)"), std::string::npos) << p.out;
#endif
}

}  // namespace

// A launcher of another MPI (MPICH's mpiexec, srun --mpi=pmi2) starts processes this build's MPI
// sees as one each: every one trained the whole model alone, and exited 0.
TEST(MpiTrain, AnotherMpisLauncherIsRefused) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = two_group_config_dir("mpi_other_launcher", 2);
  const auto r = run_command(kAsRoot + kHung + "env PMI_SIZE=2 " + std::string(PDADMM_BINARY) + " train -c " + dir +
                             "/c.json -o " + dir + "/out");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("the launcher started 2 processes but MPI sees 1 in this one: start pdadmm with the mpirun of "
                       "the MPI it was built with"),
            std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out/model.bin"));
#endif
}

// `train --out OUT --resume` (no --config) under mpirun where OUT has no state.bin: what one
// process says, not "mpirun started 2 processes for 1 layer group" (the defaults' one group).
TEST(MpiTrain, ResumeWithoutAStateSaysSo) {
#ifndef PDADMM_MPIEXEC
  GTEST_SKIP() << "built without MPI";
#else
  const std::string dir = fresh_config_dir("mpi_resume_none");
  const auto r = run_command(kMpirun + " -np 2 " + PDADMM_BINARY + " train --out " + dir + "/none --resume");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.code, 124) << "the run hung:\n" << r.out;
  EXPECT_NE(r.out.find("error (process 0): --resume: " + dir + "/none/state.bin not found"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("layer group"), std::string::npos) << r.out;
#endif
}
