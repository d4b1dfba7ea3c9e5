/* The one place that says which kernel serves which entry on each ISA, and which ISAs this
 * build (its architecture) and this CPU offer. A wider table reuses the narrower one's entries
 * where it has nothing better. */
#include "kernels/isa.h"
#include <stddef.h>
#include "core/cpu.h"
#include "kernels/c/c.h"
#include "kernels/ops.h"
#if defined(__x86_64__)
#include "kernels/x86/avx2/avx2.h"
#include "kernels/x86/avx512/avx512.h"
#include "kernels/x86/amx/amx.h"
#endif
#if defined(__aarch64__)
#include "kernels/arm/dotprod/dotprod.h"
#include "kernels/arm/i8mm/i8mm.h"
#include "kernels/arm/neon/neon.h"
#endif

static const dg_isa_table table_c = {
    .isa = DG_ISA_C, .mr = DG_MR_C, .mk = dg_mk_c, .expand = dg_mat_row_range, .pack = dg_pack_c,
    .qpaths = NULL, .softcap = dg_softcap, .softmax = dg_softmax, .gelu_mul = dg_gelu_mul,
    .sample_row = dg_sample_row_c,
};

#if defined(__x86_64__)
/* fastest first: a lossy path is skipped unless the context allows it */
static const dg_qpath *const avx2_q[] = {&dg_qpath_int8_avx2, &dg_qpath_int16g4_avx2, &dg_qpath_int16_avx2, &dg_qpath_ggml16_avx2, NULL};
static const dg_isa_table table_avx2 = {
    .isa = DG_ISA_AVX2, .mr = DG_MR_AVX2, .mk = dg_mk_avx2, .expand = dg_expand_avx2, .pack = dg_pack_avx2,
    .qpaths = avx2_q, .softcap = dg_softcap_avx2, .softmax = dg_softmax_avx2, .gelu_mul = dg_gelu_mul_avx2,
    .sample_row = dg_sample_row_avx2,
    .peak = dg_peak_avx2,
};
/* AVX2 expansion, packing and row ops: the panel packing is a small share of the fp32 path's
 * time and the row ops are bound by memory and exp, so wider versions would buy little */
static const dg_qpath *const avx512_q[] = {&dg_qpath_int8_avx512, &dg_qpath_int16g4_avx512, &dg_qpath_int16_avx512, NULL};
static const dg_peak_fn avx512_peak[DG_OPS_KINDS] = {
    [DG_OPS_FP32] = dg_peak_fp32_avx512, [DG_OPS_INT16] = dg_peak_int16_avx512, [DG_OPS_INT8] = dg_peak_int8_avx512,
};
static const dg_isa_table table_avx512 = {
    .isa = DG_ISA_AVX512, .mr = DG_MR_AVX512, .mk = dg_mk_avx512, .expand = dg_expand_avx2, .pack = dg_pack_avx2,
    .qpaths = avx512_q, .softcap = dg_softcap_avx2, .softmax = dg_softmax_avx2, .gelu_mul = dg_gelu_mul_avx2,
    .sample_row = dg_sample_row_avx2,
    .tn = &dg_tnpath_int16_avx512,
    .peak = avx512_peak,
};
/* AMX changes the integer paths, fp32/bf16 weights (bf16 tiles) and the soft embedding; the
 * fp32 micro-kernel stays the AVX-512 one (GGUF and f16 weights) */
static const dg_qpath *const amx_q[] = {&dg_qpath_int8_amx, &dg_qpath_int16_amx, &dg_qpath_bf16x3_amx, NULL};
static const dg_peak_fn amx_peak[DG_OPS_KINDS] = {
    [DG_OPS_FP32] = dg_peak_fp32_avx512, [DG_OPS_INT16] = dg_peak_int16_amx, [DG_OPS_INT8] = dg_peak_int8_amx,
    [DG_OPS_BF16] = dg_peak_bf16_amx,
};
static const dg_isa_table table_amx = {
    .isa = DG_ISA_AMX, .mr = DG_MR_AVX512, .mk = dg_mk_avx512, .expand = dg_expand_avx2, .pack = dg_pack_avx2,
    .qpaths = amx_q, .softcap = dg_softcap_avx2, .softmax = dg_softmax_avx2, .gelu_mul = dg_gelu_mul_avx2,
    .sample_row = dg_sample_row_avx2,
    .tn = &dg_tnpath_bf16x3_amx,
    .att = &dg_attpath_bf16x3_amx,
    .peak = amx_peak,
};
#endif

