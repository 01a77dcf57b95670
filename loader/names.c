// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 0: the names of counters, refusal reasons, events, claim states,
 * attach modes and the kinds --answer turns on, as the
 * CLI prints them and the unit driver (tests/datapath/testrun.c) reports them.
 * Generated from the X-macro lists of the ABI header, so they cannot drift.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "xdp-pong.h"

const char *const pong_counter_names[PONG_CNT__MAX] = {
#define PONG_X_NAME(id, name) [PONG_CNT_##id] = name,
	PONG_COUNTERS(PONG_X_NAME)
#undef PONG_X_NAME
};

const char *const pong_reason_names[PONG_R__MAX] = {
	[PONG_R_NONE] = "-",
#define PONG_X_NAME(id, name, text) [PONG_R_##id] = name,
	PONG_REASONS(PONG_X_NAME)
#undef PONG_X_NAME
};

const char *const pong_reason_texts[PONG_R__MAX] = {
	[PONG_R_NONE] = "",
#define PONG_X_TEXT(id, name, text) [PONG_R_##id] = text,
	PONG_REASONS(PONG_X_TEXT)
#undef PONG_X_TEXT
};

const char *const pong_event_names[PONG_EV__MAX] = {
#define PONG_X_NAME(id, name) [PONG_EV_##id] = name,
	PONG_EVENTS(PONG_X_NAME)
#undef PONG_X_NAME
};

const char *pong_claim_state_name(unsigned state)
{
	switch (state) {
	case PONG_CLAIM_ASKED:     return "asked";
	case PONG_CLAIM_PROBING:   return "probing";
	case PONG_CLAIM_CLAIMED:   return "claimed";
	case PONG_CLAIM_OWNER:     return "owner-seen";
	default:                   return "unknown";
	}
}

const char *pong_mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB:    return "skb";
	case XDP_MODE_HW:     return "hw";
	default:              return "unknown";
	}
}

static const struct {
	const char *name;
	__u32 bit;
} answers[] = {
#define PONG_X_ROW(id, name, bit) { name, bit },
	PONG_ANSWERS(PONG_X_ROW)
#undef PONG_X_ROW
};
#define NANSWERS (sizeof(answers) / sizeof(answers[0]))

/* The kinds --answer turned on, as the CLI shows them: "udp,tcp", or "none". */
const char *pong_answer_text(__u32 answer, char buf[PONG_ANSWER_TEXT])
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NANSWERS; i++) {
		if (answer & answers[i].bit)
			at += (size_t)snprintf(buf + at, PONG_ANSWER_TEXT - at, "%s%s", at ? "," : "", answers[i].name);
	}
	if (!at)
		snprintf(buf, PONG_ANSWER_TEXT, "none");
	return buf;
}

/* --answer's value: kinds joined by commas ("udp,tcp"), or "none". 0, or -EINVAL. */
int pong_answer_parse(const char *list, __u32 *answer)
{
	const char *p = list;

	*answer = 0;
	if (!strcmp(list, "none"))
		return 0;
	for (;;) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < NANSWERS; i++) {
			if (strlen(answers[i].name) == n && !strncmp(p, answers[i].name, n))
				break;
		}
		if (i == NANSWERS)
			return -EINVAL;
		*answer |= answers[i].bit;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}
