// Strict JSON field reader and dotted-path overrides.
#include "host/config/json_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "host/io/error.h"

namespace pdadmm {

std::string describe_value(const nlohmann::json& v) {
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  if (!v.is_string()) return v.dump();  // --set admm.rho=0,5 arrives as the string "0,5"
  const std::string s = v.get<std::string>();
  const nlohmann::json shown = s.size() > 60 ? s.substr(0, 57) + "..." : s;
  return shown.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
bool fits_int(long long x) { return x >= -2147483647LL && x <= 2147483647LL; }

// "NaN", "-inf", "+Infinity" (any case): what a --set of a non-finite number arrives as (a string,
// JSON having no such numbers), so the error can say why rather than only "got a string".
bool names_non_finite(std::string t) {
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.erase(0, 1);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return t == "nan" || t == "inf" || t == "infinity";
}
// A value of the wrong type at `at`. An object where a scalar belongs is most likely a key one
// level too deep (--set admm.rho.max=1), so its first key is named as not one.
Error type_error(const std::string& at, const std::string& expected, const nlohmann::json& v) {
  std::string got = describe_value(v);
  if (v.is_object() && !v.empty()) got += " (" + at + "." + v.begin().key() + " is not a key)";
  return Error("config: " + at + ": expected " + expected + ", got " + got);
}
void refuse_non_finite_name(const nlohmann::json& v, const std::string& at, const char* expected) {
  if (v.is_string() && names_non_finite(v.get<std::string>()))
    throw Error("config: " + at + ": expected " + expected + ", got " + v.dump() + " (NaN and Infinity are not allowed)");
}

// An integer literal past 64 bits (99999999999999999999) reaches the reader as a float.
bool past_int64(const nlohmann::json& v) { return v.is_number_float() && std::fabs(v.get<double>()) >= 9223372036854775808.0; }

// "1e400", "-12": a number the user meant, whether or not it fits.
bool looks_numeric(const std::string& t) {
  return !t.empty() && t.find_first_not_of("0123456789+-.eE") == std::string::npos &&
         t.find_first_of("0123456789") != std::string::npos;
}

// Edits (insert, delete, replace, swap two neighbours: modle) from a to b, for naming the key a
// typo meant.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& known) {
  // One or two edits from a known name (model.layer, Hops, trian), a third of the name at most.
  std::vector<std::string> near;
  size_t best = 2;  // the most edits a near name may be
  for (const std::string& k : known) {
    // At least the lengths' difference: a long unknown key (a megabyte) skips the (n+1) x (m+1) table.
    if (name.size() > k.size() + best || k.size() > name.size() + best) continue;
    const size_t d = edit_distance(name, k);
    if (d > best || d * 3 > name.size()) continue;
    if (d < best) near.clear();
    best = d;
    near.push_back(k);
  }
  return near;
}

std::string nearest_name(const std::string& name, const std::vector<std::string>& known) {
  const std::vector<std::string> near = nearest_names(name, known);
  return near.empty() ? "" : near[0];
}

JsonReader::JsonReader(const nlohmann::json* j, std::string path, nlohmann::json* effective)
    : j_(j), path_(std::move(path)), eff_(effective) {
  if (j_ && !j_->is_object())
    throw Error("config: " + (path_.empty() ? std::string("top level") : path_) + ": expected an object, got " +
                describe_value(*j_));
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

void JsonReader::number(const char* key, double& out, const std::function<bool(double)>& ok, const char* rule) {
  if (const nlohmann::json* v = find(key)) {
    refuse_non_finite_name(*v, where(key), "a number");
    if (!v->is_number()) throw type_error(where(key), "a number", *v);
    out = v->get<double>();
  }
  if (!std::isfinite(out)) throw Error("config: " + where(key) + ": must be finite");
  if (ok && !ok(out)) throw Error("config: " + where(key) + ": " + rule + ", got " + nlohmann::json(out).dump());
  (*eff_)[key] = out;
}

void JsonReader::integer(const char* key, long long& out, const std::function<bool(long long)>& ok, const char* rule) {
  if (const nlohmann::json* v = find(key)) {
    refuse_non_finite_name(*v, where(key), "an integer");
    if (!v->is_number_integer()) {
      // 3.0 is an integer a user may well write; 3.5 is not.
      if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() && std::fabs(v->get<double>()) < 9e15)
        out = static_cast<long long>(v->get<double>());
      else if (past_int64(*v))
        throw Error("config: " + where(key) + ": out of range, got " + v->dump());
      else
        throw type_error(where(key), "an integer", *v);
    } else if (v->is_number_unsigned() && v->get<unsigned long long>() > 9223372036854775807ULL) {
      throw Error("config: " + where(key) + ": out of range, got " + v->dump());
    } else {
      out = v->get<long long>();
    }
  }
  if (ok && !ok(out)) throw Error("config: " + where(key) + ": " + rule + ", got " + std::to_string(out));
  (*eff_)[key] = out;
}

void JsonReader::integer(const char* key, int& out, const std::function<bool(long long)>& ok, const char* rule) {
  long long v = out;
  integer(key, v, [](long long x) { return fits_int(x); }, "out of range (at most 2147483647)");
  integer(key, v, ok, rule);
  out = static_cast<int>(v);
}

void JsonReader::count_or_fraction(const char* key, double& out, bool zero_ok, const char* rule) {
  number(key, out);
  const nlohmann::json* v = find(key);
  // 1.0 could mean one node or every node; make the user say which.
  if (v && v->is_number_float() && out == 1)
    throw Error("config: " + where(key) + ": 1.0 is ambiguous: write 1 for one node (a fraction must be below 1)");
  const bool whole = out >= 1 && out <= 2147483647.0 && std::floor(out) == out;
  if (!(whole || (out > 0 && out < 1) || (zero_ok && out == 0)))  // as written: 0, not the double's 0.0
    throw Error("config: " + where(key) + ": " + rule + ", got " + (v ? *v : nlohmann::json(out)).dump());
  if (whole || out == 0) (*eff_)[key] = static_cast<long long>(out);
}

void JsonReader::boolean(const char* key, bool& out) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_boolean()) throw type_error(where(key), "true or false", *v);
    out = v->get<bool>();
  }
  (*eff_)[key] = out;
}

