// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 3: output formats. status and stats as tables, stats as JSON, the
 * Prometheus text exposition format (stdout, textfile and /metrics share
 * it), and the lines that report interfaces lost between two reads.
 *
 * Interface names may hold any byte but '/' and NUL. Tables show control
 * bytes, backslashes and bytes that are not UTF-8 escaped (\xNN, \\); JSON
 * and Prometheus need UTF-8, so such a byte becomes U+FFFD there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include "xdp-pong.h"

void pong_format_limits(const struct pong_settings *s, char *buf, size_t len)
{
	char src[32] = "off", all[32] = "off";

	if (s->source_pps)
		snprintf(src, sizeof(src), "%u pps", s->source_pps);
	if (s->global_pps)
		snprintf(all, sizeof(all), "%u pps", s->global_pps);
	if (s->error_ms[0] || s->error_ms[1])
		snprintf(buf, len, "per source %s, global %s, icmp errors 1/%u ms (IPv6 1/%u ms)", src, all,
			 s->error_ms[0], s->error_ms[1]);
	else
		snprintf(buf, len, "per source %s, global %s, icmp errors off", src, all);
}

/* --unclaimed as status and set show it: "on" or "off". */
void pong_format_claims(const struct pong_settings *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s->unclaimed ? "on" : "off");
}

void pong_print_status_table(const struct pong_attachment *a, int n)
{
	printf("%-16s %7s  %-7s %8s  %-4s %-17s  %-12s %-13s %-17s %s\n", "INTERFACE", "IFINDEX", "MODE", "PROG ID",
	       "TTL", "MAC", "SCOPE", "UNCLAIMED", "ANSWER", "LIMITS");
	for (int i = 0; i < n; i++) {
		char scope[32] = "?", limits[160] = "?", claims[32] = "?", name[PONG_NAME_TEXT], mac[PONG_MAC_TEXT];
		char kinds[PONG_ANSWER_TEXT] = "?";

		pong_name_text(a[i].name, name, sizeof(name));
		if (!a[i].attached) {
			printf("%-16s %7d  %-7s %8s  %-4s %s\n", name, a[i].ifindex, "-", "-", "-",
			       a[i].other[0] ? "not attached (other XDP program there)" : "not attached");
			continue;
		}
		printf("%-16s %7d  %-7s %8u  ", name, a[i].ifindex, pong_mode_name(a[i].mode), a[i].prog_id);
		if (a[i].cfg_known)
			printf("%-4u ", a[i].cfg.ttl);
		else
			printf("%-4s ", "?");
		printf("%-17s", a[i].mac_known ? pong_format_mac(a[i].mac, mac) : "?");
		putchar(pong_mac_stale(&a[i]) ? '!' : ' ');
		if (a[i].nprefixes >= 0) {
			if (a[i].settings.scoped)
				snprintf(scope, sizeof(scope), "%d prefix%s", a[i].nprefixes, a[i].nprefixes == 1 ? "" : "es");
			else
				snprintf(scope, sizeof(scope), "all");
			pong_format_limits(&a[i].settings, limits, sizeof(limits));
			pong_format_claims(&a[i].settings, claims, sizeof(claims));
			pong_answer_text(a[i].settings.answer, kinds);
		}
		printf(" %-12s %-13s %-17s %s\n", scope, claims, kinds, limits);
	}
	for (int i = 0; i < n; i++) {
		char was[PONG_MAC_TEXT], now[PONG_MAC_TEXT];

		if (!pong_mac_stale(&a[i]))
			continue;
		/* on stderr (pong_err escapes the line): a warning, and the table on stdout stays a table */
		pong_err("warning: %s: answers as %s (!) but the interface's MAC is now %s; 'xdp-pong run' follows MAC "
			 "changes, 'attach' does not: detach and attach again", a[i].name, pong_format_mac(a[i].mac, was),
			 pong_format_mac(a[i].link_mac, now));
	}
	for (int i = 0; i < n; i++) {
		if (!a[i].attached || a[i].own_unknown <= 0)
			continue;
		pong_err("warning: %s: %d of this host's addresses came after attach, and xdp-pong answers for them, "
			 "not the kernel; 'xdp-pong run' follows the host's addresses, 'attach' does not: detach and "
			 "attach again", a[i].name, a[i].own_unknown);
	}
}

