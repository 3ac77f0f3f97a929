"""Write the demo patients shipped in pnen_demo/patients/ (FHIR Bundles and their index).

Each patient is built with the test builders (dates relative to today), then stored with
`Bundle.timestamp` = today: the demo shifts every date by the days elapsed since
(pnen_demo.patients), so the record reads the same whatever day it is served. The index lists, per
patient, what it shows, its draft orders and the rule ids of the cards on each hook (computed
here, checked by tests/unit/test_demo_patients.py); each patient must fire the rules it was
written for.

Usage: python scripts/make_demo_patients.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.api.test_rule_scenarios import (  # noqa: E402
    CGA,
    GASTRIN,
    LANREOTIDE,
    OMEPRAZOLE,
    STABLE,
    WORSENED,
    extrahepatic,
    gastrinoma,
    insulinoma,
    lab,
    pp,
    resectable,
    unresectable,
)
from tests.fhir_builders import (  # noqa: E402
    PATIENT_ID,
    SNOMED,
    TODAY,
    birth_date_for_age,
    condition,
    days_ago,
    differentiation,
    disease_status,
    enets,
    flag,
    ki67,
    liver_mets,
    medication,
    number,
    observation,
    patient,
    pnen,
    pnen_obs,
    procedure,
    service_request,
    study,
    variant,
    vessel_contact,
)

OUT = ROOT / "pnen_demo" / "patients"
BENCHMARK = ROOT / "tests" / "fixtures" / "benchmark-pnen-patient.json"
HOOKS = ("patient-view", "order-select", "order-sign")
Resource = dict[str, Any]


@dataclass
class Demo:
    """One demo patient: id, name, what it shows, its record, drafts and must-fire rules."""

    id: str
    name: str
    shows: str
    record: Callable[[], list[Resource]]
    drafts: list[Resource] = field(default_factory=list)
    must_fire: dict[str, set[str]] = field(default_factory=dict)


def named(pid: str, given: str, family: str, gender: str, birth: str) -> Resource:
    """The demo Patient with a name (the sandbox shows it in its banner)."""
    res = patient(birth)
    res.update({"gender": gender, "name": [{"given": [given], "family": family}]})
    return res


def cga(value: float, days: int, ulm: float = 100) -> Resource:
    """A chromogranin A result in ng/mL with its upper reference limit."""
    res = lab(CGA, value, "ng/mL", days)
    res["referenceRange"] = [{"high": {"value": ulm, "unit": "ng/mL"}}]
    return res


def sandbox_drug(rxcui: str, name: str) -> Resource:
    """A single-drug draft as the CDS Hooks sandbox's Rx View builds it (id request-123)."""
    return {
        "resourceType": "MedicationRequest",
        "id": "request-123",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {
            "text": name,
            "coding": [
                {
                    "display": name,
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": rxcui,
                }
            ],
        },
    }


DRAFT_NAMES = {
    "pet-ssa": "68Ga-SSA (DOTATATE) PET/CT",
    "tace": "Transarterial chemoembolisation (TACE)",
    "liver-transplant-referral": "Liver transplant referral",
    "distal-pancreatectomy": "Distal pancreatectomy",
}


def draft(code: str, rid: str) -> Resource:
    """A drafted ServiceRequest with a pnen-lm code and its name as text."""
    res = service_request(code, rid=rid)
    res["code"]["text"] = DRAFT_NAMES[code]
    return res


def net_g2_lm() -> list[Resource]:
    """A well-differentiated NET G2 with liver metastases, Ki-67 at both sites, staging CTs."""
    return [
        pnen(onset=days_ago(500)),
        liver_mets(onset=days_ago(500)),
        differentiation("well", when=days_ago(480)),
        ki67(4, "primary", when=days_ago(480)),
        ki67(8, "liver", when=days_ago(470)),
        study("ct-abdomen-pelvis-multiphase", when=days_ago(495), result="positive"),
        study("ct-chest", when=days_ago(495), result="negative"),
    ]


def mgmt_tmz() -> list[Resource]:
    return [
        named(PATIENT_ID, "Mei", "Demo-TMZ", "female", birth_date_for_age(58)),
        *net_g2_lm(),
        enets("II", when=days_ago(470)),
        pnen_obs("mgmt-ihc", valueString="3+", when=days_ago(460)),
        study("pet-ssa", when=days_ago(450), result="positive"),
        medication(LANREOTIDE, start=days_ago(440), rid="lanreotide-1"),
        cga(180, 420),
        cga(150, 300),
        cga(210, 180),
        cga(320, 40),
        disease_status(WORSENED, when=days_ago(30)),
    ]


