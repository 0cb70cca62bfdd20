// Strict reading of a JSON object into typed fields: wrong types, out-of-range values and
// unknown keys each raise one Error naming the dotted key. Every value read (or defaulted) is
// recorded, so the effective configuration can be echoed and saved.
#pragma once
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pdadmm {

// A wrong value in an error message: a scalar as the user wrote it (a --set string, cut at 60
// characters, bad UTF-8 replaced), a list or an object by its type.
std::string describe_value(const nlohmann::json& v);
// The known name a typo meant (one or two edits: insert, delete, replace, swap neighbours; at most a
// third of the name), "" when none is that near.
std::string nearest_name(const std::string& name, const std::vector<std::string>& known);
// Every known name as near as the nearest (a tie named as one misled: "pdadmm-gq").
std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& known);

class JsonReader {
 public:
  // `effective` receives every key read, with the value in force.
  JsonReader(const nlohmann::json* j, std::string path, nlohmann::json* effective);

  void number(const char* key, double& out, const std::function<bool(double)>& ok = {}, const char* rule = "");
  void integer(const char* key, int& out, const std::function<bool(long long)>& ok = {}, const char* rule = "");
  void integer(const char* key, long long& out, const std::function<bool(long long)>& ok = {}, const char* rule = "");
  // A count (an integer from 1 to 2^31 - 1) or a fraction in (0, 1); 0 too when zero_ok. Recorded
  // as an integer when it is one.
  void count_or_fraction(const char* key, double& out, bool zero_ok, const char* rule);
  void boolean(const char* key, bool& out);
  void string(const char* key, std::string& out, const std::vector<std::string>& allowed = {});
  void int_list(const char* key, std::vector<int>& out);
  bool has(const char* key) const;
  // Raw value (or null) for types a caller validates itself; marks the key as known.
  const nlohmann::json* raw(const char* key);
  JsonReader child(const char* key);
  // Throws for keys that were never read.
  void finish();
  std::string where(const char* key) const;

 private:
  const nlohmann::json* find(const char* key);
  const nlohmann::json* j_;
  std::string path_;
  nlohmann::json* eff_;
  std::set<std::string> seen_;
};

// Parses JSON that a user hands us (a config file, a --set value, a checkpoint header) with
// limits: at most kMaxJsonDepth levels of nesting (deeper ones overflowed the stack when copied),
// no key twice in one object (JSON would keep the last silently), numbers within double range.
// Errors name `what`, and where in the text (model.stages[1].mu; below `key` for a --set's value);
// a text that is not JSON at all reports its position.
constexpr int kMaxJsonDepth = 64;
nlohmann::json parse_json(const std::string& text, const std::string& what, bool allow_comments = false,
                          const std::string& key = "");

// Applies "a.b.c=value" to j (value parsed as JSON, else taken as a string); a segment may index
// an existing list element, "model.stages[2].mu=0.1". Creates objects on the way; the strict
// reader then rejects keys that do not exist.
void apply_override(nlohmann::json& j, const std::string& assignment);

}  // namespace pdadmm