/* The program answers as a MAC that is no longer the interface's. */
bool pong_mac_stale(const struct pong_attachment *a)
{
	return a->attached && a->mac_known && a->link_mac_known && memcmp(a->mac, a->link_mac, 6) != 0;
}

static void json_mac(const char *key, const __u8 *m, bool known)
{
	if (known) {
		char text[PONG_MAC_TEXT];

		printf(",\"%s\":\"%s\"", key, pong_format_mac(m, text));
	} else
		printf(",\"%s\":null", key);
}

/*
 * status --json: what status shows, one object per interface, as stats
 * --json names them (name, ifindex, mode, prog_id); null where unknown.
 */
void pong_print_status_json(const struct pong_attachment *a, int n)
{
	printf("{\"interfaces\":[");
	for (int i = 0; i < n; i++) {
		const struct pong_settings *st = &a[i].settings;
		bool known = a[i].nprefixes >= 0;

		printf("%s{\"name\":", i ? "," : "");
		pong_json_string(stdout, a[i].name);
		printf(",\"ifindex\":%d,\"attached\":%s", a[i].ifindex, a[i].attached ? "true" : "false");
		json_mac("interface_mac", a[i].link_mac, a[i].link_mac_known);
		if (!a[i].attached) {
			printf(",\"other_program\":");
			if (a[i].other[0])
				pong_json_string(stdout, a[i].other);
			else
				printf("null");
			printf("}");
			continue;
		}
		printf(",\"mode\":\"%s\",\"prog_id\":%u,\"shared\":%s", pong_mode_name(a[i].mode), a[i].prog_id,
		       a[i].shared ? "true" : "false");
		if (a[i].cfg_known)
			printf(",\"ttl\":%u", a[i].cfg.ttl);
		else
			printf(",\"ttl\":null");
		json_mac("mac", a[i].mac, a[i].mac_known);
		printf(",\"mac_stale\":%s", pong_mac_stale(&a[i]) ? "true" : "false");
		if (a[i].own_unknown >= 0)
			printf(",\"own_addresses_unknown\":%d", a[i].own_unknown);
		else
			printf(",\"own_addresses_unknown\":null");
		if (!known) {
			printf(",\"scope\":null,\"unclaimed\":null,\"answer\":null,\"limits\":null}");
			continue;
		}
		if (st->scoped)
			printf(",\"scope\":{\"all\":false,\"prefixes\":%d}", a[i].nprefixes);
		else
			printf(",\"scope\":{\"all\":true,\"prefixes\":0}");
		printf(",\"unclaimed\":{\"on\":%s", st->unclaimed ? "true" : "false");
		printf("},\"answer\":[");
		for (__u32 bit = 1, first = 1; bit && bit <= PONG_ANSWER_ALL; bit <<= 1) {
			if (st->answer & bit) {
				char kind[PONG_ANSWER_TEXT];

				printf("%s\"%s\"", first ? "" : ",", pong_answer_text(bit, kind));
				first = 0;
			}
		}
		printf("],\"limits\":{\"source_pps\":%u,\"global_pps\":%u,\"icmp_ratelimit_ms\":{\"ipv4\":%u,"
		       "\"ipv6\":%u}}}", st->source_pps, st->global_pps, st->error_ms[0], st->error_ms[1]);
	}
	printf("]}\n");
}

