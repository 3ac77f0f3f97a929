"""Every consensus rule end to end over HTTP: one request that fires it and one that does not.

Positive cases carry `+` in their id (what makes the rule fire), negative cases `/` and the single
fact or draft taken away (`/without-…`, `/…-not-selected`). Rules on order hooks are tested with the
triggering draft (order-select: selected; order-sign: present) and the same request without it;
rules that also have a patient-view clause get a patient-view pair as well. For rules that fire on
the absence of a closed-world fact ("no X on record"), the negative case records X (`/with-…`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from _pytest.mark.structures import ParameterSet
from flask import Flask
from flask.testing import FlaskClient

from cards.build import RULE_SYSTEM, citation_text
from cards.text import EN
from cds_service import create_app
from consensus.rules import all_rules
from fhir_mappings.terminology import ICD10CM, LOINC, PNEN, RXNORM
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_ID,
    base_pnen_lm,
    birth_date_for_age,
    cc,
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
from tests.support.cds_requests import hook_request, prefetch_for

PV, OS, SIGN = "patient-view", "order-select", "order-sign"
SERVICE = {PV: "pnen-patient-view", OS: "pnen-order-select", SIGN: "pnen-order-sign"}
RULES = {r.info.id: r.info for r in all_rules()}

WORSENED, STABLE = "271299001", "359746009"
TMZ = (RXNORM, "37776")
CISPLATIN = (RXNORM, "2555")
ETOPOSIDE = (RXNORM, "4179")
LANREOTIDE = (RXNORM, "68092")
OMEPRAZOLE = (RXNORM, "7646")
CGA = (LOINC, "9811-1")
GASTRIN = (LOINC, "2333-3")

Resource = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One request and what it must show for one rule."""

    rule: str
    hook: str
    record: tuple[Resource, ...]
    fires: bool
    drafts: tuple[Resource, ...] = ()
    selections: tuple[str, ...] | None = None
    suggests: str | None = None  # "create", or "swap" (delete the trigger draft, then create)
    trigger: str | None = None  # `Type/id` of the draft that makes the rule fire


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the module (dev mode, no authentication, temporary SQLite store)."""
    store = tmp_path_factory.mktemp("scenarios") / "store.sqlite3"
    application = create_app({"dev": True, "auth": "off", "database_url": f"sqlite:///{store}"})
    application.config["TESTING"] = True
    yield application
    application.extensions["pnen_cds"].store.close()


# --- records ---------------------------------------------------------------------------------
def net_lm(*extra: Resource, ki: float | None = 8) -> list[Resource]:
    """A well-differentiated NET with liver metastases (and a liver Ki-67 unless None)."""
    grade = [ki67(ki, "liver")] if ki is not None else []
    return [*base_pnen_lm(), differentiation("well"), *grade, *extra]


def nec_lm(*extra: Resource) -> list[Resource]:
    """A poorly differentiated NEC with liver metastases."""
    return [*base_pnen_lm(), differentiation("poorly"), ki67(60, "liver"), *extra]


def insulinoma() -> Resource:
    """An insulinoma (functional syndrome) Condition."""
    return condition(PNEN, "insulinoma", rid="ins-1")


def gastrinoma() -> Resource:
    """A gastrinoma (functional syndrome) Condition."""
    return condition(PNEN, "gastrinoma", rid="gastrinoma-1")


def extrahepatic() -> Resource:
    """A lung metastasis Condition (extrahepatic disease: advanced)."""
    return condition(ICD10CM, "C78.0", rid="lung-met")


def ct_abdomen() -> Resource:
    """A multiphasic contrast CT of abdomen and pelvis a month ago."""
    return study("ct-abdomen-pelvis-multiphase", when=days_ago(30))


def ct_chest() -> Resource:
    """A chest CT a month ago."""
    return study("ct-chest", when=days_ago(30))


def unresectable() -> list[Resource]:
    """R0/R1 recorded as not feasible."""
    return [flag("r0-r1-feasible", False)]


def resectable() -> list[Resource]:
    """R0/R1 feasible with remnant liver volume 40 %."""
    return [flag("r0-r1-feasible", True), number("remnant-liver-volume", 40)]


def mgmt(score: str) -> Resource:
    """An MGMT IHC result."""
    return pnen_obs("mgmt-ihc", valueString=score)


def sstr_pet(result: str = "positive") -> Resource:
    """A 68Ga-SSA PET/CT 90 days ago."""
    return study("pet-ssa", result=result, when=days_ago(90))


def ned() -> Resource:
    """NED recorded 60 days ago."""
    return flag("ned", True, when=days_ago(60))


def lanreotide() -> Resource:
    """Active lanreotide started 400 days ago."""
    return medication(LANREOTIDE, start=days_ago(400), rid="ssa-1")


def ppi() -> Resource:
    """Active omeprazole started 200 days ago."""
    return medication(OMEPRAZOLE, start=days_ago(200), rid="ppi-1")


def lab(code: tuple[str, str], value: float, unit: str, days: int) -> Resource:
    """A laboratory result `days` ago."""
    return observation(code, when=days_ago(days), valueQuantity={"value": value, "unit": unit})


def pp(value: float, days: int) -> Resource:
    """A pancreatic polypeptide result in pg/mL `days` ago."""
    return pnen_obs(
        "pancreatic-polypeptide",
        when=days_ago(days),
        valueQuantity={"value": value, "unit": "pg/mL"},
    )


def progression(days: int = 20) -> Resource:
    """Disease status worsened `days` ago."""
    return disease_status(WORSENED, when=days_ago(days))


def progressed(*, status: bool = True) -> list[Resource]:
    """Graded and biopsied 300 days ago, progressing 30 days ago (unless `status` is False)."""
    record = [
        *base_pnen_lm(),
        ki67(8, "liver", when=days_ago(300)),
        procedure("eus-fnb", when=days_ago(300)),
    ]
    return [*record, progression(30)] if status else record


def functional_refractory(*, refractory: bool = True) -> list[Resource]:
    """A gastrinoma with unresectable liver metastases, hormone symptoms refractory."""
    record = net_lm(gastrinoma(), *unresectable())
    return [*record, flag("hormone-symptoms-refractory", True)] if refractory else record


def milan(*, assessed: bool = True) -> list[Resource]:
    """Unresectable liver metastases meeting every Milan-NET criterion."""
    record = [
        patient(birth_date_for_age(50)),
        pnen(),
        liver_mets(),
        differentiation("well"),
        ki67(5, "liver"),
        procedure("distal-pancreatectomy"),
        number("liver-tumor-burden", 30),
        disease_status(STABLE, when=days_ago(200)),
    ]
    return [*record, *unresectable()] if assessed else record


def curative_type1(*, resected: bool = True, days: int = 100) -> list[Resource]:
    """ENETS type I resected with the primary `days` ago, NED since, SSTR PET positive."""
    surgery = [
        procedure("distal-pancreatectomy", when=days_ago(days)),
        procedure("hepatectomy-parenchymal-sparing", when=days_ago(days)),
    ]
    return net_lm(enets("I"), *(surgery if resected else []), ned(), sstr_pet())


def resected_ned(*, resected: bool = True, liver: bool = True) -> list[Resource]:
    """Primary and liver resected 400 days ago, NED 370 days ago, low risk, no imaging since."""
    surgery = [procedure("distal-pancreatectomy", when=days_ago(400))] if resected else []
    if resected and liver:
        surgery.append(procedure("hepatectomy-parenchymal-sparing", when=days_ago(400)))
    return [
        *base_pnen_lm(),
        *surgery,
        flag("ned", True, when=days_ago(370)),
        ki67(2, "liver", when=days_ago(400)),
        observation((LOINC, "21900-6"), valueString="N0"),
    ]


# --- drafts ----------------------------------------------------------------------------------
def order(code: str) -> Resource:
    """A drafted ServiceRequest coded pnen-lm#code, with id `code`-draft."""
    return service_request(code, rid=f"{code}-draft")


