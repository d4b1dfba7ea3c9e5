#include <stdio.h>
#include "cli/cli.h"
int cmd_quantize(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dgemma: quantize: not yet\n"); return 1; }
