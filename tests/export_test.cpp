// pdadmm export: model.bin's weights as a NumPy .npz, read back by the project's strict npz reader
// (and Python's zipfile where python3 exists), bit for bit against load_checkpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/admm/problem.h"
#include "host/config/config.h"
#include "host/data/npz.h"
#include "host/data/rng.h"
#include "host/io/checkpoint.h"
#include "host/io/files.h"
#include "tests/npz_writer.h"
#include "tests/test_util.h"

namespace {

using pdadmm::Checkpoint;
using pdadmm::HostMatrix;
using pdadmm::test::CommandResult;
using pdadmm::test::expect_one_line_error;

CommandResult run(const std::string& args) { return pdadmm::test::run_command(std::string(PDADMM_BINARY) + " " + args); }

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/export_" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Three layers 7 -> 5 -> 4 -> 3 of random values with the awkward floats in W1: -0, the smallest
// subnormal, the largest float, its negative.
Checkpoint sample_checkpoint(const nlohmann::json& config) {
  Checkpoint c;
  const std::vector<int64_t> dims{7, 5, 4, 3};
  pdadmm::Rng rng(11);
  for (size_t l = 0; l + 1 < dims.size(); ++l) {
    HostMatrix<float> w(dims[l + 1], dims[l]), b(dims[l + 1], 1);
    rng.normals(w.data.data(), w.size(), 1.0);
    rng.normals(b.data.data(), b.size(), 0.1);
    c.W.push_back(std::move(w));
    c.b.push_back(std::move(b));
  }
  c.W[0].data[0] = -0.0f;
  c.W[0].data[1] = std::numeric_limits<float>::denorm_min();
  c.W[0].data[2] = FLT_MAX;
  c.W[0].data[3] = -FLT_MAX;
  c.meta = {{"config", config}, {"iterations", 42}, {"dims", dims}};
  return c;
}

nlohmann::json sample_config() {
  return {{"_comment", "± ν Δ: a comment beyond ASCII"},
          {"data", {{"name", "amazon_photo"}, {"raw_counts", false}}},
          {"model", {{"layers", 3}, {"hidden", 5}, {"hops", 6}, {"hop_order", "descending"}}}};
}

void expect_bits(const pdadmm::NumpyArray& a, const HostMatrix<float>& m, const std::vector<int64_t>& shape,
                 const std::string& what) {
  EXPECT_EQ(a.descr, "<f4") << what;
  EXPECT_EQ(a.shape, shape) << what;
  ASSERT_EQ(a.data.size(), m.data.size() * 4) << what;
  EXPECT_EQ(std::memcmp(a.data.data(), m.data.data(), a.data.size()), 0) << what;
}

TEST(Export, WeightsDimsAndConfigReadBackBitForBit) {
  const std::string dir = fresh_dir("roundtrip");
  // 7 input columns = 7 blocks of 1 feature: hops 6.
  const Checkpoint ck = sample_checkpoint(sample_config());
  pdadmm::save_checkpoint(dir + "/model.bin", ck);
  const CommandResult r = run("export -m " + dir + "/model.bin --npz " + dir + "/model.npz");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("export: wrote " + dir + "/model.npz (W1..W3 float32 out x in, b1..b3"), std::string::npos) << r.out;
  // What W1 reads, as the training config formed it: hop order, binarised gnn-benchmark features.
  EXPECT_NE(r.out.find("input:  7 columns of W1 = [Â^6H, Â^5H, Â^4H, Â^3H, Â^2H, ÂH, H], 1 each; H = features > 0 as 1"),
            std::string::npos)
      << r.out;

