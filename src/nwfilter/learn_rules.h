/* learn_rules: what a port runs while its address is being learned (spec
 * 6.6), as a rule program any backend applies like a compiled one, so a
 * port is never left unfiltered while learning:
 *   BASIC     (learning 'any'): VM-out: frames not from the VM's MAC are
 *             dropped, IPv4 and ARP accepted, all else dropped; VM-in open.
 *   DHCP      (learning 'dhcp', no lease yet): VM-out: only DHCP requests
 *             from the VM's MAC; VM-in: only DHCP replies to its MAC or to
 *             broadcast, from each DHCPSERVER when given; all else dropped.
 *   DROP_ALL  (learning could not start): everything dropped both ways.
 * With IPv6 learning, BASIC and DHCP also let through what IPv6 address
 * configuration needs: router and neighbour discovery, MLD reports (the
 * guest joins its solicited-node groups before DAD) and DHCPv6, replies
 * only from DHCPSERVERV6 when given. */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"

typedef enum {
    NWF_LEARN_RULES_BASIC,
    NWF_LEARN_RULES_DHCP,
    NWF_LEARN_RULES_DROP_ALL,
} NwfLearnRulesKind;

/* The learning-phase program for IFNAME and MAC. DHCP_SERVERS and
 * DHCP_SERVERS_V6 (char*, may be NULL) restrict the DHCP replies; a value
 * that is not an address fails with the attribute's "illegal value"
 * error. */
NwfRuleProgram *nwf_learn_rules_build(const char *ifname, const guint8 mac[6],
                                      NwfLearnRulesKind kind, gboolean ipv6,
                                      const GPtrArray *dhcp_servers,
                                      const GPtrArray *dhcp_servers_v6, GError **error);