def nec() -> list[Resource]:
    return [
        named(PATIENT_ID, "Jun", "Demo-NEC", "male", birth_date_for_age(63)),
        pnen(onset=days_ago(60)),
        liver_mets(onset=days_ago(60)),
        differentiation("poorly", when=days_ago(50)),
        ki67(70, "liver", when=days_ago(50)),
        study("ct-abdomen-pelvis-multiphase", when=days_ago(62), result="positive"),
        study("ct-chest", when=days_ago(62), result="negative"),
    ]


def tace() -> list[Resource]:
    return [
        named(PATIENT_ID, "Li", "Demo-TACE", "female", birth_date_for_age(66)),
        *net_g2_lm(),
        enets("III", when=days_ago(470)),
        *unresectable(),
        study("pet-ssa", when=days_ago(450), result="positive"),
        medication(LANREOTIDE, start=days_ago(440), rid="lanreotide-1"),
        disease_status(STABLE, when=days_ago(90)),
    ]


def non_pnen() -> list[Resource]:
    return [
        named(PATIENT_ID, "Tao", "Demo-Colon", "male", birth_date_for_age(70)),
        condition(SNOMED, "363406005", onset=days_ago(300), rid="colon-ca"),
        condition(SNOMED, "94381002", onset=days_ago(200), rid="lm-colon"),
        lab(CGA, 90, "ng/mL", 100),
    ]


def remission() -> list[Resource]:
    return [
        named(PATIENT_ID, "Hua", "Demo-Remission", "female", birth_date_for_age(52)),
        pnen(onset=days_ago(900), clinical_status="remission", abatementDateTime=days_ago(760)),
        liver_mets(onset=days_ago(900), clinical_status="resolved"),
        differentiation("well", when=days_ago(780)),
        ki67(2, "primary", when=days_ago(780)),
        ki67(2, "liver", when=days_ago(780)),
        procedure("distal-pancreatectomy", when=days_ago(790)),
        procedure("hepatectomy-parenchymal-sparing", when=days_ago(790)),
        flag("ned", True, when=days_ago(760)),
        observation(("http://loinc.org", "21900-6"), valueString="N0", when=days_ago(780)),
        study("ct-abdomen-pelvis-multiphase", when=days_ago(420), result="negative"),
    ]


def insulinoma_patient() -> list[Resource]:
    return [
        named(PATIENT_ID, "Ying", "Demo-Insulinoma", "female", birth_date_for_age(45)),
        *net_g2_lm(),
        insulinoma(),
        study("pet-ssa", when=days_ago(450), result="positive"),
        *resectable(),
    ]


def gastrinoma_patient() -> list[Resource]:
    return [
        named(PATIENT_ID, "Bo", "Demo-Gastrinoma", "male", birth_date_for_age(61)),
        *net_g2_lm(),
        gastrinoma(),
        *unresectable(),
        flag("hormone-symptoms-refractory", True, when=days_ago(20)),
        medication(OMEPRAZOLE, start=days_ago(400), rid="ppi-1"),
        lab(GASTRIN, 850, "pg/mL", 25),
        cga(260, 200),
        cga(410, 25),
        pp(120, 200),
        pp(260, 25),
    ]


def transplant() -> list[Resource]:
    return [
        named(PATIENT_ID, "Wei", "Demo-Milan", "male", birth_date_for_age(48)),
        *net_g2_lm(),
        procedure("distal-pancreatectomy", when=days_ago(430)),
        *unresectable(),
        number("liver-tumor-burden", 30, when=days_ago(60)),
        disease_status(STABLE, when=days_ago(240)),
        disease_status(STABLE, when=days_ago(30)),
        variant("RB1", when=days_ago(300)),
    ]


def progression() -> list[Resource]:
    return [
        named(PATIENT_ID, "Lan", "Demo-Progression", "female", birth_date_for_age(57)),
        *net_g2_lm(),
        extrahepatic(),
        procedure("eus-fnb", when=days_ago(480)),
        study("pet-ssa", when=days_ago(450), result="positive"),
        medication(LANREOTIDE, start=days_ago(440), rid="lanreotide-1"),
        cga(140, 430),
        cga(160, 250),
        cga(390, 20),
        study("ct-abdomen-pelvis-multiphase", when=days_ago(20), result="PD"),
        disease_status(WORSENED, when=days_ago(20)),
    ]


def g3_unknown() -> list[Resource]:
    return [
        named(PATIENT_ID, "Kai", "Demo-G3", "male", birth_date_for_age(59)),
        pnen(onset=days_ago(40)),
        liver_mets(onset=days_ago(40)),
        ki67(2, "primary", when=days_ago(30)),
        ki67(35, "liver", when=days_ago(30)),
        vessel_contact(SMV="abutment", SMA="none", CT="none", CHA="none"),
        enets("III", when=days_ago(30)),
    ]


