"""Interop cases: which cancer a result belongs to, Bundle references and specimen sites.

Shapes follow public material, named per case:
- HL7 mCODE IG (HL7/fhir-mCODE-ig, STU2+): PrimaryCancerCondition "Jenny M" (SNOMED
  353431000119107 primary malignant neoplasm of female left breast, clinicalStatus remission,
  meta.profile mcode-primary-cancer-condition), SecondaryCancerCondition with the extension
  mcode-related-primary-cancer-condition, and Observation.focus pointing at the cancer.
- FHIR R4 Bundle rules (http://hl7.org/fhir/R4/bundle.html#references): entries of a transaction
  or collection Bundle reference each other by fullUrl `urn:uuid:…`.
- ICD-O-3 topography as registries send it: under the HL7 OID urn:oid:2.16.840.1.113883.6.43.1,
  with or without the dot (C22.0 / C220); specimen sites written only as text, as in laboratory
  feeds ("Liver, segment 6, core biopsy").
- ICD-10-CM C50.911 (malignant neoplasm of the right female breast), C79.51 (secondary malignant
  neoplasm of bone) and C7A.1 (malignant poorly differentiated neuroendocrine tumours) as
  US problem lists code them.
Data are synthetic.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from cds_service.cli import main
from consensus.criteria import Status
from consensus.patient import G3_UNKNOWN, NEC, NET
from fhir_mappings.attribution import (
    HISTOLOGY,
    PRIMARY_CANCER_PROFILE,
    RELATED_PRIMARY,
    SECONDARY_CANCER_PROFILE,
)
from fhir_mappings.bundles import bundle_aliases, read_page
from fhir_mappings.facts import LIVER, POSSIBLY_OTHER_CANCER, PRIMARY, UNKNOWN_SITE
from fhir_mappings.record import RecordMapper
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    ICD10CM,
    LOINC,
    PATIENT_ID,
    PATIENT_REF,
    PNEN,
    SNOMED,
    TODAY,
    cc,
    condition,
    differentiation,
    disease_status,
    facts_for,
    flag,
    ki67,
    liver_mets,
    number,
    patient,
    patient_view,
    pnen,
    report,
    run,
    service_request,
    terms,
)
from tests.support.cds_requests import hook_request, prefetch_for
from tests.support.fhir_server import serve_fhir

ICDO3_OID = "urn:oid:2.16.840.1.113883.6.43.1"
PV = "/cds-services/pnen-patient-view"


def specimen(rid: str, site: dict[str, Any]) -> dict[str, Any]:
    """A Specimen collected from `site` (a CodeableConcept)."""
    return {
        "resourceType": "Specimen",
        "id": rid,
        "subject": {"reference": PATIENT_REF},
        "collection": {"bodySite": site},
    }


def text_condition(text: str, **kw: Any) -> dict[str, Any]:
    """A Condition whose code is text only (a local code the service cannot know)."""
    res = condition(SNOMED, "1", rid="x", **kw)
    res["code"] = {"coding": [{"system": "urn:local:dx", "code": "NET2"}], "text": text}
    return res


def breast_cancer(rid: str = "breast", status: str = "active") -> dict[str, Any]:
    """ICD-10-CM C50.911, as a US problem list codes it."""
    return condition(ICD10CM, "C50.911", rid=rid, clinical_status=status)


def jenny_m_breast_cancer(status: str = "remission") -> dict[str, Any]:
    """mCODE IG example PrimaryCancerCondition "Jenny M" (HL7/fhir-mCODE-ig)."""
    return {
        "resourceType": "Condition",
        "id": "primary-cancer-condition-jenny-m",
        "meta": {"profile": [PRIMARY_CANCER_PROFILE]},
        "clinicalStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", status, status
        ),
        "verificationStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"
        ),
        "code": cc(SNOMED, "353431000119107", "Primary malignant neoplasm of female left breast"),
        "bodySite": [cc(SNOMED, "80248007", "Left breast structure")],
        "subject": {"reference": PATIENT_REF},
        "onsetDateTime": "2018-03-16",
    }


def bone_metastasis(related_primary: str | None = None, rid: str = "bone") -> dict[str, Any]:
    """mCODE SecondaryCancerCondition: ICD-10-CM C79.51 bone, optionally tied to its primary."""
    res = condition(ICD10CM, "C79.51", rid=rid)
    res["meta"] = {"profile": [SECONDARY_CANCER_PROFILE]}
    if related_primary:
        res["extension"] = [
            {
                "url": RELATED_PRIMARY,
                "valueReference": {"reference": related_primary},
            }
        ]
    return res


def g1_pnet_with_resectable_liver_mets() -> list[dict[str, Any]]:
    """A G1 pNET (Ki-67 2 % on a pancreas specimen) with resectable liver metastases."""
    return [
        patient(),
        pnen(body_site=(SNOMED, "15776009")),
        liver_mets(),
        specimen("sp-pancreas", cc(SNOMED, "15776009", "Pancreas")),
        ki67(2, rid="ki67-pancreas", specimen={"reference": "Specimen/sp-pancreas"}),
        differentiation("well", specimen={"reference": "Specimen/sp-pancreas"}),
        flag("r0-r1-feasible", True),
        number("remnant-liver-volume", 45),
    ]


def breast_ki67(value: float = 30, **links: Any) -> dict[str, Any]:
    """A Ki-67 Observation (LOINC 29593-1, the code breast pathology uses too)."""
    return ki67(value, rid="ki67-breast", **links)


def fdg_pet_for(reason: dict[str, Any]) -> list[dict[str, Any]]:
    """An FDG PET report based on a completed order whose reason is given."""
    order = service_request(cc(SNOMED, "35321007", "FDG PET"), status="completed", rid="sr-fdg")
    order.update(reason)
    study = report(cc(SNOMED, "35321007", "FDG PET"), result="positive", rid="dr-fdg")
    study["basedOn"] = [{"reference": "ServiceRequest/sr-fdg"}]
    return [order, study]


# --- which Conditions are another cancer ----------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "other"),
    [
        (ICD10CM, "C50.911", True),  # breast
        (ICD10CM, "C50911", True),  # breast, sent without the dot
        (ICD10CM, "C34.90", True),  # lung
        (ICD10CM, "C61", True),  # prostate
        (ICD10CM, "C91.10", True),  # chronic lymphocytic leukaemia
        (ICD10CM, "C25.4", False),  # the pNEN
        (ICD10CM, "C25.0", False),  # the pancreas again: the pNEN coded without its histology
        (ICD10CM, "C7A.1", False),  # neuroendocrine: never another cancer
        (ICD10CM, "C78.7", False),  # a metastasis
        (ICD10CM, "C77.2", False),  # nodes
        (ICD10CM, "C79.9", False),  # a metastasis, site unspecified
        (ICD10CM, "D05.11", False),  # in situ: not a malignant neoplasm
        (ICD10CM, "E11.9", False),  # diabetes
        (SNOMED, "254837009", True),  # malignant neoplasm of breast
        (SNOMED, "73211009", False),  # diabetes mellitus
    ],
)
def test_malignant_conditions_other_than_the_pnen_are_another_cancer(
    system: str, code: str, other: bool
) -> None:
    facts = facts_for([pnen(), condition(system, code, rid="c")])
    assert [f.ref for f in facts.all("other-cancer")] == (["Condition/c"] if other else [])


def test_mcode_jenny_m_in_remission_is_another_cancer_in_history() -> None:
    facts = facts_for([pnen(), jenny_m_breast_cancer()])
    (found,) = facts.all("other-cancer")
    assert (found.ref, found.value) == ("Condition/primary-cancer-condition-jenny-m", "history")


def test_mcode_primary_cancer_profile_alone_marks_another_cancer() -> None:
    res = condition(SNOMED, "999999999", rid="local-code")  # a local code the service cannot know
    res["meta"] = {"profile": [PRIMARY_CANCER_PROFILE]}
    assert [f.ref for f in facts_for([pnen(), res]).all("other-cancer")] == ["Condition/local-code"]


# --- results linked to another cancer never feed the pNEN --------------------------------------


def test_breast_ki67_on_a_breast_specimen_never_turns_a_g1_pnet_into_g3() -> None:
    breast_specimen = specimen("sp-breast", cc(SNOMED, "76752008", "Breast structure"))
    p = patient_view(
        [
            *g1_pnet_with_resectable_liver_mets(),
            breast_cancer(),
            breast_specimen,
            breast_ki67(specimen={"reference": "Specimen/sp-breast"}),
        ]
    )
    assert p.overall_grade is not None and p.overall_grade.grade == 1
    assert [f.ref for f in p.record.all("ki67")] == ["Observation/ki67-pancreas"]
    (excluded,) = p.record.all("other-cancer-result")
    assert (excluded.ref, excluded.value) == ("Observation/ki67-breast", "Specimen/sp-breast")


def test_ki67_whose_focus_is_the_breast_cancer_is_not_the_pnens() -> None:
    # mCODE: a tumour marker's focus names the cancer condition it is about.
    facts = facts_for(
        [pnen(), breast_cancer(), breast_ki67(focus=[{"reference": "Condition/breast"}])]
    )
    assert not facts.has("ki67")


def test_ki67_whose_focus_is_the_pnen_counts_even_with_another_cancer() -> None:
    facts = facts_for(
        [pnen(), breast_cancer(), breast_ki67(focus=[{"reference": "Condition/pnen-1"}])]
    )
    assert [f.flags for f in facts.all("ki67")] == [()]


def test_panel_member_inherits_the_panels_link_to_another_cancer() -> None:
    member = breast_ki67()
    panel = {
        "resourceType": "Observation",
        "id": "breast-panel",
        "status": "final",
        "subject": {"reference": PATIENT_REF},
        "code": cc(LOINC, "85319-2", "HER2 [Presence] in Breast cancer specimen"),
        "focus": [{"reference": "Condition/breast"}],
        "hasMember": [{"reference": "Observation/ki67-breast"}],
    }
    assert not facts_for([pnen(), breast_cancer(), panel, member]).has("ki67")


def test_result_of_a_report_on_a_breast_specimen_is_not_the_pnens() -> None:
    breast_report = report(cc(LOINC, "60567-5", "Comprehensive pathology report"), rid="dr-breast")
    breast_report["specimen"] = [{"reference": "Specimen/sp-breast"}]
    breast_report["result"] = [{"reference": "Observation/ki67-breast"}]
    facts = facts_for(
        [
            pnen(),
            breast_cancer(),
            specimen("sp-breast", {"text": "Breast, left, core biopsy"}),
            breast_report,
            breast_ki67(),
        ]
    )
    assert not facts.has("ki67")


def test_result_derived_from_a_breast_result_is_not_the_pnens() -> None:
    source = breast_ki67(focus=[{"reference": "Condition/breast"}])
    derived = ki67(30, rid="ki67-derived", derivedFrom=[{"reference": "Observation/ki67-breast"}])
    assert not facts_for([pnen(), breast_cancer(), source, derived]).has("ki67")


def test_bone_metastasis_of_the_breast_cancer_never_removes_curative_surgery() -> None:
    recs = run(
        [
            *g1_pnet_with_resectable_liver_mets(),
            breast_cancer(),
            bone_metastasis(related_primary="Condition/breast"),
        ]
    )
    card = recs["liver-resectable-ned"]
    assert all(c.status is Status.MET for c in card.criteria)


def test_liver_metastasis_of_the_breast_cancer_is_not_the_pnens() -> None:
    secondary = condition(SNOMED, "94381002", rid="breast-liver-mets")
    secondary["extension"] = [
        {
            "url": RELATED_PRIMARY,
            "valueReference": {"reference": "Condition/breast"},
        }
    ]
    p = patient_view([pnen(), breast_cancer(), secondary])
    assert not p.has_liver_mets


def test_fdg_pet_restaging_breast_cancer_is_not_the_pnens() -> None:
    reason = {"reasonReference": [{"reference": "Condition/breast"}]}
    facts = facts_for([pnen(), breast_cancer(), *fdg_pet_for(reason)])
    assert not facts.has("imaging:pet-fdg")
    assert [f.ref for f in facts.all("other-cancer-result")] == ["DiagnosticReport/dr-fdg"]


def test_fdg_pet_ordered_with_a_breast_cancer_reason_code_is_not_the_pnens() -> None:
    # mCODE radiotherapy and procedure examples carry the cancer as reasonCode only.
    reason = {"reasonCode": [cc(SNOMED, "353431000119107", "Primary malignant neoplasm of breast")]}
    facts = facts_for([pnen(), breast_cancer(), *fdg_pet_for(reason)])
    assert not facts.has("imaging:pet-fdg")


@pytest.mark.parametrize(
    ("reason", "fires"), [("Condition/breast", False), ("Condition/pnen-1", True)]
)
def test_fdg_avid_g1_asks_for_rebiopsy_only_when_the_pet_was_the_pnens(
    reason: str, fires: bool
) -> None:
    ordered = {"reasonReference": [{"reference": reason}]}
    recs = run([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), *fdg_pet_for(ordered)])
    assert ("rebiopsy-inconsistent" in recs) is fires


def test_fdg_pet_ordered_for_the_pnen_counts() -> None:
    reason = {"reasonReference": [{"reference": "Condition/pnen-1"}]}
    facts = facts_for([pnen(), breast_cancer(), *fdg_pet_for(reason)])
    assert [f.value for f in facts.all("imaging:pet-fdg")] == ["positive"]


# --- no link either way: possibly another cancer's ---------------------------------------------


def test_unlinked_ki67_with_active_breast_cancer_leaves_the_grade_open_not_g3() -> None:
    p = patient_view([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), breast_ki67()])
    grade = p.overall_grade
    assert grade is not None and (grade.low, grade.high) == (1, 3) and grade.grade is None
    assert p.grade != 3
    criterion = p.g1_g2("G1–G2")
    assert criterion.unknown
    assert criterion.missing == (
        "whether Ki-67 30 % (Observation/ki67-breast) is the pNEN's: it may belong to the other "
        "cancer (breast, Condition/breast)",
    )


@pytest.mark.parametrize(("value", "status"), [(9, Status.NOT_MET), (10, Status.NOT_MET)])
def test_flagged_ki67_that_changes_nothing_leaves_the_criterion_known(
    value: float, status: Status
) -> None:
    p = patient_view([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), breast_ki67(value)])
    assert p.ki67_criterion("highest Ki-67 > 10 %", ">", 10).status is status


@pytest.mark.parametrize(("value", "status"), [(10.1, Status.UNKNOWN), (30, Status.UNKNOWN)])
def test_flagged_ki67_above_the_threshold_makes_it_unknown(value: float, status: Status) -> None:
    p = patient_view([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), breast_ki67(value)])
    criterion = p.ki67_criterion("highest Ki-67 > 10 %", ">", 10)
    assert criterion.status is status
    assert "may belong to the other cancer (breast, Condition/breast)" in criterion.missing[-1]


def test_lymph_node_specimen_ki67_with_active_breast_cancer_is_possibly_another_cancers() -> None:
    node = specimen("sp-node", cc(ICDO3_OID, "C77.3", "Lymph nodes of axilla"))
    facts = facts_for(
        [pnen(), breast_cancer(), node, breast_ki67(specimen={"reference": "Specimen/sp-node"})]
    )
    (fact,) = facts.all("ki67")
    assert fact.site == UNKNOWN_SITE and POSSIBLY_OTHER_CANCER in fact.flags


def test_unlinked_bone_metastasis_with_active_breast_cancer_is_unknown_not_extrahepatic() -> None:
    recs = run([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), bone_metastasis()])
    card = recs["liver-resectable-ned"]
    (no_extrahepatic,) = [c for c in card.criteria if c.name == "no extrahepatic metastasis"]
    assert no_extrahepatic.unknown
    assert "may belong to the other cancer (breast, Condition/breast)" in card.missing[-1]


def test_unlinked_bone_metastasis_leaves_advanced_disease_unknown() -> None:
    p = patient_view([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), bone_metastasis()])
    assert p.advanced.unknown and not p.extrahepatic


def test_bone_metastasis_without_another_cancer_is_extrahepatic() -> None:
    p = patient_view([*g1_pnet_with_resectable_liver_mets(), bone_metastasis()])
    assert p.advanced.met and [f.ref for f in p.extrahepatic] == ["Condition/bone"]


def test_breast_cancer_in_remission_flags_nothing() -> None:
    facts = facts_for([pnen(), jenny_m_breast_cancer(), breast_ki67()])
    assert [f.flags for f in facts.all("ki67")] == [()]


def test_specimen_from_another_organ_without_another_cancer_stays_the_pnens() -> None:
    # The pNEN's own bone metastases are biopsied too.
    bone = specimen("sp-bone", cc(SNOMED, "272673000", "Bone structure"))
    facts = facts_for([pnen(), bone, ki67(12, specimen={"reference": "Specimen/sp-bone"})])
    assert [f.value.value for f in facts.all("ki67")] == [12]


def test_circular_references_end_without_an_answer() -> None:
    first = ki67(30, rid="a", hasMember=[{"reference": "Observation/b"}])
    second = ki67(31, rid="b", hasMember=[{"reference": "Observation/a"}])
    facts = facts_for([pnen(), breast_cancer(), first, second])
    assert all(POSSIBLY_OTHER_CANCER in f.flags for f in facts.all("ki67"))


def test_a_long_derivation_chain_is_followed_without_exhausting_the_stack() -> None:
    chain = [ki67(5, rid="k0", focus=[{"reference": "Condition/breast"}])]
    chain += [
        ki67(5, rid=f"k{i}", derivedFrom=[{"reference": f"Observation/k{i - 1}"}])
        for i in range(1, 3000)
    ]
    facts = facts_for([pnen(), breast_cancer(), *chain])
    assert len(facts.all("ki67")) + len(facts.all("other-cancer-result")) == 3000


# --- references inside a Bundle and specimen sites ------------------------------------------


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (cc(ICDO3_OID, "C22.0", "Liver"), LIVER),
        (cc(ICDO3_OID, "C220"), LIVER),
        (cc("http://terminology.hl7.org/CodeSystem/icd-o-3", "C25.2", "Tail of pancreas"), PRIMARY),
        (cc(ICDO3_OID, "C251"), PRIMARY),
        ({"text": "Liver, segment 6, core biopsy"}, LIVER),
        ({"text": "Pancreas, tail, EUS-FNB"}, PRIMARY),
        ({"text": "肝脏穿刺活检"}, LIVER),
        ({"text": "Lymph node, peripancreatic"}, UNKNOWN_SITE),
        (cc(ICDO3_OID, "C77.2", "Intra-abdominal lymph nodes"), UNKNOWN_SITE),
        ({"text": "specimen 1"}, UNKNOWN_SITE),
    ],
)
def test_specimen_sites_by_icdo3_topography_and_text(site: dict[str, Any], expected: str) -> None:
    facts = facts_for(
        [pnen(), specimen("sp", site), ki67(8, specimen={"reference": "Specimen/sp"})]
    )
    assert [f.site for f in facts.all("ki67")] == [expected]


def _urn_uuid_bundle() -> dict[str, Any]:
    """A collection Bundle whose entries reference each other by urn:uuid (FHIR R4 Bundle)."""
    ids = {name: f"urn:uuid:{uuid.uuid4()}" for name in ("primary", "liver", "pnen", "lm")}
    resources = [
        ("pnen", pnen(body_site=(SNOMED, "15776009"))),
        ("lm", liver_mets()),
        ("primary", specimen("sp-primary", cc(SNOMED, "15776009", "Pancreas"))),
        ("liver", specimen("sp-liver", cc(SNOMED, "10200004", "Liver"))),
        ("ki-primary", ki67(4, rid="ki67-primary", specimen={"reference": ids["primary"]})),
        ("ki-liver", ki67(25, rid="ki67-liver", specimen={"reference": ids["liver"]})),
    ]
    entries = [
        {"fullUrl": ids.get(name, f"urn:uuid:{uuid.uuid4()}"), "resource": r}
        for name, r in resources
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": patient()}, *entries],
    }


def test_urn_uuid_specimen_references_keep_their_sites() -> None:
    bundle = _urn_uuid_bundle()
    items = [("file", e["resource"]) for e in bundle["entry"]]
    facts = RecordMapper(terms()).map(PATIENT_ID, items, TODAY, aliases=bundle_aliases(bundle))
    sites = {f.ref: f.site for f in facts.all("ki67")}
    assert sites == {"Observation/ki67-primary": PRIMARY, "Observation/ki67-liver": LIVER}


def test_focus_and_based_on_by_urn_uuid_link_to_the_breast_cancer() -> None:
    breast_url, order_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    reason = {"reasonReference": [{"reference": breast_url}]}
    order, study = fdg_pet_for(reason)
    study["basedOn"] = [{"reference": order_url}]
    resources = [
        patient(),
        pnen(),
        breast_cancer(),
        breast_ki67(focus=[{"reference": breast_url}]),
        order,
        study,
    ]
    aliases = {breast_url: "Condition/breast", order_url: "ServiceRequest/sr-fdg"}
    facts = RecordMapper(terms()).map(
        PATIENT_ID, [("t", r) for r in resources], TODAY, aliases=aliases
    )
    assert not facts.has("ki67") and not facts.has("imaging:pet-fdg")


def test_search_page_remembers_each_entrys_full_url() -> None:
    bundle = _urn_uuid_bundle()
    page = read_page("conditions", {**bundle, "type": "searchset"})
    assert page.aliases[bundle["entry"][1]["fullUrl"]] == "Condition/pnen-1"


def test_urn_uuid_bundle_gives_the_same_cards_through_request_over_http_as_evaluate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], client: FlaskClient
) -> None:
    # Held-out review h08: `pnen-cds request` dropped the entries' fullUrls, so over HTTP the
    # urn:uuid specimen references lost their sites and grade-discordant went quiet.
    bundle = _urn_uuid_bundle()
    path = tmp_path / "urn-uuid.json"
    path.write_text(json.dumps(bundle))
    assert main(["evaluate", str(path), "--format", "json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert main(["request", str(path)]) == 0
    request = json.loads(capsys.readouterr().out)
    sent = {
        e["fullUrl"]
        for value in request["prefetch"].values()
        for e in value.get("entry", [])
        if "fullUrl" in e
    }
    assert sent == {e["fullUrl"] for e in bundle["entry"] if "fullUrl" in e}
    response = client.post("/cds-services/pnen-patient-view", json=request)
    assert response.status_code == 200
    body = response.get_json()
    assert_valid_response(body)

    def topics(b: dict[str, Any]) -> list[str]:
        return sorted(c["source"]["topic"]["code"] for c in b["cards"])

    assert "grade-discordant" in topics(evaluated)
    assert topics(body) == topics(evaluated)


def test_subject_by_urn_uuid_of_another_patient_is_rejected() -> None:
    other = {"resourceType": "Patient", "id": "someone-else"}
    obs = ki67(8, subject={"reference": "urn:uuid:other"})
    facts = RecordMapper(terms()).map(
        PATIENT_ID,
        [("t", patient()), ("t", pnen()), ("t", other), ("t", obs)],
        TODAY,
        aliases={"urn:uuid:other": "Patient/someone-else"},
    )
    assert not facts.has("ki67")
    assert any(i.problem == "subject is another patient" for i in facts.data_issues)


# --- loud, not silent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        condition(ICD10CM, "C7A.1", rid="x"),  # NEC, site not coded: the most dangerous silence
        text_condition("Neuroendocrine tumour, grade 2"),
        condition(
            ICD10CM,
            "C80.1",
            rid="x",
            extension=[
                {
                    "url": HISTOLOGY,
                    "valueCodeableConcept": cc(ICDO3_OID, "82403", "Neuroendocrine tumour G1"),
                }
            ],
        ),
        text_condition("胰腺神经内分泌肿瘤"),
    ],
)
def test_record_that_looks_like_a_nen_but_is_not_recognised_is_a_data_issue(
    resource: dict[str, Any],
) -> None:
    facts = facts_for([resource])
    assert not facts.has("pnen")
    assert [i.reference for i in facts.data_issues] == ["Condition/x"]
    assert "neuroendocrine" in facts.data_issues[0].problem


@pytest.mark.parametrize(
    "resource",
    [
        condition(ICD10CM, "C7A.010", rid="x"),  # carcinoid of the duodenum: a named other site
        condition(ICD10CM, "C7A010", rid="x"),  # the same without its dot
        condition(ICD10CM, "C25.9", rid="x"),  # pancreatic cancer, no neuroendocrine histology
        text_condition("Neuroendocrine tumour", bodySite=[{"text": "Lung"}]),
        condition(
            ICD10CM,
            "C7A.1",
            rid="x",
            verificationStatus=cc(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted"
            ),
        ),
    ],
)
def test_neoplasms_that_are_not_a_pnen_raise_no_data_issue(resource: dict[str, Any]) -> None:
    assert facts_for([resource]).data_issues == ()


def test_insulinoma_beside_a_recognised_pnen_is_no_data_issue() -> None:
    syndrome = condition(SNOMED, "1", rid="ins")
    syndrome["code"] = cc(PNEN, "insulinoma", "Insulinoma")
    facts = facts_for([pnen(), syndrome])
    assert facts.has("functional") and facts.data_issues == ()


def test_insulinoma_alone_without_a_pnen_is_a_data_issue() -> None:
    syndrome = condition(SNOMED, "1", rid="ins")
    syndrome["code"] = cc(PNEN, "insulinoma", "Insulinoma")
    assert [i.reference for i in facts_for([syndrome]).data_issues] == ["Condition/ins"]


def test_summary_names_unreadable_resources_and_results_of_another_cancer() -> None:
    broken = ki67(8, rid="broken")
    broken["valueQuantity"] = "eight"
    recs = run(
        [
            *g1_pnet_with_resectable_liver_mets(),
            broken,
            breast_cancer(),
            breast_ki67(focus=[{"reference": "Condition/breast"}]),
        ]
    )
    advice = recs["summary"].advice
    assert "- 1 result could not be fully read: Observation/broken" in advice
    assert (
        "- 1 record entry linked to another cancer (breast) not used for the pNEN: "
        "Observation/ki67-breast" in advice
    )
    assert "eight" not in advice


def test_summary_lists_results_possibly_another_cancers() -> None:
    recs = run([*g1_pnet_with_resectable_liver_mets(), breast_cancer(), breast_ki67()])
    advice = recs["summary"].advice
    assert "Possibly another cancer's (breast, Condition/breast)" in advice
    assert "Ki-67 30 % (Observation/ki67-breast)" in advice
    assert "G1–G3" in recs["summary"].summary and "NET G3" not in recs["summary"].summary


# --- end to end over HTTP --------------------------------------------------------------------


def _second_cancer(linked: bool) -> list[dict[str, Any]]:
    """Breast cancer with a bone metastasis, a breast Ki-67 30 % and an FDG PET restaging it;
    `linked`: the metastasis and the Ki-67 say they are the breast cancer's."""
    breast_specimen = specimen("sp-breast", cc(SNOMED, "76752008", "Breast structure"))
    reason = {"reasonReference": [{"reference": "Condition/breast"}]}
    return [
        breast_cancer(),
        bone_metastasis(related_primary="Condition/breast" if linked else None),
        breast_specimen,
        breast_ki67(specimen={"reference": "Specimen/sp-breast"}) if linked else breast_ki67(),
        *fdg_pet_for(reason),
    ]