void JsonReader::string(const char* key, std::string& out, const std::vector<std::string>& allowed) {
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
  if (const nlohmann::json* v = find(key)) {
    // A choice given as false or 0 (progress: false) names the choices, not just "a string".
    if (!v->is_string() && list.empty() && (v->is_number() || v->is_boolean()))  // --set output.dir=123
      throw Error(type_error(where(key), "a string", *v).what() + std::string(" (text that reads as a ") +
                  (v->is_boolean() ? "boolean" : "number") + " is quoted: \"TEXT\" in a file, --set '" + where(key) +
                  "=\"TEXT\"')");
    if (!v->is_string()) throw type_error(where(key), list.empty() ? "a string" : "one of " + list, *v);
    out = v->get<std::string>();
  }
  if (!allowed.empty()) {
    const bool found = std::find(allowed.begin(), allowed.end(), out) != allowed.end();
    if (!found) {
      // "corra"; "pdadmm-gq" is as near "pdadmm-g" as "pdadmm-g-q": both are named.
      const std::vector<std::string> near = nearest_names(out, allowed);
      std::string hint;
      for (size_t i = 0; i < near.size(); ++i) hint += (i == 0 ? " (did you mean \"" : "\" or \"") + near[i];
      throw Error("config: " + where(key) + ": \"" + out + "\" is not one of " + list + (hint.empty() ? "" : hint + "\"?)"));
    }
  }
  (*eff_)[key] = out;
}

void JsonReader::int_list(const char* key, std::vector<int>& out) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_array()) throw type_error(where(key), "a list of integers", *v);
    out.clear();
    for (const auto& e : *v) {
      if (past_int64(e))
        throw Error("config: " + where(key) + ": " + e.dump() + " is out of range (at most 2147483647)");
      if (!e.is_number_integer()) throw Error("config: " + where(key) + ": expected a list of integers");
      if (e.is_number_unsigned() ? e.get<unsigned long long>() > 2147483647ULL : !fits_int(e.get<long long>()))
        throw Error("config: " + where(key) + ": " + e.dump() + " is out of range (at most 2147483647)");
      out.push_back(e.get<int>());
    }
  }
  (*eff_)[key] = out;
}

JsonReader JsonReader::child(const char* key) {
  const nlohmann::json* v = find(key);
  if (v && !v->is_object()) throw type_error(where(key), "an object", *v);
  nlohmann::json& e = (*eff_)[key];
  if (!e.is_object()) e = nlohmann::json::object();
  return JsonReader(v, where(key), &e);
}

namespace {

// Where below `tree` (objects only) a key named `name` is known: "admm.iterations" for a top-level
// "iterations". The effective tree holds every key read so far, all of them at the top level.
void paths_named(const nlohmann::json& tree, const std::string& name, const std::string& at,
                 std::vector<std::string>& out) {
  for (auto it = tree.begin(); it != tree.end(); ++it) {
    const std::string path = at.empty() ? it.key() : at + "." + it.key();
    if (!at.empty() && it.key() == name) out.push_back(path);
    if (it->is_object()) paths_named(*it, name, path, out);
  }
}

}  // namespace

