/*
 * svg.c - charts as server-rendered SVG: bars with a reference line, and
 * small stacked bars. Styling comes from classes (hub.css), never from
 * style attributes, so the strict Content-Security-Policy holds. Geometry
 * is in whole units of a fixed viewBox that the browser scales.
 */
#include "hubcore/view.h"

#define W 640
#define H 240
#define TOP 22
#define BOTTOM 30 /* room for the labels under the bars */
#define SIDE 8

static int y_of(int64_t v, int64_t lo, int64_t hi)
{
	double f = (double)(hi - v) / (double)(hi - lo);
	return TOP + (int)(f * (H - TOP - BOTTOM) + 0.5);
}

static int data_table(struct hc_buf *b, const struct hc_chart *c)
{
	int rc = hc_html(b,
			 "<details class=\"data\"><summary>%s: the data</summary>"
			 "<table><thead><tr><th scope=\"col\">%s</th>"
			 "<th scope=\"col\" class=\"num\">%s</th></tr></thead>"
			 "<tbody>",
			 c->title, c->label_header ? c->label_header : "",
			 c->value_header ? c->value_header : "value");
	for (size_t i = 0; rc == HC_OK && i < c->nbars; i++)
		rc = hc_html(b,
			     "<tr><th scope=\"row\">%s</th>"
			     "<td class=\"num\">%s</td></tr>",
			     c->bars[i].label, c->bars[i].value_text);
	if (rc == HC_OK && c->has_line && c->line_label)
		rc = hc_html(b, "<tr><th scope=\"row\">%s</th><td></td></tr>",
			     c->line_label);
	return rc == HC_OK ? hc_html_raw(b, "</tbody></table></details>") : rc;
}

int hc_svg_bars(struct hc_buf *b, const struct hc_chart *c)
{
	int64_t lo = 0, hi = 0;
	int slot, bw, every, y0, rc;
	if (c->has_line) {
		lo = c->line < lo ? c->line : lo;
		hi = c->line > hi ? c->line : hi;
	}
	for (size_t i = 0; i < c->nbars; i++) {
		lo = c->bars[i].value < lo ? c->bars[i].value : lo;
		hi = c->bars[i].value > hi ? c->bars[i].value : hi;
	}
	if (hi == lo)
		hi = lo + 1;
	slot = c->nbars ? (W - 2 * SIDE) / (int)c->nbars : W;
	bw = slot * 7 / 10 > 1 ? slot * 7 / 10 : 1;
	if (bw > 60)
		bw = 60;
	/* at most 6 labels fit under the bars on a phone */
	every = c->nbars > 6 ? (int)((c->nbars + 5) / 6) : 1;
	y0 = y_of(0, lo, hi);
	rc = hc_html(b,
		     "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
		     "aria-labelledby=\"%s-t %s-d\" "
		     "preserveAspectRatio=\"xMidYMid meet\">"
		     "<title id=\"%s-t\">%s</title><desc id=\"%s-d\">%s</desc>",
		     W, H, c->id, c->id, c->id, c->title, c->id,
		     c->desc ? c->desc : "");
	for (size_t i = 0; rc == HC_OK && i < c->nbars; i++) {
		const struct hc_chart_bar *bar = &c->bars[i];
		int x = SIDE + (int)i * slot + (slot - bw) / 2;
		int y = y_of(bar->value, lo, hi);
		int top = y < y0 ? y : y0, h = y < y0 ? y0 - y : y - y0;
		rc = hc_html(b,
			     "<rect class=\"bar%s%s%s\" x=\"%d\" y=\"%d\" "
			     "width=\"%d\" height=\"%d\"><title>%s: %s</title>"
			     "</rect>",
			     bar->cls ? " " : "", bar->cls ? bar->cls : "",
			     bar->value < 0 ? " negative" : "", x, top, bw,
			     h > 0 ? h : 1, bar->label, bar->value_text);
		if (rc == HC_OK && (int)i % every == 0)
			rc = hc_html(b,
				     "<text class=\"axis\" x=\"%d\" y=\"%d\" "
				     "text-anchor=\"middle\">%s</text>",
				     x + bw / 2, H - 10, bar->label);
	}
	if (rc == HC_OK)
		rc = hc_html(b,
			     "<line class=\"zero\" x1=\"%d\" x2=\"%d\" y1=\"%d\" "
			     "y2=\"%d\"/>",
			     SIDE, W - SIDE, y0, y0);
	if (rc == HC_OK && c->has_line) {
		int y = y_of(c->line, lo, hi);
		rc = hc_html(b,
			     "<line class=\"threshold\" x1=\"%d\" x2=\"%d\" "
			     "y1=\"%d\" y2=\"%d\"/>"
			     "<text class=\"threshold-label\" x=\"%d\" y=\"%d\" "
			     "text-anchor=\"end\">%s</text>",
			     SIDE, W - SIDE, y, y, W - SIDE,
			     y - 5 > 12 ? y - 5 : y + 14,
			     c->line_label ? c->line_label : "");
	}
	if (rc == HC_OK)
		rc = hc_html_raw(b, "</svg>");
	return rc == HC_OK ? data_table(b, c) : rc;
}

int hc_svg_stack(struct hc_buf *b, const struct hc_chart_part *parts,
		 size_t nparts, int64_t max, const char *label)
{
	int64_t sum = 0;
	int x = 0, rc;
	for (size_t i = 0; i < nparts; i++)
		sum += parts[i].value > 0 ? parts[i].value : 0;
	if (max <= 0)
		max = sum > 0 ? sum : 1;
	rc = hc_html(b,
		     "<svg class=\"stack%s\" viewBox=\"0 0 200 10\" "
		     "preserveAspectRatio=\"none\" role=\"img\" "
		     "aria-label=\"%s\"><rect class=\"track\" width=\"200\" "
		     "height=\"10\"/>",
		     sum > max ? " over" : "", label);
	for (size_t i = 0; rc == HC_OK && i < nparts && x < 200; i++) {
		int64_t v = parts[i].value > 0 ? parts[i].value : 0;
		int w = (int)((double)v * 200.0 / (double)max + 0.5);
		if (w > 200 - x)
			w = 200 - x;
		if (w <= 0)
			continue;
		rc = hc_html(b,
			     "<rect class=\"part %s\" x=\"%d\" width=\"%d\" "
			     "height=\"10\"><title>%s: %lld</title></rect>",
			     parts[i].cls ? parts[i].cls : "", x, w,
			     parts[i].label, (long long)parts[i].value);
		x += w;
	}
	return rc == HC_OK ? hc_html_raw(b, "</svg>") : rc;
}