def lab_order(code: tuple[str, str], rid: str) -> Resource:
    """A drafted laboratory ServiceRequest coded with LOINC."""
    return service_request(cc(*code), rid=rid)


def drug_order(code: tuple[str, str], rid: str) -> Resource:
    """A drafted MedicationRequest."""
    return medication(code, status="draft", rid=rid)


def ref(resource: Resource) -> str:
    """`Type/id` of a resource."""
    return f"{resource['resourceType']}/{resource['id']}"


# --- case builders ---------------------------------------------------------------------------
def pv_pair(
    rule: str,
    fires_on: Sequence[Resource],
    silent_on: Sequence[Resource],
    *,
    why: str,
    off: str,
    suggests: str | None = None,
) -> list[ParameterSet]:
    """A patient-view pair: `silent_on` differs from `fires_on` by the one fact named in `off`."""
    return [
        pytest.param(
            Scenario(rule, PV, tuple(fires_on), True, suggests=suggests), id=f"{rule}+{why}"
        ),
        pytest.param(Scenario(rule, PV, tuple(silent_on), False), id=f"{rule}/{off}"),
    ]


def order_pair(
    rule: str,
    hook: str,
    record: Sequence[Resource],
    trigger: Resource,
    companions: Sequence[Resource],
    *,
    why: str,
    suggests: str | None = None,
) -> list[ParameterSet]:
    """An order-hook pair: `trigger` selected (OS) or drafted (SIGN), then the same without it."""
    short = "os" if hook == OS else "sign"
    name = str(trigger["id"]).removesuffix("-draft")
    drafts = (trigger, *companions)
    if hook == OS:
        on = Scenario(
            rule, OS, tuple(record), True, drafts, (ref(trigger),), suggests, ref(trigger)
        )
        off = Scenario(rule, OS, tuple(record), False, drafts, tuple(ref(c) for c in companions))
        off_id = f"{rule}/{short}-{name}-not-selected"
    else:
        on = Scenario(rule, SIGN, tuple(record), True, drafts, None, suggests, ref(trigger))
        off = Scenario(rule, SIGN, tuple(record), False, tuple(companions))
        off_id = f"{rule}/{short}-without-{name}"
    return [pytest.param(on, id=f"{rule}+{short}-{why}"), pytest.param(off, id=off_id)]


