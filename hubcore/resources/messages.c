/*
 * messages.c - agent messages: from an agent, to an agent and/or a domain,
 * threaded by reply_to, with read state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubcore/hub.h"
#include "hubcore/json.h"
#include "hubcore/util.h"

static int message_prepare(struct hc_conn *c, const struct hc_resource *r,
			   enum hc_write_mode mode, json_t *obj,
			   const json_t *old, struct hc_err *err)
{
	const char *reply_to = hc_json_str(obj, "reply_to");
	json_t *parent = NULL;
	int rc;

	if (!hc_json_str(obj, "to_agent") && !hc_json_str(obj, "to_domain"))
		return hc_err_field(err, HC_EINVAL, "to_agent",
				    "a message needs a recipient: give "
				    "'to_agent', 'to_domain' or both");
	if (mode != HC_WRITE_CREATE)
		return HC_OK;
	/* A reply joins its parent's thread; a new message starts one. */
	if (!reply_to)
		return hc_json_set_str(obj, "thread_id", hc_json_str(obj, "id"));
	rc = hc_res_get_plain(c, r, reply_to, &parent, err);
	if (rc != HC_OK)
		return rc;
	rc = hc_json_set_str(obj, "thread_id", hc_json_str(parent, "thread_id"));
	json_decref(parent);
	return rc;
}

static const struct hc_field message_fields[] = {
	{ .name = "from_agent", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_FILTER | HC_F_IMMUTABLE,
	  .doc = "The sending agent or person." },
	{ .name = "from_domain", .type = HC_FT_REF,
	  .flags = HC_F_FILTER | HC_F_IMMUTABLE, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The sender's domain, if any." },
	{ .name = "to_agent", .type = HC_FT_STRING,
	  .flags = HC_F_FILTER | HC_F_IMMUTABLE,
	  .doc = "The receiving agent; give this or to_domain or both." },
	{ .name = "to_domain", .type = HC_FT_REF,
	  .flags = HC_F_FILTER | HC_F_IMMUTABLE, .ref = &hc_domain_resource,
	  .ref_field = "slug", .doc = "The receiving domain." },
	{ .name = "subject", .type = HC_FT_STRING,
	  .flags = HC_F_REQUIRED | HC_F_IMMUTABLE, .max_len = 300,
	  .doc = "One line saying what the message is about." },
	{ .name = "body", .type = HC_FT_TEXT, .flags = HC_F_IMMUTABLE,
	  .max_len = 256 * 1024, .doc = "The message text (Markdown)." },
	{ .name = "thread_id", .type = HC_FT_STRING,
	  .flags = HC_F_READONLY | HC_F_FILTER,
	  .doc = "Id of the first message of the thread." },
	{ .name = "reply_to", .type = HC_FT_REF, .flags = HC_F_IMMUTABLE,
	  .ref = &hc_message_resource,
	  .ref_field = "id", .doc = "The message this one answers." },
	{ .name = "read", .type = HC_FT_BOOL,
	  .flags = HC_F_READONLY | HC_F_FILTER, .default_value = "false",
	  .doc = "Whether the recipient has marked it read." },
	{ .name = "read_at", .type = HC_FT_DATETIME, .flags = HC_F_READONLY,
	  .doc = "When it was marked read." },
};

const struct hc_resource hc_message_resource = {
	.name = "message",
	.plural = "messages",
	.table = "messages",
	.doc = "A message between agents and domains.",
	.id_policy = HC_ID_UUID,
	.fields = message_fields,
	.nfields = HC_COUNT(message_fields),
	.newest_first = true,
	.hooks = { .prepare = message_prepare },
};

int hc_message_mark_read(struct hc_conn *c, const char *id, json_t **out,
			 struct hc_err *err)
{
	char now[HC_TIME_LEN + 1];
	json_t *row = NULL;
	int rc = hc_res_get_plain(c, &hc_message_resource, id, &row, err);
	if (rc != HC_OK)
		return rc;
	if (!json_is_true(json_object_get(row, "read"))) {
		struct hc_value p[3];
		hc_time_now(now);
		p[0] = hc_vtext(now);
		p[1] = hc_vtext(now);
		p[2] = hc_vtext(hc_json_str(row, "id"));
		rc = hc_exec(c,
			     "UPDATE messages SET row_version = row_version + 1, read = 1, read_at = ?, "
			     "updated_at = ? WHERE id = ? AND read = 0",
			     p, 3, err);
		if (rc == HC_OK) {
			char *rid = strdup(hc_json_str(row, "id"));
			json_decref(row);
			row = NULL;
			rc = rid ? hc_res_get_plain(c, &hc_message_resource,
						    rid, &row, err)
				 : HC_ENOMEM;
			free(rid);
		}
	}
	if (rc != HC_OK) {
		json_decref(row);
		return rc;
	}
	*out = row;
	return HC_OK;
}

int hc_message_reply(struct hc_conn *c, const char *id, json_t *in,
		     json_t **out, struct hc_err *err)
{
	json_t *parent = NULL;
	int rc;
	if (!json_is_object(in))
		return hc_err_set(err, HC_EINVAL,
				  "the request body must be a JSON object");
	if (json_object_get(in, "reply_to") || json_object_get(in, "to_agent") ||
	    json_object_get(in, "to_domain"))
		return hc_err_field(err, HC_EINVAL, "reply_to",
				    "a reply goes to the sender of the "
				    "original message; do not set reply_to, "
				    "to_agent or to_domain");
	rc = hc_res_get_plain(c, &hc_message_resource, id, &parent, err);
	if (rc != HC_OK)
		return rc;
	json_object_set(in, "reply_to", json_object_get(parent, "id"));
	json_object_set(in, "to_agent", json_object_get(parent, "from_agent"));
	if (hc_json_str(parent, "from_domain"))
		json_object_set(in, "to_domain",
				json_object_get(parent, "from_domain"));
	if (!json_object_get(in, "subject")) {
		const char *subj = hc_json_str(parent, "subject");
		char buf[301];
		snprintf(buf, sizeof(buf), "%s%s",
			 strncmp(subj, "Re: ", 4) == 0 ? "" : "Re: ", subj);
		/* never cut a UTF-8 sequence in half */
		if (strlen(buf) == sizeof(buf) - 1) {
			size_t n = strlen(buf);
			while (n && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
				n--;
			if (n && (unsigned char)buf[n - 1] >= 0xc0)
				n--;
			buf[n] = '\0';
		}
		hc_json_set_str(in, "subject", buf);
	}
	json_decref(parent);
	return hc_res_create(c, &hc_message_resource, in, out, err);
}
