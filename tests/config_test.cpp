// Every validation rule rejects its bad value with an error naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "host/admm/layer_plan.h"
#include "host/admm/plan.h"
#include "host/config/config.h"
#include "host/config/json_reader.h"
#include "host/io/error.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::config_error;

struct BadCase {
  std::string set;
  std::string key;  // must appear in the message
};

class ConfigRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigRejects, NamesTheKey) {
  const std::string msg = config_error({GetParam().set});
  ASSERT_FALSE(msg.empty()) << GetParam().set << " was accepted";
  EXPECT_NE(msg.find(GetParam().key), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ConfigRejects,
    ::testing::Values(BadCase{"admm.nu=0", "admm.nu"}, BadCase{"admm.nu=-1", "admm.nu"},
                      BadCase{"admm.rho=0", "admm.rho"}, BadCase{"admm.rho=\"x\"", "admm.rho"},
                      BadCase{"admm.mu=-0.1", "admm.mu"}, BadCase{"admm.t0=0", "admm.t0"},
                      BadCase{"admm.max_backtracks=-1", "admm.max_backtracks"},
                      BadCase{"admm.iterations=-5", "admm.iterations"}, BadCase{"admm.iterations=2.5", "admm.iterations"},
                      BadCase{"admm.step=\"newton\"", "admm.step"}, BadCase{"admm.z_branch=\"x\"", "admm.z_branch"},
                      BadCase{"admm.cross_entropy=\"x\"", "admm.cross_entropy"},
                      BadCase{"admm.fista.eta=0", "admm.fista.eta"}, BadCase{"admm.fista.max_iter=0", "admm.fista.max_iter"},
                      BadCase{"admm.fista.tol=-1", "admm.fista.tol"},
                      BadCase{"admm.rho_schedule.type=\"x\"", "admm.rho_schedule.type"},
                      BadCase{"admm.rho_schedule.factor=1", "admm.rho_schedule.factor"},
                      BadCase{"admm.rho_schedule.max=0", "admm.rho_schedule.max"},
                      BadCase{"admm.wire.q=\"fp8\"", "admm.wire.q"}, BadCase{"admm.gram=\"x\"", "admm.gram"},
                      BadCase{"admm.foo=1", "admm.foo"}, BadCase{"admm=3", "admm"},
                      BadCase{"model.layers=1", "model.layers"}, BadCase{"model.layers=true", "model.layers"},
                      BadCase{"model.hidden=0", "model.hidden"}, BadCase{"model.hops=-1", "model.hops"}, BadCase{"model.hops=100000", "model.hops"},
                      BadCase{"model.hop_order=\"x\"", "model.hop_order"}, BadCase{"cuda.processes=\"x\"", "cuda.processes"},
                      BadCase{"model.zl_init=\"x\"", "model.zl_init"},
                      BadCase{"model.init_std=-1", "model.init_std"},
                      // The solver computes in float: 0, denormals and inf broke these (see SolverConstantsFitFloat).
                      BadCase{"model.init_std=0", "config: model.init_std: must be in [1.2e-38, 3.4e38] (0 starts"},
                      BadCase{"model.init_std=1e39", "model.init_std"},
                      BadCase{"admm.rho=1e-300", "config: admm.rho: must be in [1.2e-38, 3.4e38] (float's range"},
                      BadCase{"admm.nu=1e39", "admm.nu"}, BadCase{"admm.mu=1e-40", "config: admm.mu: must be 0 or in"},
                      BadCase{"admm.t0=1e39", "config: admm.t0: must be in [1.2e-38, 3.4e38]"},
                      BadCase{"admm.fista.eta=1e300", "admm.fista.eta"}, BadCase{"admm.fista.eta=1e-300", "admm.fista.eta"},
                      BadCase{"admm.rho_schedule.max=1e300", "admm.rho_schedule.max"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5,\"nu\":1e-300}]", "model.stages[0].nu"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5,\"mu\":1e39}]", "model.stages[0].mu"},
                      BadCase{"model.stages={}", "model.stages"}, BadCase{"model.stages=3", "model.stages"},
                      BadCase{"model.stages=[3]", "model.stages[0]"},
                      BadCase{"model.stages=[{\"layers\":2}]", "model.stages[0]"},
                      BadCase{"model.stages=[{\"layers\":1,\"iterations\":5}]", "model.stages[0].layers"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":0}]", "model.stages[0].iterations"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5,\"rho\":0}]", "model.stages[0].rho"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5,\"lr\":1}]", "model.stages[0].lr"},
                      BadCase{"model.stages=[{\"layers\":3,\"iterations\":5},{\"layers\":3,\"iterations\":5}]",
                              "model.stages[1].layers"},
                      BadCase{"model.stage_duals=\"drop\"", "model.stage_duals"},
                      BadCase{"model.stage_last=\"random\"", "model.stage_last"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5,\"last\":\"eye\"}]", "model.stages[0].last"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5},{\"layers\":3,\"iterations\":5,\"last\":\"x\"}]",
                              "model.stages[1].last"},
                      BadCase{"model.stages=[{\"layers\":2,\"iterations\":5,\"zl_init\":\"ones\"}]", "model.stages[0].zl_init"},
                      BadCase{"groups=0", "groups"}, BadCase{"groups=3", "groups"},
                      BadCase{"partition=[1,2]", "partition"},
                      BadCase{"partition=[2,0]", "partition[1] = 0: every group needs at least 1 layer"},
                      BadCase{"partition=\"x\"", "partition"}, BadCase{"devices=[-1]", "devices"},
                      BadCase{"threads=-1", "threads"}, BadCase{"threads=100000", "threads"}, BadCase{"backend=\"tpu\"", "backend"},
                      BadCase{"algorithm=\"sgd\"", "algorithm"}, BadCase{"seed=-1", "seed"},
                      BadCase{"data.name=\"mnist\"", "data.name"}, BadCase{"data.verify=1", "data.verify"},
                      BadCase{"data.val_split_seed=-2", "data.val_split_seed"},
                      BadCase{"data.synthetic.nodes=5", "data.synthetic.nodes"},
                      BadCase{"data.synthetic.classes=1", "data.synthetic.classes"},
                      BadCase{"data.synthetic.homophily=1.5", "data.synthetic.homophily"},
                      BadCase{"data.synthetic.snr=-1", "data.synthetic.snr"},
                      BadCase{"data.synthetic.test=100000", "config: data.synthetic: train_per_class x classes + val + "
                                                            "test = 20 x 5 + 500 + 100000 = 100600 nodes, more than "
                                                            "nodes = "},
                      BadCase{"data.synthetic.avg_degree=1e308", "data.synthetic.avg_degree"},
                      BadCase{"data.npz.train_per_class=0", "config: data.npz.train_per_class: must be >= 1"},
                      BadCase{"data.npz.val=0", "config: data.npz.val: must be a count >= 1 (an integer) or a "
                                                "fraction in (0, 1) of the labelled nodes, got 0"},
                      BadCase{"data.npz.test=-3", "config: data.npz.test: must be a count >= 1"},
                      BadCase{"data.npz.test=2.5", "config: data.npz.test: must be a count >= 1 (an integer) or a "
                                                   "fraction in (0, 1) of the labelled nodes, got 2.5"},
                      BadCase{"data.npz.train=-0.5", "config: data.npz.train: must be 0 (train_per_class per class), "
                                                     "a count >= 1 (an integer) or a fraction in (0, 1) of the "
                                                     "labelled nodes, got -0.5"},
                      BadCase{"data.npz.train=1.5", "config: data.npz.train: must be 0"},
                      BadCase{"data.npz.train=NaN", "config: data.npz.train: expected a number, got \"NaN\""},
                      BadCase{"data.npz.train=\"half\"", "config: data.npz.train: expected a number"},
                      BadCase{"data.npz.train=3e9", "config: data.npz.train: must be 0"},
                      BadCase{"data.npz.test=1e10", "data.npz.test"}, BadCase{"data.npz.file=7", "data.npz.file"},
                      BadCase{"data.npz.path=\"g.npz\"", "data.npz.path"},
                      BadCase{"data.name=npz", "config: data.npz.file: required with data.name \"npz\""},
                      BadCase{"admm.fista.max_iter=2147483647", "admm.fista.max_iter"},
                      BadCase{"output.log_every=-1", "output.log_every"},
                      BadCase{"output.progress=\"x\"", "output.progress"}, BadCase{"colour=1", "colour"},
                      BadCase{"output.dir=", "config: output.dir: must not be empty"},
                      BadCase{"output.predictions=1", "config: output.predictions: expected true or false"},
                      // The wrong value is shown as the --set read it, not only its type.
                      BadCase{"admm.rho=0,5", "config: admm.rho: expected a number, got \"0,5\""},
                      BadCase{"output.checkpoint=True", "config: output.checkpoint: expected true or false, got \"True\""},
                      BadCase{"model.layers=", "config: model.layers: expected an integer, got \"\""},
                      BadCase{"data.name=3", "config: data.name: expected one of \"synthetic\", \"cora\", "},
                      // A choice given as a boolean names the choices.
                      BadCase{"output.progress=false", "config: output.progress: expected one of \"auto\", \"bar\", "
                                                       "\"lines\", \"off\", got false"},
                      BadCase{"output.dir=false", "config: output.dir: expected a string, got false"},
                      // A name that reads as a number says how to give it as text.
                      BadCase{"output.dir=123", "config: output.dir: expected a string, got 123 (text that reads as a "
                                                "number is quoted: \"TEXT\" in a file, --set 'output.dir=\"TEXT\"')"},
                      BadCase{"model.hidden=" + std::string(80, 'x'), "got \"" + std::string(57, 'x') + "...\""},
                      BadCase{"model", "--set"},
                      // Past the limits of the types: named, never wrapped or truncated.
                      BadCase{"admm.nu=1e999", "admm.nu"}, BadCase{"admm.grid=[0,1e400]", "admm.grid"},
                      BadCase{"model.hidden=4294967296", "model.hidden: out of range"},
                      BadCase{"seed=18446744073709551615", "seed: out of range"},
                      // Past 64 bits JSON gives a float: still out of range, not "expected an integer".
                      BadCase{"seed=99999999999999999999", "config: seed: out of range, got 1e+20"},
                      BadCase{"model.hidden=-99999999999999999999", "config: model.hidden: out of range"},
                      BadCase{"partition=[99999999999999999999]", "partition: 1e+20 is out of range"},
                      BadCase{"partition=[4294967297,1]", "partition: 4294967297 is out of range"},
                      BadCase{"partition=[2147483648,1]", "partition: 2147483648 is out of range"},
                      BadCase{"partition=[4294967295,1]", "partition: 4294967295 is out of range"},
                      BadCase{"devices=[4294967296]", "devices: 4294967296 is out of range"},
                      BadCase{"model.stages=" + std::string(100, '[') + std::string(100, ']'), "nested deeper than 64"},
                      // A NUL cut the messages that quoted the value ("data.name: \"syn").
                      BadCase{"data.name=\"syn\\u0000thetic\"",
                              "data.name: the string holds a NUL character (\\u0000), which no name or path may"},
                      BadCase{"output={\"d\\u0000ir\": \"x\"}", "output.d…: a key holds a NUL character"}));

TEST(Config, DefaultsAreValidAndEchoed) {
  Config c = parse_config(nlohmann::json::object());
  EXPECT_EQ(c.model.layers, 2);
  EXPECT_EQ(c.effective["admm"]["rho"].get<double>(), c.admm.rho);
  EXPECT_EQ(c.effective["model"]["hidden"].get<int>(), c.model.hidden);
}

TEST(Config, OverridesReachNestedKeys) {
  Config c = parse_config(nlohmann::json::object(), {"model.layers=12", "groups=4", "admm.nu=0.5", "admm.rho=3"});
  EXPECT_EQ(c.model.layers, 12);
  EXPECT_EQ(c.groups, 4);
  EXPECT_DOUBLE_EQ(c.admm.nu, 0.5);
  EXPECT_DOUBLE_EQ(c.admm.rho, 3);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, OverridesIndexAStageOfTheList) {
  const std::string st = "model.stages=[{\"layers\":2,\"iterations\":5,\"mu\":10},"
                         "{\"layers\":4,\"iterations\":5,\"mu\":0.1}]";
  const Config c = parse_config(nlohmann::json::object(), {st, "model.stages[1].iterations=7", "model.stages[0].mu=3"});
  ASSERT_EQ(c.model.stages.size(), 2u);
  EXPECT_EQ(c.model.stages[0].iterations, 5);
  EXPECT_EQ(c.model.stages[1].iterations, 7);
  EXPECT_DOUBLE_EQ(c.model.stages[0].mu, 3);
  EXPECT_DOUBLE_EQ(c.model.stages[1].mu, 0.1);
  const Config whole = parse_config(nlohmann::json::object(), {st, "model.stages[1]={\"layers\":6,\"iterations\":2}"});
  EXPECT_EQ(whole.model.stages[1].layers, 6);
  EXPECT_EQ(whole.model.layers, 6);
  // The same override applied to a config file's list.
  nlohmann::json file = nlohmann::json::parse(R"({"model": {"stages": [{"layers": 2, "iterations": 5}, {"layers": 3, "iterations": 5}]}})");
  EXPECT_EQ(parse_config(file, {"model.stages[0].iterations=9"}).model.stages[0].iterations, 9);
}

TEST(Config, OverrideIndicesAreChecked) {
  const std::string st = "model.stages=[{\"layers\":2,\"iterations\":5},{\"layers\":4,\"iterations\":5}]";
  EXPECT_NE(config_error({st, "model.stages[2].mu=1"}).find("\"model.stages\" has 2 elements, no [2]"), std::string::npos)
      << config_error({st, "model.stages[2].mu=1"});
  EXPECT_NE(config_error({"model.hidden=16", "model.hidden[0]=3"}).find("\"model.hidden\" is not a list"),
            std::string::npos);
  // A key the config does not have is not "not a list": it is not there at all.
  EXPECT_NE(config_error({"model.hidden[0]=3"}).find("\"model.hidden\" is not set in this config, so it has no [0]"),
            std::string::npos)
      << config_error({"model.hidden[0]=3"});
  const nlohmann::json synthetic = nlohmann::json::parse(R"({"model": {"layers": 2, "hidden": 256}})");
  try {
    parse_config(synthetic, {"model.stages[2].iterations=5"});
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "config: --set \"model.stages[2].iterations=5\": \"model.stages\" is not set in this config, so it has no [2] "
              "(set the whole list, --set 'model.stages=[...]', or start from a config with stages, e.g. "
              "configs/cora.json)");
  }
  for (const char* bad : {"model.stages[].mu=1", "model.stages[x].mu=1", "model.stages[1.mu=1", "model.stages[-1].mu=1"})
    EXPECT_NE(config_error({st, bad}).find("expected a list index like [2] or [*] after \"model.stages\""),
              std::string::npos)
        << bad << ": " << config_error({st, bad});
  EXPECT_NE(config_error({st, "model.stages[1]x=1"}).find("expected '.' or '['"), std::string::npos);
  // An index written as a key names the list form.
  EXPECT_EQ(config_error({st, "model.stages.1.mu=1"}),
            "config: --set \"model.stages.1.mu=1\": \"model.stages\" is not an object but a list: an element is "
            "model.stages[i], e.g. model.stages[0]");
  EXPECT_EQ(config_error({"model.hidden=16", "model.hidden.x=1"}),
            "config: --set \"model.hidden.x=1\": \"model.hidden\" is not an object");
  EXPECT_NE(config_error({"[0]=1"}).find("empty key segment"), std::string::npos);
  // A --set that cannot be applied is a config error like any other.
  for (const char* bad : {"model", "model.hidden=[1,", "model.hidden[0]=3", "[0]=1"})
    EXPECT_EQ(config_error({bad}).rfind(std::string("config: --set \"") + bad + "\"", 0), 0u) << config_error({bad});
}

