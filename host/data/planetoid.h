// Planetoid loader (Cora, CiteSeer, PubMed): the ind.<name>.* pickles with the standard GCN split.
#pragma once
#include <string>
#include <vector>

#include "host/data/dataset.h"

namespace pdadmm {

// The eight files of a Planetoid data set, in the order load_planetoid reads them.
std::vector<std::string> planetoid_parts();  // x y tx ty allx ally graph test.index

// Reads dir/ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index} as GCN's load_data does:
// features = [allx; tx] with tx/ty rows moved to the ids of test.index (file order); ids in
// min..max of test.index without a tx row (CiteSeer) get zero features and label -1;
// train = 0..len(y)-1, val = len(y)..len(y)+499, test = the test.index ids (sorted).
// The graph is symmetrised, self-loops dropped, duplicates merged. A missing file -> Error
// naming its path.
Dataset load_planetoid(const std::string& dir, const std::string& name);

// The same from the eight files' bytes, in planetoid_parts() order (load_planetoid reads them; the
// fuzz target passes its input). Errors name dir/ind.<name>.<part>.
Dataset planetoid_from_bytes(const std::vector<std::string>& bytes, const std::string& dir, const std::string& name);

// Parses a test.index file (one decimal id per line). Errors name `what`.
std::vector<int64_t> parse_test_index(const std::string& text, const std::string& what);

}  // namespace pdadmm
