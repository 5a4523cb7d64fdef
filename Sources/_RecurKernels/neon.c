// The NEON kernels (arm64). Advanced SIMD is part of every arm64 CPU, so no run-time check is needed.
#if defined(__aarch64__)

#include "kernels_internal.h"
#include <arm_neon.h>

typedef float32x4_t VF;
typedef uint32x4_t VM;
#define VL 4
#define V_SET1(x) vdupq_n_f32(x)
#define V_LOAD(p) vld1q_f32(p)
#define V_STORE(p, v) vst1q_f32(p, v)
#define V_ADD vaddq_f32
#define V_SUB vsubq_f32
#define V_MUL vmulq_f32
#define V_DIV vdivq_f32
#define V_SQRT vsqrtq_f32
#define V_MAX vmaxq_f32
#define V_MIN vminq_f32
#define V_ABS vabsq_f32
#define V_FMA(a, b, c) vfmaq_f32(c, a, b)
#define V_FNMA(a, b, c) vfmsq_f32(c, a, b)
#define V_ROUND vrndnq_f32
#define V_POW2I(n) vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23))
#define V_GT vcgtq_f32
#define V_GE vcgeq_f32
#define V_SELECT(m, a, b) vbslq_f32(m, a, b)
#define V_HSUM vaddvq_f32
#define V_HMAX vmaxvq_f32

// GEMM register tile: 8 rows x 8 columns, sixteen accumulators of the thirty-two vector registers.
#define MR 8
#define NR 8

#define KERNEL_TABLE recur_neon_kernels
#include "simd_template.h"

#endif