// A first stage whose random weights grow a forward pass past 1e10 is warned of (64 x 1000 at the
// default init_std diverged at iteration 1 with no word of why); the benchmark shapes are not.
TEST(Config, InitGrowthPastFloatsReachIsWarned) {
  const Config deep = parse_config(nlohmann::json::object(), {"model.layers=64", "model.hidden=1000"});
  ASSERT_EQ(deep.warnings.size(), 1u);
  EXPECT_EQ(deep.warnings[0],
            "model.init_std 0.1 with model.hidden 1000 scales the forward pass by about 2.2 a layer (init_std x "
            "sqrt(hidden / 2)), 1e+22 over the first stage's 64 layers, where the iterates start: they may overflow "
            "float; init_std <= sqrt(2 / hidden) = 0.045 keeps it near 1");
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"model.layers=64", "model.hidden=1000", "model.init_std=0.04"})
                  .warnings.empty());
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"model.layers=16", "model.hidden=4096"}).warnings.empty());
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"model.layers=10", "model.hidden=500"}).warnings.empty());
  // Growth stages start small: the first stage's layers count.
  EXPECT_TRUE(parse_config(nlohmann::json::object(),
                           {"model.hidden=1000", "model.stages=[{\"layers\":2,\"iterations\":1},{\"layers\":64,"
                            "\"iterations\":1}]"})
                  .warnings.empty());
}

// [*] sets a key in every element: a staged run shortened by one --set (admm.iterations is the
// stages' sum, so it alone cannot shorten one).
TEST(Config, OverrideStarSetsEveryElement) {
  const std::string st = "model.stages=[{\"layers\":2,\"iterations\":5},{\"layers\":4,\"iterations\":7,\"mu\":3}]";
  const Config c = parse_config(nlohmann::json::object(), {st, "model.stages[*].iterations=2", "model.stages[*].mu=0.5"});
  ASSERT_EQ(c.model.stages.size(), 2u);
  EXPECT_EQ(c.model.stages[0].iterations, 2);
  EXPECT_EQ(c.model.stages[1].iterations, 2);
  EXPECT_EQ(c.model.stages[0].mu, 0.5);
  EXPECT_EQ(c.model.stages[1].mu, 0.5);
  EXPECT_EQ(c.iterations, 4);
  EXPECT_EQ(c.model.stages[1].layers, 4);  // the rest of each element kept
  EXPECT_EQ(config_error({st, "model.stages[*]=1"}),
            "config: --set \"model.stages[*]=1\": [*] sets a key in every element of \"model.stages\": name one, "
            "e.g. model.stages[*].iterations");
  EXPECT_EQ(config_error({"a=[[{\"b\":1}]]", "a[*][*].b=2"}), "config: --set \"a[*][*].b=2\": one [*] per key");
  EXPECT_NE(config_error({st, "model.stages[*]x=1"}).find("expected '.' after \"model.stages[*]\""), std::string::npos);
  EXPECT_NE(config_error({"model.hidden[*].x=3"}).find("\"model.hidden\" is not set in this config, so it has no [*]"),
            std::string::npos);
  // An error inside an element names the element.
  EXPECT_NE(config_error({st, "model.stages[*].iterations=0"}).find("model.stages[0].iterations"), std::string::npos)
      << config_error({st, "model.stages[*].iterations=0"});
}

// A saved config (config.json, model.bin's, state.bin's) records admm.iterations and model.layers,
// the stages' sum and last layers: a --set of the stages' made them stale and the config was
// refused as inconsistent, though the error's own advice was that --set. They follow the stages
// now, unless a --set gives them too.
TEST(Config, ASavedConfigsTotalsFollowTheStagesSet) {
  const Config saved = parse_config(nlohmann::json::object(),
                                    {"model.stages=[{\"layers\":2,\"iterations\":5},{\"layers\":4,\"iterations\":7}]"});
  ASSERT_EQ(saved.effective["admm"]["iterations"], 12);
  ASSERT_EQ(saved.effective["model"]["layers"], 4);
  const Config shorter = parse_config(saved.effective, {"model.stages[*].iterations=2"});
  EXPECT_EQ(shorter.iterations, 4);
  const Config deeper = parse_config(saved.effective, {"model.stages[1].layers=6"});
  EXPECT_EQ(deeper.model.layers, 6);
  // Given with them, the totals are still checked; another key's --set leaves them as recorded.
  EXPECT_NE(config_error({"model.stages=[{\"layers\":2,\"iterations\":5}]", "model.stages[0].iterations=2",
                          "admm.iterations=9"})
                .find("admm.iterations: 9 is not the stages' sum 2"),
            std::string::npos);
  nlohmann::json inconsistent = saved.effective;
  inconsistent["admm"]["iterations"] = 99;
  EXPECT_NE(test::error_of([&] { parse_config(inconsistent, {"model.stages[0].mu=1"}); })
                .find("admm.iterations: 99 is not the stages' sum 12"),
            std::string::npos);
}

// JSON has no NaN or Infinity, so --set admm.rho=NaN arrives as a string: say why it is refused.
TEST(Config, NonFiniteNumbersAreNamedAsSuch) {
  EXPECT_EQ(config_error({"admm.rho=NaN"}),
            "config: admm.rho: expected a number, got \"NaN\" (NaN and Infinity are not allowed)");
  for (const char* set : {"admm.nu=-Infinity", "admm.mu=inf", "admm.t0=+INF", "admm.fista.eta=nan"})
    EXPECT_NE(config_error({set}).find("(NaN and Infinity are not allowed)"), std::string::npos)
        << set << ": " << config_error({set});
  EXPECT_EQ(config_error({"admm.iterations=Infinity"}),
            "config: admm.iterations: expected an integer, got \"Infinity\" (NaN and Infinity are not allowed)");
  // Other strings are just strings.
  for (const char* set : {"admm.rho=nano", "admm.rho=infinite", "admm.rho=--nan"})
    EXPECT_EQ(config_error({set}).find("NaN and Infinity"), std::string::npos) << set << ": " << config_error({set});
}

// The grid and wire keys are read by host/quant; their errors start with "config: " as all others.
TEST(Config, GridAndWireErrorsAreConfigErrors) {
  EXPECT_EQ(config_error({"admm.wire.p=fp8"}),
            "config: admm.wire.p: unknown wire format 'fp8' (expected fp32, fp16, bf16, int8, codes or native)");
  for (const auto& [set, start] : std::vector<std::pair<std::string, std::string>>{
           {"admm.grid={\"min\":0,\"max\":1,\"levels\":1}", "config: admm.grid.levels: "},
           {"admm.grid=[0,1,1]", "config: admm.grid[2]: "},
           {"admm.grid=\"fine\"", "config: admm.grid: "}}) {
    const std::string msg = config_error({"algorithm=pdadmm-g-q", set});
    EXPECT_EQ(msg.rfind(start, 0), 0u) << set << ": " << msg;
  }
}

