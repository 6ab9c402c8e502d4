"""test_tpsc.py - the third-party service catalog over HTTP: one service
per (domain, vendor, service), ingest (created, then idempotent, then
updating), every refusal changing nothing, and the GDPR report's figures
on a small dataset."""

from harness import HubTestCase


def svc(domain, vendor, service, **fields):
    body = {"domain": domain, "vendor": vendor, "service": service,
            "purpose": "%s %s for %s" % (vendor, service, domain)}
    body.update(fields)
    return body


class TpscCase(HubTestCase):
    import_examples = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for name in ("Alpha", "Beta", "Gamma"):
            assert cls.hub.post("/domains", body={"name": name}).status == 201
        assert cls.hub.post("/repos", body={"name": "alpha-app",
                                            "domain": "alpha"}).status == 201


class Catalog(TpscCase):
    def test_unique_per_domain_vendor_service(self):
        r = self.hub.post("/tpsc/services",
                          body=svc("alpha", "Acme", "Mail", repo="alpha-app",
                                   url="https://acme.example/mail"))
        self.assertEqual(r.status, 201, r)
        first = r.json()
        self.assertEqual(r.header("Location"), "/tpsc/services/" + first["id"])
        self.assertEqual(first["dpa_status"], "none")
        self.assertEqual(first["status"], "active")
        self.assertEqual(first["data_categories"], [])
        self.assertEqual(first["repo"], "alpha-app")
        self.assertEqual(self.hub.get("/tpsc/services/" + first["id"]).json(),
                         first)
        before = self.hub.dump()
        p = self.assertProblem(self.hub.post(
            "/tpsc/services", body=svc("alpha", "Acme", "Mail")), 409,
            "service")
        for part in ("domain 'alpha'", "vendor 'Acme'", "service 'Mail'",
                     first["id"]):
            self.assertIn(part, p["detail"])
        self.assertEqual(self.hub.dump(), before)
        # one value differing is another service
        for body in (svc("beta", "Acme", "Mail"), svc("alpha", "Acme", "Chat"),
                     svc("alpha", "Other", "Mail")):
            self.assertEqual(self.hub.post("/tpsc/services",
                                           body=body).status, 201)
        # nor can an update make a duplicate
        chat = self.hub.get("/tpsc/services?domain=alpha&vendor=Acme").json()
        chat = [i for i in chat["items"] if i["service"] == "Chat"][0]
        before = self.hub.dump()
        self.assertProblem(self.hub.patch("/tpsc/services/" + chat["id"],
                                          body={"service": "Mail"}), 409,
                           "service")
        self.assertEqual(self.hub.dump(), before)

    def test_refusals(self):
        before = self.hub.dump()
        for body, field in (
                ({"vendor": "V", "service": "S", "purpose": "p"}, "domain"),
                (svc("nowhere", "V", "S"), "domain"),
                ({"domain": "alpha", "service": "S", "purpose": "p"},
                 "vendor"),
                ({"domain": "alpha", "vendor": "V", "purpose": "p"},
                 "service"),
                ({"domain": "alpha", "vendor": "V", "service": "S"},
                 "purpose"),
                (svc("alpha", "V", "S", legal_basis="whim"), "legal_basis"),
                (svc("alpha", "V", "S", dpa_status="maybe"), "dpa_status"),
                (svc("alpha", "V", "S", status="gone"), "status"),
                (svc("alpha", "V", "S", data_categories="contact"),
                 "data_categories"),
                (svc("alpha", "V", "S", data_categories=[1]),
                 "data_categories"),
                (svc("alpha", "V", "S", processing_location="E U"),
                 "processing_location"),
                (svc("alpha", "V", "S", processing_location=""),
                 "processing_location"),
                (svc("alpha", "V", "S", repo="no-such-repo"), "repo"),
                (svc("alpha", "V", "S", colour="red"), "colour")):
            with self.subTest(body=body):
                self.assertProblem(self.hub.post("/tpsc/services", body=body),
                                   422, field)
                self.assertProblem(self.hub.post("/tpsc/ingest", body=body),
                                   422, field)
        self.assertEqual(self.hub.dump(), before)

    def test_filters(self):
        for body in (svc("gamma", "F1", "S", processing_location="us",
                         dpa_status="requested", legal_basis="consent"),
                     svc("gamma", "F2", "S", processing_location="DE",
                         status="retired")):
            self.assertEqual(self.hub.post("/tpsc/services",
                                           body=body).status, 201)
        def vendors(q):
            items, _ = self.hub.all_items("/tpsc/services?domain=gamma&" + q)
            return sorted(i["vendor"] for i in items)
        self.assertEqual(vendors("processing_location=US"), ["F1"])
        self.assertEqual(vendors("dpa_status=requested"), ["F1"])
        self.assertEqual(vendors("legal_basis=consent"), ["F1"])
        self.assertEqual(vendors("status=retired"), ["F2"])
        self.assertEqual(vendors("vendor=F1,F2"), ["F1", "F2"])
        self.assertProblem(self.hub.get("/tpsc/services?dpa_status=x"), 400,
                           "dpa_status")
        self.assertProblem(self.hub.get("/tpsc/services?purpose=x"), 400,
                           "purpose")


