#include "cli/commands.h"

namespace lowbit::cli {

namespace {
int g_exit_code = kExitOk;
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

}  // namespace lowbit::cli