// A grid nothing is quantized onto changes nothing: say so rather than let a plain G run look like a -Q one.
TEST(Config, GridWithoutQuantizationWarns) {
  const Config g = parse_config(nlohmann::json::object(), {"admm.grid=\"reference\""});
  ASSERT_EQ(g.warnings.size(), 1u);
  EXPECT_EQ(g.warnings[0].rfind("admm.grid is unused: nothing is quantized", 0), 0u) << g.warnings[0];
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q", "admm.grid=\"reference\""}).warnings.empty());
  // A grid that cannot hold the ReLU outputs (0 and above) trained to near chance without a word.
  const Config above = parse_config(nlohmann::json::object(),
                                    {"algorithm=pdadmm-g-q", "admm.grid={\"min\":5,\"max\":10,\"levels\":16}"});
  ASSERT_EQ(above.warnings.size(), 1u);
  EXPECT_EQ(above.warnings[0].rfind("admm.grid spans [5.0, 10.0], which leaves out 0: the ReLU outputs", 0), 0u)
      << above.warnings[0];
  const Config below = parse_config(nlohmann::json::object(),
                                    {"algorithm=pdadmm-g-q", "admm.grid={\"min\":-10,\"max\":0,\"levels\":16}"});
  ASSERT_EQ(below.warnings.size(), 1u);
  EXPECT_NE(below.warnings[0].find("which holds no positive value"), std::string::npos) << below.warnings[0];
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q", "admm.quantize=\"q\"", "admm.grid=[0,1]"})
                  .warnings.empty());
  // Spanning 0 without a level there: every inactive ReLU output went to 1/3.
  const Config no_zero = parse_config(nlohmann::json::object(),
                                      {"algorithm=pdadmm-g-q", "admm.grid={\"min\":-1,\"max\":1,\"levels\":4}"});
  ASSERT_EQ(no_zero.warnings.size(), 1u);
  EXPECT_EQ(no_zero.warnings[0], "admm.grid has no level at 0: the ReLU outputs it quantizes, mostly 0, go to "
                                 "0.333333; a grid with 0 among its levels keeps them");
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q", "admm.grid=[-1,0,1]"}).warnings.empty());
  // No level near 0 on a wide grid still warns (0.5 is no rounding of 0 however far the ends).
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q", "admm.grid=[-1e6,0.5,1e6]"}).warnings.size(), 1u);
  // A uniform level within rounding of 0 (-0.3 + 3 x 0.1 = 5.6e-17) is a level at 0.
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q", "admm.grid={\"min\":-0.3,\"step\":0.1,\"levels\":10}"})
                  .warnings.empty());
}

// A -Q config run as G (the fp32 yardstick) failed one key at a time, and a lossy wire left over
// made a G that was not fp32: the error names every key to set.
TEST(Config, AQConfigRunAsGNamesEveryKeyToSet) {
  const nlohmann::json q = {{"algorithm", "pdadmm-g-q"},
                            {"admm", {{"quantize", "q"}, {"grid", "reference"}, {"wire", {{"p", "int8"}, {"q", "codes"}}}}}};
  EXPECT_EQ(test::error_of([&] { parse_config(q, {"algorithm=pdadmm-g"}); }),
            "config: admm.quantize: needs \"algorithm\": \"pdadmm-g-q\" (fp32 pdADMM-G on this config: --set "
            "admm.quantize='\"none\"' --set admm.wire.q='\"fp32\"' --set admm.wire.p='\"fp32\"')");
  const Config g = parse_config(q, {"algorithm=pdadmm-g", "admm.quantize=\"none\"", "admm.wire.q=\"fp32\"",
                                    "admm.wire.p=\"fp32\""});
  EXPECT_EQ(g.admm.quantize, Quantize::None);
  EXPECT_EQ(g.admm.wire_p.format, WireFormat::Fp32);
}

// output.log_every 0 (the default): a 20th of the run's iterations, the stages' sum with stages, at
// least 1; config.json records the 0, so a saved run reads the same; a number given is kept.
TEST(Config, LogEveryDefaultsToATwentiethOfTheRun) {
  const Config plain = parse_config(nlohmann::json::object(), {});
  EXPECT_EQ(plain.iterations, 100);
  EXPECT_EQ(plain.output.log_every, 5);
  EXPECT_EQ(plain.effective["output"]["log_every"], 0);
  EXPECT_EQ(parse_config(plain.effective, {}).output.log_every, 5);
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"admm.iterations=19"}).output.log_every, 1);
  const nlohmann::json staged = {
      {"model", {{"layers", 4}, {"stages", {{{"layers", 2}, {"iterations", 200}}, {{"layers", 4}, {"iterations", 210}}}}}}};
  EXPECT_EQ(parse_config(staged, {}).output.log_every, 20);
  EXPECT_EQ(parse_config(staged, {"output.log_every=7"}).output.log_every, 7);
}

// model.layers against a staged config's last stage names the way out (it named none).
TEST(Config, ALayerCountAgainstTheStagesNamesTheFix) {
  const nlohmann::json staged = {
      {"model", {{"layers", 10}, {"stages", {{{"layers", 2}, {"iterations", 3}}, {{"layers", 10}, {"iterations", 5}}}}}}};
  EXPECT_EQ(test::error_of([&] { parse_config(staged, {"model.layers=6"}); }),
            "config: model.stages: the last stage has 10 layers, model.layers is 6 (set the last stage's instead, "
            "--set 'model.stages[1].layers=6': model.layers follows it)");
  EXPECT_EQ(parse_config(staged, {"model.stages[1].layers=6"}).model.layers, 6) << "the fix it names works";
  EXPECT_NE(test::error_of([&] { parse_config(staged, {"model.layers=2"}); })
                .find("(the stages grow to it: set model.stages, or --set 'model.stages=[]' for none)"),
            std::string::npos);
}

// 1000 stages at most (the plans copy the stage list per stage): 1001 is one error line.
TEST(Config, StagesAreAtMostAThousand) {
  const auto staged = [](int n) {
    nlohmann::json stages = nlohmann::json::array();
    for (int l = 2; l < n + 2; ++l) stages.push_back({{"layers", l}, {"iterations", 1}});
    return nlohmann::json{{"model", {{"stages", stages}}}};
  };
  EXPECT_EQ(parse_config(staged(1000)).model.stages.size(), 1000u);
  EXPECT_EQ(test::error_of([&] { parse_config(staged(1001)); }),
            "config: model.stages: 1001 stages, at most 1000 (grow more layers per stage)");
}

// model.stages=[] is no stages: the config's own layers and iterations stay (they followed the
// emptied stages down to the defaults), and a saved config.json that records [] reads the same.
TEST(Config, EmptyStagesAreNone) {
  const nlohmann::json staged = {
      {"model", {{"layers", 4}, {"stages", {{{"layers", 2}, {"iterations", 3}}, {{"layers", 4}, {"iterations", 5}}}}}},
      {"admm", {{"iterations", 8}}}};
  const Config c = parse_config(staged, {"model.stages=[]"});
  EXPECT_TRUE(c.model.stages.empty());
  EXPECT_EQ(c.model.layers, 4);
  EXPECT_EQ(c.iterations, 8);
  const Config again = parse_config(c.effective, {});
  EXPECT_TRUE(again.model.stages.empty());
  EXPECT_EQ(again.model.layers, 4);
  EXPECT_EQ(parse_config(staged, {"model.stages=[]", "model.layers=6"}).model.layers, 6);
  // A file that gives neither: the last stage's layers and the stages' iterations in all.
  const nlohmann::json bare = {{"model", {{"stages", {{{"layers", 2}, {"iterations", 3}}, {{"layers", 6}, {"iterations", 5}}}}}}};
  const Config flat = parse_config(bare, {"model.stages=[]"});
  EXPECT_EQ(flat.model.layers, 6);
  EXPECT_EQ(flat.iterations, 8);
  // The last stage's own settings come along (not admm.*'s stage defaults), unless a --set gives admm's.
  const nlohmann::json tuned = {
      {"admm", {{"nu", 0.1}, {"rho", 0.1}, {"rho_schedule", {{"type", "reference"}, {"max", 5}}}}},
      {"model",
       {{"stages",
         {{{"layers", 2}, {"iterations", 3}},
          {{"layers", 4}, {"iterations", 5}, {"nu", 0.25}, {"step", "exact"}, {"zl_init", "labels"},
           {"rho_schedule", {{"threshold", 0.01}}}}}}}}};
  const Config one = parse_config(tuned, {"model.stages=[]"});
  EXPECT_EQ(one.admm.nu, 0.25);
  EXPECT_EQ(one.admm.rho, 0.1);
  EXPECT_EQ(one.admm.step, StepRule::Exact);
  EXPECT_EQ(one.model.zl_init, "labels");
  EXPECT_EQ(one.rho_schedule.threshold, 0.01);
  EXPECT_EQ(one.rho_schedule.max, 5) << "the stage's schedule keys override admm's one by one";
  EXPECT_EQ(parse_config(tuned, {"model.stages=[]", "admm.nu=0.5"}).admm.nu, 0.5);
}

// A sweep file given to pdadmm was refused for its "groups": "layers", which named no sweep.
TEST(Config, ASweepFileIsNamedAsOne) {
  EXPECT_EQ(test::error_of([] {
              parse_config_text(R"({"base": "configs/synthetic.json", "axis": {"key": "model.layers", "values": [2]},
                                    "groups": "layers"})",
                                "s.json", {});
            }),
            "config: s.json is a sweep file (it has \"axis\"): run it with tools/sweep.py --config s.json");
  EXPECT_EQ(test::error_of([] {
              parse_config_text(R"({"sweep": "layers", "axis": "model.layers", "rows": []})", "sweep.json", {});
            }),
            "config: sweep.json is a sweep's result (sweep.json), not a config");
}

// q on the default grid (the paper's integers, its grid for p) kept few levels without a word.
TEST(Config, QOnThePapersDefaultGridWarns) {
  for (const char* quantize : {"q", "both"}) {
    const Config c = parse_config(nlohmann::json::object(),
                                  {"algorithm=pdadmm-g-q", std::string("admm.quantize=\"") + quantize + "\""});
    ASSERT_EQ(c.warnings.size(), 1u) << quantize;
    EXPECT_EQ(c.warnings[0].rfind("admm.grid defaults to \"paper\" (the integers -1..20, the paper's grid for p) "
                                  "with admm.quantize \"" + std::string(quantize) + "\"", 0),
              0u)
        << c.warnings[0];
  }
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q"}).warnings.empty());  // p: the paper's
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q", "admm.quantize=\"q\"", "admm.grid=\"paper\""})
                  .warnings.empty());
}

// A partition sets the groups; a groups that disagrees was ignored without a word (a sweep's
// --set groups=1 on a partitioned base timed "serial" runs in two groups). A --set partition
// replaces a saved config's groups, which records both.
TEST(Config, GroupsThatDisagreeWithThePartitionAreRefused) {
  const nlohmann::json part = {{"model", {{"layers", 4}}}, {"partition", {2, 2}}};
  EXPECT_EQ(test::error_of([&] { parse_config(part, {"groups=1"}); }),
            "config: groups: 1, but partition [2,2] makes 2 groups (the partition sets them: drop groups, or clear "
            "the partition with --set partition=[])");
  nlohmann::json both = part;
  both["groups"] = 3;
  EXPECT_NE(test::error_of([&] { parse_config(both, {}); }).find("groups: 3, but partition [2,2]"), std::string::npos);
  EXPECT_EQ(parse_config(part, {"groups=2"}).groups, 2);
  EXPECT_EQ(parse_config(part, {"groups=1", "partition=[]"}).groups, 1);
  nlohmann::json saved = part;
  saved["groups"] = 2;
  EXPECT_EQ(parse_config(saved, {"partition=[1,1,2]"}).groups, 3);
  EXPECT_NE(test::error_of([&] { parse_config(saved, {"partition=[1,1,2]", "groups=2"}); }).find("makes 3 groups"),
            std::string::npos);
}

// Keys only the CUDA backend reads are named on the CPU (devices was ignored silently).
TEST(Config, CudaOnlyKeysWarnOnTheCpu) {
  const Config c = parse_config(nlohmann::json::object(), {"devices=[0]", "cuda.tf32=true", "cuda.processes=\"staged\""});
  ASSERT_EQ(c.warnings.size(), 3u);
  EXPECT_EQ(c.warnings[0], "cuda.tf32 has no effect with \"backend\": \"cpu\"");
  EXPECT_EQ(c.warnings[1], "cuda.processes has no effect with \"backend\": \"cpu\"");
  EXPECT_EQ(c.warnings[2], "devices has no effect with \"backend\": \"cpu\" (it picks a GPU per group)");
  EXPECT_TRUE(parse_config(nlohmann::json::object(),
                           {"backend=cuda", "devices=[0]", "cuda.tf32=true", "cuda.processes=\"staged\""})
                  .warnings.empty());
}

