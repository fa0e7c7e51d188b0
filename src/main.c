/* SPDX-License-Identifier: ISC */
/* ikegwd: placeholder entry point until the responder lands (issue 3). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("ikegwd %s\n", IKEGW_VERSION);
		return 0;
	}
	fprintf(stderr, "ikegwd: the daemon is not built yet\n");
	return 1;
}
