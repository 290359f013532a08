/* A C program on libvirt's public API (libvirt-dev) driving nwfilterd
 * through the filter and binding life cycle. Prints one "ok - step" or
 * "not ok - step" line per step; exit status 0 when all passed.
 * Usage: libvirt_client URI RO-URI */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int failures;

static void
report(int ok, const char *step)
{
    const virError *err = virGetLastError();

    printf("%s - %s\n", ok ? "ok" : "not ok", step);
    if (!ok) {
        failures++;
        if (err)
            printf("# libvirt error %d (domain %d): %s\n", err->code, err->domain,
                   err->message ? err->message : "");
    }
    virResetLastError();
}

/* Whether the last call failed with CODE/DOMAIN and exactly MESSAGE. */
static int
failed_with(int code, int domain, const char *message)
{
    const virError *err = virGetLastError();

    return err && err->code == code && err->domain == domain && err->message &&
           strcmp(err->message, message) == 0;
}

static void
silence(void *data, virErrorPtr err)
{
}

static const char filter_xml[] =
    "<filter name='c-test' chain='ipv4' priority='-700'>\n"
    "  <rule action='drop' direction='in' priority='500'>\n"
    "    <ip srcipaddr='192.0.2.7'/>\n"
    "  </rule>\n"
    "</filter>\n";

static const char binding_xml[] =
    "<filterbinding>\n"
    "  <owner>\n"
    "    <name>cvm</name>\n"
    "    <uuid>0b3d2c4e-8f64-4c19-a0a5-64b7d5f0e9a1</uuid>\n"
    "  </owner>\n"
    "  <portdev name='vnet0'/>\n"
    "  <mac address='52:54:00:65:43:21'/>\n"
    "  <filterref filter='c-test'/>\n"
    "</filterbinding>\n";

int
main(int argc, char **argv)
{
    virConnectPtr conn, ro;
    virNWFilterPtr f, g;
    virNWFilterBindingPtr b;
    virNWFilterPtr *filters = NULL;
    virNWFilterBindingPtr *bindings = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *xml;
    int n;

    if (argc != 3) {
        fprintf(stderr, "usage: %s URI RO-URI\n", argv[0]);
        return 2;
    }
    virSetErrorFunc(NULL, silence);
    conn = virConnectOpen(argv[1]);
    report(conn != NULL, "open");
    if (!conn)
        return 1;

    f = virNWFilterDefineXML(conn, filter_xml);
    report(f && strcmp(virNWFilterGetName(f), "c-test") == 0, "define");
    if (!f)
        return 1;
    virNWFilterGetUUIDString(f, uuid);
    g = virNWFilterLookupByUUIDString(conn, uuid);
    report(g && strcmp(virNWFilterGetName(g), "c-test") == 0, "lookup by uuid");
    if (g)
        virNWFilterFree(g);
    xml = virNWFilterGetXMLDesc(f, 0);
    report(xml && strstr(xml, uuid) && strstr(xml, "192.0.2.7"), "get xml");
    free(xml);

    n = virConnectListAllNWFilters(conn, &filters, 0);
    report(n == 1 && strcmp(virNWFilterGetName(filters[0]), "c-test") == 0, "list all filters");
    for (int i = 0; i < n; i++)
        virNWFilterFree(filters[i]);
    free(filters);

    g = virNWFilterLookupByName(conn, "c-none");
    report(!g && failed_with(VIR_ERR_NO_NWFILTER, VIR_FROM_NWFILTER,
                             "Network filter not found: no nwfilter with matching name 'c-none'"),
           "lookup of a missing filter fails with NO_NWFILTER");

    b = virNWFilterBindingCreateXML(conn, binding_xml, 0);
    report(b && strcmp(virNWFilterBindingGetPortDev(b), "vnet0") == 0 &&
           strcmp(virNWFilterBindingGetFilterName(b), "c-test") == 0, "binding create");
    if (b)
        virNWFilterBindingFree(b);

    n = virConnectListAllNWFilterBindings(conn, &bindings, 0);
    report(n == 1, "list all bindings");
    for (int i = 0; i < n; i++)
        virNWFilterBindingFree(bindings[i]);
    free(bindings);

    report(virNWFilterUndefine(f) < 0 &&
           failed_with(VIR_ERR_OPERATION_INVALID, VIR_FROM_NWFILTER,
                       "Requested operation is not valid: nwfilter is in use"),
           "undefine in use fails");

    ro = virConnectOpenReadOnly(argv[2]);
    report(ro != NULL, "open read-only socket");
    if (ro) {
        b = virNWFilterBindingLookupByPortDev(ro, "vnet0");
        report(b && virNWFilterBindingDelete(b) < 0 &&
               failed_with(VIR_ERR_OPERATION_DENIED, VIR_FROM_NWFILTER,
                           "operation forbidden: read only access prevents "
                           "virNWFilterBindingDelete"),
               "read-only binding delete refused");
        if (b)
            virNWFilterBindingFree(b);
        virConnectClose(ro);
    }

    b = virNWFilterBindingLookupByPortDev(conn, "vnet0");
    xml = b ? virNWFilterBindingGetXMLDesc(b, 0) : NULL;
    report(xml && strstr(xml, "<parameter name='MAC' value='52:54:00:65:43:21'/>"),
           "binding xml carries MAC");
    free(xml);
    report(b && virNWFilterBindingDelete(b) == 0, "binding delete");
    if (b)
        virNWFilterBindingFree(b);

    report(virNWFilterUndefine(f) == 0, "undefine");
    virNWFilterFree(f);
    report(virConnectNumOfNWFilters(conn) == 0, "no filters left");
    report(virConnectClose(conn) == 0, "close");
    return failures ? 1 : 0;
}
