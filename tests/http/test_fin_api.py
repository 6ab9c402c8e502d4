"""test_fin_api.py - fin-hub over HTTP, the CLI import and MCP over stdio:
budgets and their alerts, commitments, the runway worked example of
docs/fin-hub.md, uploads with bad rows, idempotent re-import, token spend.
"""

import json
import os
import subprocess
import unittest

from harness import DATA, Hub, HubTestCase, foshub_bin, run_cli, ROOT

FIN = os.path.join(DATA, "fin")
CLAUDE = os.path.join(FIN, "claude", "projects")


def read(path):
    with open(path, "rb") as f:
        return f.read()


class FinHubTest(HubTestCase):
    """One fin-hub for the class: domains cloud and ops."""

    import_examples = False

    @classmethod
    def setUpClass(cls):
        cls.hub = Hub(hub="fin")
        cls.hub.start()
        for name in ("cloud", "ops"):
            r = cls.hub.post("/domains", {"name": name})
            assert r.status == 201, r

    def alerts(self, open_only=False):
        r = self.hub.get("/progress/alerts" + ("?open=true" if open_only else ""))
        self.assertEqual(r.status, 200, r)
        return [(e["event_type"], e["correlation_id"]) for e in r.json()["items"]]

    def upload(self, kind, path, query=""):
        return self.hub.post("/imports/%s?source=%s%s" % (kind, os.path.basename(path), query),
                             raw=read(path), headers={"Content-Type": "text/csv"})

    def test_1_budget_alerts_follow_imports(self):
        r = self.hub.post("/budgets", {"domain": "cloud", "period": "2026-03",
                                       "allocated": 30000, "currency": "usd"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Location"), "/budgets/cloud-2026-03")
        b = r.json()
        self.assertEqual((b["currency"], b["spent"], b["alert_state"]), ("USD", 0, "ok"))
        # the FOCUS upload puts spent at 284.50 of 300.00: warning raised
        r = self.upload("focus", os.path.join(FIN, "focus.csv"), "&domain=cloud")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["created"], 6)
        b = self.hub.get("/budgets/cloud-2026-03").json()
        self.assertEqual((b["spent"], b["alert_state"]), (28450, "warning"))
        self.assertIn(("alert_raised", "budget_alert:cloud-2026-03:warning"), self.alerts(True))
        # the same upload again adds nothing and raises nothing
        before = self.alerts()
        r = self.upload("focus", os.path.join(FIN, "focus.csv"), "&domain=cloud")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["created"], r.json()["duplicates"]), (0, 6))
        self.assertEqual(self.alerts(), before)
        # over the allocation, then back under both levels
        r = self.hub.patch("/budgets/cloud-2026-03", {"allocated": 25000})
        self.assertEqual(r.json()["alert_state"], "exceeded")
        r = self.hub.patch("/budgets/cloud-2026-03", {"allocated": 40000})
        self.assertEqual(r.json()["alert_state"], "ok")
        events = [a for a in self.alerts() if a[1].startswith("budget_alert:")]
        self.assertEqual(sorted(events), sorted([
            ("alert_raised", "budget_alert:cloud-2026-03:warning"),
            ("alert_raised", "budget_alert:cloud-2026-03:exceeded"),
            ("alert_resolved", "budget_alert:cloud-2026-03:exceeded"),
            ("alert_resolved", "budget_alert:cloud-2026-03:warning")]))
        self.assertEqual([a for a in self.alerts(True) if a[1].startswith("budget_alert:")], [])
        # read-only figures cannot be written
        self.assertProblem(self.hub.patch("/budgets/cloud-2026-03", {"spent": 1}), 422, "spent")
        # If-Match: the revision read, else 412 and nothing changes
        tag = '"%d"' % self.hub.get("/budgets/cloud-2026-03").json()["revision"]
        r = self.hub.patch("/budgets/cloud-2026-03", {"notes": "x"}, headers={"If-Match": tag})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ETag"), '"%d"' % r.json()["revision"])
        before = self.hub.dump()
        self.assertProblem(self.hub.patch("/budgets/cloud-2026-03", {"notes": "y"},
                                          headers={"If-Match": tag}), 412, "revision")
        self.assertEqual(self.hub.dump(), before)
        self.assertProblem(self.hub.post("/budgets", {"domain": "cloud", "period": "2026-13",
                                                      "allocated": 1, "currency": "USD"}),
                           422, "period")
        self.assertProblem(self.hub.post("/budgets", {"domain": "cloud", "period": "2026-03",
                                                      "allocated": 1, "currency": "USD"}),
                           409)

    def test_2_mixing_currencies_needs_a_rate(self):
        before = self.hub.dump()
        r = self.hub.post("/budgets", {"domain": "cloud", "period": "2026-Q1",
                                       "allocated": 100000, "currency": "EUR"})
        p = self.assertProblem(r, 422, "currency")
        self.assertIn("no exchange rate from USD to EUR", p["detail"])
        self.assertEqual(self.hub.dump(), before)
        r = self.hub.post("/rates", {"from_currency": "USD", "to_currency": "EUR", "rate": "0.92"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["id"], "USD-EUR")
        self.assertProblem(self.hub.post("/rates", {"from_currency": "USD", "to_currency": "GBP",
                                                    "rate": "0.1234567891"}), 422, "rate")
        r = self.hub.post("/budgets", {"domain": "cloud", "period": "2026-Q1",
                                       "allocated": 100000, "currency": "EUR"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["spent"], 26174)  # 284.50 USD * 0.92

    def test_3_runway_worked_example(self):
        r = self.upload("invoices", os.path.join(FIN, "invoices.csv"), "&domain=ops")
        self.assertEqual(r.status, 201, r)
        r = self.hub.post("/accounts", {"domain": "ops", "balance": 6000000, "currency": "EUR",
                                        "as_of": "2026-05-01"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["id"], "ops")
        for c in ({"type": "salary", "vendor": "Staff", "amount": 500000, "cadence": "monthly",
                   "start_date": "2026-01-01"},
                  {"type": "subscription", "vendor": "LicenseCo", "amount": 120000,
                   "cadence": "yearly", "start_date": "2025-06-15"},
                  {"type": "contract", "direction": "in", "vendor": "Customer A",
                   "amount": 200000, "cadence": "monthly", "start_date": "2026-06-01"}):
            c.update(domain="ops", currency="EUR")
            r = self.hub.post("/commitments", c)
            self.assertEqual(r.status, 201, r)
        w = self.hub.get("/runway/ops").json()
        self.assertEqual(w["balance"]["amount"], 6000000)
        self.assertEqual(w["monthly_burn"]["gross"]["amount"], 900000)
        self.assertEqual(w["monthly_burn"]["net"]["amount"], 900000)
        self.assertEqual(w["months_remaining"], "6.6")
        self.assertFalse(w["below_threshold"])
        self.assertEqual(w["variable_costs"]["average"]["amount"], 400000)
        self.assertEqual(w["variable_costs"]["trend"], "rising")
        self.assertEqual([m["balance_end"] for m in w["projection"][:3]],
                         [5100000, 4280000, 3580000])
        self.assertEqual(w["cash_out_month"], "2027-01")
        self.assertNotIn(("alert_raised", "runway_alert:ops"), self.alerts(True))
        # 50000.00 is 5.5 months: below 6, raised in the same change
        r = self.hub.patch("/accounts/ops", {"balance": 5000000})
        self.assertEqual(r.json()["runway_state"], "below_threshold")
        self.assertIn(("alert_raised", "runway_alert:ops"), self.alerts(True))
        s = self.hub.get("/domains/ops/summary").json()
        self.assertEqual(s["alerts"]["open"], 1)
        self.assertEqual(s["account"]["runway_state"], "below_threshold")
        r = self.hub.patch("/accounts/ops", {"balance": 6000000})
        self.assertEqual(r.json()["runway_state"], "ok")
        self.assertNotIn(("alert_raised", "runway_alert:ops"), self.alerts(True))
        self.assertIn(("alert_resolved", "runway_alert:ops"), self.alerts())
        # other months, horizon, and refusals
        w = self.hub.get("/runway/ops?as_of=2026-06&horizon=2").json()
        self.assertEqual(len(w["projection"]), 2)
        self.assertProblem(self.hub.get("/runway/ops?horizon=99"), 400, "horizon")
        self.assertProblem(self.hub.get("/runway/ops?as_of=May"), 400, "as_of")
        self.assertProblem(self.hub.get("/runway/cloud"), 404)
        b = self.hub.get("/burn-rate?domain=ops&period=2026-Q2").json()
        self.assertEqual([m["actual"] for m in b["months"]], [500000, 0, 0])
        self.assertEqual([m["projected"] for m in b["months"]], [850000, 900000, 920000])
        self.assertProblem(self.hub.get("/burn-rate?domain=ops"), 400, "period")

    def test_4_bad_rows_are_listed_and_nothing_is_stored(self):
        before = self.hub.dump()
        r = self.upload("invoices", os.path.join(FIN, "bad", "invoices-bad.csv"), "&domain=ops")
        p = self.assertProblem(r, 422)
        self.assertEqual((p["source"], p["line"]), ("invoices-bad.csv", 3))
        self.assertEqual([b["line"] for b in p["bad_rows"]], [3, 4, 5, 6, 7, 8])
        self.assertEqual(self.hub.dump(), before)
        r = self.upload("focus", os.path.join(FIN, "bad", "focus-unterminated.csv"), "&skip_bad=true")
        p = self.assertProblem(r, 422)
        self.assertEqual(p["line"], 2)
        self.assertProblem(self.upload("nope", os.path.join(FIN, "invoices.csv")), 404)
        self.assertProblem(self.upload("focus", os.path.join(FIN, "focus.csv"), "&skip_bad=maybe"),
                           400, "skip_bad")
        self.assertProblem(self.hub.post("/imports/focus", raw=b"x",
                                         headers={"Content-Type": "image/png"}), 415)
        self.assertEqual(self.hub.dump(), before)
        # with skip_bad the good rows go in and the bad ones are reported
        r = self.upload("focus", os.path.join(FIN, "bad", "focus-bad.csv"),
                        "&skip_bad=true&domain=ops")
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json()["created"], r.json()["bad"]), (2, 6))

    def test_5_token_spend(self):
        for name, extra in (("session-a.jsonl", "&skip_bad=true"), ("session-b.jsonl", "")):
            path = os.path.join(CLAUDE, "-home-w-foshub", name)
            r = self.hub.post("/imports/claude-code?source=%s%s" % (name, extra), raw=read(path),
                              headers={"Content-Type": "application/x-ndjson"})
            self.assertEqual(r.status, 201, r)
        s = self.hub.get("/token-spend/summary?by=model").json()
        self.assertEqual(s["total"]["requests"], 4)
        self.assertEqual(s["total"]["cost_micros"], 991750)
        self.assertEqual(s["total"]["cost"], "0.991750")
        s = self.hub.get("/token-spend/summary?by=day&from=2026-05-05").json()
        self.assertEqual([g["key"] for g in s["groups"]], ["2026-05-05"])
        items, _ = self.hub.all_items("/token-spend?sidechain=true")
        self.assertEqual(len(items), 1)
        self.assertProblem(self.hub.get("/token-spend/summary?by=week"), 400, "by")
        s = self.hub.get("/token-spend/summary?by=kind").json()
        self.assertEqual([(g["key"], g["rows"], g["requests"]) for g in s["groups"]],
                         [("claude_code", 4, 4)])
        self.assertProblem(self.hub.get("/token-spend/summary?kind=tokens"), 400, "kind")
        p = self.hub.get("/prices").json()
        anthropic = p["providers"]["anthropic"]
        self.assertIn("claude-sonnet-4-5", [m["model"] for m in anthropic["models"]])
        self.assertEqual((anthropic["version"], anthropic["batch_percent"]), ("2026-12-01", 50))
        openai = p["providers"]["openai"]
        self.assertEqual(openai["date_suffix"], "-YYYY-MM-DD")
        mini = [m for m in openai["models"] if m["model"] == "gpt-5.4-mini"][0]
        self.assertEqual(mini["rates"], {"input": 750000, "output": 4500000,
                                         "cache_write_5m": 0, "cache_write_1h": 0,
                                         "cache_read": 75000})

    def test_6_usage_reports(self):
        """Both usage reports over HTTP: token spend priced from the
        tables (the figures of tests/unit/test_fin.c), idempotent, a
        bucket fetched again replaces its figures, bad rows by JSON path."""
        before = self.hub.get("/token-spend/summary?by=kind").json()["total"]
        for kind, n in (("anthropic-usage", 4), ("openai-usage", 3)):
            path = os.path.join(FIN, kind + ".json")
            r = self.hub.post("/imports/%s?source=%s.json" % (kind, kind), raw=read(path),
                              headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 201, r)
            self.assertEqual((r.json()["created"], r.json()["updated"]), (n, 0))
            r = self.hub.post("/imports/%s?source=%s.json" % (kind, kind), raw=read(path),
                              headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json()["created"], r.json()["duplicates"]), (0, n))
        s = self.hub.get("/token-spend/summary?by=kind").json()
        groups = {g["key"]: g for g in s["groups"]}
        self.assertEqual(groups["anthropic_usage"]["cost_micros"], 4332500)
        self.assertEqual(groups["anthropic_usage"]["rows"], 4)
        self.assertEqual(groups["anthropic_usage"]["requests"], 0)
        self.assertEqual(groups["openai_usage"]["cost"], "2.187000")
        self.assertEqual(groups["openai_usage"]["requests"], 1495)
        self.assertEqual(s["total"]["rows"], before["rows"] + 7)
        s = self.hub.get("/token-spend/summary?kind=openai_usage&by=model").json()
        self.assertEqual([g["key"] for g in s["groups"]],
                         ["gpt-4.1-2025-04-14", "gpt-4o-mini-2024-07-18",
                          "gpt-5.4-mini-2026-03-17"])
        items, _ = self.hub.all_items("/token-spend?kind=openai_usage&model=gpt-4.1-2025-04-14")
        self.assertEqual(len(items), 1)
        t = items[0]
        self.assertEqual((t["provider"], t["timestamp"], t["period_end"], t["requests"],
                          t["tokens_in"], t["cost_micros"], t["price_version"]),
                         ("openai", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", 1000,
                          1000000, 1200000, "2026-12-03"))
        self.assertEqual((t["extra"]["project_id"], t["extra"]["batch"]), ("proj_agents", True))
        # the 2026-11-03 bucket again, after more requests: replaced
        doc = json.loads(read(os.path.join(FIN, "anthropic-usage.json")))
        doc[1]["data"][0]["results"][0]["output_tokens"] = 9000
        r = self.hub.post("/imports/anthropic-usage?source=later.json", doc)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["updated"], r.json()["duplicates"]), (1, 3))
        items, _ = self.hub.all_items("/token-spend?kind=anthropic_usage&model=claude-opus-4-5-20251101")
        self.assertEqual((items[0]["tokens_out"], items[0]["cost_micros"]), (9000, 312500))
        # bad rows: every one listed by its JSON path, nothing stored
        dump = self.hub.dump()
        r = self.hub.post("/imports/openai-usage?source=bad.json",
                          raw=read(os.path.join(FIN, "bad", "openai-usage-bad.json")),
                          headers={"Content-Type": "application/json"})
        p = self.assertProblem(r, 422)
        self.assertEqual(p["source"], "bad.json")
        self.assertNotIn("line", p)  # a JSON path, not a line
        self.assertIn("first at [0].data[0].results[1]: no batch", p["detail"])
        self.assertEqual(len(p["bad_rows"]), 8)
        self.assertEqual(p["bad_rows"][0], {"line": 0, "where": "[0].data[0].results[1]",
                                            "reason": "no batch: fetch the report with "
                                                      "group_by=batch too (batch tokens cost 50%)"})
        self.assertEqual(self.hub.dump(), dump)
        r = self.hub.post("/imports/openai-usage?source=bad.json&skip_bad=true",
                          raw=read(os.path.join(FIN, "bad", "openai-usage-bad.json")),
                          headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json()["created"], r.json()["bad"]), (1, 8))