def _second_cancer_patient(linked: bool) -> list[dict[str, Any]]:
    """A G1 pNET with resectable liver metastases plus the second cancer."""
    return [*g1_pnet_with_resectable_liver_mets(), *_second_cancer(linked)]


def _post(client: FlaskClient, resources: list[dict[str, Any]]) -> dict[str, Any]:
    keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(resources, keys))
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert_valid_response(body)
    return body


def _cards(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["source"]["topic"]["code"]: c for c in body["cards"]}


def test_second_cancer_linked_everywhere_gives_the_g1_pnets_cards_over_http(
    client: FlaskClient,
) -> None:
    cards = _cards(_post(client, _second_cancer_patient(linked=True)))
    assert "liver-resectable-ned" in cards
    summary = cards["summary"]
    assert "NET G1," in summary["summary"] and "G1 (primary)" in summary["detail"]
    assert "G3" not in summary["summary"] + summary["detail"]
    assert "3 record entries linked to another cancer (breast)" in summary["detail"]
    assert "rebiopsy-inconsistent" not in cards  # the breast FDG PET is not FDG-avid pNEN G1


def test_second_cancer_without_links_leaves_grade_and_extrahepatic_disease_unknown_over_http(
    client: FlaskClient,
) -> None:
    cards = _cards(_post(client, _second_cancer_patient(linked=False)))
    surgery = cards["liver-resectable-ned"]
    assert "may belong to the other cancer (breast, Condition/breast)" in surgery["detail"]
    summary = cards["summary"]
    assert "G1–G3" in summary["summary"]
    assert "G3 NET" not in summary["detail"]


