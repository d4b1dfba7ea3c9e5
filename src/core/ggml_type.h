/* The ggml tensor types GGUF files use (FORMATS.md §3.4): ids as stored in a tensor info, and
 * each type's block geometry (weights per block along ne[0], bytes per block). Shared by the
 * GGUF reader (byte-size validation), the dequantizer and the writer. */
#ifndef DG_CORE_GGML_TYPE_H
#define DG_CORE_GGML_TYPE_H
#include <stddef.h>

enum {
    DG_GGML_F32 = 0, DG_GGML_F16 = 1, DG_GGML_Q4_0 = 2, DG_GGML_Q4_1 = 3, DG_GGML_Q5_0 = 6,
    DG_GGML_Q5_1 = 7, DG_GGML_Q8_0 = 8, DG_GGML_Q2_K = 10, DG_GGML_Q3_K = 11, DG_GGML_Q4_K = 12,
    DG_GGML_Q5_K = 13, DG_GGML_Q6_K = 14, DG_GGML_IQ4_NL = 20, DG_GGML_IQ4_XS = 23, DG_GGML_BF16 = 30,
};

/* Weights per block and bytes per block of a supported type; 0 for any other id. */
int dg_ggml_block(int type);
size_t dg_ggml_block_bytes(int type);
/* "Q4_K", ...; "?" for an unknown id (callers print the number too). */
const char *dg_ggml_name(int type);
/* Id of a type name (case-sensitive, as dg_ggml_name spells it), or -1. */
int dg_ggml_from_name(const char *name);

#endif
