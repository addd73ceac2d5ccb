/* main.c -- runs every registered test, or those named on the command
 * line, and ends with the one summary line CI reads. */
#include <stdarg.h>
#include <stdlib.h>
#include "harness.h"

static test_case *registry;
static int current_failed;

void test_register(test_case *tc)
{
    tc->next = registry;
    registry = tc;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    current_failed = 1;
}

int test_failed(void)
{
    return current_failed;
}

static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strstr(name, argv[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Constructors ran in link order, prepending: reverse for file order. */
    test_case *ordered = NULL;
    while (registry != NULL) {
        test_case *next = registry->next;
        registry->next = ordered;
        ordered = registry;
        registry = next;
    }
    int passed = 0, failed = 0;
    for (test_case *tc = ordered; tc != NULL; tc = tc->next) {
        if (!selected(tc->name, argc, argv)) {
            continue;
        }
        current_failed = 0;
        tc->fn();
        printf("%s c/%s\n", current_failed ? "FAIL" : "ok  ", tc->name);
        fflush(stdout);
        if (current_failed) {
            failed++;
        }
        else {
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    /* LeakSanitizer exits without flushing stdio: the summary must be out. */
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}
