// Fuzz target: the json decoder into the message model (tests/fuzz/fuzz_codec.hpp).
#include "tests/fuzz/fuzz_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return junction::fuzz::decode_one(junction::json_codec(), data, size);
}
