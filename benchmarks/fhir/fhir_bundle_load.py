#!/usr/bin/env python3
"""Load for POST /fhir/Bundle: batch Bundles of vital-sign and lab Observations, built before the clock starts.

Usage: python3 benchmarks/fhir/fhir_bundle_load.py --url http://127.0.0.1:8080 --bundles 60 --size 1000 --concurrency 4
Prints observations/s over the measured bundles (after --warmup bundles that are not measured)."""
import argparse, http.client, json, os, random, threading, time, urllib.parse, uuid
from datetime import datetime, timedelta, timezone

VITALS = [("8867-4", "/min", 55, 120), ("8480-6", "mm[Hg]", 95, 160), ("8462-4", "mm[Hg]", 55, 95), ("9279-1", "/min", 10, 24),
          ("8310-5", "Cel", 36.0, 38.5), ("59408-5", "%", 90, 100)]
LABS = [("2345-7", "mmol/L", 3.5, 12.0), ("2160-0", "umol/L", 50, 150), ("6690-2", "10*9/L", 3, 15), ("2524-7", "mmol/L", 0.5, 4),
        ("718-7", "g/dL", 9, 17), ("777-3", "10*3/uL", 120, 400), ("2823-3", "mmol/L", 3.2, 5.4), ("1920-8", "U/L", 10, 80)]

def bundle(rng, patients, size, start):
    entries = []
    for i in range(size):
        patient = rng.choice(patients)
        at = (start + timedelta(seconds=rng.randrange(0, 86400))).isoformat().replace("+00:00", "Z")
        vital = rng.random() < 0.6
        loinc, unit, lo, hi = rng.choice(VITALS if vital else LABS)
        entries.append({"resource": {
            "resourceType": "Observation", "identifier": [{"system": "urn:bench", "value": str(uuid.UUID(int=rng.getrandbits(128)))}],
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs" if vital else "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": at,
            "valueQuantity": {"value": round(rng.uniform(lo, hi), 2), "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}},
            "request": {"method": "POST", "url": "Observation"}})
    return json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries}).encode()

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--bundles", type=int, default=60)
    p.add_argument("--warmup", type=int, default=8)
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--patients", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--api-key", default=os.environ.get("CLINICAL_API_KEY", ""), help="a site or admin key (default: $CLINICAL_API_KEY)")
    a = p.parse_args()
    rng = random.Random(a.seed)
    patients = ["PT" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8)) for _ in range(a.patients)]
    start = datetime.now(timezone.utc) - timedelta(days=2)
    bodies = [bundle(rng, patients, a.size, start) for _ in range(a.warmup + a.bundles)]
    url = urllib.parse.urlparse(a.url)
    path = "/fhir/Bundle?site_id=SITE001&study_phase=Phase%20II"

    def send(items, created):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
        for body in items:
            conn.request("POST", path, body, {"content-type": "application/fhir+json", "x-api-key": a.api_key})
            response = conn.getresponse()
            answer = json.loads(response.read())
            if response.status != 200:
                raise SystemExit(f"HTTP {response.status}: {answer}")
            created.append(sum(1 for e in answer["entry"] if e["response"]["status"] == "201 Created"))

    def run(items):
        created, threads = [], []
        for k in range(a.concurrency):
            t = threading.Thread(target=send, args=(items[k::a.concurrency], created))
            threads.append(t); t.start()
        for t in threads: t.join()
        return sum(created)

    run(bodies[:a.warmup])
    began = time.perf_counter()
    stored = run(bodies[a.warmup:])
    seconds = time.perf_counter() - began
    print(f"{a.bundles} bundles x {a.size} observations, concurrency {a.concurrency}: {stored} stored (201) in {seconds:.2f} s "
          f"= {a.bundles * a.size / seconds:,.0f} observations/s")

if __name__ == "__main__":
    main()