#if defined(__aarch64__)
/* fastest first: a lossy path is skipped unless the context allows it */
static const dg_qpath *const neon_q[] = {&dg_qpath_int16_neon, NULL};
static const dg_qpath *const dotprod_q[] = {&dg_qpath_int8_dotprod, &dg_qpath_int16_neon, NULL};
static const dg_qpath *const i8mm_q[] = {&dg_qpath_int8_i8mm, &dg_qpath_int8_dotprod, &dg_qpath_int16_neon, NULL};
#define NEON_ENTRIES .mr = DG_MR_NEON, .mk = dg_mk_neon, .expand = dg_expand_neon, .pack = dg_pack_neon, \
    .softcap = dg_softcap_neon, .softmax = dg_softmax_neon, .gelu_mul = dg_gelu_mul_neon, \
    .sample_row = dg_sample_row_neon
static const dg_isa_table table_neon = {.isa = DG_ISA_NEON, .qpaths = neon_q, NEON_ENTRIES};
static const dg_isa_table table_dotprod = {.isa = DG_ISA_DOTPROD, .qpaths = dotprod_q, NEON_ENTRIES};
static const dg_isa_table table_i8mm = {.isa = DG_ISA_I8MM, .qpaths = i8mm_q, NEON_ENTRIES};
#undef NEON_ENTRIES
#endif

/* Built tables, best first. A table enters the automatic choice (dg_isa_resolve with AUTO)
 * only after its tests and `dgemma compare` passed on a CPU that has it (docs/KERNELS.md);
 * until then it is listed in `selectable` and runs only when asked for by name. */
static const dg_isa_table *const automatic[] = {
#if defined(__x86_64__)
    &table_amx,
    &table_avx512,
    &table_avx2,
#endif
#if defined(__aarch64__)
    &table_i8mm, &table_dotprod, &table_neon,
#endif
    &table_c,
};
static const dg_isa_table *const selectable[] = {NULL};

const dg_isa_table *dg_isa_table_get(dg_isa isa) {
    for (size_t i = 0; i < sizeof automatic / sizeof *automatic; i++)
        if (automatic[i]->isa == isa) return automatic[i];
    for (size_t i = 0; i < sizeof selectable / sizeof *selectable; i++)
        if (selectable[i] && selectable[i]->isa == isa) return selectable[i];
    return NULL;
}

dg_status dg_isa_resolve(dg_isa want, const dg_isa_table **out, dg_error *err) {
    dg_cpu c;
    dg_cpu_detect(&c);
    if (want == DG_ISA_AUTO) {
        for (size_t i = 0; i < sizeof automatic / sizeof *automatic; i++)
            if (dg_cpu_supports(&c, automatic[i]->isa)) { *out = automatic[i]; return DG_OK; }
        *out = &table_c;
        return DG_OK;
    }
    const dg_isa_table *t = dg_isa_table_get(want);
    if (!t)
        return dg_fail(err, DG_ERR_UNSUPPORTED, "kernel path '%s' is not built into this dgemma", dg_isa_name(want));
    if (!dg_cpu_supports(&c, want))
        return dg_fail(err, DG_ERR_UNSUPPORTED, "this CPU cannot run the '%s' kernel path", dg_isa_name(want));
    *out = t;
    return DG_OK;
}

int dg_isa_status(dg_isa isa) {
    dg_cpu c;
    dg_cpu_detect(&c);
    int st = 0;
    if (isa != DG_ISA_AUTO && dg_isa_table_get(isa)) st |= DG_ISA_BUILT;
    if (isa != DG_ISA_AUTO && dg_cpu_supports(&c, isa)) st |= DG_ISA_RUNS;
    for (size_t i = 0; i < sizeof automatic / sizeof *automatic; i++)
        if (automatic[i]->isa == isa) st |= DG_ISA_AUTOMATIC;
    return st;
}

int dg_isa_available(dg_isa isa) { return (dg_isa_status(isa) & (DG_ISA_BUILT | DG_ISA_RUNS)) == (DG_ISA_BUILT | DG_ISA_RUNS); }

dg_isa dg_isa_best(void) {
    const dg_isa_table *t = &table_c;
    dg_isa_resolve(DG_ISA_AUTO, &t, NULL);
    return t->isa;
}
