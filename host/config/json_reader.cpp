// Strict JSON field reader and dotted-path overrides.
#include "host/config/json_reader.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "host/io/error.h"

namespace pdadmm {

namespace {
const char* type_name(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return "an object";
}
}  // namespace

JsonReader::JsonReader(const nlohmann::json* j, std::string path, nlohmann::json* effective)
    : j_(j), path_(std::move(path)), eff_(effective) {
  if (j_ && !j_->is_object())
    throw Error("config: " + (path_.empty() ? std::string("top level") : path_) + ": expected an object, got " +
                type_name(*j_));
}

std::string JsonReader::where(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

const nlohmann::json* JsonReader::find(const char* key) {
  seen_.insert(key);
  if (!j_) return nullptr;
  auto it = j_->find(key);
  return it == j_->end() ? nullptr : &*it;
}

bool JsonReader::has(const char* key) const { return j_ && j_->contains(key); }

const nlohmann::json* JsonReader::raw(const char* key) {
  const nlohmann::json* v = find(key);
  if (v) (*eff_)[key] = *v;
  return v;
}

void JsonReader::number(const char* key, double& out, std::function<bool(double)> ok, const char* rule) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_number()) throw Error("config: " + where(key) + ": expected a number, got " + type_name(*v));
    out = v->get<double>();
  }
  if (!std::isfinite(out)) throw Error("config: " + where(key) + ": must be finite");
  if (ok && !ok(out)) throw Error("config: " + where(key) + ": " + rule + ", got " + nlohmann::json(out).dump());
  (*eff_)[key] = out;
}

void JsonReader::integer(const char* key, long long& out, std::function<bool(long long)> ok, const char* rule) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_number_integer()) {
      // 3.0 is an integer a user may well write; 3.5 is not.
      if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() && std::fabs(v->get<double>()) < 9e15)
        out = static_cast<long long>(v->get<double>());
      else
        throw Error("config: " + where(key) + ": expected an integer, got " +
                    (v->is_number() ? v->dump() : std::string(type_name(*v))));
    } else {
      out = v->get<long long>();
    }
  }
  if (ok && !ok(out)) throw Error("config: " + where(key) + ": " + rule + ", got " + std::to_string(out));
  (*eff_)[key] = out;
}

void JsonReader::integer(const char* key, int& out, std::function<bool(long long)> ok, const char* rule) {
  long long v = out;
  integer(key, v, [&](long long x) { return x >= -2147483647LL && x <= 2147483647LL && (!ok || ok(x)); },
          ok ? rule : "out of range");
  out = static_cast<int>(v);
}

void JsonReader::boolean(const char* key, bool& out) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_boolean()) throw Error("config: " + where(key) + ": expected true or false, got " + type_name(*v));
    out = v->get<bool>();
  }
  (*eff_)[key] = out;
}

void JsonReader::string(const char* key, std::string& out, const std::vector<std::string>& allowed) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_string()) throw Error("config: " + where(key) + ": expected a string, got " + type_name(*v));
    out = v->get<std::string>();
  }
  if (!allowed.empty()) {
    bool found = false;
    std::string list;
    for (const std::string& a : allowed) {
      found |= (a == out);
      list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
    }
    if (!found) throw Error("config: " + where(key) + ": \"" + out + "\" is not one of " + list);
  }
  (*eff_)[key] = out;
}

void JsonReader::int_list(const char* key, std::vector<int>& out) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_array()) throw Error("config: " + where(key) + ": expected a list of integers, got " + type_name(*v));
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_number_integer()) throw Error("config: " + where(key) + ": expected a list of integers");
      out.push_back(e.get<int>());
    }
  }
  (*eff_)[key] = out;
}

JsonReader JsonReader::child(const char* key) {
  const nlohmann::json* v = find(key);
  if (v && !v->is_object()) throw Error("config: " + where(key) + ": expected an object, got " + type_name(*v));
  nlohmann::json& e = (*eff_)[key];
  if (!e.is_object()) e = nlohmann::json::object();
  return JsonReader(v, where(key), &e);
}

void JsonReader::finish() {
  if (!j_) return;
  for (auto it = j_->begin(); it != j_->end(); ++it)
    if (!seen_.count(it.key()) && it.key().rfind('_', 0) != 0)  // "_comment" style keys are notes
      throw Error("config: unknown key \"" + where(it.key().c_str()) + "\"");
}

void apply_override(nlohmann::json& j, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set \"" + assignment + "\": expected key=value, e.g. --set model.layers=12");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  const auto fail = [&](const std::string& why) { throw Error("--set \"" + assignment + "\": " + why); };
  nlohmann::json* node = &j;
  std::string path;  // the key so far, for messages
  size_t pos = 0;
  for (;;) {
    // A segment is a name with optional list indices: "stages[2]".
    const size_t end = std::min(key.find_first_of(".[", pos), key.size());
    const std::string name = key.substr(pos, end - pos);
    if (name.empty()) fail("empty key segment");
    if (!node->is_object()) fail("\"" + path + "\" is not an object");
    path += (path.empty() ? "" : ".") + name;
    node = &(*node)[name];
    for (pos = end; pos < key.size() && key[pos] == '[';) {
      const size_t close = std::min(key.find(']', pos), key.size());
      const std::string digits = key.substr(pos + 1, close - pos - 1);
      if (close == key.size() || digits.empty() || digits.size() > 9 ||
          digits.find_first_not_of("0123456789") != std::string::npos)
        fail("expected a list index like [2] after \"" + path + "\"");
      const size_t i = std::stoul(digits);
      if (!node->is_array()) fail("\"" + path + "\" is not a list");
      if (i >= node->size())
        fail("\"" + path + "\" has " + std::to_string(node->size()) + " elements, no [" + std::to_string(i) + "]");
      path += "[" + std::to_string(i) + "]";
      node = &(*node)[i];
      pos = close + 1;
    }
    if (pos == key.size()) {
      *node = value;
      return;
    }
    if (key[pos] != '.') fail("expected '.' or '[' after \"" + key.substr(0, pos) + "\"");
    if (node->is_null()) *node = nlohmann::json::object();
    ++pos;
  }
}

}  // namespace pdadmm
