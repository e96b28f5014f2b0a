#pragma once
// The one exception for "this compute path cannot run here": a kernel tier the CPU lacks the
// instructions for, a tier above the process's ISA cap, or a library that reports the primitive
// unimplemented. what() says why in words a user can act on (the ISA found and the one needed, or
// the library's status). The engine registry turns it into a `skipped` result with that reason,
// never into a silent substitute. A path name nobody knows is a different error: bad input,
// std::invalid_argument.

#include <stdexcept>

namespace lowbit::kernels {

struct EngineUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace lowbit::kernels
