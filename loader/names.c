// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 0: the names of counters, refusal reasons, events, claim states and
 * attach modes, as the
 * CLI prints them and the unit driver (tests/datapath/testrun.c) reports them.
 * Generated from the X-macro lists of the ABI header, so they cannot drift.
 */
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