// data.split_seed and data.raw_counts are npz-set keys: on a Planetoid set, a value the user set
// is named as having no effect; the defaults (which a saved config.json records) are not.
TEST(Config, NpzOnlyDataKeysWarnOnPlanetoid) {
  for (const char* name : {"cora", "citeseer", "pubmed"}) {
    const std::string set = std::string("data.name=") + name;
    const Config c = parse_config(nlohmann::json::object(), {set, "data.split_seed=7", "data.raw_counts=true"});
    ASSERT_EQ(c.warnings.size(), 2u) << name;
    EXPECT_EQ(c.warnings[0], "data.split_seed has no effect with data.name \"" + std::string(name) +
                                 "\" (Planetoid's split is fixed; data.val_split_seed redraws train and val)");
    EXPECT_EQ(c.warnings[1].rfind("data.raw_counts has no effect with data.name \"" + std::string(name) + "\"", 0), 0u)
        << c.warnings[1];
    EXPECT_TRUE(parse_config(nlohmann::json::object(), {set, "data.split_seed=100", "data.raw_counts=false"})
                    .warnings.empty());
  }
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"data.name=coauthor_cs", "data.split_seed=7", "data.raw_counts=true"})
                  .warnings.empty());
  // The synthetic data (the default) are generated from seed, split and all; nor are there files to verify.
  const Config syn = parse_config(nlohmann::json::object(), {"data.split_seed=7", "data.raw_counts=true", "data.verify=true"});
  ASSERT_EQ(syn.warnings.size(), 3u);
  EXPECT_EQ(syn.warnings[0], "data.split_seed has no effect with data.name \"synthetic\" (the generated data and "
                             "their split follow seed; data.val_split_seed redraws train and val)");
  EXPECT_EQ(syn.warnings[1].rfind("data.raw_counts has no effect with data.name \"synthetic\"", 0), 0u) << syn.warnings[1];
  EXPECT_EQ(syn.warnings[2], "data.verify has no effect with data.name \"synthetic\" (no files to check)");
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"data.split_seed=100", "data.verify=false"}).warnings.empty());
}

// data.name "npz": the file is required (an empty one too); raw_counts defaults to true there
// (a user's features are kept as stored), false elsewhere, and config.json records the value in
// force. data.npz.* with another data set are read and checked, like data.synthetic.*, and ignored;
// a file named there draws a warning.
TEST(Config, NpzNeedsItsFileAndKeepsFeatureValues) {
  EXPECT_EQ(config_error({"data.name=npz", "data.npz.file="}),
            "config: data.npz.file: required with data.name \"npz\" (the path of the .npz file to train on)");
  const Config c = parse_config(nlohmann::json::object(), {"data.name=npz", "data.npz.file=my/graph.npz"});
  EXPECT_EQ(c.data.npz.file, "my/graph.npz");
  EXPECT_EQ(c.data.npz.train_per_class, 20);
  EXPECT_EQ(c.data.npz.val, 500);
  EXPECT_EQ(c.data.npz.test, 1000);
  EXPECT_TRUE(c.data.raw_counts);
  EXPECT_EQ(c.effective["data"]["raw_counts"], true);
  EXPECT_EQ(c.effective["data"]["npz"],
            nlohmann::json::parse(
                R"({"file": "my/graph.npz", "train": 0, "train_per_class": 20, "val": 500, "test": 1000})"));
  EXPECT_EQ(c.data.npz.train, 0);
  EXPECT_TRUE(c.warnings.empty());
  // The saved config reads back to the same values.
  EXPECT_EQ(parse_config(c.effective).effective, c.effective);
  const Config binary =
      parse_config(nlohmann::json::object(), {"data.name=npz", "data.npz.file=g.npz", "data.raw_counts=false"});
  EXPECT_FALSE(binary.data.raw_counts);
  EXPECT_EQ(binary.effective["data"]["raw_counts"], false);
  for (const char* name : {"amazon_photo", "cora", "synthetic"}) {
    const Config other = parse_config(nlohmann::json::object(), {std::string("data.name=") + name, "data.npz.val=7"});
    EXPECT_FALSE(other.data.raw_counts) << name;
    // data.npz.val names no file, so no file warning: only that the split key does nothing here.
    EXPECT_EQ(other.warnings, std::vector<std::string>{"data.npz's split (train, train_per_class, val, test) has no "
                                                       "effect with data.name \"" +
                                                       std::string(name) + "\""})
        << name;
    EXPECT_EQ(other.effective["data"]["npz"]["file"], "") << name;
  }
  // A file given while data.name names another set is named; with no data.name at all (forgotten:
  // the default trained on the synthetic data, exit 0) it is an error.
  const Config forgot = parse_config(nlohmann::json::object(), {"data.name=synthetic", "data.npz.file=g.npz"});
  ASSERT_EQ(forgot.warnings.size(), 1u);
  EXPECT_EQ(forgot.warnings[0],
            "data.npz.file has no effect with data.name \"synthetic\" (set data.name \"npz\" to train on it)");
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json::object(), {"data.npz.file=g.npz"}); }),
            "config: data.npz.file is set but data.name is not (it would train on the synthetic data): set data.name "
            "\"npz\"");
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json::object(), {"data.files.edges=e.txt"}); }),
            "config: data.files is set but data.name is not (it would train on the synthetic data): set data.name "
            "\"files\"");
  // A size is quoted as written ("got 0.0" for a 0 read the user as having typed a float).
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json::object(), {"data.npz.test=-3"}); }),
            "config: data.npz.test: must be a count >= 1 (an integer) or a fraction in (0, 1) of the labelled nodes, "
            "got -3");
  // A misspelt section is an unknown key, not a required one missing.
  EXPECT_EQ(test::error_of([] {
              parse_config(nlohmann::json::object(), {"data.name=files", "data.file.edges=e", "data.file.features=f",
                                                      "data.file.labels=y"});
            }),
            "config: unknown key \"data.file\" (did you mean \"data.files\"?)");
  const Config files = parse_config(nlohmann::json::object(), {"data.name=cora", "data.files.labels=y.txt"});
  ASSERT_EQ(files.warnings.size(), 1u);
  EXPECT_EQ(files.warnings[0],
            "data.files has no effect with data.name \"cora\" (set data.name \"files\" to train on it)");
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"data.name=files", "data.files.edges=e", "data.files.features=f",
                                                      "data.files.labels=y"})
                  .warnings.empty());
  // The other own-graph section's split keys (the same names) drew the default split without a word.
  const Config other = parse_config(nlohmann::json::object(), {"data.name=files", "data.files.edges=e",
                                                               "data.files.features=f", "data.files.labels=y",
                                                               "data.npz.train=0.6", "data.npz.test=0.2"});
  ASSERT_EQ(other.warnings.size(), 1u);
  EXPECT_EQ(other.warnings[0], "data.npz's split (train, train_per_class, val, test) has no effect with data.name "
                               "\"files\" (set data.files.train and the rest)");
  const Config named = parse_config(nlohmann::json::object(), {"data.name=cora", "data.files.val=100"});
  ASSERT_EQ(named.warnings.size(), 1u);
  EXPECT_EQ(named.warnings[0], "data.files's split (train, train_per_class, val, test) has no effect with data.name "
                               "\"cora\"");
  // A section whose paths already warn gets that one line, not a second for its split.
  const Config saved_files = parse_config(nlohmann::json::object(), {"data.name=cora", "data.files.labels=y.txt",
                                                                     "data.files.val=100"});
  EXPECT_EQ(saved_files.warnings, std::vector<std::string>{"data.files has no effect with data.name \"cora\" (set "
                                                           "data.name \"files\" to train on it)"});
  // A saved config.json records both sections' defaults: no warning for those.
  EXPECT_TRUE(parse_config(parse_config(nlohmann::json::object(), {"data.name=cora"}).effective).warnings.empty());
}

// An integer key written as a float with no fraction (3.0: what a JSON writer that keeps every
// number as a double gives) is that integer, and config.json records it as one; 2.5 is refused,
// and so is a whole float from 9e15 up, where a double no longer holds every integer.
TEST(Config, WholeFloatsAreIntegers) {
  const Config c = parse_config(nlohmann::json::parse(R"({"admm": {"iterations": 30.0}, "model": {"layers": 3.0, "hidden": 1e2}})"));
  EXPECT_EQ(c.iterations, 30);
  EXPECT_EQ(c.model.layers, 3);
  EXPECT_EQ(c.model.hidden, 100);
  EXPECT_TRUE(c.effective["admm"]["iterations"].is_number_integer()) << c.effective["admm"]["iterations"];
  EXPECT_EQ(c.effective["model"]["hidden"], nlohmann::json(100));
  EXPECT_EQ(parse_config(c.effective).effective, c.effective);  // config.json as a config
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json::parse(R"({"admm": {"iterations": 2.5}})")); }),
            "config: admm.iterations: expected an integer, got 2.5");
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json::parse(R"({"admm": {"iterations": 1e16}})")); }),
            "config: admm.iterations: expected an integer, got 1e+16");
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json::parse(R"({"admm": {"iterations": -3.0}})")); }),
            "config: admm.iterations: must be >= 0, got -3");
}

// data.npz.train, val, test: counts (recorded as integers, 3.0 too) or fractions; a class-blind
// split records no train_per_class, so config.json reads back; train_per_class beside train > 0 is
// refused, as are fractions adding up to more than the labelled nodes.
TEST(Config, NpzSplitSizesAreCountsOrFractions) {
  const std::vector<std::string> npz = {"data.name=npz", "data.npz.file=g.npz"};
  auto with = [&](std::vector<std::string> sets) {
    sets.insert(sets.begin(), npz.begin(), npz.end());
    return sets;
  };
  const Config f = parse_config(nlohmann::json::object(), with({"data.npz.train=0.6", "data.npz.val=0.2",
                                                                "data.npz.test=0.2"}));
  EXPECT_EQ(f.data.npz.train, 0.6);
  EXPECT_EQ(f.data.npz.val, 0.2);
  EXPECT_EQ(f.data.npz.test, 0.2);
  EXPECT_EQ(f.effective["data"]["npz"],
            nlohmann::json::parse(R"({"file": "g.npz", "train": 0.6, "val": 0.2, "test": 0.2})"));
  EXPECT_EQ(parse_config(f.effective).effective, f.effective);  // config.json as a config
  EXPECT_EQ(parse_config(f.effective).data.npz.train, 0.6);

  const Config n = parse_config(nlohmann::json::object(), with({"data.npz.train=3000", "data.npz.val=250.0",
                                                                "data.npz.test=0.5"}));
  EXPECT_TRUE(n.effective["data"]["npz"]["train"].is_number_integer());
  EXPECT_EQ(n.effective["data"]["npz"]["train"], 3000);
  EXPECT_TRUE(n.effective["data"]["npz"]["val"].is_number_integer());
  EXPECT_EQ(n.effective["data"]["npz"]["val"].dump(), "250");
  EXPECT_EQ(n.effective["data"]["npz"]["test"], 0.5);
  EXPECT_FALSE(n.effective["data"]["npz"].contains("train_per_class"));
  EXPECT_EQ(parse_config(n.effective).effective, n.effective);
  EXPECT_EQ(config_error(with({"data.npz.val=1.0"})),
            "config: data.npz.val: 1.0 is ambiguous: write 1 for one node (a fraction must be below 1)");
  EXPECT_EQ(parse_config(nlohmann::json::object(), with({"data.npz.val=1"})).data.npz.val, 1);

  EXPECT_EQ(config_error(with({"data.npz.train=0.6", "data.npz.train_per_class=5"})),
            "config: data.npz.train_per_class: not used with data.npz.train = 0.6 (training nodes drawn regardless "
            "of class); remove one of the two");
  // A count is named as written, never "100.0" (which would read as the ambiguous 1.0 does).
  EXPECT_EQ(config_error(with({"data.npz.train=100", "data.npz.train_per_class=20"})),
            "config: data.npz.train_per_class: not used with data.npz.train = 100 (training nodes drawn regardless "
            "of class); remove one of the two");
  EXPECT_EQ(config_error(with({"data.npz.train=0", "data.npz.train_per_class=5"})), "");
  EXPECT_EQ(config_error(with({"data.npz.train=0.6", "data.npz.val=0.3", "data.npz.test=0.2"})),
            "config: data.npz: fractions train 0.6 + val 0.3 + test 0.2 of the labelled nodes add up to more than 1 "
            "(lower data.npz.train, data.npz.val or data.npz.test)");
  EXPECT_EQ(config_error(with({"data.npz.val=0.5", "data.npz.test=0.6"})).rfind(
                "config: data.npz: fractions val 0.5 + test 0.6 of", 0),
            0u);
  // Adding up to 1 exactly, in floating point a hair over: accepted.
  EXPECT_EQ(config_error(with({"data.npz.train=0.33", "data.npz.val=0.56", "data.npz.test=0.11"})), "");
}