void pong_print_stats_table(const struct pong_attachment *a, const struct pong_counters *c, int n)
{
	for (int i = 0; i < n; i++) {
		char name[PONG_NAME_TEXT];

		if (i)
			putchar('\n');
		printf("%s (ifindex %d, %s, prog id %u)\n", pong_name_text(a[i].name, name, sizeof(name)), a[i].ifindex,
		       pong_mode_name(a[i].mode), a[i].prog_id);
		printf("  %-18s %14s %16s\n", "COUNTER", "PACKETS", "BYTES");
		for (int k = 0; k < PONG_CNT__MAX; k++)
			printf("  %-18s %14" PRIu64 " %16" PRIu64 "\n", pong_counter_names[k],
			       (uint64_t)c[i].counter[k].packets, (uint64_t)c[i].counter[k].bytes);
		for (int r = 1; r < PONG_R__MAX; r++) {
			if (!c[i].reason[r].packets)
				continue;
			printf("    %-16s %14" PRIu64 " %16" PRIu64 "  %s\n", pong_reason_names[r],
			       (uint64_t)c[i].reason[r].packets, (uint64_t)c[i].reason[r].bytes,
			       pong_reason_texts[r]);
		}
		if (c[i].event[PONG_EV_CLAIMED] || c[i].event[PONG_EV_RELEASED] || c[i].event[PONG_EV_PROBES])
			printf("  addresses claimed %" PRIu64 ", released %" PRIu64 "; probes sent %" PRIu64 " (--unclaimed)\n",
			       (uint64_t)c[i].event[PONG_EV_CLAIMED], (uint64_t)c[i].event[PONG_EV_RELEASED],
			       (uint64_t)c[i].event[PONG_EV_PROBES]);
	}
}

/*
 * A JSON string (RFC 8259, which requires UTF-8): quotes, backslashes and
 * control characters escaped; a byte that is not UTF-8 becomes U+FFFD, as a
 * decoder would show it. The ifindex printed beside a name identifies the
 * interface exactly.
 */
void pong_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	while (*s) {
		const unsigned char c = (unsigned char)*s;
		int k = pong_utf8_len(s);

		if (k == 0) {
			fputs("\\ufffd", f);
			k = 1;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fwrite(s, 1, (size_t)k, f);
		}
		s += k;
	}
	fputc('"', f);
}

static void json_stat(const char *name, const struct pong_stat *s, int first)
{
	printf("%s\"%s\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", first ? "" : ",",
	       name, (uint64_t)s->packets, (uint64_t)s->bytes);
}

void pong_print_stats_json(const struct pong_attachment *a, const struct pong_counters *c, int n)
{
	printf("{\"interfaces\":[");
	for (int i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		pong_json_string(stdout, a[i].name);
		printf(",\"ifindex\":%d,\"mode\":\"%s\",\"prog_id\":%u,\"counters\":{",
		       a[i].ifindex, pong_mode_name(a[i].mode), a[i].prog_id);
		for (int k = 0; k < PONG_CNT__MAX; k++)
			json_stat(pong_counter_names[k], &c[i].counter[k], k == 0);
		printf("},\"refused_by_reason\":{");
		for (int r = 1; r < PONG_R__MAX; r++)
			json_stat(pong_reason_names[r], &c[i].reason[r], r == 1);
		printf("},\"events\":{");
		for (int e = 0; e < PONG_EV__MAX; e++)
			printf("%s\"%s\":%" PRIu64, e ? "," : "", pong_event_names[e], (uint64_t)c[i].event[e]);
		printf("}}");
	}
	printf("]}\n");
}

/*
 * A Prometheus label value (text format 0.0.4). The value is the name as
 * tables show it (pong_text_escape(): a backslash as \\, a byte that is not
 * UTF-8 or a control byte as \xNN), which is valid UTF-8 and says which
 * bytes the name holds: two names are never one series (U+FFFD for every
 * odd byte made q\xff and q\xfe one). Then the format's own escapes:
 * backslash and double quote.
 */
static void prom_label(FILE *f, const char *s)
{
	char text[4 * 256];

	pong_text_escape(s, text, sizeof(text));
	for (const char *p = text; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		fputc(*p, f);
	}
}

static void prom_family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

static void prom_sample(FILE *f, const char *name, const char *iface, const char *label,
			const char *value, uint64_t v)
{
	fprintf(f, "%s{interface=\"", name);
	prom_label(f, iface);
	if (label && value) {
		fprintf(f, "\",%s=\"", label);
		prom_label(f, value);
	}
	fprintf(f, "\"} %" PRIu64 "\n", v);
}