  const Checkpoint back = pdadmm::load_checkpoint(dir + "/model.bin");
  const pdadmm::NpzArchive z = pdadmm::NpzArchive::open_file(dir + "/model.npz");
  std::vector<std::string> keys = z.keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"W1", "W2", "W3", "b1", "b2", "b3", "config", "dims", "iterations"}));
  for (size_t l = 0; l < back.W.size(); ++l) {
    const std::string n = std::to_string(l + 1);
    expect_bits(z.array("W" + n), back.W[l], {back.W[l].rows, back.W[l].cols}, "W" + n);
    expect_bits(z.array("b" + n), back.b[l], {back.b[l].rows}, "b" + n);
  }
  const pdadmm::NumpyArray dims = z.array("dims");
  EXPECT_EQ(dims.descr, "<i8");
  EXPECT_EQ(dims.to_int64("dims"), (std::vector<int64_t>{7, 5, 4, 3}));
  const pdadmm::NumpyArray its = z.array("iterations");
  EXPECT_TRUE(its.shape.empty());
  EXPECT_EQ(its.to_int64("iterations"), std::vector<int64_t>{42});

  // config: a 0-d '<U' array (the strict reader takes no unicode dtype: read by hand), UTF-32LE of
  // ASCII JSON whose \u escapes give the comment back.
  const std::string m = pdadmm::test::read_zip_member(dir + "/model.npz", "config.npy");
  ASSERT_GE(m.size(), 10u);
  const size_t hlen = static_cast<unsigned char>(m[8]) | static_cast<size_t>(static_cast<unsigned char>(m[9])) << 8;
  EXPECT_EQ((10 + hlen) % 64, 0u);
  const std::string header = m.substr(10, hlen), data = m.substr(10 + hlen);
  ASSERT_EQ(data.size() % 4, 0u);
  EXPECT_NE(header.find("'descr': '<U" + std::to_string(data.size() / 4) + "', 'fortran_order': False, 'shape': ()"),
            std::string::npos)
      << header;
  std::string text;
  for (size_t i = 0; i < data.size(); i += 4) {
    ASSERT_EQ(data.substr(i + 1, 3), std::string(3, '\0'));
    ASSERT_LT(static_cast<unsigned char>(data[i]), 0x80);
    text += data[i];
  }
  EXPECT_EQ(nlohmann::json::parse(text), sample_config());

  // One model, one archive: a second export gives the same bytes (fixed member times), also in
  // another time zone (a time_t member time was converted to local DOS time).
  ASSERT_EQ(pdadmm::test::run_command("TZ=JST-9 " + std::string(PDADMM_BINARY) + " export -m " + dir +
                                      "/model.bin --npz " + dir + "/again.npz")
                .code,
            0);
  EXPECT_EQ(pdadmm::read_file(dir + "/model.npz"), pdadmm::read_file(dir + "/again.npz"));
  // To stdout through a pipe: the same bytes, the lines on stderr.
  ASSERT_EQ(std::system((std::string(PDADMM_BINARY) + " export -m " + dir + "/model.bin --npz - > " + dir +
                         "/piped.npz 2> " + dir + "/piped.log")
                            .c_str()),
            0);
  EXPECT_EQ(pdadmm::read_file(dir + "/model.npz"), pdadmm::read_file(dir + "/piped.npz"));
  EXPECT_NE(pdadmm::read_file(dir + "/piped.log").find("export: wrote stdout"), std::string::npos);
  // A reader that leaves early (`| head -c 10`, here `| true`): quiet, with a SIGPIPE death's status,
  // as eval --predictions - ends (it said "error: export: cannot write --npz to stdout", no reason).
  const std::string script = dir + "/pipe.sh";
  pdadmm::write_file_atomic(script, "#!/bin/bash\n" + std::string(PDADMM_BINARY) + " export -m " + dir +
                                        "/model.bin --npz - 2> " + dir + "/pipe.err | true\nexit ${PIPESTATUS[0]}\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  EXPECT_EQ(pdadmm::test::run_command(script).code, 141);
  EXPECT_EQ(pdadmm::read_file(dir + "/pipe.err").find("error"), std::string::npos) << pdadmm::read_file(dir + "/pipe.err");
  // A full disk is an error with its reason.
  const auto full = pdadmm::test::run_command("(" + std::string(PDADMM_BINARY) + " export -m " + dir +
                                              "/model.bin --npz - 2> " + dir + "/full.err > /dev/full)");
  EXPECT_EQ(full.code, 1);
  const std::string err = pdadmm::read_file(dir + "/full.err");
  EXPECT_NE(err.find("error: export: cannot write --npz to stdout: No space left on device"), std::string::npos) << err;
}

