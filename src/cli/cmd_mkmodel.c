#include <stdio.h>
#include "cli/cli.h"
int cmd_mkmodel(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dgemma: mkmodel: not yet\n"); return 1; }