class Ingest(TpscCase):
    def test_ingest_is_an_idempotent_upsert(self):
        entry = svc("beta", "Cloud", "Storage", processing_location="eu",
                    legal_basis="contract", data_categories=["files"])
        r = self.hub.post("/tpsc/ingest", body=entry)
        self.assertEqual(r.status, 201, r)
        body = r.json()
        self.assertEqual((body["created"], body["changed"]), (True, True))
        item = body["item"]
        self.assertEqual(r.header("Location"), "/tpsc/services/" + item["id"])
        self.assertEqual(item["processing_location"], "EU")
        # the same entry again: nothing changes, not even updated_at
        before = self.hub.dump()
        r = self.hub.post("/tpsc/ingest", body=entry)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["created"], r.json()["changed"]),
                         (False, False))
        self.assertEqual(r.json()["item"], item)
        self.assertIsNone(r.header("Location"))
        self.assertEqual(self.hub.dump(), before)
        # naming the domain by id finds the same row
        beta = self.hub.get("/domains/beta").json()["id"]
        r = self.hub.post("/tpsc/ingest", body=dict(entry, domain=beta))
        self.assertEqual(r.json()["item"]["id"], item["id"])
        self.assertFalse(r.json()["changed"])
        # a change updates; fields left out keep their values
        r = self.hub.post("/tpsc/ingest", body=svc(
            "beta", "Cloud", "Storage", dpa_status="signed"))
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual((body["created"], body["changed"]), (False, True))
        self.assertEqual(body["item"]["id"], item["id"])
        self.assertEqual(body["item"]["dpa_status"], "signed")
        self.assertEqual(body["item"]["legal_basis"], "contract")
        self.assertEqual(body["item"]["data_categories"], ["files"])
        self.assertNotEqual(body["item"]["updated_at"], item["updated_at"])
        items, _ = self.hub.all_items("/tpsc/services?domain=beta&"
                                      "vendor=Cloud")
        self.assertEqual(len(items), 1)

    def test_ingest_refusals(self):
        self.hub.post("/tpsc/ingest", body=svc("gamma", "Keep", "It"))
        before = self.hub.dump()
        item = self.hub.get("/tpsc/services?vendor=Keep").json()["items"][0]
        for body, field in (
                (dict(svc("gamma", "Keep", "It"), id=item["id"]), "id"),
                ({"domain": "gamma", "vendor": "Keep"}, "service"),
                ({"domain": "gamma", "service": "It"}, "vendor"),
                ({"vendor": "Keep", "service": "It"}, "domain"),
                ({"domain": "gamma", "vendor": "Keep", "service": "It",
                  "purpose": ""}, "purpose"),
                ({"domain": "gamma", "vendor": "Keep", "service": "It",
                  "created_at": "2026-01-01T00:00:00Z"}, "created_at"),
                ({"domain": "gamma", "vendor": 5, "service": "It"},
                 "vendor")):
            with self.subTest(body=body):
                self.assertProblem(self.hub.post("/tpsc/ingest", body=body),
                                   422, field)
        self.assertProblem(self.hub.post("/tpsc/ingest", raw="[]", headers={
            "Content-Type": "application/json"}), 422)
        self.assertEqual(self.hub.dump(), before)