// Python's zipfile (not libzip, which wrote and read it above) checks the CRCs, and its own .npy
// reading (ast on the header, struct on the data) sees the shapes and values the checkpoint holds.
TEST(Export, PythonZipfileReadsTheArchive) {
  if (!pdadmm::test::have_python3()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = fresh_dir("python");
  const Checkpoint ck = sample_checkpoint(sample_config());
  pdadmm::save_checkpoint(dir + "/model.bin", ck);
  ASSERT_EQ(run("export -m " + dir + "/model.bin --npz " + dir + "/model.npz").code, 0);
  const std::string script = dir + "/check.py";
  pdadmm::write_file_atomic(script, R"(import ast, json, struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
def npy(key):
    b = z.read(key + ".npy")
    assert b[:8] == b"\x93NUMPY\x01\x00"
    n = struct.unpack("<H", b[8:10])[0]
    return ast.literal_eval(b[10:10 + n].decode("latin1")), b[10 + n:]
h, w1 = npy("W1")
assert h == {"descr": "<f4", "fortran_order": False, "shape": (5, 7)}, h
w = struct.unpack("<35f", w1)
assert str(w[0]) == "-0.0" and w[1] == 2.0**-149 and w[2] == -w[3] == 3.4028234663852886e+38, w[:4]
h, d = npy("config")
cfg = json.loads(d.decode("utf-32-le"))
print(w1.hex(), cfg["model"]["hops"], cfg["_comment"] == "\u00b1 \u03bd \u0394: a comment beyond ASCII")
)");
  const CommandResult r = pdadmm::test::run_command("python3 " + script + " " + dir + "/model.npz");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string hex;
  for (float v : ck.W[0].data) {
    unsigned char b[4];
    std::memcpy(b, &v, 4);
    for (unsigned char x : b) hex += "0123456789abcdef"[x >> 4], hex += "0123456789abcdef"[x & 15];
  }
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), hex + " 6 True");
}

TEST(Export, MistakesAreOneLineAndWriteNothing) {
  const std::string dir = fresh_dir("mistakes");
  const std::string model = dir + "/model.bin";
  pdadmm::save_checkpoint(model, sample_checkpoint(sample_config()));
  const std::string before = pdadmm::read_file(model);
  expect_one_line_error(run("export -m " + model + " --npz " + model), "is the --model file; it would be overwritten");
  EXPECT_EQ(pdadmm::read_file(model), before);
  pdadmm::write_file_atomic(dir + "/state.bin", std::string("PDADMMS1") + std::string(24, '\0'));
  expect_one_line_error(run("export -m " + model + " --npz " + dir + "/state.bin"),
                        "export: --npz " + dir + "/state.bin is a run's state (--resume reads it); it would be overwritten");
  EXPECT_EQ(pdadmm::read_file(dir + "/state.bin").size(), 32u);
  // A data file (here a gnn-benchmark-like npz of another program) is not an export's archive.
  pdadmm::write_file_atomic(dir + "/graph.npz", std::string("PK\x03\x04") + std::string(26, '\0') + "adj_data.npy");
  expect_one_line_error(run("export -m " + model + " --npz " + dir + "/graph.npz"),
                        "export: --npz " + dir + "/graph.npz is not an archive export wrote (a data file");
  EXPECT_EQ(pdadmm::read_file(dir + "/graph.npz").size(), 42u);
  ASSERT_EQ(run("export -m " + model + " --npz " + dir + "/m.npz").code, 0);
  EXPECT_EQ(run("export -m " + model + " --npz " + dir + "/m.npz").code, 0) << "its own archive is replaced";
  expect_one_line_error(run("export -m " + model + " --npz " + dir + "/missing/model.npz"), "its folder is missing");
  expect_one_line_error(run("export -m " + model + " --npz " + dir), "(it is a folder)");
  expect_one_line_error(run("export -m " + model), "--npz is required");
  expect_one_line_error(run("export -m " + dir + "/none.bin --npz " + dir + "/x.npz"), "none.bin: No such file");
  // A damaged checkpoint is refused as eval refuses it, and no archive is left.
  std::string bad = before;
  bad[bad.size() - 3] ^= 0x10;
  pdadmm::write_file_atomic(dir + "/bad.bin", bad);
  expect_one_line_error(run("export -m " + dir + "/bad.bin --npz " + dir + "/x.npz"), "checksum mismatch");
  EXPECT_FALSE(pdadmm::test::exists(dir + "/x.npz"));
  expect_one_line_error(run("exprot -m " + model), "expected train, info, eval, bench or export");
}

// A config whose keys have other types (a file of an older or foreign writer): the weights export,
// the input line is left out rather than an internal error.
TEST(Export, OddConfigTypesLeaveOutTheInputLine) {
  const std::string dir = fresh_dir("odd_config");
  pdadmm::save_checkpoint(dir + "/model.bin",
                          sample_checkpoint({{"model", {{"hops", 6}, {"hop_order", 5}}}, {"data", {{"name", 7}}}}));
  const CommandResult r = run("export -m " + dir + "/model.bin --npz " + dir + "/model.npz");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("input:"), std::string::npos) << r.out;
  EXPECT_TRUE(pdadmm::NpzArchive::open_file(dir + "/model.npz").has("W3"));
}