// A config saved before data.npz.train existed split per class: comparisons read it as train 0.
TEST(Config, ASavedConfigWithoutNpzTrainWasPerClass) {
  const Config c = parse_config(nlohmann::json::object(), {"data.name=npz", "data.npz.file=g.npz"});
  nlohmann::json old = c.effective;
  old["data"]["npz"].erase("train");
  EXPECT_EQ(with_keys_added_since(old), c.effective);
  EXPECT_EQ(with_keys_added_since(c.effective), c.effective);
  nlohmann::json random = c.effective;
  random["data"]["npz"]["train"] = 0.6;
  EXPECT_EQ(with_keys_added_since(random), random);
  EXPECT_EQ(with_keys_added_since(nlohmann::json::object()), nlohmann::json::object());
  EXPECT_EQ(with_keys_added_since(nlohmann::json::parse(R"({"data": 3})")), nlohmann::json::parse(R"({"data": 3})"));
}

// A config saved before data.files existed: comparisons read it with data.files at its defaults.
TEST(Config, ASavedConfigWithoutFilesHasTheirDefaults) {
  const Config c = parse_config(nlohmann::json::object(), {"data.name=npz", "data.npz.file=g.npz"});
  nlohmann::json old = c.effective;
  old["data"].erase("files");
  EXPECT_EQ(with_keys_added_since(old), c.effective);
  // Its split keys are data.npz's, read by the same rules.
  EXPECT_EQ(config_error({"data.files.train=0.6", "data.files.train_per_class=5"}),
            "config: data.files.train_per_class: not used with data.files.train = 0.6 (training nodes drawn "
            "regardless of class); remove one of the two");
  EXPECT_EQ(config_error({"data.files.val=0.5", "data.files.test=0.6"}),
            "config: data.files: fractions val 0.5 + test 0.6 of the labelled nodes add up to more than 1 (lower "
            "data.files.train, data.files.val or data.files.test)");
  EXPECT_EQ(config_error({"data.name=files", "data.files.edges=e", "data.files.features=f"}),
            "config: data.files.labels: required with data.name \"files\" (see docs/data.md)");
  EXPECT_EQ(config_error({"data.files.edge=e"}),
            "config: unknown key \"data.files.edge\" (did you mean \"data.files.edges\"?)");
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"data.name=files", "data.files.edges=e", "data.files.features=f",
                                                    "data.files.labels=l"})
                .data.raw_counts,
            true);
}

// A file name that is not UTF-8 passed every check and the data loaded; then config.json's dump
// failed with "error: internal: [json.exception.type_error.316] invalid UTF-8 byte" (exit 2).
TEST(Config, AStringThatIsNotUtf8IsNamed) {
  EXPECT_EQ(config_error({"data.name=npz", "data.npz.file=\xff.npz"}),
            "config: data.npz.file: not valid UTF-8 (its bytes are kept in config.json and model.bin, which are JSON; "
            "rename the file or folder)");
  EXPECT_EQ(config_error({"output.dir=runs/\xc3"}).rfind("config: output.dir: not valid UTF-8", 0), 0u);
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"output.dir=runs/\xc3\xa9"}).output.dir, "runs/\xc3\xa9");
}

TEST(Config, DefaultNuAndRhoMeetTheConvergenceCondition) {
  Config c = parse_config(nlohmann::json::object());
  EXPECT_TRUE(rho_meets_convergence_condition(c.admm.nu, c.admm.rho));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, WarnsWhenTheConvergenceConditionFails) {
  // The one warning, about this condition and these values (any other warning passed as this one).
  const std::string tail = ": the convergence guarantee of pdADMM-G does not hold (the reference's accuracy runs use "
                           "rho = nu; output.convergence_warning: false silences this)";
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"admm.nu=1", "admm.rho=1"}).warnings,
            std::vector<std::string>{"rho = 1 <= max(4 nu, (sqrt(17)+1) nu / 2) = 4 (nu = 1)" + tail});
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"admm.nu=0.5", "admm.rho=2"}).warnings,
            std::vector<std::string>{"rho = 2 <= max(4 nu, (sqrt(17)+1) nu / 2) = 2 (nu = 0.5)" + tail});
  EXPECT_FALSE(parse_config(nlohmann::json::object(), {"admm.nu=1", "admm.rho=4"}).warnings.empty());
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"admm.nu=1", "admm.rho=4.01"}).warnings.empty());
  EXPECT_TRUE(rho_meets_convergence_condition(1, 4.01));
  EXPECT_FALSE(rho_meets_convergence_condition(1, 4.0));
}

TEST(Config, ConvergenceWarningNamesTheStagesThatFail) {
  // With stages, admm.nu/rho are only defaults: the warning is about the values the stages use.
  const std::string st = "model.stages=[{\"layers\":2,\"iterations\":5,\"nu\":1,\"rho\":5},"
                         "{\"layers\":4,\"iterations\":5,\"nu\":1e-5,\"rho\":1e-5}]";
  const nlohmann::json admm = {{"admm", {{"nu", 1}, {"rho", 1}}}};
  const Config c = parse_config(admm, {st, "model.stage_duals=\"reset\""});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].find("model.stages[0]"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("rho <= max(4 nu, (sqrt(17)+1) nu / 2) in model.stages[1] (nu 1e-05, rho 1e-05):"),
            std::string::npos)
      << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("convergence guarantee"), std::string::npos);
  const std::string ok = "model.stages=[{\"layers\":2,\"iterations\":5,\"nu\":1,\"rho\":5}]";
  EXPECT_TRUE(parse_config(admm, {ok}).warnings.empty());
  // Turned off by a config that means it (the benchmark configs: the reference's rho = nu).
  EXPECT_NE(c.warnings[0].find("output.convergence_warning: false silences this"), std::string::npos);
  EXPECT_TRUE(parse_config(admm, {st, "model.stage_duals=\"reset\"", "output.convergence_warning=false"})
                  .warnings.empty());
}

// FISTA's step past the reference's 4 warns (Cora: test 0.77 at 100, 0.59 at 1000, silently);
// the default 2 and the reference preset's 4 do not.
TEST(Config, FistaStepPastTheReferencesWarns) {
  const Config c = parse_config(nlohmann::json::object(), {"admm.fista.eta=100"});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], "admm.fista.eta = 100 is past 4 (the reference's; 1/L of the cross-entropy's gradient is "
                           "2): the last layer's FISTA steps can overshoot and leave it undertrained");
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"admm.preset=\"reference\""}).warnings.empty());
  EXPECT_TRUE(parse_config(nlohmann::json::object(), {"admm.fista.eta=4"}).warnings.empty());
  EXPECT_TRUE(parse_config(nlohmann::json::object()).warnings.empty());
}

// Float's edges themselves are accepted, and mu = 0 (no weight decay).
TEST(Config, SolverConstantsFitFloat) {
  const Config c = parse_config(nlohmann::json::object(), {"admm.rho=3.4e38", "admm.nu=1.2e-38", "admm.mu=0",
                                                           "admm.fista.eta=1.2e-38", "model.init_std=3.4e38"});
  EXPECT_DOUBLE_EQ(c.admm.rho, 3.4e38);
  EXPECT_EQ(c.admm.mu, 0);
}

// "reference" lowers a rho above its max to max at the first stall (min(rho x factor, max)): said.
TEST(Config, WarnsWhenRhoStartsAboveTheScheduleCap) {
  const auto warning = [](const std::vector<std::string>& sets) {
    for (const std::string& w : parse_config(nlohmann::json::object(), sets).warnings)
      if (w.find("above rho_schedule.max") != std::string::npos) return w;
    return std::string();
  };
  const std::string ref = "admm.rho_schedule.type=\"reference\"";
  EXPECT_EQ(warning({ref, "admm.rho_schedule.max=1e-3"}),
            "rho starts above rho_schedule.max in admm (rho 0.5, rho_schedule.max 0.001): the \"reference\" schedule "
            "takes min(rho x factor, max), as the reference does, so its first stall lowers rho to max (raise max to "
            "keep rho)");
  EXPECT_EQ(warning({ref, "admm.rho=1", "admm.nu=0.1"}), "") << "rho = max stays";
  EXPECT_EQ(warning({"admm.rho_schedule.max=1e-3"}), "") << "no schedule";
  EXPECT_EQ(warning({"admm.rho_schedule={\"type\":\"reference_q10\",\"max\":1e-3}"}), "") << "q10 ignores max";
  const std::string w = warning({ref, "model.stages=[{\"layers\":2,\"iterations\":2,\"rho\":2,\"nu\":0.1},"
                                      "{\"layers\":3,\"iterations\":2},{\"layers\":4,\"iterations\":2,\"rho\":3}]"});
  EXPECT_NE(w.find("in model.stages[0] (rho 2, rho_schedule.max 1), model.stages[2] (rho 3, "), std::string::npos) << w;
}

// [*] over an empty list (after model.stages=[]) set nothing, without a word.
TEST(Config, EveryElementOfAnEmptyListIsAnError) {
  EXPECT_NE(config_error({"model.stages=[]", "model.stages[*].iterations=5"})
                .find("\"model.stages\" is an empty list: [*] has no element to set"),
            std::string::npos);
}

// --set of a whole section replaces it: what the config gave there and the value leaves out is
// named (admm={"rho":2} over cora.json reset nu, mu and the rho schedule without a word).
TEST(Config, ReplacingAWholeObjectNamesWhatFallsBack) {
  const nlohmann::json cfg = {{"admm", {{"nu", 0.01}, {"mu", 0.01}, {"rho", 1}}}, {"model", {{"hidden", 8}}}};
  const auto said = [&](const std::vector<std::string>& sets) {
    std::string all;
    for (const std::string& w : parse_config(cfg, sets).warnings) all += w + "\n";
    return all;
  };
  EXPECT_NE(said({"admm={\"rho\": 2}"}).find("--set admm={…} replaces the whole admm section, so what the config gave "
                                              "there for mu, nu falls back to the defaults (--set admm.KEY=VALUE "
                                              "changes one key)"),
            std::string::npos);
  EXPECT_EQ(said({"admm.rho=2"}).find("replaces the whole"), std::string::npos);
  EXPECT_EQ(said({"admm={\"nu\": 1, \"mu\": 1, \"rho\": 2}"}).find("replaces the whole"), std::string::npos);
  EXPECT_EQ(said({"output={\"dir\": \"x\"}"}).find("replaces the whole"), std::string::npos) << "nothing given there";
  // Keys set again after it are not dropped; nor is what follows from other keys.
  EXPECT_EQ(said({"admm={\"rho\": 2}", "admm.nu=0.1", "admm.mu=1"}).find("replaces the whole"), std::string::npos);
  const nlohmann::json staged = {{"model", {{"layers", 4}, {"hidden", 8}}}};
  EXPECT_EQ(parse_config(staged, {"model={\"hidden\": 8, \"stages\": [{\"layers\": 2, \"iterations\": 3}]}"})
                .warnings.size(),
            0u);
  const nlohmann::json syn = {{"data", {{"name", "synthetic"}, {"synthetic", {{"nodes", 500}}}}}};
  for (const std::string& w : parse_config(syn, {"data={\"name\": \"cora\"}"}).warnings)
    EXPECT_EQ(w.find("replaces the whole"), std::string::npos) << w;
  // An object below a section is one value (a grid, a schedule), replaced whole on purpose.
  const nlohmann::json grid = {{"admm", {{"grid", {{"values", {0, 1}}}}}}};
  for (const std::string& w : parse_config(grid, {"admm.grid={\"min\": 0, \"max\": 2, \"levels\": 4}"}).warnings)
    EXPECT_EQ(w.find("replaces the whole"), std::string::npos) << w;
}

