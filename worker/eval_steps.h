#pragma once
// The steps of run_eval (eval_job.h), one file each: the MLP and GEMM
// workloads, and the latency measurement both end with. Internal to worker/.

#include <vector>

#include "kernels/engine/engine_registry.h"
#include "kernels/measure/latency.h"
#include "kernels/quant/quantize.h"
#include "protocol/result.h"
#include "worker/eval_job.h"

namespace lowbit::worker {

// The registry request of the config's variant, calibrating on `calibration`.
kernels::EngineRequest engine_request(const EvalRequest& request,
                                      const kernels::CalibrationSet* calibration);

// Times `cases` and fills result.latency, result.measurement and result.context.
void measure(const EvalRequest& request, std::vector<kernels::TimedCase>& cases,
             protocol::Result& result);

void run_mlp(const EvalRequest& request, protocol::Result& result);   // eval_mlp.cpp
void run_gemm(const EvalRequest& request, protocol::Result& result);  // eval_gemm.cpp

}  // namespace lowbit::worker