def also_selected(pair: list[ParameterSet], companion: str) -> list[ParameterSet]:
    """An order-select pair with `companion` selected in both cases (a two-drug trigger)."""
    out = []
    for param in pair:
        (case,) = param.values
        assert isinstance(case, Scenario) and case.selections is not None
        selected = tuple(dict.fromkeys((*case.selections, companion)))
        out.append(pytest.param(replace(case, selections=selected), id=param.id))
    return out


CASES: list[ParameterSet] = [
    # A. Summary
    *pv_pair("summary", base_pnen_lm(), [patient(), liver_mets()], why="pnen", off="without-pnen"),
    # B. Imaging
    *pv_pair(
        "staging-imaging",
        [*base_pnen_lm(), ct_abdomen()],
        [*base_pnen_lm(), ct_abdomen(), ct_chest()],
        why="no-chest-ct",
        off="with-chest-ct-on-record",
        suggests="create",
    ),
    *order_pair(
        "liver-mri-hepatobiliary",
        OS,
        net_lm(enets("III")),
        order("hepatectomy-anatomic"),
        [order("ct-chest")],
        why="hepatectomy",
        suggests="create",
    ),
    *pv_pair(
        "liver-mri-hepatobiliary",
        net_lm(enets("II")),
        net_lm(),
        why="enets-type-ii",
        off="without-enets-type",
        suggests="create",
    ),
    *pv_pair(
        "pet-ssa",
        [*base_pnen_lm(), differentiation("well")],
        base_pnen_lm(),
        why="well-differentiated",
        off="without-differentiation",
        suggests="create",
    ),
    *pv_pair(
        "pet-fdg",
        net_lm(ki=15),
        net_lm(ki=None),
        why="ki67-above-10",
        off="without-ki67",
        suggests="create",
    ),
    *order_pair(
        "pet-insulinoma",
        SIGN,
        net_lm(insulinoma(), ki=2),
        order("pet-ssa"),
        [order("ct-chest")],
        why="sstr-pet",
        suggests="create",
    ),
    *pv_pair(
        "pet-insulinoma",
        net_lm(insulinoma(), ki=2),
        net_lm(ki=2),
        why="insulinoma",
        off="without-insulinoma",
        suggests="create",
    ),
    *order_pair(
        "pet-tracer-mismatch",
        OS,
        nec_lm(),
        order("pet-ssa"),
        [order("ct-chest")],
        why="sstr-pet-for-nec",
        suggests="swap",
    ),
    *order_pair(
        "pet-tracer-mismatch",
        SIGN,
        net_lm(ki=8),
        order("pet-fdg"),
        [order("ct-chest")],
        why="fdg-pet-for-low-grade-net",
        suggests="create",
    ),
    # C. Pathology and biopsy
    *pv_pair(
        "grade-discordant",
        [*base_pnen_lm(), ki67(2, "primary"), ki67(15, "liver")],
        [*base_pnen_lm(), ki67(15, "liver")],
        why="primary-g1-liver-g2",
        off="without-primary-ki67",
    ),
    *pv_pair(
        "biopsy-both-sites",
        [*base_pnen_lm(), ki67(12, "liver"), *unresectable()],
        [*base_pnen_lm(), ki67(12, "liver"), *unresectable(), ki67(2, "primary")],
        why="primary-not-graded",
        off="with-primary-ki67-on-record",
        suggests="create",
    ),
    *order_pair(
        "liver-biopsy-approach",
        OS,
        [*base_pnen_lm(), ki67(5, "primary"), ki67(8, "liver")],
        order("liver-biopsy-percutaneous"),
        [order("ct-chest")],
        why="liver-biopsy",
    ),
    *pv_pair(
        "liver-biopsy-approach",
        [*base_pnen_lm(), ki67(5, "primary")],
        [patient(), pnen(), ki67(5, "primary")],
        why="no-liver-pathology",
        off="without-liver-metastases",
    ),
    *pv_pair(
        "rebiopsy-progression",
        progressed(),
        progressed(status=False),
        why="progression-after-biopsy",
        off="without-progression",
    ),
    *pv_pair(
        "rebiopsy-inconsistent",
        [*base_pnen_lm(), ki67(2, "liver"), study("pet-fdg", result="positive")],
        [*base_pnen_lm(), ki67(2, "liver")],
        why="fdg-avid-g1",
        off="without-fdg-pet",
    ),
    *pv_pair(
        "g3-net-vs-nec",
        [*base_pnen_lm(), ki67(35, "liver")],
        base_pnen_lm(),
        why="g3-differentiation-unknown",
        off="without-ki67",
    ),
    *order_pair(
        "eus-ablation-not-first-line",
        SIGN,
        base_pnen_lm(),
        order("eus-ablation"),
        [order("ct-chest")],
        why="eus-ablation",
    ),
    # D. Molecular
    *pv_pair(
        "mgmt-test",
        net_lm(enets("II")),
        net_lm(),
        why="enets-type-ii",
        off="without-enets-type",
        suggests="create",
    ),
    *order_pair(
        "mgmt-tmz-mismatch",
        OS,
        net_lm(mgmt("3+")),
        drug_order(TMZ, "tmz-draft"),
        [order("ct-chest")],
        why="tmz-mgmt-3plus",
        suggests="swap",
    ),
    *pv_pair(
        "molecular-actionable",
        net_lm(variant("RB1")),
        net_lm(),
        why="rb1-altered",
        off="without-rb1-variant",
    ),
    # E. Surgery and liver-directed therapy
    *pv_pair(
        "primary-resectability",
        net_lm(vessel_contact(SMA="encasement")),
        net_lm(),
        why="vessel-contact",
        off="without-vessel-contact",
    ),
    *pv_pair(
        "liver-resectable-ned",
        net_lm(*resectable()),
        net_lm(flag("r0-r1-feasible", True)),
        why="r0-feasible-remnant-40",
        off="without-remnant-volume",
    ),
    *order_pair(
        "liver-remnant-insufficient",
        SIGN,
        net_lm(number("remnant-liver-volume", 25)),
        order("hepatectomy-parenchymal-sparing"),
        [order("ct-chest")],
        why="hepatectomy-remnant-25",
    ),
    *pv_pair(
        "liver-remnant-insufficient",
        net_lm(
            number("remnant-liver-volume", 25),
            service_request("hepatectomy-anatomic", status="active"),
        ),
        net_lm(number("remnant-liver-volume", 25)),
        why="planned-resection-remnant-25",
        off="without-planned-resection",
    ),
    *order_pair(
        "psh-preferred",
        OS,
        net_lm(),
        order("hepatectomy-anatomic"),
        [order("hepatectomy-parenchymal-sparing")],
        why="anatomic-hepatectomy",
    ),
    *order_pair(
        "g3-net-surgery",
        OS,
        net_lm(ki=30),
        order("pancreatoduodenectomy"),
        [order("tace")],
        why="pancreatectomy-net-g3",
    ),
    *pv_pair(
        "g3-net-surgery",
        net_lm(*resectable(), ki=30),
        net_lm(flag("r0-r1-feasible", True), ki=30),
        why="net-g3-resectable",
        off="without-remnant-volume",
    ),
    *order_pair(
        "nec-medical-first",
        SIGN,
        nec_lm(),
        order("hepatectomy-anatomic"),
        [order("tae")],
        why="hepatectomy-for-nec",
    ),
    *pv_pair(
        "nec-medical-first",
        nec_lm(),
        [patient(), pnen(), differentiation("poorly"), ki67(60, "liver")],
        why="nec-liver-metastases",
        off="without-liver-metastases",
    ),
    *order_pair(
        "primary-resection-low-priority",
        SIGN,
        net_lm(*unresectable()),
        order("distal-pancreatectomy"),
        [order("hepatectomy-anatomic")],
        why="distal-pancreatectomy",
    ),
    *pv_pair(
        "primary-resection-low-priority",
        net_lm(*unresectable()),
        net_lm(),
        why="unresectable-mets-primary-in-place",
        off="without-r0-r1-assessment",
    ),
    *pv_pair(
        "debulking-functional",
        functional_refractory(),
        functional_refractory(refractory=False),
        why="refractory-gastrinoma",
        off="without-refractory-symptoms",
    ),
    *order_pair(
        "splenectomy-decision",
        OS,
        net_lm(),
        order("distal-pancreatectomy"),
        [order("pancreatoduodenectomy")],
        why="distal-pancreatectomy",
    ),
    *order_pair(
        "lymph-node-dissection",
        SIGN,
        net_lm(number("primary-tumor-size", 30, unit="mm")),
        order("pancreatoduodenectomy"),
        [order("hepatectomy-anatomic")],
        why="pancreatectomy-primary-30mm",
    ),
    *pv_pair(
        "type3-potentially-resectable",
        net_lm(enets("III")),
        net_lm(),
        why="enets-type-iii",
        off="without-enets-type",
    ),
    *order_pair(
        "transplant-milan",
        OS,
        milan(),
        order("liver-transplant-referral"),
        [order("tace")],
        why="transplant-referral",
    ),
    *pv_pair(
        "transplant-milan",
        milan(),
        milan(assessed=False),
        why="unresectable-milan-met",
        off="without-r0-r1-assessment",
    ),
    *order_pair(
        "tae-over-tace",
        SIGN,
        net_lm(),
        order("tace"),
        [order("tae")],
        why="tace",
        suggests="swap",
    ),
    # F. Systemic therapy
    *pv_pair(
        "preop-systemic-mgmt",
        net_lm(enets("II"), mgmt("1+")),
        net_lm(mgmt("1+")),
        why="enets-type-ii",
        off="without-enets-type",
    ),
    *pv_pair(
        "adjuvant-ssa",
        curative_type1(),
        curative_type1(resected=False),
        why="type-i-resected-ned",
        off="without-liver-resection",
        suggests="create",
    ),
    *pv_pair(
        "adjuvant-continue-regimen",
        net_lm(enets("II"), procedure("tae", when=days_ago(150)), ned()),
        net_lm(enets("II"), ned()),
        why="type-ii-ned-after-tae",
        off="without-tae",
    ),
    *pv_pair(
        "ssa-first-line",
        net_lm(extrahepatic(), sstr_pet()),
        net_lm(sstr_pet()),
        why="advanced-sstr-positive",
        off="without-extrahepatic-metastasis",
        suggests="create",
    ),
    *pv_pair(
        "ssa-hormone-control",
        net_lm(gastrinoma()),
        net_lm(),
        why="gastrinoma",
        off="without-gastrinoma",
        suggests="create",
    ),
    *pv_pair(
        "targeted-therapy",
        net_lm(extrahepatic(), sstr_pet("negative")),
        net_lm(extrahepatic()),
        why="advanced-sstr-negative",
        off="without-sstr-pet",
    ),
    *pv_pair(
        "prrt-candidate",
        net_lm(extrahepatic(), sstr_pet(), lanreotide(), progression()),
        net_lm(extrahepatic(), sstr_pet(), lanreotide()),
        why="avid-progressing-on-ssa",
        off="without-progression",
    ),
    # The firing case only: etoposide alone now fires too, so the silent case is in CHANGED_ROWS.
    *also_selected(
        order_pair(
            "platinum-for-net",
            OS,
            net_lm(mgmt("1+")),
            drug_order(CISPLATIN, "cisplatin-draft"),
            [drug_order(ETOPOSIDE, "etoposide-draft")],
            why="cisplatin-etoposide",
            suggests="swap",
        ),
        "MedicationRequest/etoposide-draft",
    )[:1],
    # G. Serum biomarkers
    *order_pair(
        "cga-confounded",
        OS,
        [*base_pnen_lm(), ppi()],
        lab_order(CGA, "cga-draft"),
        [order("ct-chest")],
        why="cga-on-ppi",
    ),
    *pv_pair(
        "cga-confounded",
        [*base_pnen_lm(), lab(CGA, 120, "ng/mL", 30), ppi()],
        [*base_pnen_lm(), lab(CGA, 120, "ng/mL", 30)],
        why="cga-on-ppi",
        off="without-ppi",
    ),
    *pv_pair(
        "pp-rise",
        [*base_pnen_lm(), pp(100, 120), pp(200, 10)],
        [*base_pnen_lm(), pp(200, 10)],
        why="pp-doubled",
        off="without-earlier-pp",
    ),
    *order_pair(
        "gastrin-on-ppi",
        SIGN,
        [*base_pnen_lm(), ppi()],
        lab_order(GASTRIN, "gastrin-draft"),
        [order("ct-chest")],
        why="gastrin-on-ppi",
    ),
    *pv_pair(
        "gastrin-on-ppi",
        [*base_pnen_lm(), lab(GASTRIN, 250, "pg/mL", 30), ppi()],
        [*base_pnen_lm(), lab(GASTRIN, 250, "pg/mL", 30)],
        why="gastrin-on-ppi",
        off="without-ppi",
    ),
    # H. Follow-up
    *pv_pair(
        "followup-imaging-due",
        resected_ned(),
        resected_ned(resected=False),
        why="no-imaging-since-resection",
        off="without-resection",
        suggests="create",
    ),
]