/* A gauge of one interface; with info, also its program id, mode and xdp-pong's version as labels. */
static void prom_gauge(FILE *f, const char *name, const struct pong_attachment *a, bool info, int v)
{
	fprintf(f, "%s{interface=\"", name);
	prom_label(f, a->name);
	if (info)
		fprintf(f, "\",mode=\"%s\",prog_id=\"%u\",version=\"%s", pong_mode_name(a->mode), a->prog_id,
			PONG_VERSION);
	fprintf(f, "\"} %d\n", v);
}

/*
 * Prometheus text exposition format 0.0.4: whether each interface runs
 * xdp-pong (up) and what it runs (info), then replies by kind, frames passed,
 * requests refused by reason; packets and bytes of each.
 */
void pong_print_prometheus(FILE *f, const struct pong_attachment *a, const struct pong_counters *c, int n,
			   const struct pong_attachment *down, int ndown)
{
	static const int replies[] = { PONG_CNT_ECHO4, PONG_CNT_ARP, PONG_CNT_ECHO6, PONG_CNT_NDP, PONG_CNT_UDP4,
				       PONG_CNT_UDP6, PONG_CNT_TCP4, PONG_CNT_TCP6, PONG_CNT_TIMESTAMP };
	static const struct {
		const char *name, *help;
		int bytes;
	} families[] = {
		{ "xdp_pong_replies_total", "Requests answered, by kind.", 0 },
		{ "xdp_pong_reply_bytes_total", "Bytes of the requests answered, by kind.", 1 },
		{ "xdp_pong_passed_total", "Frames passed to the kernel untouched: not a request xdp-pong answers.", 0 },
		{ "xdp_pong_passed_bytes_total", "Bytes of the frames passed to the kernel.", 1 },
		{ "xdp_pong_refused_total", "Requests not answered, by reason.", 0 },
		{ "xdp_pong_refused_bytes_total", "Bytes of the requests not answered, by reason.", 1 },
		{ "xdp_pong_addresses_claimed_total", "Addresses claimed by --unclaimed: asked for, unanswered.", 2 },
		{ "xdp_pong_addresses_released_total", "Claimed addresses given up: their owner showed signs of life.", 3 },
		{ "xdp_pong_probes_total", "Probes --unclaimed sent to find out whether an address has an owner.", 4 },
	};

	fprintf(f, "# HELP xdp_pong_up Whether xdp-pong is attached to the interface (0: expected, not there).\n"
		   "# TYPE xdp_pong_up gauge\n");
	for (int i = 0; i < n; i++)
		prom_gauge(f, "xdp_pong_up", &a[i], false, 1);
	for (int i = 0; i < ndown; i++)
		prom_gauge(f, "xdp_pong_up", &down[i], false, 0);
	fprintf(f, "# HELP xdp_pong_info The program on the interface: its id, its mode, xdp-pong's version.\n"
		   "# TYPE xdp_pong_info gauge\n");
	for (int i = 0; i < n; i++)
		prom_gauge(f, "xdp_pong_info", &a[i], true, 1);
	for (size_t fam = 0; fam < sizeof(families) / sizeof(families[0]); fam++) {
		int bytes = families[fam].bytes;   /* 0 packets, 1 bytes; events: 2 claimed, 3 released, 4 probes */

		prom_family(f, families[fam].name, families[fam].help);
		for (int i = 0; i < n; i++) {
			const struct pong_counters *ci = &c[i];

			if (fam < 2) {
				for (size_t k = 0; k < sizeof(replies) / sizeof(replies[0]); k++) {
					const struct pong_stat *s = &ci->counter[replies[k]];

					prom_sample(f, families[fam].name, a[i].name, "kind", pong_counter_names[replies[k]],
						    bytes ? s->bytes : s->packets);
				}
			} else if (fam < 4) {
				const struct pong_stat *s = &ci->counter[PONG_CNT_PASSED];

				prom_sample(f, families[fam].name, a[i].name, NULL, NULL, bytes ? s->bytes : s->packets);
			} else if (fam >= 6) {
				static const int events[] = { PONG_EV_CLAIMED, PONG_EV_RELEASED, PONG_EV_PROBES };

				prom_sample(f, families[fam].name, a[i].name, NULL, NULL, ci->event[events[bytes - 2]]);
			} else {
				for (int r = 1; r < PONG_R__MAX; r++)
					prom_sample(f, families[fam].name, a[i].name, "reason", pong_reason_names[r],
						    bytes ? ci->reason[r].bytes : ci->reason[r].packets);
			}
		}
	}
}