void JsonReader::finish() {
  if (!j_) return;
  // Every unknown key of this object at once: a config from another tool ("dataset", "lr", "epochs")
  // was refused a key at a time.
  std::vector<std::string> unknown;
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    if (seen_.count(it.key()) || it.key().rfind('_', 0) == 0) continue;  // "_comment" style keys are notes
    std::vector<std::string> near = {nearest_name(it.key(), std::vector<std::string>(seen_.begin(), seen_.end()))};
    if (near[0].empty() && eff_ && eff_->is_object()) {
      near.clear();
      paths_named(*eff_, it.key(), "", near);  // `--set iterations=5`: a key of a section, given outside it
    }
    if (near.empty())  // another tool's spelling around a known word: num_layers, hidden_dim
      for (const std::string& k : seen_)
        if (k.size() >= 4 && it.key().find(k) != std::string::npos) near.push_back(k);
    std::string hint;
    for (size_t i = 0; i < near.size() && !near[i].empty(); ++i)
      hint += (i == 0 ? " (did you mean \"" : i + 1 == near.size() ? "\" or \"" : "\", \"") + where(near[i].c_str());
    unknown.push_back("\"" + where(it.key().c_str()) + "\"" + (hint.empty() ? "" : hint + "\"?)"));
  }
  if (unknown.empty()) return;
  std::string list;
  for (size_t i = 0; i < unknown.size(); ++i) list += (i == 0 ? "" : ", ") + unknown[i];
  throw Error(std::string("config: unknown key") + (unknown.size() > 1 ? "s " : " ") + list);
}

// The commonest slip in a config edited by hand: `{"a": 1,}`. nlohmann names only the '}'.
// `byte` is the 1-based position just past the character it stopped at.
static std::string trailing_comma_hint(const std::string& text, size_t byte) {
  if (byte == 0 || byte > text.size() || (text[byte - 1] != '}' && text[byte - 1] != ']')) return "";
  size_t i = byte - 1;
  while (i > 0 && std::isspace(static_cast<unsigned char>(text[i - 1]))) --i;
  if (i == 0 || text[i - 1] != ',') return "";
  return std::string(" (a comma before the closing '") + text[byte - 1] + "': JSON allows none after the last item)";
}