# Rows changed by issue 9 (consensus-rules.md as updated): one firing and one silent request each.
CARBOPLATIN = (RXNORM, "40048")
EVEROLIMUS = (RXNORM, "141704", "everolimus")


def remission_by_ned(*, pnen_condition: bool = True) -> list[Resource]:
    """A pNEN Condition (active) followed by NED: in remission (the pNEN status definition)."""
    condition_ = [pnen(onset=days_ago(900))] if pnen_condition else []
    return [patient(), *condition_, flag("ned", True, when=days_ago(30))]


def ssa_plus_everolimus(*, added: bool = True) -> list[Resource]:
    """G2 NET on lanreotide for 400 days, everolimus added 60 days ago, progression 20 days ago."""
    added_agent = [medication(EVEROLIMUS, start=days_ago(60), rid="evero-1")] if added else []
    return net_lm(lanreotide(), *added_agent, progression(20))


CHANGED_ROWS: list[ParameterSet] = [
    *pv_pair(
        "summary",
        remission_by_ned(),
        remission_by_ned(pnen_condition=False),
        why="pnen-in-remission",
        off="without-pnen-condition",
    ),
    *pv_pair(
        "followup-imaging-due",
        resected_ned(),
        resected_ned(liver=False),
        why="primary-and-liver-resected-to-ned",
        off="liver-metastases-left-in-place",
        suggests="create",
    ),
    *pv_pair(
        "adjuvant-ssa",
        curative_type1(days=100),
        curative_type1(days=200),
        why="within-adjuvant-window",
        off="outside-adjuvant-window",
        suggests="create",
    ),
    *order_pair(
        "lymph-node-dissection",
        OS,
        net_lm(number("primary-tumor-size", 9, unit="mm")),
        order("distal-pancreatectomy"),
        [order("ct-chest")],
        why="nf-pnet-under-1-cm",
    ),
    *pv_pair(
        "ssa-first-line",
        net_lm(insulinoma(), extrahepatic(), sstr_pet()),
        net_lm(insulinoma(), sstr_pet()),
        why="advanced-insulinoma",
        off="without-extrahepatic-metastasis",
    ),
    *order_pair(
        "platinum-for-net",
        OS,
        net_lm(differentiation("well"), mgmt("3+"), ki=30),
        drug_order(CARBOPLATIN, "carboplatin-draft"),
        [order("ct-chest")],
        why="carboplatin-net-g3-mgmt-high",
        suggests="swap",
    ),
    *order_pair(
        "platinum-for-net",
        SIGN,
        net_lm(),
        drug_order(ETOPOSIDE, "etoposide-draft"),
        [order("ct-chest")],
        why="etoposide-mgmt-unknown",
        suggests="create",
    ),
    *pv_pair(
        "rebiopsy-inconsistent",
        ssa_plus_everolimus(),
        ssa_plus_everolimus(added=False),
        why="progression-after-agent-added-to-ssa",
        off="without-added-agent",
    ),
]
CASES += CHANGED_ROWS