class FinCliTest(unittest.TestCase):
    def test_cli_import_and_mcp(self):
        hub = Hub(hub="fin")
        try:
            code, out, err = run_cli("fin", "import", "claude-code", "--db", hub.db, CLAUDE)
            self.assertEqual(code, 1, out + err)
            self.assertIn("session-a.jsonl:7: model 'claude-future-9-20270101'", err)
            code, out, err = run_cli("fin", "import", "claude-code", "--skip-bad", "--db", hub.db,
                                     CLAUDE)
            self.assertEqual(code, 0, err)
            code, out, err = run_cli("fin", "import", "claude-code", "--skip-bad", "--db", hub.db,
                                     CLAUDE)
            self.assertEqual(code, 0, err)
            self.assertIn("0 new", out)
            code, out, err = run_cli("fin", "import", "anthropic-cost", "--db", hub.db,
                                     os.path.join(FIN, "anthropic-cost.json"),
                                     os.path.join(FIN, "openai-cost.json"))
            self.assertEqual(code, 1, out + err)  # the OpenAI file is not Anthropic's
            code, out, err = run_cli("fin", "import", "frob", "--db", hub.db, FIN)
            self.assertEqual(code, 2)
            # MCP over stdio: the tools are there and answer
            msgs = [
                {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "t", "version": "1"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
                {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                 "params": {"name": "get_token_spend", "arguments": {"by": "session"}}},
                {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                 "params": {"name": "get_runway", "arguments": {"domain": "nowhere"}}},
            ]
            p = subprocess.run([foshub_bin(), "mcp", "fin", "--db", hub.db],
                               input="".join(json.dumps(m) + "\n" for m in msgs),
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = [json.loads(l) for l in p.stdout.splitlines()]
            names = {t["name"] for t in out[1]["result"]["tools"]}
            for want in ("get_budget", "list_budgets", "set_budget", "record_commitment",
                         "list_commitments", "get_burn_rate", "get_runway", "get_token_spend",
                         "import_costs", "get_domain_summary"):
                self.assertIn(want, names)
            total = out[2]["result"]["structuredContent"]["total"]
            self.assertEqual((total["requests"], total["rows"]), (4, 4))
            self.assertTrue(out[3]["result"]["isError"])
            # usage reports from the CLI: bad rows as file: path: reason
            code, out, err = run_cli("fin", "import", "anthropic-usage", "--db", hub.db,
                                     os.path.join(FIN, "anthropic-usage.json"),
                                     os.path.join(FIN, "bad", "anthropic-usage-bad.json"))
            self.assertEqual(code, 1, out + err)
            self.assertIn("anthropic-usage.json (anthropic-usage): 4 rows, 4 new", out)
            self.assertIn("anthropic-usage-bad.json: [0].data[0].results[2]: model "
                          "'claude-future-9-20270101' is not in the anthropic price table", err)
            usage = [
                {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "t", "version": "1"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                 "params": {"name": "import_costs",
                            "arguments": {"kind": "openai-usage", "source": "o.json",
                                          "content": read(os.path.join(
                                              FIN, "openai-usage.json")).decode()}}},
                {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                 "params": {"name": "get_token_spend",
                            "arguments": {"by": "kind", "kind": "openai_usage"}}},
            ]
            p = subprocess.run([foshub_bin(), "mcp", "fin", "--db", hub.db,
                                "--mcp-tools", "full"],
                               input="".join(json.dumps(m) + "\n" for m in usage),
                               capture_output=True, text=True, timeout=60, cwd=ROOT)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = [json.loads(l) for l in p.stdout.splitlines()]
            self.assertEqual(out[1]["result"]["structuredContent"]["created"], 3)
            self.assertEqual(out[2]["result"]["structuredContent"]["total"]["cost_micros"],
                             2187000)
        finally:
            hub.cleanup()


if __name__ == "__main__":
    unittest.main()