// A checkpoint that writes neither file is named; one that writes state.bin alone is a choice.
TEST(Config, CheckpointsThatWriteNothingWarn) {
  const auto said = [](const std::vector<std::string>& sets) {
    std::string all;
    for (const std::string& w : parse_config(nlohmann::json::object(), sets).warnings) all += w + "\n";
    return all;
  };
  EXPECT_NE(said({"output.checkpoint_every=5", "output.checkpoint=false", "output.state=false"})
                .find("output.checkpoint_every 5 writes nothing: output.checkpoint and output.state are both false"),
            std::string::npos);
  EXPECT_EQ(said({"output.checkpoint_every=5", "output.checkpoint=false"}).find("writes nothing"), std::string::npos);
  EXPECT_EQ(said({"output.checkpoint=false", "output.state=false"}).find("writes nothing"), std::string::npos);
}

TEST(Config, WarnsWhenKeptDualsMeetALowerRho) {
  const std::string st = "model.stages=[{\"layers\":2,\"iterations\":5,\"nu\":1e-5,\"rho\":1e-5},"
                         "{\"layers\":4,\"iterations\":5,\"nu\":1e-5,\"rho\":1e-5}]";
  const std::string sched = "admm.rho_schedule.type=\"reference\"";
  // The schedule can raise stage 1's rho to 1; stage 2 restarts at 1e-5 with the old duals.
  const Config keep = parse_config(nlohmann::json::object(), {st, sched, "model.stage_duals=\"keep\""});
  ASSERT_FALSE(keep.warnings.empty());
  EXPECT_NE(keep.warnings.back().find("model.stages[1] starts at rho = 1e-05"), std::string::npos)
      << keep.warnings.back();
  for (const std::string& w : parse_config(nlohmann::json::object(), {st, sched}).warnings)  // reset, the default
    EXPECT_EQ(w.find("stage_duals"), std::string::npos) << w;
  for (const std::string& w : parse_config(nlohmann::json::object(), {st, "model.stage_duals=\"keep\""}).warnings)  // no schedule: rho stays
    EXPECT_EQ(w.find("stage_duals"), std::string::npos) << w;
}

// The reference's drivers use a different schedule per depth (G-Q-2 the serial rule, G-Q-5 its
// 0.01 threshold, G-Q-10 the windows): a stage's rho_schedule overrides admm's key by key.
TEST(Config, StagesOverrideTheRhoScheduleKeyByKey) {
  const Config c = parse_config(
      nlohmann::json::object(),
      {"admm.rho_schedule={\"type\":\"reference\",\"max\":0.5}",
       "model.stages=[{\"layers\":2,\"iterations\":2},{\"layers\":5,\"iterations\":2,"
       "\"rho_schedule\":{\"threshold\":0.01}},{\"layers\":10,\"iterations\":2,\"rho_schedule\":{\"type\":\"reference_q10\"}}]"});
  ASSERT_EQ(c.model.stages.size(), 3u);
  EXPECT_EQ(c.model.stages[0].rho_schedule.type, "reference");
  EXPECT_DOUBLE_EQ(c.model.stages[0].rho_schedule.threshold, 1e-3);
  EXPECT_DOUBLE_EQ(c.model.stages[1].rho_schedule.threshold, 0.01);
  EXPECT_DOUBLE_EQ(c.model.stages[1].rho_schedule.max, 0.5);  // admm's
  EXPECT_EQ(c.model.stages[2].rho_schedule.type, "reference_q10");
  // Every stage's schedule is in the effective config, so a saved config.json runs the same.
  const Config again = parse_config(c.effective);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(again.model.stages[i].rho_schedule.type, c.model.stages[i].rho_schedule.type) << i;
    EXPECT_EQ(again.model.stages[i].rho_schedule.threshold, c.model.stages[i].rho_schedule.threshold) << i;
    EXPECT_EQ(again.model.stages[i].rho_schedule.max, c.model.stages[i].rho_schedule.max) << i;
  }
  const auto error_of = [](const std::string& stages) {
    try {
      parse_config(nlohmann::json::object(), {"model.stages=" + stages});
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("[{\"layers\":2,\"iterations\":2,\"rho_schedule\":{\"threshold\":-1}}]")
                .find("model.stages[0].rho_schedule.threshold"),
            std::string::npos);
  // A saved config.json records max for every type: switching it to reference_q10 must still parse.
  EXPECT_EQ(error_of("[{\"layers\":2,\"iterations\":2,\"rho_schedule\":{\"type\":\"reference_q10\",\"max\":1}}]"),
            "no error");
  EXPECT_NE(error_of("[{\"layers\":2,\"iterations\":2,\"rho_schedule\":{\"typo\":1}}]")
                .find("model.stages[0].rho_schedule.typo"),
            std::string::npos);
}

// --set admm.rho on a staged config is only the stages' default: where a stage has its own, the
// override would be lost without a word, so the stages that win are named.
TEST(Config, OverridesShadowedByStagesAreNamed) {
  const nlohmann::json staged = nlohmann::json::parse(R"({"model": {"stages": [
      {"layers": 2, "iterations": 2, "rho": 1e-5},
      {"layers": 4, "iterations": 2, "rho": 1e-3, "rho_schedule": {"threshold": 0.01}}]}})");
  const auto warnings = [&](const std::string& set) {
    std::string all;
    for (const std::string& w : parse_config(staged, {set}).warnings) all += w + "\n";
    return all;
  };
  EXPECT_NE(warnings("admm.rho=0.5").find("--set admm.rho is only the stages' default: model.stages[0], "
                                           "model.stages[1] set their own rho, which wins there"),
            std::string::npos)
      << warnings("admm.rho=0.5");
  EXPECT_NE(warnings("admm.rho_schedule.threshold=0.1").find("model.stages[1] sets its own rho_schedule.threshold"),
            std::string::npos);
  EXPECT_EQ(warnings("admm.mu=0.5").find("only the stages' default"), std::string::npos) << "no stage sets mu";
  // Every stage given the same value too (model.stages[*].rho): nothing is lost, nothing said.
  EXPECT_TRUE(parse_config(staged, {"admm.rho=0.5", "model.stages[*].rho=0.5"}).warnings.empty());
  EXPECT_EQ(warnings("admm.step=\"exact\"").find("only the stages' default"), std::string::npos);
  nlohmann::json stepped = staged;
  stepped["model"]["stages"][0]["step"] = "backtrack";
  EXPECT_NE(parse_config(stepped, {"admm.step=\"exact\""}).warnings.at(0).find("model.stages[0] sets its own step"),
            std::string::npos);
  EXPECT_EQ(warnings("admm.rho_schedule.type=\"none\"").find("only the stages' default"), std::string::npos);
  EXPECT_EQ(warnings("model.stages[0].rho=0.5").find("only the stages' default"), std::string::npos);
  // The whole section given: each of its keys a stage overrides is named as part of it.
  const std::string whole = warnings(R"(admm={"rho": 0.5, "mu": 0.5})");
  EXPECT_NE(whole.find("--set admm={…}'s rho is only the stages' default: model.stages[0], model.stages[1] set "
                       "their own rho"),
            std::string::npos) << whole;
  EXPECT_EQ(whole.find("'s mu "), std::string::npos) << "no stage sets mu: " << whole;
  // A stage's rho_schedule is merged key by key: only the keys a stage sets itself are named.
  const std::string sched = warnings(R"(admm={"rho_schedule": {"threshold": 0.05, "max": 2}})");
  EXPECT_NE(sched.find("--set admm={…}'s rho_schedule.threshold is only the stages' default: model.stages[1] sets "
                       "its own rho_schedule.threshold"),
            std::string::npos) << sched;
  EXPECT_EQ(sched.find("rho_schedule.max"), std::string::npos) << sched;
  EXPECT_EQ(sched.find("own rho_schedule,"), std::string::npos) << sched;
  // Each key once, from the --set that last gave it; a key a later section dropped is not named.
  const auto all = [&](const std::vector<std::string>& sets) {
    std::string out;
    for (const std::string& w : parse_config(staged, sets).warnings) out += w + "\n";
    return out;
  };
  const std::string twice = all({R"(admm={"rho": 0.5})", R"(admm={"rho": 0.25})"});
  EXPECT_EQ(twice.find("rho is only"), twice.rfind("rho is only")) << twice;
  EXPECT_EQ(all({"admm.rho=0.5", R"(admm={"mu": 0.5})"}).find("only the stages' default"), std::string::npos);
  // model.zl_init and model.stage_last default the stages' zl_init and last, which a saved
  // config.json records for every stage (and every later stage): --set of either changed nothing.
  nlohmann::json saved = staged;
  saved["model"]["stages"][0]["zl_init"] = "zeros";
  saved["model"]["stages"][1]["zl_init"] = "zeros";
  saved["model"]["stages"][1]["last"] = "fresh";
  const auto said = [&](const std::string& set) {
    std::string out;
    for (const std::string& w : parse_config(saved, {set}).warnings) out += w + "\n";
    return out;
  };
  EXPECT_NE(said("model.zl_init=\"labels\"").find("--set model.zl_init is only the stages' default: model.stages[0], "
                                                   "model.stages[1] set their own zl_init, which wins there (set "
                                                   "model.stages[i].zl_init, or model.stages[*].zl_init for every stage,"),
            std::string::npos)
      << said("model.zl_init=\"labels\"");
  EXPECT_NE(said("model.stage_last=\"eye\"").find("--set model.stage_last is only the stages' default: model.stages[1] "
                                                   "sets its own last, which wins there (set model.stages[i].last for "
                                                   "each stage after the first instead)"),
            std::string::npos)
      << said("model.stage_last=\"eye\"");
  EXPECT_EQ(said("model.stage_last=\"fresh\"").find("only the stages' default"), std::string::npos) << "the same value";
  EXPECT_EQ(warnings("model.zl_init=\"labels\"").find("only the stages' default"), std::string::npos) << "no stage sets it";
}

TEST(Config, ReferencePresetSetsParityFlagsAndKeysStillOverride) {
  Config c = parse_config(nlohmann::json::object(), {"admm.preset=\"reference\""});
  EXPECT_FALSE(c.admm.z_prox_in_compare);
  EXPECT_EQ(c.admm.ce, CeMode::Reference);
  EXPECT_DOUBLE_EQ(c.admm.fista_eta, 4);
  Config d = parse_config(nlohmann::json::object(), {"admm.preset=\"reference\"", "admm.z_branch=\"exact\""});
  EXPECT_TRUE(d.admm.z_prox_in_compare);
}

TEST(Config, StagesSetLayersAndIterations) {
  Config c = parse_config(nlohmann::json::object(),
                          {"admm.rho=0.01", "model.stages=[{\"layers\":2,\"iterations\":20,\"rho\":1e-5,\"mu\":10},"
                                            "{\"layers\":5,\"iterations\":10}]"});
  EXPECT_EQ(c.model.layers, 5);
  EXPECT_EQ(c.iterations, 30);
  ASSERT_EQ(c.model.stages.size(), 2u);
  EXPECT_DOUBLE_EQ(c.model.stages[0].rho, 1e-5);
  EXPECT_DOUBLE_EQ(c.model.stages[0].mu, 10);
  EXPECT_DOUBLE_EQ(c.model.stages[1].rho, 0.01);  // admm.* by default
  EXPECT_EQ(c.model.stage_duals, "reset");
  EXPECT_EQ(c.effective["admm"]["iterations"], 30);
  EXPECT_EQ(c.effective["model"]["stages"][1]["mu"].get<double>(), c.admm.mu);
  // last / zl_init per stage default to model.stage_last / model.zl_init.
  EXPECT_EQ(c.model.stages[1].last, "fresh");
  EXPECT_EQ(c.model.stages[1].zl_init, "zeros");
  Config r = parse_config(nlohmann::json::object(),
                          {"model.stage_last=\"keep\"", "model.stages=[{\"layers\":2,\"iterations\":2},"
                                                        "{\"layers\":5,\"iterations\":1,\"zl_init\":\"labels\"},"
                                                        "{\"layers\":10,\"iterations\":1,\"last\":\"eye\"}]"});
  EXPECT_EQ(r.model.stages[1].last, "keep");
  EXPECT_EQ(r.model.stages[1].zl_init, "labels");
  EXPECT_EQ(r.model.stages[2].last, "eye");
  EXPECT_EQ(r.model.stages[2].zl_init, "zeros");
  EXPECT_FALSE(r.effective["model"]["stages"][0].contains("last"));  // so a saved config parses again
  EXPECT_EQ(parse_config(r.effective).model.stages[2].last, "eye");
  // The last stage must be the model; admm.iterations, if given, must be the stages' sum.
  EXPECT_THROW(parse_config(nlohmann::json::object(), {"model.layers=4", "model.stages=[{\"layers\":5,\"iterations\":1}]"}),
               Error);
  EXPECT_THROW(parse_config(nlohmann::json::object(), {"admm.iterations=4", "model.stages=[{\"layers\":5,\"iterations\":1}]"}),
               Error);
}