// The input line's H is as build_problem forms it: Planetoid and raw_counts features as stored,
// other npz features binarised; ", each row scaled to sum 1" only under data.row_normalize.
TEST(Export, InputLineSaysHowHWasFormed) {
  const std::string dir = fresh_dir("input_line");
  const std::string aug = "], 1 each; H = ", a_hat = ", Â = D^-1/2 (A+I) D^-1/2\n";
  const std::pair<nlohmann::json, std::string> cases[] = {
      {{{"name", "cora"}}, "the features as stored"},
      {{{"name", "citeseer"}, {"row_normalize", true}}, "the features as stored, each row scaled to sum 1"},
      {{{"name", "amazon_photo"}, {"row_normalize", false}}, "features > 0 as 1"},
      {{{"name", "amazon_photo"}, {"row_normalize", true}}, "features > 0 as 1, each row scaled to sum 1"},
      {{{"name", "coauthor_cs"}, {"raw_counts", true}}, "the features as stored"}};
  for (const auto& [data, h] : cases) {
    pdadmm::save_checkpoint(dir + "/model.bin", sample_checkpoint({{"data", data}, {"model", {{"hops", 6}}}}));
    const CommandResult r = run("export -m " + dir + "/model.bin --npz " + dir + "/model.npz");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("input:  7 columns of W1 = [H, ÂH, Â^2H, Â^3H, Â^4H, Â^5H, Â^6H" + aug + h + a_hat),
              std::string::npos)
        << data << "\n" << r.out;
  }
}

// A trained model end to end: train writes model.bin, export's W1 is its W1.
TEST(Export, TrainedModelExports) {
  const std::string dir = fresh_dir("trained");
  const CommandResult t = run("train --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --out " + dir +
                              " --set data.synthetic.nodes=400 --set data.synthetic.val=50 --set data.synthetic.test=100"
                              " --set model.hidden=8 --set model.layers=3"
                              " --set admm.iterations=3 --set output.progress=off");
  ASSERT_EQ(t.code, 0) << t.out;
  const CommandResult r = run("export -m " + dir + "/model.bin --npz " + dir + "/model.npz");
  ASSERT_EQ(r.code, 0) << r.out;
  const Checkpoint ck = pdadmm::load_checkpoint(dir + "/model.bin");
  const pdadmm::NpzArchive z = pdadmm::NpzArchive::open_file(dir + "/model.npz");
  ASSERT_EQ(ck.W.size(), 3u);
  expect_bits(z.array("W1"), ck.W[0], {ck.W[0].rows, ck.W[0].cols}, "W1");
  expect_bits(z.array("b3"), ck.b[2], {ck.b[2].rows}, "b3");
  EXPECT_EQ(z.array("iterations").to_int64("iterations"), std::vector<int64_t>{3});
  EXPECT_NE(r.out.find("H = the features as stored"), std::string::npos) << r.out;
}

