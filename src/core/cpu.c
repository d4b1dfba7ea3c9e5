#include "core/cpu.h"
#include "core/error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#if defined(__x86_64__)
static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

#if defined(__aarch64__) && defined(__APPLE__)
/* macOS names each optional feature in sysctl; a missing name means the CPU lacks it. */
static int sysctl_flag(const char *name) {
    int v = 0;
    size_t len = sizeof v;
    return sysctlbyname(name, &v, &len, NULL, 0) == 0 && v != 0;
}
#endif

static void detect_arm(dg_cpu *c) {
#if defined(__aarch64__)
    c->asimd = 1;   /* AArch64 makes Advanced SIMD mandatory */
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    c->asimd = (hw & HWCAP_ASIMD) != 0;
    c->dotprod = c->asimd && (hw & HWCAP_ASIMDDP);
    c->i8mm = c->dotprod && (hw2 & HWCAP2_I8MM);
#elif defined(__APPLE__)
    c->dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
    c->i8mm = c->dotprod && sysctl_flag("hw.optional.arm.FEAT_I8MM");
#endif
#else
    (void)c;
#endif
}

void dg_cpu_detect(dg_cpu *c) {
    memset(c, 0, sizeof *c);
    detect_arm(c);
#if defined(__x86_64__)
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return;
    int osxsave = (cx >> 27) & 1;
    c->fma = (cx >> 12) & 1;
    c->f16c = (cx >> 29) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_ok = (xcr0 & 0x6) == 0x6;
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, 0) < 7) return;
    __cpuid_count(7, 0, a, b, cx, d);
    c->avx2 = ymm_ok && ((b >> 5) & 1) && c->fma;
    c->avx512f = zmm_ok && ((b >> 16) & 1);
    c->avx512bw = c->avx512f && ((b >> 30) & 1);
    c->avx512vl = c->avx512f && ((b >> 31) & 1);
    c->avx512vnni = c->avx512f && ((cx >> 11) & 1);
    c->amx_bf16 = (d >> 22) & 1;
    c->amx_tile = (d >> 24) & 1;
    c->amx_int8 = (d >> 25) & 1;
    unsigned a1, b1, c1, d1;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    c->avx512bf16 = c->avx512f && ((a1 >> 5) & 1);
#if defined(__linux__)
    if (c->amx_tile && c->amx_int8) {
        /* Linux hands out the AMX tile state per process on request. */
        unsigned long bitmask = 0;
        if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 &&
            syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &bitmask) == 0 &&
            (bitmask & (1UL << XFEATURE_XTILEDATA)))
            c->amx_usable = 1;
    }
#endif
#endif
}

int dg_cpu_supports(const dg_cpu *c, dg_isa isa) {
    switch (isa) {
    case DG_ISA_C: return 1;
    case DG_ISA_AVX2: return c->avx2 && c->fma && c->f16c;
    case DG_ISA_AVX512: return dg_cpu_supports(c, DG_ISA_AVX2) && c->avx512f && c->avx512bw && c->avx512vl && c->avx512vnni;
    /* int8 tiles: the integer paths; bf16 tiles and AVX512-BF16 conversions: the soft embedding */
    case DG_ISA_AMX: return c->amx_usable && c->amx_bf16 && c->avx512bf16 && dg_cpu_supports(c, DG_ISA_AVX512);
    case DG_ISA_NEON: return c->asimd;
    case DG_ISA_DOTPROD: return c->asimd && c->dotprod;
    case DG_ISA_I8MM: return c->asimd && c->dotprod && c->i8mm;
    default: return 0;
    }
}

static const char *const isa_names[] = {
    [DG_ISA_AUTO] = "auto", [DG_ISA_C] = "c", [DG_ISA_AVX2] = "avx2", [DG_ISA_AVX512] = "avx512",
    [DG_ISA_AMX] = "amx", [DG_ISA_NEON] = "neon", [DG_ISA_DOTPROD] = "dotprod", [DG_ISA_I8MM] = "i8mm",
};

const char *dg_isa_name(dg_isa isa) {
    return (unsigned)isa < sizeof isa_names / sizeof *isa_names && isa_names[isa] ? isa_names[isa] : "?";
}

int dg_isa_parse(const char *s) {
    if (!s || !*s) return DG_ISA_AUTO;
    if (!strcmp(s, "portable")) return DG_ISA_C;
    for (size_t i = 0; i < sizeof isa_names / sizeof *isa_names; i++)
        if (isa_names[i] && !strcmp(s, isa_names[i])) return (int)i;
    return -1;
}

const char *dg_cpu_name(char *buf, size_t n) {
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return buf;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !colon) continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, n, "%s", colon);
        break;
    }
    fclose(f);
    return buf;
}
