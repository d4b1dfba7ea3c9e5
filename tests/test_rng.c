/* RNG contract: every vector of GENERATION.md §4.7 and tests/golden/sampler/golden.json. */
#include "t.h"
#include "golden_io.h"
#include "gen/rng.h"
#include <math.h>

static void spec_vectors(void) {
    CHECK(dg_mix64(0) == 0, "mix64(0)");
    CHECK(dg_mix64(1) == 0x5692161d100b05e5ull, "mix64(1)");
    CHECK(dg_mix64(DG_RNG_GOLDEN) == 0xe220a8397b1dcdafull, "mix64(GOLDEN)");
    static const struct { uint64_t s, p, c, k, pos, h; double u; int32_t r; } v[] = {
        {0, 1, 0, 0, 0, 0xc739f5ec15a29d83ull, 0.77822815908224141, 204007},
        {0, 1, 0, 0, 1, 0xae1d77a406c6ad8full, 0.68013713602592907, 178293},
        {0, 1, 0, 0, 255, 0x05e6fef67f37f6e1ull, 0.023055968456190845, 6043},
        {42, 1, 0, 0, 0, 0x126b7212c13d5e99ull, 0.071951989725893895, 18861},
        {42, 1, 1, 0, 0, 0xf21e43298943c8c1ull, 0.94577426685397292, 247929},
        {42, 2, 0, 1, 0, 0x0af2592863a4c92aull, 0.042760441170361152, 11209},
        {42, 2, 0, 48, 255, 0xf258ee617b8d4737ull, 0.94666948203989865, 248163},
        {42, 3, 0, 1, 0, 0x274d927bafbcd109ull, 0.15352740783395125, 40246},
        {12345, 3, 2, 17, 100, 0x2d15927435139b2eull, 0.1761104139050772, 46166},
        {UINT64_MAX, 2, 0, 1, 0, 0x05ca8cec0ef217aaull, 0.022621925002518362, 5930},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint64_t h = dg_rng(v[i].s, v[i].p, v[i].c, v[i].k, v[i].pos);
        CHECK(h == v[i].h, "vector %zu: rng %016llx != %016llx", i, (unsigned long long)h, (unsigned long long)v[i].h);
        CHECK(dg_uniform01(h) == v[i].u, "vector %zu: uniform01 %.17g != %.17g", i, dg_uniform01(h), v[i].u);
        CHECK(dg_randint(h, 262144) == v[i].r, "vector %zu: randint %d != %d", i, dg_randint(h, 262144), v[i].r);
    }
    static const int32_t c0[8] = {18861, 224983, 159045, 206129, 237615, 254838, 151425, 167167};
    static const int32_t c1[8] = {247929, 84402, 259751, 154368, 10513, 146021, 30725, 258177};
    int32_t got[8];
    dg_rng_init_canvas(42, 0, 8, 262144, got);
    CHECK(!memcmp(got, c0, sizeof c0), "initial canvas 0 (seed 42)");
    dg_rng_init_canvas(42, 1, 8, 262144, got);
    CHECK(!memcmp(got, c1, sizeof c1), "initial canvas 1 (seed 42)");
    int32_t toy[4], want[4] = {0, 6, 4, 6};
    dg_rng_init_canvas(42, 0, 4, 8, toy);
    CHECK(!memcmp(toy, want, sizeof want), "toy step A initial canvas (V = 8)");
    CHECK(dg_randint(UINT64_MAX, 262144) == 262143, "randint stays below V");
    CHECK(dg_uniform01(UINT64_MAX) < 1.0, "uniform01 stays below 1");
}

static void golden_vectors(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/sampler/golden.json", t_golden());
    cJSON *j = gio_load_json(path);
    CHECK(j != NULL, "cannot read %s", path);
    if (!j) return;
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "mix64_vectors")) {
        uint64_t z = strtoull(cJSON_GetObjectItem(e, "z_hex")->valuestring, NULL, 16);
        uint64_t m = strtoull(cJSON_GetObjectItem(e, "mix64_hex")->valuestring, NULL, 16);
        CHECK(dg_mix64(z) == m, "golden mix64(%016llx)", (unsigned long long)z);
        n++;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "rng_vectors")) {
        uint64_t seed = gio_u64(cJSON_GetObjectItem(e, "seed"));
        uint64_t h = dg_rng(seed, (uint64_t)cJSON_GetObjectItem(e, "purpose")->valuedouble,
                            (uint64_t)cJSON_GetObjectItem(e, "canvas")->valuedouble,
                            (uint64_t)cJSON_GetObjectItem(e, "step")->valuedouble,
                            (uint64_t)cJSON_GetObjectItem(e, "pos")->valuedouble);
        uint64_t want = strtoull(cJSON_GetObjectItem(e, "h_hex")->valuestring, NULL, 16);
        CHECK(h == want, "golden rng vector %d: %016llx != %016llx", n, (unsigned long long)h, (unsigned long long)want);
        CHECK(dg_uniform01(h) == gio_f64(cJSON_GetObjectItem(e, "uniform01")), "golden uniform01 %d", n);
        CHECK(dg_randint(h, 384) == (int32_t)cJSON_GetObjectItem(e, "randint_384")->valuedouble, "golden randint_384 %d", n);
        CHECK(dg_randint(h, 262144) == (int32_t)cJSON_GetObjectItem(e, "randint_262144")->valuedouble, "golden randint_262144 %d", n);
        n++;
    }
    CHECK(n == 12, "expected 5 mix64 + 7 rng golden vectors, saw %d", n);
    cJSON_Delete(j);
}

int main(void) {
    spec_vectors();
    golden_vectors();
    return t_done("test_rng");
}
