/* GGUF tensor names of the DiffusionGemma draft convention (FORMATS.md §3.3) and the HF names
 * they stand for. The loader binds HF names; a GGUF set registers every tensor under its HF
 * name, so one binding path serves both formats. */
#ifndef DG_FORMAT_GGUF_NAMES_H
#define DG_FORMAT_GGUF_NAMES_H
#include <stddef.h>

/* The HF name of a GGUF tensor into out; 0 if the name is not part of the convention
 * (rope_freqs.weight, unknown extras): such tensors keep their GGUF name. */
int dg_gguf_to_hf(const char *gguf, char *out, size_t n);
/* The reverse, for messages; 0 if hf has no GGUF form. */
int dg_hf_to_gguf(const char *hf, char *out, size_t n);

#endif