TEST(Config, PartitionSetsGroups) {
  Config c = parse_config(nlohmann::json::object(), {"model.layers=5", "partition=[2,3]"});
  EXPECT_EQ(c.groups, 2);
  EXPECT_EQ(c.partition, (std::vector<int>{2, 3}));  // in its order: the first group holds 2 layers
}

TEST(Config, UnderscoreKeysAreComments) {
  // Skipped, and only they: the keys beside them are read.
  const Config c = parse_config(nlohmann::json{{"_comment", "x"}, {"model", {{"_note", 1}, {"hidden", 48}}}});
  EXPECT_EQ(c.model.hidden, 48);
  const Config g = parse_config(nlohmann::json::object(), {"algorithm=pdadmm-g-q",
                                                           "admm.grid={\"_why\": 1, \"min\": 0, \"max\": 2, \"levels\": 16}"});
  ASSERT_EQ(g.admm.grid.size(), 16);
  EXPECT_EQ(g.admm.grid.levels.front(), 0.0);
  EXPECT_DOUBLE_EQ(g.admm.grid.levels.back(), 2.0);
  // A note does not end the check for unknown keys after it (in key order).
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json{{"_comment", "x"}, {"modle", {{"hidden", 48}}}}); })
                .rfind("config: unknown key \"modle\"", 0),
            0u);
  EXPECT_EQ(test::error_of([] { parse_config(nlohmann::json{{"model", {{"_note", 1}, {"hiddn", 48}}}}); })
                .rfind("config: unknown key \"model.hiddn\"", 0),
            0u);
}

// A typo (one or two edits, a swap of neighbours one, at most a third of the key) names the key it meant; anything further
// from every key is only unknown, unless a section has a key of that name.
TEST(Config, AMisspelledKeyNamesTheOneItMeant) {
  EXPECT_EQ(config_error({"model.layer=3"}), "config: unknown key \"model.layer\" (did you mean \"model.layers\"?)");
  EXPECT_EQ(config_error({"model.Hops=3"}), "config: unknown key \"model.Hops\" (did you mean \"model.hops\"?)");
  EXPECT_EQ(config_error({"admm.rho_shedule.type=\"reference\""}),
            "config: unknown key \"admm.rho_shedule\" (did you mean \"admm.rho_schedule\"?)");
  EXPECT_EQ(config_error({"thread=2"}), "config: unknown key \"thread\" (did you mean \"threads\"?)");
  EXPECT_EQ(config_error({"modle.layers=3"}), "config: unknown key \"modle\" (did you mean \"model\"?)");
  EXPECT_EQ(config_error({"admm.foo=1"}), "config: unknown key \"admm.foo\"");
  // Another tool's spelling around a known word names it.
  EXPECT_EQ(config_error({"model.num_layers=4"}), "config: unknown key \"model.num_layers\" (did you mean \"model.layers\"?)");
  EXPECT_EQ(config_error({"model.hidden_dim=4"}), "config: unknown key \"model.hidden_dim\" (did you mean \"model.hidden\"?)");
  // Every unknown key of an object at once (another tool's config was refused a key at a time).
  EXPECT_EQ(config_error({"lr=0.1", "dataset=\"cora\"", "thread=2"}),
            "config: unknown keys \"dataset\" (did you mean \"data\"?), \"lr\", \"thread\" (did you mean \"threads\"?)");
  EXPECT_EQ(config_error({"admm.mm=1"}), "config: unknown key \"admm.mm\"");  // 2 letters: too short to guess
  // A value as near two allowed ones names both ("pdadmm-g" alone silently dropped the -Q meant).
  EXPECT_EQ(config_error({"algorithm=\"pdadmm-gq\""}),
            "config: algorithm: \"pdadmm-gq\" is not one of \"pdadmm-g\", \"pdadmm-g-q\" (did you mean \"pdadmm-g\" or "
            "\"pdadmm-g-q\"?)");
  EXPECT_EQ(config_error({"data.name=\"corra\""}).find("(did you mean \"cora\"?)") != std::string::npos, true);
  // A section's key given outside it names where it lives (every place, when several).
  EXPECT_EQ(config_error({"iterations=5"}), "config: unknown key \"iterations\" (did you mean \"admm.iterations\"?)");
  EXPECT_EQ(config_error({"hidden=8"}), "config: unknown key \"hidden\" (did you mean \"model.hidden\"?)");
  EXPECT_EQ(config_error({"type=\"none\""}),
            "config: unknown key \"type\" (did you mean \"admm.rho_schedule.type\"?)");
  EXPECT_EQ(config_error({"train=5"}),
            "config: unknown key \"train\" (did you mean \"data.files.train\" or \"data.npz.train\"?)");
  EXPECT_EQ(config_error({"val=5"}), "config: unknown key \"val\" (did you mean \"data.files.val\", "
                                     "\"data.npz.val\" or \"data.synthetic.val\"?)");
  EXPECT_EQ(config_error({"model.rho=1"}), "config: unknown key \"model.rho\"");  // within a section: its own keys only
  // A key one level too deep: --set made its parent an object, named as not having that key.
  EXPECT_EQ(config_error({"admm.rho.max=1"}), "config: admm.rho: expected a number, got an object (admm.rho.max is not a key)");
  EXPECT_EQ(config_error({"model.hidden.x=1"}),
            "config: model.hidden: expected an integer, got an object (model.hidden.x is not a key)");
}

// The same for a value from a fixed list (a data set's name, the backend).
TEST(Config, AMisspelledChoiceNamesTheOneItMeant) {
  EXPECT_EQ(config_error({"backend=cpy"}), "config: backend: \"cpy\" is not one of \"cpu\", \"cuda\" (did you mean \"cpu\"?)");
  const std::string corra = config_error({"data.name=corra"});
  EXPECT_EQ(corra.rfind("config: data.name: \"corra\" is not one of", 0), 0u) << corra;
  EXPECT_NE(corra.find("\"coauthor_cs\", \"npz\", \"files\" (did you mean \"cora\"?)"), std::string::npos) << corra;
  EXPECT_EQ(config_error({"backend=rocm"}), "config: backend: \"rocm\" is not one of \"cpu\", \"cuda\"");  // no guess
  // One letter from "cpu", but meant the GPU.
  EXPECT_EQ(config_error({"backend=gpu"}), "config: backend: \"gpu\" is not one of \"cpu\", \"cuda\" (the GPU backend is \"cuda\")");
}

TEST(Config, MalformedFileNamesTheFile) {
  const std::string path = ::testing::TempDir() + "/bad_config.json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("{\"model\": {\"layers\": 3,}", f);
  std::fclose(f);
  try {
    load_config(path);
    FAIL() << "accepted malformed JSON";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_config(::testing::TempDir() + "/does_not_exist.json"), Error);
}

// A mistake in the file names the file, with or without --set values; one in a --set value does
// not (with both given, "config: unknown key" did not say where to look).
TEST(Config, AFilesOwnMistakeNamesTheFile) {
  const std::string path = ::testing::TempDir() + "/key_config.json";
  std::ofstream(path) << R"({"model": {"layer": 3}})";
  const std::string named = "config: " + path + ": unknown key \"model.layer\" (did you mean \"model.layers\"?)";
  EXPECT_EQ(test::error_of([&] { load_config(path); }), named);
  EXPECT_EQ(test::error_of([&] { load_config(path, {"seed=1"}); }), named);
  std::ofstream(path) << R"({"model": {"layers": 3}})";
  EXPECT_EQ(test::error_of([&] { load_config(path, {"model.hiden=8"}); }),
            "config: unknown key \"model.hiden\" (did you mean \"model.hidden\"?)");
  // A file value the --set values make invalid is the --set's doing: not named.
  EXPECT_EQ(test::error_of([&] { load_config(path, {"groups=4"}); }),
            "config: groups: 4 groups for 3 layers (groups must be <= model.layers)");
}

// A config file past JSON's sane limits: one line naming the file and what is wrong.
TEST(Config, FileLimitsNameTheFileAndTheProblem) {
  const std::string path = ::testing::TempDir() + "/limits_config.json";
  const std::string deep = "{\"_c\":" + [] {
    std::string s;
    for (int i = 0; i < 50000; ++i) s += "{\"a\":";
    return s + "1" + std::string(50000, '}');
  }() + "}";
  for (const auto& [text, problem] : std::vector<std::pair<std::string, std::string>>{
           {deep, "nested deeper than 64 levels"},  // once a stack overflow
           {"{\"seed\": 1, \"seed\": 2}", "key \"seed\" appears twice in one object (at seed)"},
           {"{\"admm\": {\"rho\": 1e400}}", "a number is out of range (at admm.rho): number overflow parsing '1e400'"},
           // Where, in a staged config's many rho and mu keys: the path, list indices included.
           {R"({"model": {"stages": [{"layers": 2, "mu": 1}, {"layers": 4, "mu": 1, "rho": 1, "mu": 2}]}})",
            "key \"mu\" appears twice in one object (at model.stages[1].mu)"},
           {R"({"model": {"stages": [{"layers": 2}, [[1], 2], {"rho": 1e400}]}})", "out of range (at model.stages[2].rho)"},
           {R"({"partition": [1, 2, -1e999]})", "out of range (at partition[2])"},
           {"null", "expected a JSON object"},
           {"[1]", "expected a JSON object"},
           {std::string("{}\0", 3), "NUL byte"},
           {"{\"seed\": \xff\xfe\n}", ": \\xff'"},  // the bytes quoted, as text
           // A trailing comma is named as such (nlohmann names only the bracket).
           {"{\"admm\": {\"rho\": 1,\n  }}", "(a comma before the closing '}': JSON allows none after the last item)"},
           {"{\"partition\": [1, 1, ]}", "(a comma before the closing ']'"}}) {
    std::ofstream(path, std::ios::binary) << text;
    try {
      load_config(path, {"seed=1"});
      ADD_FAILURE() << problem << ": accepted";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find(problem), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_TRUE(std::all_of(m.begin(), m.end(), [](unsigned char ch) { return ch >= 0x20 && ch < 0x7f; })) << m;
    }
  }
  // A --set's value: the path below its key.
  EXPECT_NE(config_error({R"(admm={"nu": 1, "nu": 2})"}).find("key \"nu\" appears twice in one object (at admm.nu)"),
            std::string::npos);
  EXPECT_NE(config_error({R"(model.stages=[{"layers": 2, "rho": 1e400}])"}).find("out of range (at model.stages[0].rho)"),
            std::string::npos);
  // A device that never ends: it was read until memory ran out (/dev/zero) or forever (/dev/urandom).
  if (std::filesystem::is_character_file("/dev/zero")) {
    EXPECT_EQ(test::error_of([] { load_config("/dev/zero", {}); }),
              "config: /dev/zero: larger than 64 MiB (not a config file?)");
  }
}

