/* UTF-8 helpers shared by the tokenizer, decoder and chat template. */
#ifndef DG_TEXT_UTF8_H
#define DG_TEXT_UTF8_H
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence starting at s (n bytes available), or 0 if the bytes
 * there are not one (bad lead, bad continuation, overlong, surrogate, > U+10FFFF, truncated). */
int dg_utf8_seq_len(const unsigned char *s, size_t n);
/* Decodes the sequence at s of length len (as returned by dg_utf8_seq_len). */
uint32_t dg_utf8_decode(const unsigned char *s, int len);
/* Encodes cp (<= U+10FFFF) into out (4 bytes room); returns the byte count. */
int dg_utf8_encode(uint32_t cp, char *out);
/* 1 if the n bytes are entirely well-formed UTF-8. */
int dg_utf8_valid(const unsigned char *s, size_t n);
/* Drops, in place, every byte that is not part of a well-formed sequence (a sequence cut by a
 * byte limit, stray bytes); returns the new length (s is NUL-terminated there if it shrank). */
size_t dg_utf8_scrub(char *s, size_t n);

#endif
