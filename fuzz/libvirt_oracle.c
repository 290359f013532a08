/* Differential oracle (a developer tool, not part of the build): parse a
 * document with the installed libvirt's own nwfilter parser and print its
 * dumpxml, or "ERR <code> <message>". It calls libvirt's private parser
 * and formatter, exported under LIBVIRT_PRIVATE_9.0.0, so it only builds
 * and runs against libvirt 9.0.x. Usage: libvirt_oracle [-b] FILE|- */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

void *virNWFilterDefParse(const char *xml, const char *filename, unsigned int flags);
char *virNWFilterDefFormat(const void *def);
void *virNWFilterBindingDefParse(const char *xml, const char *filename, unsigned int flags);
char *virNWFilterBindingDefFormat(const void *def);

int
main(int argc, char **argv)
{
    int binding = argc == 3 && strcmp(argv[1], "-b") == 0;
    const char *path = argv[argc - 1];
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    static char buf[4 << 20];
    size_t n;
    void *def;
    char *text;

    if (argc < 2 || !in)
        return 2;
    n = fread(buf, 1, sizeof(buf) - 1, in);
    buf[n] = '\0';
    if (virInitialize() < 0)
        return 2;
    def = binding ? virNWFilterBindingDefParse(buf, NULL, 0) : virNWFilterDefParse(buf, NULL, 0);
    if (!def) {
        virErrorPtr err = virGetLastError();
        printf("ERR %d %s\n", err ? err->code : -1, err && err->message ? err->message : "");
        return 1;
    }
    text = binding ? virNWFilterBindingDefFormat(def) : virNWFilterDefFormat(def);
    fputs(text ? text : "", stdout);
    return 0;
}