nlohmann::json parse_json(const std::string& text, const std::string& what, bool allow_comments,
                          const std::string& key) {
  using Event = nlohmann::json::parse_event_t;
  // Every object or list being parsed, innermost last, with its keys so far (or the index of the
  // element being read), so that an error names where it is (model.stages[1].mu): a duplicate key
  // or 1e400 in a staged config was otherwise a hunt through its many rho and mu keys.
  struct Frame {
    bool list = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> frames;
  const auto path = [&] {
    std::string p = key;
    for (const Frame& f : frames)
      p += f.list ? "[" + std::to_string(f.index) + "]" : (p.empty() ? "" : ".") + f.key;
    return p == key ? std::string() : p;
  };
  const auto at = [&] {
    const std::string p = path();
    return p.empty() ? std::string() : " (at " + p + ")";
  };
  const auto element_done = [&] {
    if (!frames.empty() && frames.back().list) ++frames.back().index;
  };
  const nlohmann::json::parser_callback_t check = [&](int depth, Event event, nlohmann::json& parsed) {
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxJsonDepth)
      throw Error(what + ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels" + at());
    if (event == Event::object_start || event == Event::array_start) {
      frames.emplace_back();
      frames.back().list = event == Event::array_start;
    } else if (event == Event::object_end || event == Event::array_end) {
      frames.pop_back();
      element_done();
    } else if (event == Event::value) {
      element_done();
    } else if (event == Event::key) {
      frames.back().key = parsed.get<std::string>();
      if (!frames.back().keys.insert(frames.back().key).second)
        throw Error(what + ": key \"" + frames.back().key + "\" appears twice in one object" + at());
    }
    return true;
  };
  // nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is what matters.
  // Its "last read: '…'" quotes the input's bytes: control and non-ASCII ones are written \xNN, so
  // the error line stays one line of valid text whatever the file held.
  const auto plain = [](const std::exception& e) {
    const std::string m = e.what();
    const size_t cut = m.rfind("] ", 40);
    const std::string raw = m.rfind("[json.exception.", 0) == 0 && cut != std::string::npos ? m.substr(cut + 2) : m;
    std::string out;
    for (const unsigned char ch : raw) {
      if (ch >= 0x20 && ch < 0x7f) {
        out += static_cast<char>(ch);
      } else {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", ch);
        out += hex;
      }
    }
    return out;
  };
  if (text.find('\0') != std::string::npos) throw Error(what + ": contains a NUL byte (not a text file?)");
  try {
    return nlohmann::json::parse(text, check, /*allow_exceptions=*/true, allow_comments);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(what + " is not valid JSON: " + plain(e) + trailing_comma_hint(text, e.byte));
  } catch (const nlohmann::json::out_of_range& e) {  // 1e400
    throw Error(what + ": a number is out of range" + at() + ": " + plain(e));
  }
}

void apply_override(nlohmann::json& j, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    // `--set a=1 configs/cora.json`: --set takes every value up to the next option, the file too.
    const bool json_file = eq == std::string::npos && assignment.size() > 5 &&
                           assignment.compare(assignment.size() - 5, 5, ".json") == 0;
    throw Error("config: --set \"" + assignment + "\": expected key=value, e.g. --set model.layers=12" +
                (json_file ? " (a config file is given as --config " + assignment + ")" : ""));
  }
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  // Not JSON (e.g. --set data.name=cora): the text itself, as a string; but a list, an object or
  // a number that fails to parse is a mistake to report.
  nlohmann::json value;
  try {
    value = parse_json(text, "config: --set \"" + assignment + "\"", false, key);
  } catch (const Error&) {
    const size_t first = text.find_first_not_of(" \t");
    if ((first != std::string::npos && (text[first] == '[' || text[first] == '{')) || looks_numeric(text)) throw;
    value = text;
  }
  const auto fail = [&](const std::string& why) { throw Error("config: --set \"" + assignment + "\": " + why); };
  // One: lists of lists under several [*] multiply the assignments (a fuzzed config could take hours).
  if (const size_t star = key.find("[*]"); star != std::string::npos && key.find("[*]", star + 1) != std::string::npos)
    fail("one [*] per key");
  // Walks `key` from `pos` below `node` (at `path`, for messages) and sets the value there; [*]
  // sets it in every element of the list (model.stages[*].iterations: a staged run shortened by one
  // --set).
  std::function<void(nlohmann::json*, std::string, size_t)> assign = [&](nlohmann::json* node, std::string path,
                                                                         size_t pos) {
    for (;;) {
      // A segment is a name with optional list indices: "stages[2]".
      const size_t end = std::min(key.find_first_of(".[", pos), key.size());
      const std::string name = key.substr(pos, end - pos);
      if (name.empty()) fail("empty key segment");
      // model.stages.2.mu: the dotted form of an index.
      if (!node->is_object())
        fail("\"" + path + "\" is not an object" +
             (node->is_array() ? std::string(" but a list: an element is " + path + "[i], e.g. " + path + "[0]") : ""));
      path += (path.empty() ? "" : ".") + name;
      node = &(*node)[name];
      for (pos = end; pos < key.size() && key[pos] == '[';) {
        const size_t close = std::min(key.find(']', pos), key.size());
        const std::string digits = key.substr(pos + 1, close - pos - 1);
        const bool every = digits == "*";
        if (close == key.size() || (!every && (digits.empty() || digits.size() > 9 ||
                                               digits.find_first_not_of("0123456789") != std::string::npos)))
          fail("expected a list index like [2] or [*] after \"" + path + "\"");
        // Absent from the config (apply_override made it null on the way): nothing to index.
        if (node->is_null())
          fail("\"" + path + "\" is not set in this config, so it has no [" + digits + "]" +
               (path == "model.stages" ? " (set the whole list, --set 'model.stages=[...]', or start from a config "
                                         "with stages, e.g. configs/cora.json)"
                                       : ""));
        if (!node->is_array()) fail("\"" + path + "\" is not a list");
        if (every) {
          if (close + 1 == key.size()) fail("[*] sets a key in every element of \"" + path + "\": name one, e.g. " +
                                            path + "[*].iterations");
          if (key[close + 1] != '.') fail("expected '.' after \"" + key.substr(0, close + 1) + "\"");
          // After model.stages=[]: it set nothing, without a word.
          if (node->empty()) fail("\"" + path + "\" is an empty list: [*] has no element to set");
          for (size_t i = 0; i < node->size(); ++i) {
            nlohmann::json* element = &(*node)[i];
            if (element->is_null()) *element = nlohmann::json::object();
            assign(element, path + "[" + std::to_string(i) + "]", close + 2);
          }
          return;
        }
        const size_t i = std::stoul(digits);
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
  };
  assign(&j, "", 0);
}

}  // namespace pdadmm
