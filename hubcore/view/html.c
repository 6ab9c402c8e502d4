/*
 * html.c - writing HTML safely: one escaping function, a printf-like
 * builder that escapes every string argument, and times for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hubcore/util.h"
#include "hubcore/view.h"

/* The entity for a byte HTML must not carry as it is, or NULL. */
static const char *entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

int hc_html_esc(struct hc_buf *b, const char *s)
{
	const char *run = s, *end;
	int rc = HC_OK;
	if (!s)
		return HC_OK;
	end = s + strlen(s);
	while (s < end && rc == HC_OK) {
		const char *ent = entity(*s);
		size_t n = 1;
		/* the pages are UTF-8: a byte that starts no character
		 * becomes U+FFFD REPLACEMENT CHARACTER */
		if (!ent && (unsigned char)*s >= 0x80) {
			n = hc_utf8_char(s, (size_t)(end - s));
			if (!n) {
				ent = "\xef\xbf\xbd";
				n = 1;
			}
		}
		if (ent) {
			rc = hc_buf_add(b, run, (size_t)(s - run));
			if (rc == HC_OK)
				rc = hc_buf_adds(b, ent);
			run = s + n;
		}
		s += n;
	}
	return rc == HC_OK ? hc_buf_add(b, run, (size_t)(s - run)) : rc;
}

int hc_html_raw(struct hc_buf *b, const char *html)
{
	return html ? hc_buf_adds(b, html) : HC_OK;
}

/* One integer conversion: spec is "%" + length + conversion. */
static int add_int(struct hc_buf *b, const char *len, char conv, va_list *ap)
{
	if (strcmp(len, "") == 0)
		return conv == 'd' || conv == 'i'
			       ? hc_buf_addf(b, "%d", va_arg(*ap, int))
			       : hc_buf_addf(b, conv == 'x' ? "%x" : "%u",
					     va_arg(*ap, unsigned));
	if (strcmp(len, "l") == 0)
		return conv == 'd' || conv == 'i'
			       ? hc_buf_addf(b, "%ld", va_arg(*ap, long))
			       : hc_buf_addf(b, conv == 'x' ? "%lx" : "%lu",
					     va_arg(*ap, unsigned long));
	if (strcmp(len, "ll") == 0)
		return conv == 'd' || conv == 'i'
			       ? hc_buf_addf(b, "%lld", va_arg(*ap, long long))
			       : hc_buf_addf(b, conv == 'x' ? "%llx" : "%llu",
					     va_arg(*ap, unsigned long long));
	/* "z" */
	return conv == 'd' || conv == 'i'
		       ? hc_buf_addf(b, "%zd", va_arg(*ap, ssize_t))
		       : hc_buf_addf(b, conv == 'x' ? "%zx" : "%zu",
				     va_arg(*ap, size_t));
}

int hc_html(struct hc_buf *b, const char *fmt, ...)
{
	size_t start = b->len;
	const char *run = fmt;
	va_list ap;
	int rc = HC_OK;
	va_start(ap, fmt);
	while (*fmt && rc == HC_OK) {
		const char *p = fmt;
		char len[3] = "";
		if (*p != '%') {
			fmt++;
			continue;
		}
		rc = hc_buf_add(b, run, (size_t)(p - run));
		if (rc != HC_OK)
			break;
		p++;
		if (*p == '%') {
			rc = hc_buf_addc(b, '%');
		} else if (*p == 's') {
			rc = hc_html_esc(b, va_arg(ap, const char *));
		} else {
			if (p[0] == 'l' && p[1] == 'l') {
				strcpy(len, "ll");
				p += 2;
			} else if (*p == 'l' || *p == 'z') {
				len[0] = *p++;
			}
			if (*p == 'd' || *p == 'i' || *p == 'u' || *p == 'x')
				rc = add_int(b, len, *p, &ap);
			else
				rc = HC_EINTERNAL;
		}
		fmt = p + 1;
		run = fmt;
	}
	if (rc == HC_OK)
		rc = hc_buf_add(b, run, (size_t)(fmt - run));
	va_end(ap);
	if (rc != HC_OK) {
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
	}
	return rc;
}

/* ---- times ------------------------------------------------------------------- */

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool hc_view_time_ms(const char *at, int64_t *ms)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int64_t frac = 0;
	const char *p;
	if (!at || strlen(at) < 10 || at[4] != '-' || at[7] != '-')
		return false;
	y = digits(at, 4);
	mo = digits(at + 5, 2);
	d = digits(at + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	p = at + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (strlen(p) < 9 || p[3] != ':' || p[6] != ':')
			return false;
		h = digits(p + 1, 2);
		mi = digits(p + 4, 2);
		sec = digits(p + 7, 2);
		if (h < 0 || mi < 0 || sec < 0)
			return false;
		p += 9;
		if (*p == '.') {
			int n = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			for (; n < 3; n++)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh = digits(p + 1, 2), om;
			if (oh < 0 || p[3] != ':' || (om = digits(p + 4, 2)) < 0)
				return false;
			off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
			p += 6;
		} else {
			return false;
		}
	}
	if (*p)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = ((int64_t)timegm(&tm) - off) * 1000 + frac;
	return true;
}

bool hc_view_ago(const char *at, int64_t now_ms, char *out, size_t size)
{
	int64_t ms, s;
	bool ahead;
	out[0] = '\0';
	if (!hc_view_time_ms(at, &ms))
		return false;
	ahead = ms > now_ms;
	s = (ahead ? ms - now_ms : now_ms - ms) / 1000;
	if (s < 60)
		snprintf(out, size, "%s",
			 ahead ? "in under a minute" : "just now");
	else if (s < 3600)
		snprintf(out, size, ahead ? "in %lld min" : "%lld min ago",
			 (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(out, size, ahead ? "in %lld h" : "%lld h ago",
			 (long long)(s / 3600));
	else
		snprintf(out, size, ahead ? "in %lld d" : "%lld d ago",
			 (long long)(s / 86400));
	return true;
}

int hc_html_time(struct hc_buf *b, const char *at, int64_t now_ms)
{
	char ago[32];
	if (!at || !hc_view_ago(at, now_ms, ago, sizeof(ago)))
		return hc_html(b, "<span class=\"muted\">%s</span>",
			       at ? at : "never");
	return hc_html(b, "<time datetime=\"%s\" title=\"%s\">%s</time>", at,
		       at, ago);
}