def resected_type1() -> list[Resource]:
    return [
        named(PATIENT_ID, "Ming", "Demo-Adjuvant", "female", birth_date_for_age(55)),
        pnen(onset=days_ago(260)),
        liver_mets(onset=days_ago(260)),
        differentiation("well", when=days_ago(250)),
        ki67(6, "liver", when=days_ago(250)),
        ki67(5, "primary", when=days_ago(250)),
        enets("I", when=days_ago(250)),
        study("ct-abdomen-pelvis-multiphase", when=days_ago(255), result="positive"),
        study("ct-chest", when=days_ago(255), result="negative"),
        study("pet-ssa", when=days_ago(240), result="positive"),
        number("primary-tumor-size", 28, unit="mm", when=days_ago(250)),
        procedure("pancreatoduodenectomy", when=days_ago(120)),
        procedure("hepatectomy-parenchymal-sparing", when=days_ago(120)),
        flag("ned", True, when=days_ago(100)),
    ]


DEMOS = [
    Demo(
        "demo-mgmt-tmz",
        "NET G2, ENETS type II, MGMT 3+, progressing on lanreotide",
        "order hooks: temozolomide drafted for an MGMT 3+ patient (the sandbox's Rx View "
        "draft) → swap for a non-temozolomide regimen; patient-view: conversion therapy by "
        "MGMT; CgA trend",
        mgmt_tmz,
        [sandbox_drug("313210", "temozolomide 250 MG Oral Capsule")],
        {
            "order-select": {"mgmt-tmz-mismatch"},
            "order-sign": {"mgmt-tmz-mismatch"},
            "patient-view": {"summary", "preop-systemic-mgmt", "liver-mri-hepatobiliary"},
        },
    ),
    Demo(
        "demo-nec",
        "Poorly differentiated NEC with liver metastases",
        "order hooks: an SSTR PET drafted for a NEC → replace with FDG PET; patient-view: "
        "medical therapy first, FDG PET",
        nec,
        [draft("pet-ssa", "pet-ssa-draft")],
        {
            "order-select": {"pet-tracer-mismatch"},
            "order-sign": {"pet-tracer-mismatch"},
            "patient-view": {"nec-medical-first", "pet-fdg"},
        },
    ),
    Demo(
        "demo-tace",
        "NET G2, ENETS type III, unresectable, stable on lanreotide",
        "order hooks: a TACE drafted → TAE preferred; patient-view: type III potential "
        "resectability, primary resection low priority, MGMT test",
        tace,
        [draft("tace", "tace-draft")],
        {
            "order-sign": {"tae-over-tace"},
            "order-select": {"tae-over-tace"},
            "patient-view": {"type3-potentially-resectable"},
        },
    ),
    Demo(
        "demo-non-pnen",
        "Colon cancer with liver metastases (no pNEN)",
        "no cards on any hook: the service stays silent for patients without pNEN",
        non_pnen,
        [sandbox_drug("313210", "temozolomide 250 MG Oral Capsule")],
        {},
    ),
    Demo(
        "demo-remission",
        "pNEN in remission after resection of primary and liver metastases",
        "a pNEN Condition in remission (abatement dated): the summary says so, and the "
        "surveillance rules apply (follow-up imaging due)",
        remission,
        [],
        {"patient-view": {"summary", "followup-imaging-due"}},
    ),
    Demo(
        "demo-insulinoma",
        "Insulinoma with resectable liver metastases",
        "GLP-1R / DOPA PET for insulinoma; resection aiming at no evidence of disease; order "
        "hooks: SSTR PET and distal pancreatectomy drafted → exendin-4/DOPA PET, splenectomy",
        insulinoma_patient,
        [
            draft("pet-ssa", "pet-ssa-draft"),
            draft("distal-pancreatectomy", "distal-pancreatectomy-draft"),
        ],
        {
            "patient-view": {"pet-insulinoma", "liver-resectable-ned"},
            "order-sign": {"pet-insulinoma", "splenectomy-decision"},
        },
    ),
    Demo(
        "demo-gastrinoma",
        "Gastrinoma on a PPI, unresectable liver metastases, refractory symptoms",
        "serum biomarkers: gastrin and CgA confounded by the PPI, pancreatic polypeptide rise; "
        "debulking and SSA for hormone control",
        gastrinoma_patient,
        [],
        {
            "patient-view": {
                "gastrin-on-ppi",
                "cga-confounded",
                "pp-rise",
                "debulking-functional",
                "ssa-hormone-control",
            }
        },
    ),
    Demo(
        "demo-milan",
        "NET G2 after primary resection, unresectable liver metastases, stable, age 48",
        "liver transplant (Milan-NET) criteria; RB1 alteration (molecular)",
        transplant,
        [draft("liver-transplant-referral", "transplant-draft")],
        {
            "patient-view": {"transplant-milan", "molecular-actionable"},
            "order-sign": {"transplant-milan"},
        },
    ),
    Demo(
        "demo-progression",
        "Advanced NET progressing on lanreotide, SSTR PET avid",
        "re-biopsy on progression, second-line targeted therapy, PRRT; CgA rising",
        progression,
        [],
        {"patient-view": {"rebiopsy-progression", "targeted-therapy", "prrt-candidate"}},
    ),
    Demo(
        "demo-g3",
        "Ki-67 35 % in the liver, 2 % in the primary, differentiation not recorded",
        "G3 NET or NEC? grade discordance, FDG and SSTR PET, primary vessel contact",
        g3_unknown,
        [],
        {"patient-view": {"g3-net-vs-nec", "grade-discordant", "pet-fdg", "primary-resectability"}},
    ),
    Demo(
        "demo-adjuvant",
        "Primary and ENETS type I liver metastases resected together 4 months ago, NED",
        "adjuvant SSA after curative-intent resection (primary and liver metastases removed)",
        resected_type1,
        [],
        {"patient-view": {"adjuvant-ssa"}},
    ),
]