static void claim_addr(const struct pong_claim_entry *e, char *buf, size_t len)
{
	if (!inet_ntop(e->family, e->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* The VLAN of an entry as `claims` shows it: "-" untagged, "20", "100.20" (outer first); "s100": an 802.1ad tag. */
static void claim_vlan(const struct pong_claim_entry *e, char *buf, size_t len)
{
	const char *s = e->vlan[0] & PONG_VLAN_AD ? "s" : "";

	if (!e->vlan[0])
		snprintf(buf, len, "-");
	else if (!e->vlan[1])
		snprintf(buf, len, "%s%u", s, e->vlan[0] & 0x0fffu);
	else
		snprintf(buf, len, "%s%u.%u", s, e->vlan[0] & 0x0fffu, e->vlan[1] & 0x0fffu);
}

void pong_print_claims_table(const char *ifname, const struct pong_settings *st, const struct pong_claim_entry *e,
			     int n)
{
	char name[PONG_NAME_TEXT], claims[32];

	pong_format_claims(st, claims, sizeof(claims));
	printf("%s: --unclaimed %s; %d address%s tracked\n", pong_name_text(ifname, name, sizeof(name)), claims, n,
	       n == 1 ? "" : "es");
	if (!n)
		return;
	printf("%-40s %-9s %-10s %10s %10s %12s %6s\n", "ADDRESS", "VLAN", "STATE", "FOR", "ASKED", "HITS", "PROBES");
	for (int i = 0; i < n; i++) {
		char addr[INET6_ADDRSTRLEN], vlan[16];

		claim_addr(&e[i], addr, sizeof(addr));
		claim_vlan(&e[i], vlan, sizeof(vlan));
		printf("%-40s %-9s %-10s %9.1fs %8.1fs ago %9" PRIu64 " %6u\n", addr, vlan,
		       pong_claim_state_name(e[i].state), e[i].state_s, e[i].asked_s, (uint64_t)e[i].claim.hits,
		       e[i].verdict.probes);
	}
}

void pong_print_claims_json(const char *ifname, const struct pong_settings *st, const struct pong_claim_entry *e,
			    int n)
{
	printf("{\"interface\":");
	pong_json_string(stdout, ifname);
	printf(",\"unclaimed\":%s,\"reverify_s\":%d,\"claims\":[", st->unclaimed ? "true" : "false",
	       PONG_REVERIFY_S);
	for (int i = 0; i < n; i++) {
		char addr[INET6_ADDRSTRLEN];

		claim_addr(&e[i], addr, sizeof(addr));
		printf("%s{\"address\":\"%s\",\"vlan\":[", i ? "," : "", addr);
		for (int t = 0; t < 2 && e[i].vlan[t]; t++)
			printf("%s%u", t ? "," : "", e[i].vlan[t] & 0x0fffu);
		printf("],\"s_tag\":%s,\"state\":\"%s\",\"state_s\":%.3f,\"asked_s\":%.3f,\"hits\":%" PRIu64
		       ",\"probes\":%u}", e[i].vlan[0] & PONG_VLAN_AD ? "true" : "false",
		       pong_claim_state_name(e[i].state), e[i].state_s, e[i].asked_s,
		       (uint64_t)e[i].claim.hits, e[i].verdict.probes);
	}
	printf("]}\n");
}

/* One line on stderr for each interface pong_snapshot() lost. */
void pong_print_lost(const struct pong_lost *lost, int n)
{
	for (int i = 0; i < n; i++) {
		int err = lost[i].err;

		if (err == -ENODEV)
			pong_err("%s: the interface is gone", lost[i].name);
		else if (err == -ENOENT)
			pong_err("%s: xdp-pong is no longer attached", lost[i].name);
		else
			pong_err("%s: cannot read xdp-pong's counters: %s", lost[i].name,
				 err == -EPROTO ? "the attached program is from another xdp-pong version" : strerror(-err));
	}
}
