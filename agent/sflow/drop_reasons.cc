#include "agent/sflow/drop_reasons.h"

#include <cstring>

#include "exporter/sflow/sflow_decoder.h"

namespace xflowd::agent::sflow {
namespace {

struct Row {
  const char* key;
  const char* reason;  // sFlow name; "" = ignore
};

// devlink trap names (Documentation/networking/devlink/devlink-trap.rst).
const Row kTraps[] = {
    {"source_mac_is_multicast", "src_mac_is_multicast"},
    {"vlan_tag_mismatch", "vlan_tag_mismatch"},
    {"ingress_vlan_filter", "ingress_vlan_filter"},
    {"ingress_spanning_tree_filter", "ingress_spanning_tree_filter"},
    {"port_list_is_empty", "port_list_is_empty"},
    {"port_loopback_filter", "port_loopback_filter"},
    {"blackhole_route", "blackhole_route"},
    {"ttl_value_is_too_small", "ttl_exceeded"},
    {"tail_drop", "no_buffer_space"},
    {"non_ip", "non_ip"},
    {"uc_dip_over_mc_dmac", "uc_dip_over_mc_dmac"},
    {"dip_is_loopback_address", "dip_is_loopback_address"},
    {"sip_is_mc", "sip_is_mc"},
    {"sip_is_loopback_address", "sip_is_loopback_address"},
    {"ip_header_corrupted", "ip_header_corrupted"},
    {"ipv4_sip_is_limited_bc", "ipv4_sip_is_limited_bc"},
    {"ipv6_mc_dip_reserved_scope", "ipv6_mc_dip_reserved_scope"},
    {"ipv6_mc_dip_interface_local_scope", "ipv6_mc_dip_interface_local_scope"},
    {"mtu_value_is_too_small", "pkt_too_big"},
    {"unresolved_neigh", "unresolved_neigh"},
    {"mc_reverse_path_forwarding", "mc_reverse_path_forwarding"},
    {"reject_route", "dst_net_prohibited"},
    {"ipv4_lpm_miss", "dst_net_unknown"},
    {"ipv6_lpm_miss", "dst_net_unknown"},
    {"non_routable_packet", "non_routable_packet"},
    {"decap_error", "decap_error"},
    {"overlay_smac_is_mc", "overlay_smac_is_mc"},
    {"ingress_flow_action_drop", "acl"},
    {"egress_flow_action_drop", "acl"},
    {"sip_is_unspecified", "sip_is_unspecified"},
    {"mlag_port_isolation", "mlag_port_isolation"},
    {"blackhole_arp_neigh", "blackhole_arp_neigh"},
    {"src_mac_is_dmac", "src_mac_is_dmac"},
    {"dmac_is_reserved", "dmac_is_reserved"},
    {"sip_is_class_e", "sip_is_class_e"},
    {"mc_dmac_mismatch", "mc_dmac_mismatch"},
    {"sip_is_dip", "sip_is_dip"},
    {"dip_is_local_network", "dip_is_local_network"},
    {"dip_is_link_local", "dip_is_link_local"},
    {"overlay_smac_is_dmac", "overlay_smac_is_dmac"},
    {"early_drop", "red"},
    {"vxlan_parsing", "vxlan_parsing"},
    {"llc_snap_parsing", "llc_snap_parsing"},
    {"vlan_parsing", "vlan_parsing"},
    {"pppoe_ppp_parsing", "pppoe_ppp_parsing"},
    {"mpls_parsing", "mpls_parsing"},
    {"arp_parsing", "arp_parsing"},
    {"ip_1_parsing", "ip_1_parsing"},
    {"ip_n_parsing", "ip_n_parsing"},
    {"gre_parsing", "gre_parsing"},
    {"udp_parsing", "udp_parsing"},
    {"tcp_parsing", "tcp_parsing"},
    {"ipsec_parsing", "ipsec_parsing"},
    {"sctp_parsing", "sctp_parsing"},
    {"dccp_parsing", "dccp_parsing"},
    {"gtp_parsing", "gtp_parsing"},
    {"esp_parsing", "esp_parsing"},
    {"blackhole_nexthop", "blackhole_nexthop"},
    {"dmac_filter", "dmac_filter"},
    {"locked_port", "locked_port"},
    {"egress_vlan_filter", "egress_vlan_filter"},
    {"uc_reverse_path_forwarding", "uc_reverse_path_forwarding"},
};

// devlink trap groups: the drop groups, then the control groups (not drops).
const Row kGroups[] = {
    {"acl_drops", "acl"},
    {"l2_drops", "unknown_l2"},
    {"l3_drops", "unknown_l3"},
    {"l3_exceptions", "unknown_l3_exception"},
    {"tunnel_drops", "unknown_tunnel"},
    {"buffer_drops", "unknown_buffer"},
    {"stp", ""},
    {"lacp", ""},
    {"lldp", ""},
    {"mc_snooping", ""},
    {"dhcp", ""},
    {"neigh_discovery", ""},
    {"bfd", ""},
    {"ospf", ""},
    {"bgp", ""},
    {"vrrp", ""},
    {"pim", ""},
    {"uc_loopback", ""},
    {"local_delivery", ""},
    {"external_delivery", ""},
    {"ipv6", ""},
    {"ptp_event", ""},
    {"ptp_general", ""},
    {"acl_sample", ""},
    {"acl_trap", ""},
    {"parser_error_drops", ""},
    {"eapol", ""},
};

// SKB_DROP_REASON_* names (include/net/dropreason-core.h) without the prefix.
const Row kReasons[] = {
    {"NOT_DROPPED_YET", ""},
    {"NO_SOCKET", "port_unreachable"},
    {"PKT_TOO_SMALL", "pkt_too_small"},
    {"TCP_CSUM", "tcp_parsing"},
    {"SOCKET_FILTER", "socket_filter"},
    {"UDP_CSUM", "udp_parsing"},
    {"NETFILTER_DROP", "acl"},
    {"OTHERHOST", "dst_host_unknown"},
    {"IP_CSUM", "ip_1_parsing"},
    {"IP_INHDR", "ip_1_parsing"},
    {"IP_RPFILTER", "reverse_path_forwarding"},
    {"UNICAST_IN_L2_MULTICAST", "uc_dip_over_mc_dmac"},
    {"XFRM_POLICY", "xfrm_policy"},
    {"IP_NOPROTO", "ip_noproto"},
    {"SOCKET_RCVBUFF", "no_buffer_space"},
    {"PROTO_MEM", "no_buffer_space"},
    {"TCP_MD5NOTFOUND", "tcp_md5notfound"},
    {"TCP_MD5UNEXPECTED", "tcp_md5unexpected"},
    {"TCP_MD5FAILURE", "tcp_md5failure"},
    {"SOCKET_BACKLOG", "no_buffer_space"},
    {"TCP_FLAGS", "tcp_flags"},
    {"TCP_ZEROWINDOW", "tcp_zerowindow"},
    {"TCP_OLD_DATA", "tcp_old_data"},
    {"TCP_OVERWINDOW", "tcp_overwindow"},
    {"TCP_OFOMERGE", "tcp_ofomerge"},
    {"TCP_RFC7323_PAWS", "tcp_rfc7323_paws"},
    {"TCP_INVALID_SEQUENCE", "tcp_invalid_sequence"},
    {"TCP_RESET", "tcp_reset"},
    {"TCP_INVALID_SYN", "tcp_invalid_syn"},
    {"TCP_CLOSE", "tcp_close"},
    {"TCP_FASTOPEN", "tcp_fastopen"},
    {"TCP_OLD_ACK", "tcp_old_ack"},
    {"TCP_TOO_OLD_ACK", "tcp_too_old_ack"},
    {"TCP_ACK_UNSENT_DATA", "tcp_ack_unsent_data"},
    {"TCP_OFO_QUEUE_PRUNE", "tcp_ofo_queue_prune"},
    {"TCP_OFO_DROP", "tcp_ofo_drop"},
    {"IP_OUTNOROUTES", "dst_net_unknown"},
    {"BPF_CGROUP_EGRESS", "bpf_cgroup_egress"},
    {"IPV6DISABLED", "ipv6disabled"},
    {"NEIGH_CREATEFAIL", "unresolved_neigh"},
    {"NEIGH_FAILED", "unresolved_neigh"},
    {"NEIGH_QUEUEFULL", "unresolved_neigh"},
    {"NEIGH_DEAD", "unresolved_neigh"},
    {"TC_EGRESS", "tc_egress"},
    {"QDISC_DROP", "traffic_shaping"},
    {"CPU_BACKLOG", "cpu_backlog"},
    {"XDP", "xdp"},
    {"TC_INGRESS", "tc_ingress"},
    {"UNHANDLED_PROTO", "unhandled_proto"},
    {"SKB_CSUM", "skb_csum"},
    {"SKB_GSO_SEG", "skb_gso_seg"},
    {"SKB_UCOPY_FAULT", "skb_ucopy_fault"},
    {"DEV_HDR", "dev_hdr"},
    {"DEV_READY", "dev_ready"},
    {"FULL_RING", "no_buffer_space"},
    {"NOMEM", "no_buffer_space"},
    {"HDR_TRUNC", "pkt_too_small"},
    {"TAP_FILTER", "tap_filter"},
    {"TAP_TXFILTER", "tap_txfilter"},
    {"ICMP_CSUM", "icmp_parsing"},
    {"INVALID_PROTO", "invalid_proto"},
    {"IP_INADDRERRORS", "host_unreachable"},
    {"IP_INNOROUTES", "net_unreachable"},
    {"PKT_TOO_BIG", "pkt_too_big"},
    {"DUP_FRAG", "dup_frag"},
    {"FRAG_REASM_TIMEOUT", "frag_needed"},
    {"FRAG_TOO_FAR", "frag_needed"},
    {"TCP_MINTTL", "tcp_minttl"},
    {"IPV6_BAD_EXTHDR", "ipv6_bad_exthdr"},
    {"IPV6_NDISC_FRAG", "ipv6_ndisc_frag"},
    {"IPV6_NDISC_HOP_LIMIT", "ipv6_ndisc_hop_limit"},
    {"IPV6_NDISC_BAD_CODE", "ipv6_ndisc_bad_code"},
    {"IPV6_NDISC_BAD_OPTIONS", "ipv6_ndisc_bad_options"},
    {"IPV6_NDISC_NS_OTHERHOST", "ipv6_ndisc_ns_otherhost"},
};

// Prefixes of the freeing function (SYMBOL), first match wins; then unknown.
const Row kSymbols[] = {
    {"sk_stream_kill_queues", ""},  // socket teardown, not a drop
    {"skb_release_data", ""},       // fragment reassembly
    {"skb_queue_purge", ""},        // socket teardown
    {"tcp_", "unknown_l4"},        {"udp_", "unknown_l4"},  {"__udp4_", "unknown_l4"},
    {"__udp6_", "unknown_l4"},     {"icmp_", "unknown_l4"}, {"icmpv6_", "unknown_l4"},
    {"ip_", "unknown_l3"},         {"ipv4_", "unknown_l3"}, {"ip6_", "unknown_l3"},
    {"ipv6_", "unknown_l3"},       {"br_", "unknown_l2"},   {"__br_", "unknown_l2"},
};

constexpr int32_t kUnknown = 256;

}  // namespace

int32_t DropReasonMap::CodeOf(const std::string& name) {
  if (name.empty()) return kIgnore;
  for (uint32_t code = 0; code < 1024; ++code) {
    const char* n = exporter::sflow::DropReasonName(code);
    if (n != nullptr && name == n) return static_cast<int32_t>(code);
  }
  return kIgnore;
}

std::vector<std::string> DropReasonMap::TableReasonNames() {
  std::vector<std::string> names;
  for (const Row& r : kTraps) names.push_back(r.reason);
  for (const Row& r : kGroups) names.push_back(r.reason);
  for (const Row& r : kReasons) names.push_back(r.reason);
  for (const Row& r : kSymbols) names.push_back(r.reason);
  return names;
}

DropReasonMap::DropReasonMap() {
  auto fill = [](std::vector<Entry>* out, const Row* rows, size_t n) {
    for (size_t i = 0; i < n; ++i) out->push_back({rows[i].key, CodeOf(rows[i].reason)});
  };
  fill(&traps_, kTraps, sizeof(kTraps) / sizeof(kTraps[0]));
  fill(&groups_, kGroups, sizeof(kGroups) / sizeof(kGroups[0]));
  fill(&reasons_, kReasons, sizeof(kReasons) / sizeof(kReasons[0]));
  fill(&symbols_, kSymbols, sizeof(kSymbols) / sizeof(kSymbols[0]));
}

int32_t DropReasonMap::Lookup(const std::vector<Entry>& table, hal::base::ByteView key, bool prefix,
                              bool* found) {
  for (const Entry& e : table) {
    const size_t n = e.key.size();
    const bool match = prefix ? key.size() >= n && std::memcmp(key.data(), e.key.data(), n) == 0
                              : key.size() == n && std::memcmp(key.data(), e.key.data(), n) == 0;
    if (match) {
      *found = true;
      return e.code;
    }
  }
  *found = false;
  return kIgnore;
}

int32_t DropReasonMap::Map(const hal::DropEvent& event) const {
  bool found = false;
  if (event.origin == hal::DropOrigin::kHardware) {
    int32_t code = Lookup(traps_, event.trap_name, false, &found);
    if (found) return code;
    code = Lookup(groups_, event.trap_group, false, &found);
    return found ? code : kIgnore;
  }
  static constexpr char kNotSpecified[] = "NOT_SPECIFIED";
  const bool not_specified =
      event.reason.size() == sizeof(kNotSpecified) - 1 &&
      std::memcmp(event.reason.data(), kNotSpecified, sizeof(kNotSpecified) - 1) == 0;
  if (!event.reason.empty() && !not_specified) {
    const int32_t code = Lookup(reasons_, event.reason, false, &found);
    if (found) return code;
  }
  const int32_t code = Lookup(symbols_, event.symbol, true, &found);
  return found ? code : kUnknown;
}

}  // namespace xflowd::agent::sflow