def test_urn_uuid_discordance_found_over_http(client: FlaskClient) -> None:
    bundle = _urn_uuid_bundle()
    keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
    by_key: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"][1:]:
        kind = entry["resource"]["resourceType"]
        key = {"Condition": "conditions", "Specimen": "specimens"}.get(kind, "observations")
        by_key.setdefault(key, []).append(entry)
    prefetch: dict[str, Any] = {k: None for k in keys}
    prefetch["patient"] = patient()
    for key, entries in by_key.items():
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch)
    response = client.post(PV, json=request)
    body = response.get_json()
    assert_valid_response(body)
    cards = _cards(body)
    assert "grade-discordant" in cards  # Ki-67 4 % primary vs 25 % liver (G2 vs G3)


def test_second_cancer_fetched_from_the_fhir_server_gives_the_same_cards(
    client: FlaskClient,
) -> None:
    resources = _second_cancer_patient(linked=True)
    with serve_fhir(resources, page_size=5) as (base, data):
        request = hook_request("patient-view", PATIENT_ID, fhir_server=base)
        response = client.post(PV, json=request)
        assert any(path.startswith("/fhir/ServiceRequest") for path in data.requests)
    body = response.get_json()
    assert_valid_response(body)
    cards = _cards(body)
    assert "liver-resectable-ned" in cards and "rebiopsy-inconsistent" not in cards
    assert "NET G1," in cards["summary"]["summary"]


