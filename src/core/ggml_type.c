#include "core/ggml_type.h"
#include <string.h>

typedef struct { int id, block; size_t bytes; const char *name; } ggml_info;

/* Block sizes: 32-weight legacy blocks (fp16 d [+ m] [+ 32 high bits] + codes), 256-weight
 * K-quant super-blocks (FORMATS.md §3.4). */
static const ggml_info types[] = {
    {DG_GGML_F32, 1, 4, "F32"},        {DG_GGML_F16, 1, 2, "F16"},      {DG_GGML_BF16, 1, 2, "BF16"},
    {DG_GGML_Q4_0, 32, 18, "Q4_0"},    {DG_GGML_Q4_1, 32, 20, "Q4_1"},  {DG_GGML_Q5_0, 32, 22, "Q5_0"},
    {DG_GGML_Q5_1, 32, 24, "Q5_1"},    {DG_GGML_Q8_0, 32, 34, "Q8_0"},  {DG_GGML_Q2_K, 256, 84, "Q2_K"},
    {DG_GGML_Q3_K, 256, 110, "Q3_K"},  {DG_GGML_Q4_K, 256, 144, "Q4_K"}, {DG_GGML_Q5_K, 256, 176, "Q5_K"},
    {DG_GGML_Q6_K, 256, 210, "Q6_K"},  {DG_GGML_IQ4_NL, 32, 18, "IQ4_NL"}, {DG_GGML_IQ4_XS, 256, 136, "IQ4_XS"},
};

static const ggml_info *find(int type) {
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (types[i].id == type) return &types[i];
    return NULL;
}

int dg_ggml_block(int type) { const ggml_info *t = find(type); return t ? t->block : 0; }
size_t dg_ggml_block_bytes(int type) { const ggml_info *t = find(type); return t ? t->bytes : 0; }
const char *dg_ggml_name(int type) { const ggml_info *t = find(type); return t ? t->name : "?"; }

int dg_ggml_from_name(const char *name) {
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(types[i].name, name)) return types[i].id;
    return -1;
}