// Every shipped config (configs/*.json, the sweep files aside) passes the strict validation, so a
// renamed key or a typo in a ready config fails here rather than in a user's first run; and warns
// of nothing, so that the warnings a user sees are about what they changed (the benchmark configs'
// ρ = ν, the reference's recipe, warned on every run of them).
TEST(Config, EveryShippedConfigLoads) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PDADMM_SOURCE_DIR) + "/configs")) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().string());
    Config c;
    EXPECT_NO_THROW(c = load_config(e.path().string()));
    EXPECT_EQ(c.warnings, std::vector<std::string>());
    ++n;
  }
  EXPECT_GE(n, 16);
}

// tools/fuzz/fuzz_config.cpp's findings: sizes past what the plans can hold are refused naming the
// key and its limit, before anything is sized from them.
TEST(Config, SizesPastThePlansLimitsAreRefused) {
  // 32-bit node ids: 2^31 nodes used to pass and their splits' int32 indices wrap.
  std::string m = config_error({"data.synthetic.nodes=2147483648"});
  EXPECT_NE(m.find("data.synthetic.nodes: must be in [10, 2147483647]"), std::string::npos) << m;
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"data.synthetic.nodes=2147483647"}).data.synthetic.nodes, 2147483647);
  // model.layers=2000000000 sized a dims vector of 16 GB in info's plan before any check.
  m = config_error({"model.layers=2000000000"});
  EXPECT_NE(m.find("model.layers: must be in [2, 10000]"), std::string::npos) << m;
  m = config_error({"model.stages=[{\"layers\": 2, \"iterations\": 1}, {\"layers\": 10001, \"iterations\": 1}]"});
  EXPECT_NE(m.find("model.stages[1].layers: must be in [2, 10000]"), std::string::npos) << m;
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"model.layers=10000"}).model.layers, 10000);
  // The stages' iterations add up in an int: their limit is named (it was only "too many").
  m = config_error({"model.layers=3", "model.stages=[{\"layers\": 2, \"iterations\": 600000000}, "
                    "{\"layers\": 3, \"iterations\": 400000001}]"});
  EXPECT_NE(m.find("model.stages[1].iterations: too many iterations in all (at most 1000000000 over the stages, "
                   "600000000 before this one)"), std::string::npos) << m;
  // The partition's sum overflowed int (signed overflow, UB) and could come out equal to model.layers.
  m = config_error({"partition=[2147483647, 2147483647, 4]"});
  EXPECT_NE(m.find("partition: sizes add up to 4294967298, model.layers is 2"), std::string::npos) << m;
}

// info's plan of the largest sizes a config allows: finite byte counts and FLOPs, no overflow of
// int64 products (layer_uses_gram, plan_group_elements summed hidden x hidden and N x N tensors
// in int64; a UBSan build failed here), or one Error.
TEST(Config, TheLargestModelPlansWithoutOverflow) {
  const Config c = parse_config(nlohmann::json::object(), {"model.layers=3", "model.hidden=2147483647",
                                                           "admm.gram=\"on\""});
  ProblemShape s;
  s.n_cols = 2147483647;
  s.nodes = 2147483647;
  s.scored = s.nodes;
  s.hops = 64;
  s.dims = stage_dims(int64_t(2147483647) * 65, 2147483647, c);
  const double h = 2147483647.0, n = h;
  EXPECT_TRUE(layer_uses_gram(s.dims, 1, 1)) << "N = 1: the Gram matrix is the smaller";
  EXPECT_FALSE(layer_uses_gram(s.dims, 1, s.n_cols));
  const RunPlan p = plan_run(c, s);
  ASSERT_EQ(p.group_bytes.size(), 1u);
  EXPECT_GT(p.total, 4 * (h * h + 3 * n * n));  // W of layer 1 and the three layers' N x N Gram matrices
  EXPECT_TRUE(std::isfinite(p.total) && std::isfinite(p.host_side) && std::isfinite(p.flops));
  EXPECT_GT(p.flops, 0);
  // Two groups send p and q of 2^31 x 2^31 across their boundary: too large to encode, said in one line.
  const Config two = parse_config(nlohmann::json::object(), {"model.layers=3", "model.hidden=2147483647", "groups=2"});
  s.dims = stage_dims(int64_t(2147483647) * 65, 2147483647, two);
  const std::string e = test::error_of([&] { plan_run(two, s); });
  EXPECT_NE(e.find("too large to send (2^59 values or more)"), std::string::npos) << e;
}

// The plan's total is every group's bytes (the memory check before a run compares it), not the
// last group's.
TEST(Config, ARunPlanTotalsEveryGroup) {
  const Config c = parse_config(nlohmann::json::object(), {"model.layers=4", "model.hidden=16", "groups=3"});
  ProblemShape s;
  s.n_cols = 500;
  s.nodes = 600;
  s.scored = 300;
  s.hops = 2;
  s.dims = stage_dims(100, 5, c);
  const RunPlan p = plan_run(c, s);
  ASSERT_EQ(p.group_bytes.size(), 3u);
  EXPECT_EQ(p.partition, (std::vector<int>{2, 1, 1}));
  double sum = 0;
  for (const double g : p.group_bytes) {
    EXPECT_GT(g, 0);
    sum += g;
  }
  EXPECT_EQ(p.total, sum);
  EXPECT_GT(p.total, p.group_bytes.back());
}

// At most kMaxJsonDepth levels of nesting, as json_reader.h says: 64 load, 65 are refused.
TEST(Config, JsonNestingIsRefusedJustPastItsLimit) {
  const auto nested = [](int levels) {
    return std::string(static_cast<size_t>(levels), '[') + std::string(static_cast<size_t>(levels), ']');
  };
  EXPECT_NO_THROW(parse_json(nested(kMaxJsonDepth), "deep.json"));
  EXPECT_NO_THROW(parse_json("{\"a\": " + nested(kMaxJsonDepth - 1) + "}", "deep.json"));
  const std::string e = test::error_of([&] { parse_json(nested(kMaxJsonDepth + 1), "deep.json"); });
  EXPECT_NE(e.find("deep.json: nested deeper than 64 levels"), std::string::npos) << e;
  const std::string o = test::error_of([&] { parse_json("{\"a\": " + nested(kMaxJsonDepth) + "}", "deep.json"); });
  EXPECT_NE(o.find("deep.json: nested deeper than 64 levels (at a"), std::string::npos) << o;
}

// info and train generate the synthetic set before any other check: one too large for the host
// (8e14 bytes of features) stops in one line naming the keys, not in std::bad_alloc or the OOM killer.
TEST(Config, ASyntheticSetLargerThanMemoryIsOneLine) {
  const test::CommandResult r = test::run_command(std::string(PDADMM_BINARY) +
                                                  " info --set data.synthetic.nodes=2000000000 --set "
                                                  "data.synthetic.features=100000");
  test::expect_one_line_error(r, "out of host memory: the synthetic data set (data.synthetic.nodes 2000000000 x "
                                 "features 100000, avg_degree 10) needs ");
  EXPECT_NE(r.out.find("lower data.synthetic.nodes, features or avg_degree"), std::string::npos) << r.out;
}

// README's Configuration table against the parser: every key the effective config holds has a
// row, and each row's plain default (a number, a string, a boolean) is the parser's. A new key
// or a changed default that the README misses fails here.
struct ReadmeRow {
  std::vector<std::string> keys;  // "a.b", or "a.b.*" for every key below a.b
  std::string defaults;           // the default cell, parenthesised remarks removed
};

std::vector<std::string> code_spans(const std::string& cell) {
  std::vector<std::string> out;
  for (size_t a = cell.find('`'); a != std::string::npos; a = cell.find('`', a)) {
    const size_t b = cell.find('`', a + 1);
    if (b == std::string::npos) break;
    out.push_back(cell.substr(a + 1, b - a - 1));
    a = b + 1;
  }
  return out;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t a = 0;
  for (size_t b; (b = s.find(sep, a)) != std::string::npos; a = b + sep.size()) out.push_back(s.substr(a, b - a));
  out.push_back(s.substr(a));
  return out;
}

std::vector<ReadmeRow> readme_config_rows() {
  std::ifstream in(std::string(PDADMM_SOURCE_DIR) + "/README.md");
  std::vector<ReadmeRow> rows;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) inside = line == "## Configuration";
    if (!inside || line.rfind("| `", 0) != 0) continue;
    const std::vector<std::string> cells = split(line.substr(2), " |");  // "| a | b | |": a, b, ""
    if (cells.size() < 2) continue;
    ReadmeRow row;
    for (const std::string& span : code_spans(cells[0])) {  // "a.{x,y}" -> a.x, a.y
      const size_t open = span.find('{');
      if (open == std::string::npos) {
        row.keys.push_back(span);
        continue;
      }
      for (const std::string& leaf : split(span.substr(open + 1, span.find('}') - open - 1), ","))
        row.keys.push_back(span.substr(0, open) + leaf);
    }
    std::string d = cells[1].substr(cells[1].find_first_not_of(' '));
    for (size_t a; (a = d.find(" (")) != std::string::npos;) d.erase(a, d.find(')', a) + 1 - a);
    row.defaults = d;
    rows.push_back(row);
  }
  return rows;
}

void leaf_keys(const nlohmann::json& j, const std::string& at, std::vector<std::string>& out) {
  if (!j.is_object()) {
    out.push_back(at);
    return;
  }
  for (const auto& [k, v] : j.items()) leaf_keys(v, at.empty() ? k : at + "." + k, out);
}

TEST(ConfigDocs, TheReadmeTableHasEveryKeyAndItsDefault) {
  const std::vector<ReadmeRow> rows = readme_config_rows();
  ASSERT_GT(rows.size(), 40u) << "README.md's Configuration table was not found";
  const nlohmann::json eff = parse_config(nlohmann::json::object()).effective;
  std::vector<std::string> keys;
  leaf_keys(eff, "", keys);
  for (const std::string& key : keys) {
    bool documented = false;
    for (const ReadmeRow& row : rows)
      for (const std::string& k : row.keys)
        documented |= k == key || (k.size() > 2 && k.compare(k.size() - 2, 2, ".*") == 0 &&
                                   key.rfind(k.substr(0, k.size() - 1), 0) == 0);
    EXPECT_TRUE(documented) << "config key " << key << " has no row in README.md's Configuration table";
  }
  int checked = 0;
  for (const ReadmeRow& row : rows) {
    if (row.defaults.find(" with ") != std::string::npos) continue;  // a default that depends on another key
    std::vector<std::string> values = split(row.defaults, ", ");
    if (values.size() == 1) values = std::vector<std::string>(row.keys.size(), values[0]);  // one for all
    ASSERT_EQ(values.size(), row.keys.size()) << "README row " << row.keys[0] << ": one default per key";
    for (size_t i = 0; i < values.size(); ++i) {
      std::string v = values[i];
      if (!v.empty() && v.front() == '`') v = v.substr(1, v.find('`', 1) - 1);
      const std::string& key = row.keys[i];
      if (v == "–" || v == "see below" || key.find('*') != std::string::npos) continue;
      const nlohmann::json* got = &eff;
      for (const std::string& part : split(key, ".")) {
        ASSERT_TRUE(got->is_object() && got->contains(part)) << "README row " << key << " is not a config key";
        got = &(*got)[part];
      }
      nlohmann::json want;
      if (v == "true" || v == "false")
        want = v == "true";
      else if (v.size() >= 2 && v.front() == '"')
        want = v.substr(1, v.size() - 2);
      else if (char* end = nullptr; !v.empty() && (std::strtod(v.c_str(), &end), *end == '\0'))
        want = std::strtod(v.c_str(), nullptr);
      else
        want = v;  // a bare word: a string default such as runs/latest
      if (want.is_number())
        EXPECT_TRUE(got->is_number() && got->get<double>() == want.get<double>())
            << key << ": README says " << v << ", the parser " << got->dump();
      else
        EXPECT_EQ(*got, want) << key << ": README says " << v << ", the parser " << got->dump();
      ++checked;
    }
  }
  EXPECT_GT(checked, 40) << "defaults compared";
}

}  // namespace
}  // namespace pdadmm
