// A translation unit of some layer that includes LOWBIT_OWN_HEADER (a header of its own layer)
// and, when LOWBIT_WRONG_WAY_HEADER is defined, a header of a layer it must not depend on. The
// wrong-way builds must fail: that header is not on the target's include path. The control build
// (no LOWBIT_WRONG_WAY_HEADER) must succeed, so a failure means the include, nothing else.
#include LOWBIT_OWN_HEADER
#ifdef LOWBIT_WRONG_WAY_HEADER
#include LOWBIT_WRONG_WAY_HEADER
#endif

int lowbit_layering_probe() { return 0; }