# What each changed row's firing card must say (the text the updated row asks for).
CHANGED_TEXT = {
    "summary+pnen-in-remission": "pNEN in remission",
    "followup-imaging-due+primary-and-liver-resected-to-ned": "Follow-up abdominal CT/MRI due",
    "adjuvant-ssa+within-adjuvant-window": "adjuvant window after a curative-intent resection",
    "lymph-node-dissection+os-nf-pnet-under-1-cm": "NF-pNET < 1 cm",
    "ssa-first-line+advanced-insulinoma": "SSAs can worsen hypoglycaemia",
    "platinum-for-net+os-carboplatin-net-g3-mgmt-high": "surufatinib",
    "platinum-for-net+sign-etoposide-mgmt-unknown": "test MGMT",
    "rebiopsy-inconsistent+progression-after-agent-added-to-ssa": "after adding everolimus",
}


# --- the requests ----------------------------------------------------------------------------
def _respond(client: FlaskClient, keys: list[str], case: Scenario) -> dict[str, Any]:
    """POST the case's request to its hook's service; the schema-checked response."""
    body = hook_request(
        case.hook,
        PATIENT_ID,
        prefetch=prefetch_for(case.record, keys),
        drafts=case.drafts,
        selections=case.selections,
    )
    response = client.post(f"/cds-services/{SERVICE[case.hook]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()
    assert_valid_response(result)
    return result


def _creates(actions: list[dict[str, Any]]) -> bool:
    """True when an action creates a resource."""
    return any(a["type"] == "create" and "resource" in a for a in actions)


def _check_suggestion(card: dict[str, Any], case: Scenario) -> None:
    """The card suggests the order (create), or replaces the draft (delete it, then create)."""
    action_lists = [s.get("actions", []) for s in card.get("suggestions", [])]
    if case.suggests == "create":
        assert any(_creates(actions) for actions in action_lists), card["suggestions"]
    else:
        assert any(
            actions[0]["type"] == "delete"
            and actions[0].get("resourceId") == case.trigger
            and _creates(actions[1:])
            for actions in action_lists
        ), card["suggestions"]


@pytest.mark.parametrize("case", CASES)
def test_rule_fires_on_its_positive_request_only(
    client: FlaskClient, prefetch_keys: list[str], case: Scenario
) -> None:
    info = RULES[case.rule]
    assert case.hook in info.hooks, f"{case.rule} does not run on {case.hook}"
    cards = _respond(client, prefetch_keys, case)["cards"]
    codes = [c["source"]["topic"]["code"] for c in cards]
    assert len(codes) == len(set(codes)), "a rule fires at most once per request"
    if not case.fires:
        assert case.rule not in codes
        return
    assert case.rule in codes, f"{case.rule} did not fire; cards: {codes}"
    card = cards[codes.index(case.rule)]
    assert card["source"]["topic"]["system"] == RULE_SYSTEM
    assert len(card["summary"]) < 140
    assert f"*{EN['source']}: {citation_text(info.citation, EN)}.*" in card["detail"]
    if case.trigger is not None:
        assert case.trigger in card["detail"], "the triggering draft is named as evidence"
    if case.suggests is not None:
        _check_suggestion(card, case)


def _scenarios() -> list[Scenario]:
    """The scenarios of the case table."""
    return [case for param in CASES for case in param.values if isinstance(case, Scenario)]


def test_every_rule_has_a_positive_and_a_negative_case() -> None:
    scenarios = _scenarios()
    assert {s.rule for s in scenarios if s.fires} == set(RULES)
    assert {s.rule for s in scenarios if not s.fires} == set(RULES)


def test_order_hook_rules_are_tested_on_order_hooks() -> None:
    on_orders = {r for r, info in RULES.items() if info.hooks & {OS, SIGN}}
    for fires in (True, False):
        tested = {s.rule for s in _scenarios() if s.fires is fires and s.hook != PV}
        assert tested == on_orders


@pytest.mark.parametrize(
    ("case", "text"),
    [
        pytest.param(p.values[0], CHANGED_TEXT[str(p.id)], id=p.id)
        for p in CHANGED_ROWS
        if p.id in CHANGED_TEXT
    ],
)
def test_changed_rows_say_what_the_updated_row_asks_for(
    client: FlaskClient, prefetch_keys: list[str], case: Scenario, text: str
) -> None:
    assert case.fires
    cards = _respond(client, prefetch_keys, case)["cards"]
    card = next(c for c in cards if c["source"]["topic"]["code"] == case.rule)
    assert text in card["summary"] + card["detail"]
    if case.rule == "ssa-first-line":
        assert not card.get("suggestions")


def test_platinum_for_net_on_order_select_deletes_only_the_selected_drafts(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    drafts = (drug_order(CISPLATIN, "cis-draft"), drug_order(ETOPOSIDE, "etop-draft"))
    case = Scenario(
        "platinum-for-net",
        OS,
        tuple(net_lm(mgmt("1+"))),
        True,
        drafts,
        ("MedicationRequest/cis-draft",),
    )
    cards = _respond(client, prefetch_keys, case)["cards"]
    card = next(c for c in cards if c["source"]["topic"]["code"] == "platinum-for-net")
    deleted = {
        a["resourceId"] for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"
    }
    assert deleted == {"MedicationRequest/cis-draft"}