// --inputs: each split's augmented input against Â^k H formed densely in double here (not by
// augment_columns), node ids and labels against the data set, and the exported arrays' own
// forward pass scores the test split as training's summary.json says.
TEST(Export, InputsReproduceTheRunsTestAccuracy) {
  const std::string dir = fresh_dir("inputs");
  const std::string sets = " --set data.synthetic.nodes=400 --set data.synthetic.val=50 --set data.synthetic.test=100"
                           " --set model.hidden=16 --set model.layers=3 --set model.hops=2"
                           " --set model.hop_order=descending --set admm.iterations=20 --set output.progress=off";
  const CommandResult t = run("train --config " + std::string(PDADMM_SOURCE_DIR) + "/configs/synthetic.json --out " + dir + sets);
  ASSERT_EQ(t.code, 0) << t.out;
  const CommandResult r = run("export -m " + dir + "/model.bin --npz " + dir + "/in.npz --inputs");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("X_/nodes_/y_ train, val, test"), std::string::npos) << r.out;

  const pdadmm::Config c = pdadmm::load_config(dir + "/config.json");
  const pdadmm::Problem p = pdadmm::build_problem(c);
  const int64_t n = p.data.num_nodes(), F = p.h.cols;
  ASSERT_FALSE(p.h.is_sparse);
  // Â = D^-1/2 (A + I) D^-1/2 densely, and the blocks [Â²H, ÂH, H].
  std::vector<double> deg(n, 1.0), ahat(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) deg[i] += static_cast<double>(p.data.adj.indptr[i + 1] - p.data.adj.indptr[i]);
  for (int64_t i = 0; i < n; ++i) {
    ahat[i * n + i] = 1.0 / deg[i];
    for (int64_t e = p.data.adj.indptr[i]; e < p.data.adj.indptr[i + 1]; ++e)
      ahat[i * n + p.data.adj.indices[e]] = 1.0 / std::sqrt(deg[i] * deg[p.data.adj.indices[e]]);
  }
  std::vector<std::vector<double>> powers{std::vector<double>(p.h.dense.begin(), p.h.dense.end())};
  for (int k = 1; k <= 2; ++k) {
    std::vector<double> next(n * F, 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (const double a = ahat[i * n + j]; a != 0)
          for (int64_t f = 0; f < F; ++f) next[i * F + f] += a * powers.back()[j * F + f];
    powers.push_back(std::move(next));
  }
  const pdadmm::NpzArchive z = pdadmm::NpzArchive::open_file(dir + "/in.npz");
  const Checkpoint ck = pdadmm::load_checkpoint(dir + "/model.bin");
  const std::pair<std::string, const std::vector<int32_t>*> splits[] = {
      {"train", &p.data.train}, {"val", &p.data.val}, {"test", &p.data.test}};
  for (const auto& [name, nodes] : splits) {
    const pdadmm::NumpyArray x = z.array("X_" + name);
    const int64_t k = static_cast<int64_t>(nodes->size());
    ASSERT_EQ(x.shape, (std::vector<int64_t>{k, 3 * F})) << name;
    EXPECT_EQ(z.array("nodes_" + name).to_int64(name), std::vector<int64_t>(nodes->begin(), nodes->end())) << name;
    std::vector<int64_t> labels;
    for (int32_t v : *nodes) labels.push_back(p.data.labels[v]);
    EXPECT_EQ(z.array("y_" + name).to_int64(name), labels) << name;
    double worst = 0;
    for (int64_t j = 0; j < k; ++j)
      for (int b = 0; b < 3; ++b)  // descending: block b holds Â^(2-b) H
        for (int64_t f = 0; f < F; ++f)
          worst = std::max(worst, std::fabs(x.at(j * 3 * F + b * F + f) - powers[2 - b][(*nodes)[j] * F + f]));
    EXPECT_LT(worst, 1e-5) << name;
  }
  // The test split's accuracy from the archive alone, in double: summary.json's, within one node
  // (a near tie between two logits may round either way against the run's float BLAS).
  const pdadmm::NumpyArray x = z.array("X_test");
  const std::vector<int64_t> y = z.array("y_test").to_int64("y_test");
  int right = 0;
  for (size_t j = 0; j < y.size(); ++j) {
    std::vector<double> a(static_cast<size_t>(x.shape[1]));
    for (size_t f = 0; f < a.size(); ++f) a[f] = x.at(static_cast<int64_t>(j * a.size() + f));
    for (int l = 1; l <= 3; ++l) {
      const pdadmm::NumpyArray w = z.array("W" + std::to_string(l)), b = z.array("b" + std::to_string(l));
      std::vector<double> out(static_cast<size_t>(w.shape[0]));
      for (int64_t o = 0; o < w.shape[0]; ++o) {
        double v = b.at(o);
        for (int64_t i = 0; i < w.shape[1]; ++i) v += w.at(o * w.shape[1] + i) * a[i];
        out[o] = l < 3 ? std::max(v, 0.0) : v;
      }
      a = std::move(out);
    }
    right += std::max_element(a.begin(), a.end()) - a.begin() == y[j];
  }
  const double acc = nlohmann::json::parse(pdadmm::read_file(dir + "/summary.json"))["test_acc"].get<double>();
  EXPECT_NEAR(right / static_cast<double>(y.size()), acc, 1.0 / y.size() + 1e-12);
  EXPECT_EQ(ck.W[0].cols, 3 * F);
}

TEST(Export, InputsMistakes) {
  const std::string dir = fresh_dir("inputs_mistakes");
  pdadmm::save_checkpoint(dir + "/old.bin", [] {
    Checkpoint c = sample_checkpoint(sample_config());
    c.meta.erase("config");
    return c;
  }());
  expect_one_line_error(run("export -m " + dir + "/old.bin --npz " + dir + "/x.npz --inputs"),
                        "holds no training config (an older binary's); --inputs needs it");
  // The training config's data set, from a --data folder without it: the missing file is named.
  pdadmm::save_checkpoint(dir + "/cora.bin", sample_checkpoint({{"data", {{"name", "cora"}}}}));
  expect_one_line_error(run("export -m " + dir + "/cora.bin --npz " + dir + "/x.npz --inputs --data " + dir),
                        "ind.cora.x");
  EXPECT_FALSE(pdadmm::test::exists(dir + "/x.npz"));
}

}  // namespace