DRUG_NAMES = {"68092": "lanreotide", "7646": "omeprazole"}


def _drug_names(resources: list[Resource]) -> list[Resource]:
    """Medications with their name as text and display (the builders give the code only)."""
    for res in resources:
        concept = res.get("medicationCodeableConcept")
        if concept and not concept.get("text"):
            coding = concept["coding"][0]
            name = DRUG_NAMES.get(coding["code"])
            if name:
                concept["text"] = coding["display"] = name
    return resources


def _rename(resources: Sequence[Resource], pid: str, keep_ids: bool) -> list[Resource]:
    """Give every resource a server-unique id (prefixed by the patient's) and fix references."""
    text = json.dumps(list(resources))
    text = text.replace(f'"Patient/{PATIENT_ID}"', f'"Patient/{pid}"')
    text = text.replace(f'"id": "{PATIENT_ID}"', f'"id": "{pid}"')
    out: list[Resource] = json.loads(text)
    if keep_ids:
        return out
    renames = {}
    for res in out:
        if res["resourceType"] != "Patient":
            new = f"{pid.removeprefix('demo-')}-{res['id']}"
            renames[f"{res['resourceType']}/{res['id']}"] = f"{res['resourceType']}/{new}"
            res["id"] = new
    text = json.dumps(out)
    for old, new in renames.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return list(json.loads(text))


def collection(resources: Sequence[Resource]) -> Resource:
    """A collection Bundle stamped with today (the anchor the demo shifts dates from)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": TODAY.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}", "resource": r} for r in resources
        ],
    }


def benchmark_bundle() -> Resource:
    """The shared benchmark patient, stamped with today: its cards are today's."""
    bundle: Resource = json.loads(BENCHMARK.read_text(encoding="utf-8"))
    bundle["timestamp"] = TODAY.isoformat()
    return bundle


def main() -> int:
    """Write every demo patient and the index, checking each fires what it was written for."""
    from pnen_demo.patients import DemoPatient, expected_cards

    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    bench = benchmark_bundle()
    (OUT / "bench-pnen.json").write_text(json.dumps(bench, indent=1, ensure_ascii=False) + "\n")
    entries: list[tuple[str, str, str, list[Resource]]] = [
        (
            "bench-pnen",
            "The shared benchmark patient: pNEN with liver metastases, ~120 resources",
            "the full picture: the dashboard's timeline, Ki-67 by site, CgA against therapies",
            [],
        )
    ]
    for demo in DEMOS:
        record = _rename(_drug_names(demo.record()), demo.id, keep_ids=False)
        drafts = _rename(demo.drafts, demo.id, keep_ids=True)
        bundle = collection(record)
        (OUT / f"{demo.id}.json").write_text(
            json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"
        )
        entries.append((demo.id, demo.name, demo.shows, drafts))
    for pid, name, shows, drafts in entries:
        item = DemoPatient(pid, name, shows, f"{pid}.json", tuple(drafts), {})
        cards = expected_cards(item, TODAY)
        demo_def = next((d for d in DEMOS if d.id == pid), None)
        for hook, wanted in (demo_def.must_fire if demo_def else {}).items():
            missing = wanted - set(cards.get(hook, ()))
            if missing:
                raise SystemExit(
                    f"{pid} {hook}: does not fire {sorted(missing)}: {cards.get(hook)}"
                )
        index.append(
            {
                "id": pid,
                "name": name,
                "shows": shows,
                "file": f"{pid}.json",
                "drafts": drafts,
                "cards": cards,
            }
        )
    (OUT / "index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n")
    for item in index:
        print(item["id"], json.dumps(item["cards"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