class Report(TpscCase):
    """A small dataset whose figures are worked out by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for body in (
                svc("alpha", "AWS", "S3", processing_location="us",
                    legal_basis="consent", dpa_status="signed",
                    data_categories=["contact", "usage"]),
                svc("alpha", "Hetzner", "Storage", processing_location="DE",
                    legal_basis="contract", data_categories=["contact"]),
                svc("alpha", "Mailer", "Send",
                    legal_basis="legitimate_interests",
                    dpa_status="requested",
                    data_categories=["contact", "marketing"]),
                svc("alpha", "Stripe", "Payments", processing_location="EU",
                    legal_basis="contract", dpa_status="not_required",
                    data_categories=["payment"]),
                svc("alpha", "Old", "Thing", processing_location="CN",
                    legal_basis="consent", status="retired",
                    data_categories=["secret"]),
                svc("beta", "Swiss", "Mail", processing_location="ch",
                    dpa_status="signed", data_categories=["contact"])):
            r = cls.hub.post("/tpsc/ingest", body=body)
            assert r.status == 201, r

    @staticmethod
    def brief(items):
        return [(i["vendor"], i["service"]) for i in items]

    def test_alpha(self):
        r = self.hub.get("/domains/alpha/gdpr")
        self.assertEqual(r.status, 200, r)
        rep = r.json()
        self.assertIn("generated_at", rep)
        self.assertEqual(len(rep["domains"]), 1)
        a = rep["domains"][0]
        self.assertEqual(a["domain"], "alpha")
        self.assertEqual(a["services"], 4)
        self.assertEqual(a["retired"], 1)
        self.assertEqual(a["by_legal_basis"], {
            "consent": 1, "contract": 2, "legal_obligation": 0,
            "vital_interests": 0, "public_task": 0,
            "legitimate_interests": 1, "none": 0})
        self.assertEqual(a["by_dpa_status"], {
            "none": 1, "requested": 1, "signed": 1, "not_required": 1})
        self.assertEqual(self.brief(a["missing_dpa"]),
                         [("Hetzner", "Storage"), ("Mailer", "Send")])
        self.assertEqual([i["dpa_status"] for i in a["missing_dpa"]],
                         ["none", "requested"])
        self.assertEqual(a["data_categories"],
                         ["contact", "marketing", "payment", "usage"])
        self.assertEqual(a["processing_locations"], ["DE", "EU", "US"])
        self.assertEqual(self.brief(a["outside_eea"]), [("AWS", "S3")])
        self.assertEqual(a["outside_eea"][0]["processing_location"], "US")
        self.assertEqual(self.brief(a["unknown_location"]),
                         [("Mailer", "Send")])
        self.assertEqual(set(a["missing_dpa"][0]),
                         {"id", "vendor", "service", "dpa_status",
                          "processing_location"})

    def test_all_domains(self):
        rep = self.hub.get("/gdpr/report").json()
        by = {d["domain"]: d for d in rep["domains"]}
        # every domain with services, by slug; gamma has none here
        self.assertEqual([d["domain"] for d in rep["domains"]],
                         sorted(by))
        self.assertIn("alpha", by)
        self.assertIn("beta", by)
        self.assertEqual(by["alpha"],
                         self.hub.get("/domains/alpha/gdpr")
                         .json()["domains"][0])
        b = by["beta"]
        self.assertEqual(b["by_legal_basis"]["none"], 1)
        self.assertEqual(b["missing_dpa"], [])
        self.assertEqual(self.brief(b["outside_eea"]), [("Swiss", "Mail")])
        self.assertEqual(b["processing_locations"], ["CH"])
        one = self.hub.get("/gdpr/report?domain=beta").json()["domains"]
        self.assertEqual(one, [b])

    def test_domain_without_services_and_errors(self):
        self.hub.post("/domains", body={"name": "Empty"})
        e = self.hub.get("/domains/empty/gdpr").json()["domains"][0]
        self.assertEqual(e["services"], 0)
        self.assertEqual(e["by_dpa_status"], {"none": 0, "requested": 0,
                                              "signed": 0, "not_required": 0})
        self.assertEqual(e["data_categories"], [])
        self.assertProblem(self.hub.get("/domains/nowhere/gdpr"), 404)
        self.assertProblem(self.hub.get("/gdpr/report?domain=nowhere"), 404)
        self.assertProblem(self.hub.get("/gdpr/report?domain="), 400,
                           "domain")
        self.assertProblem(self.hub.get("/gdpr/report?colour=red"), 400,
                           "colour")
        self.assertProblem(self.hub.get("/domains/alpha/gdpr?domain=beta"),
                           400, "domain")
        self.assertProblem(self.hub.post("/gdpr/report", body={}), 405)