def test_urn_uuid_bundle_file_evaluated_offline_finds_the_discordance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "transaction.json"
    path.write_text(json.dumps(_urn_uuid_bundle()))
    assert main(["evaluate", str(path), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert_valid_response(body)
    assert "grade-discordant" in _cards(body)


def test_nec_coded_c7a1_without_a_site_is_named_in_the_response_over_http(
    client: FlaskClient,
) -> None:
    body = _post(client, [patient(), condition(ICD10CM, "C7A.1", rid="nec")])
    issues = body["extension"]["org.pnen-cds.data-issues"]
    assert {"prefetchKey": "conditions", "reference": "Condition/nec"} == {
        k: v for k, v in issues[0].items() if k != "problem"
    }
    assert "neuroendocrine" in issues[0]["problem"]


@pytest.mark.parametrize(
    ("reason", "fires"), [("Condition/breast", False), ("Condition/pnen-1", True)]
)
def test_fdg_pet_drafted_to_restage_breast_cancer_is_not_a_pnen_order_over_http(
    client: FlaskClient, reason: str, fires: bool
) -> None:
    resources = [*g1_pnet_with_resectable_liver_mets(), breast_cancer()]
    draft = service_request(cc(SNOMED, "35321007", "FDG PET"), rid="draft-fdg")
    draft["reasonReference"] = [{"reference": reason}]
    keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
    request = hook_request(
        "order-select", PATIENT_ID, prefetch=prefetch_for(resources, keys), drafts=[draft]
    )
    response = client.post("/cds-services/pnen-order-select", json=request)
    body = response.get_json()
    assert_valid_response(body)
    assert ("pet-tracer-mismatch" in _cards(body)) is fires


def test_a_second_cancer_linked_everywhere_changes_no_card_over_http(client: FlaskClient) -> None:
    pnet = g1_pnet_with_resectable_liver_mets()
    alone = _cards(_post(client, pnet))
    with_breast_cancer = _cards(_post(client, [*pnet, *_second_cancer(linked=True)]))
    assert set(with_breast_cancer) == set(alone)
    for rule_id in alone:
        if rule_id != "summary":  # the summary adds what was set aside
            assert with_breast_cancer[rule_id]["detail"] == alone[rule_id]["detail"]


# --- a rule that holds for both readings still decides (pet-ssa) ------------------------------


def _pnet_ungraded_by_differentiation(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A pNEN with liver metastases, its own Ki-67 5 % (pancreas), no differentiation recorded."""
    return [
        patient(),
        pnen(body_site=(SNOMED, "15776009")),
        liver_mets(),
        specimen("sp-pancreas", cc(SNOMED, "15776009", "Pancreas")),
        ki67(5, rid="ki67-pancreas", specimen={"reference": "Specimen/sp-pancreas"}),
        *extra,
    ]


def test_unlinked_breast_ki67_gives_net_without_it_and_g3_with_it() -> None:
    p = patient_view(_pnet_ungraded_by_differentiation(breast_cancer(), breast_ki67(30)))
    assert p.differentiation[0] is None
    assert p.differentiation_readings == (NET, G3_UNKNOWN)


def test_differentiation_readings_only_when_a_possibly_other_result_leaves_it_unknown() -> None:
    assert patient_view(_pnet_ungraded_by_differentiation()).differentiation_readings is None
    lower = patient_view(_pnet_ungraded_by_differentiation(breast_cancer(), breast_ki67(3)))
    assert lower.differentiation[0] == NET and lower.differentiation_readings is None


def test_sstr_pet_is_advised_whichever_cancer_an_unlinked_ki67_belongs_to() -> None:
    rec = run(_pnet_ungraded_by_differentiation(breast_cancer(), breast_ki67(30)))["pet-ssa"]
    first = rec.criteria[0]
    assert first.name == "NET, or G3 with differentiation unknown" and first.met
    assert [f.ref for f in first.evidence] == [
        "Observation/ki67-pancreas",
        "Observation/ki67-breast",
    ]
    assert first.note == (
        "whether or not Ki-67 30 % (Observation/ki67-breast) is the pNEN's, the pNEN is a NET or "
        "G3 with differentiation unknown"
    )
    assert rec.summary == (
        "Order 68Ga-SSA PET/CT: indicated for NET, or G3 with differentiation unknown; "
        "no SSTR PET on record"
    )
    assert "indicated either way" in rec.advice
    assert [a.order for s in rec.suggestions for a in s.actions] == ["pet-ssa"]


def test_sstr_pet_waits_when_without_the_result_the_grade_is_unknown() -> None:
    # No Ki-67 of the pNEN's own: without the breast Ki-67 nothing grades it (NEC not excluded).
    resources = [patient(), pnen(), liver_mets(), breast_cancer(), breast_ki67(30)]
    p = patient_view(resources)
    assert p.differentiation_readings == (None, G3_UNKNOWN)
    assert "pet-ssa" not in run(resources)


def test_sstr_pet_waits_when_with_the_result_the_pnen_would_be_a_nec() -> None:
    poorly = differentiation("poorly", rid="diff-breast")
    p = patient_view(_pnet_ungraded_by_differentiation(breast_cancer(), poorly))
    assert p.differentiation_readings == (NET, NEC)
    assert "pet-ssa" not in run(_pnet_ungraded_by_differentiation(breast_cancer(), poorly))


def test_sstr_pet_either_way_over_http_names_the_result_in_the_card(
    client: FlaskClient,
) -> None:
    resources = _pnet_ungraded_by_differentiation(breast_cancer(), breast_ki67(30))
    card = _cards(_post(client, resources))["pet-ssa"]
    assert "Observation/ki67-breast" in card["detail"]
    assert "indicated either way" in card["detail"]
    assert [a["resource"]["resourceType"] for s in card["suggestions"] for a in s["actions"]] == [
        "ServiceRequest"
    ]


# --- probe 2026-11-27: a report about another tumour; a disease status with two cancers -------
# Synthetic records shaped like a colorectal cancer patient's liver biopsy (an independent
# tester's, 2026-11-27).


def _crc_liver_biopsy(conclusion: str) -> list[dict[str, Any]]:
    """A pNEN with an own pancreas Ki-67 2 %, an active sigmoid colon cancer, and a liver biopsy
    whose report (with a coded Ki-67 80 % in `result`, on the liver specimen) says `conclusion`."""
    crc_report = report(cc(LOINC, "11526-1", "Pathology study"), rid="dr-crc-liver")
    crc_report.update(
        conclusion=conclusion,
        specimen=[{"reference": "Specimen/sp-liver"}],
        result=[{"reference": "Observation/ki67-liver"}],
    )
    return [
        *g1_pnet_with_resectable_liver_mets(),
        condition(ICD10CM, "C18.7", rid="crc"),
        specimen("sp-liver", cc(SNOMED, "10200004", "Liver structure")),
        crc_report,
        ki67(80, rid="ki67-liver", specimen={"reference": "Specimen/sp-liver"}),
    ]


def test_coded_ki67_of_a_liver_biopsy_reported_as_colorectal_adenocarcinoma_is_not_the_pnens() -> (
    None
):
    facts = facts_for(
        _crc_liver_biopsy("Liver biopsy: metastatic adenocarcinoma of colorectal origin.")
    )
    assert [f.ref for f in facts.all("ki67")] == ["Observation/ki67-pancreas"]
    set_aside = {f.ref for f in facts.all("other-cancer-result")}
    assert "Observation/ki67-liver" in set_aside


def test_coded_ki67_of_a_liver_biopsy_reported_as_the_net_stays_the_pnens() -> None:
    facts = facts_for(
        _crc_liver_biopsy("Liver biopsy: metastatic well-differentiated neuroendocrine tumour.")
    )
    assert {f.ref for f in facts.all("ki67")} == {
        "Observation/ki67-pancreas",
        "Observation/ki67-liver",
    }


def test_a_negated_adenocarcinoma_does_not_make_the_report_another_cancers() -> None:
    facts = facts_for(_crc_liver_biopsy("Liver biopsy: no adenocarcinoma seen; see addendum."))
    assert "Observation/ki67-liver" in {f.ref for f in facts.all("ki67")}


def test_unlinked_progression_with_another_active_cancer_is_possibly_the_other_ones() -> None:
    resources = [
        *g1_pnet_with_resectable_liver_mets(),
        breast_cancer(),
        disease_status("271299001", rid="ds-worse"),
    ]
    p = patient_view(resources)
    assert not p.progressing
    assert [f.ref for f in p.possibly_other_of("disease-status")] == ["Observation/ds-worse"]
    assert "rebiopsy-progression" not in run(resources)


def test_progression_without_another_cancer_is_the_pnens() -> None:
    resources = [*g1_pnet_with_resectable_liver_mets(), disease_status("271299001")]
    assert patient_view(resources).progressing


def test_another_cancer_entered_in_error_by_text_is_no_other_cancer() -> None:
    # synthetic, shaped like an EHR whose verificationStatus carries only text (probe 2026-11-27)
    breast = breast_cancer()
    breast["verificationStatus"] = {"text": "Entered in error"}
    facts = facts_for([*g1_pnet_with_resectable_liver_mets(), breast, breast_ki67()])
    assert not facts.all("other-cancer")
    assert {f.ref for f in facts.all("ki67")} == {
        "Observation/ki67-pancreas",
        "Observation/ki67-breast",
    }


def test_another_cancer_abated_without_a_clinical_status_is_history_not_active() -> None:
    # FHIR con-4: an abated Condition is inactive, resolved or in remission.
    breast = breast_cancer()
    del breast["clinicalStatus"]
    breast["abatementDateTime"] = "2020-05-01"
    facts = facts_for([*g1_pnet_with_resectable_liver_mets(), breast, breast_ki67()])
    assert [f.value for f in facts.all("other-cancer")] == ["history"]
    assert not any(POSSIBLY_OTHER_CANCER in f.flags for f in facts.all("ki67"))


def test_a_nen_condition_entered_in_error_by_text_raises_no_unrecognised_nen_issue() -> None:
    ileal = condition(ICD10CM, "C7A.012", rid="ileal")
    ileal["verificationStatus"] = {"text": "entered in error"}
    facts = facts_for([*g1_pnet_with_resectable_liver_mets(), ileal])
    assert not [i for i in facts.data_issues if i.reference == "Condition/ileal"]


def test_coded_ki67_of_a_liver_biopsy_whose_report_excludes_adenocarcinoma_stays_the_pnens() -> (
    None
):
    # synthetic, re-probe record n15: the report never names the NET but excludes the colon cancer.
    facts = facts_for(
        _crc_liver_biopsy(
            "Liver biopsy: metastatic colorectal adenocarcinoma is excluded (CK20 and CDX2 "
            "negative); see synoptic report."
        )
    )
    assert "Observation/ki67-liver" in {f.ref for f in facts.all("ki67")}
