"""The CDS Hooks 2.0 JSON Schemas: spec examples validate, bad bodies fail at the right path."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from cds_service.schemas import SCHEMA_NAMES, _fast_check, errors, load_schema, validator
from tests.cds_schema import assert_valid, assert_valid_response

# --- Examples copied from the CDS Hooks 2.0 specification (https://cds-hooks.hl7.org/2.0/) ---

SPEC_DISCOVERY: dict[str, Any] = {
    "services": [
        {
            "hook": "patient-view",
            "title": "Static CDS Service Example",
            "description": "An example of a CDS Service that returns a static set of cards",
            "id": "static-patient-greeter",
            "prefetch": {"patientToGreet": "Patient/{{context.patientId}}"},
        },
        {
            "hook": "order-select",
            "title": "Order Echo CDS Service",
            "description": (
                "An example of a CDS Service that simply echoes the order(s) being placed"
            ),
            "id": "order-echo",
            "prefetch": {
                "patient": "Patient/{{context.patientId}}",
                "medications": "MedicationRequest?patient={{context.patientId}}",
            },
        },
        {
            "hook": "order-sign",
            "title": "Pharmacogenomics CDS Service",
            "description": "An example of a more advanced, precision medicine CDS Service",
            "id": "pgx-on-order-sign",
            "usageRequirements": "Note: functionality of this CDS Service is degraded without "
            "access to a FHIR Restful API as part of CDS recommendation generation.",
        },
    ]
}

SPEC_DISCOVERY_EXTENSION: dict[str, Any] = {
    "services": [
        {
            "title": "Example CDS Service Discovery",
            "hook": "patient-view",
            "id": "patientview",
            "prefetch": {"patient": "Patient/{{context.patientId}}"},
            "description": "clinical decision support for patient view",
            "extension": {
                "com.example.clientConformance": (
                    "http://hooks.example.org/fhir/102/Conformance/patientview"
                )
            },
        }
    ]
}

SPEC_REQUEST: dict[str, Any] = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://hooks.smarthealthit.org:9080",
    "hook": "patient-view",
    "fhirAuthorization": {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "cds-service4",
    },
    "context": {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284"},
    "prefetch": {
        "patientToGreet": {
            "resourceType": "Patient",
            "gender": "male",
            "birthDate": "1925-12-23",
            "id": "1288992",
            "active": True,
        }
    },
}

SPEC_REQUEST_EXTENSION: dict[str, Any] = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://fhir.example.org:9080",
    "hook": "patient-view",
    "context": {"userId": "Practitioner/example"},
    "extension": {
        "com.example.timestamp": "2017-11-27T22:13:25Z",
        "com.cds-hooks.sandbox.myextension-practitionerspecialty": "gastroenterology",
    },
}

SPEC_MEDICATION_REQUEST: dict[str, Any] = {
    "resourceType": "MedicationRequest",
    "id": "123",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "617993",
                "display": (
                    "Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML Oral Suspension"
                ),
            }
        ]
    },
    "subject": {"reference": "Patient/1288992"},
}

SPEC_REQUEST_ORDER_SELECT: dict[str, Any] = {
    "hook": "order-select",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {
        "userId": "Practitioner/example",
        "patientId": "1288992",
        "encounterId": "456",
        "selections": ["MedicationRequest/123"],
        "draftOrders": {
            "resourceType": "Bundle",
            "entry": [{"resource": SPEC_MEDICATION_REQUEST}],
        },
    },
}

SPEC_REQUEST_PREFETCH: dict[str, Any] = {
    "hook": "patient-view",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "PractitionerRole/123", "patientId": "1288992"},
    "prefetch": {
        "patient": {"resourceType": "Patient", "gender": "male", "birthDate": "1974-12-25"},
        "hemoglobin-a1c": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "code": {
                            "coding": [
                                {
                                    "system": "http://loinc.org",
                                    "code": "4548-4",
                                    "display": "Hemoglobin A1c",
                                }
                            ]
                        },
                    }
                }
            ],
        },
        # The spec: a template key the client has no data for has the value null.
        "diabetes-type2": None,
    },
}

SPEC_RESPONSE: dict[str, Any] = {
    "cards": [
        {
            "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "summary": "Example Card",
            "indicator": "info",
            "detail": "This is an example card.",
            "source": {
                "label": "Static CDS Service Example",
                "url": "https://example.com",
                "icon": "https://example.com/img/icon-100px.png",
            },
            "links": [
                {"label": "Google", "url": "https://google.com", "type": "absolute"},
                {"label": "Github", "url": "https://github.com", "type": "absolute"},
                {
                    "label": "SMART Example App",
                    "url": "https://smart.example.com/launch",
                    "type": "smart",
                    "appContext": '{"session":3456356,"settings":{"module":4235}}',
                },
            ],
        },
        {
            "summary": "Another card",
            "indicator": "warning",
            "source": {"label": "Static CDS Service Example"},
            "overrideReasons": [
                {
                    "code": "reason-code-provided-by-service",
                    "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
                    "display": "Patient refused",
                },
                {
                    "code": "12354",
                    "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
                    "display": "Contraindicated",
                },
            ],
        },
    ]
}

SPEC_SOURCE: dict[str, Any] = {
    "label": "Zika Virus Management",
    "url": "https://example.com/cdc-zika-virus-mgmt",
    "icon": "https://example.com/cdc-zika-virus-mgmt/100.png",
    "topic": {
        "system": "http://example.org/cds-services/fhir/CodeSystem/topics",
        "code": "12345",
        "display": "Mosquito born virus",
    },
}

SPEC_ACTIONS: list[dict[str, Any]] = [
    {
        "type": "create",
        "description": "Create a prescription for Acetaminophen 250 MG",
        "resource": {
            "resourceType": "MedicationRequest",
            "id": "medrx001",
            "...": "<snipped for brevity>",
        },
    },
    {
        "type": "update",
        "description": "Update the order to record the appropriateness score",
        "resource": {
            "resourceType": "ServiceRequest",
            "id": "procedure-request-1",
            "...": "<snipped for brevity>",
        },
    },
    {
        "type": "delete",
        "description": "Remove the inappropriate order",
        "resourceId": "ServiceRequest/procedure-request-1",
    },
]

SPEC_FEEDBACK_ACCEPTED: dict[str, Any] = {
    "feedback": [
        {
            "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
            "outcomeTimestamp": "2021-12-11T10:05:31Z",
        }
    ]
}

SPEC_FEEDBACK_OVERRIDDEN: dict[str, Any] = {
    "feedback": [
        {
            "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}

SPEC_FEEDBACK_OVERRIDE_REASON: dict[str, Any] = {
    "feedback": [
        {
            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden",
            "overrideReason": {
                "reason": {
                    "code": "d7ecf885",
                    "system": "https://example.com/cds-hooks/override-reason-system",
                },
                "userComment": "A comment entered by the clinician.",
            },
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}

# --- A response shaped like the ones pnen-cds sends, with a suggested draft order ---

DRAFT_SERVICE_REQUEST: dict[str, Any] = {
    "resourceType": "ServiceRequest",
    "id": "4f1c2a0e-0b8e-4d8e-9b7a-3f8f4c1d2e6a",
    "status": "draft",
    "intent": "proposal",
    "subject": {"reference": "Patient/1288992"},
    "code": {
        "coding": [{"system": "http://loinc.org", "code": "81555-5", "display": "PET/CT"}],
        "text": "68Ga-DOTATATE PET/CT",
    },
}

SUGGESTION_RESPONSE: dict[str, Any] = {
    "cards": [
        {
            "uuid": "0b7f5f0e-7c69-4b1a-8a34-1a4f0f3e5d21",
            "summary": "Somatostatin receptor imaging is recommended",
            "indicator": "warning",
            "detail": "**Why:** liver metastases of a pancreatic NEN.",
            "source": {
                "label": "pNEN consensus",
                "topic": {"system": "urn:pnen-cds:rules", "code": "pet-ssr", "display": "PET"},
            },
            "suggestions": [
                {
                    "label": "Order 68Ga-DOTATATE PET/CT",
                    "uuid": "e56e1945-20b3-4393-8503-a1a20fd73152",
                    "isRecommended": True,
                    "actions": [
                        {
                            "type": "create",
                            "description": "Propose a 68Ga-DOTATATE PET/CT",
                            "resource": DRAFT_SERVICE_REQUEST,
                        }
                    ],
                }
            ],
            "selectionBehavior": "at-most-one",
            "overrideReasons": [
                {"system": "urn:pnen-cds:override", "code": "done", "display": "Already done"}
            ],
        }
    ],
    "extension": {
        "org.pnen-cds.data-issues": [
            {
                "prefetchKey": "observations",
                "reference": "Observation/broken-1",
                "problem": "valueQuantity: expected an object",
            }
        ]
    },
}


Path = tuple[str | int, ...]
SUGGESTION: Path = ("cards", 0, "suggestions", 0)
SUGGESTION_PATH = "cards[0].suggestions[0]"
ACTION: Path = (*SUGGESTION, "actions", 0)
ACTION_PATH = "cards[0].suggestions[0].actions[0]"


def _set(body: dict[str, Any], path: Path, value: object) -> None:
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _paths(name: str, body: object) -> set[str]:
    return {path for path, _ in errors(name, body)}


def _card(response: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = response["cards"][0]
    return card


def _action(response: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = _card(response)["suggestions"][0]["actions"][0]
    return action


@pytest.fixture
def response() -> dict[str, Any]:
    return copy.deepcopy(SUGGESTION_RESPONSE)


# --- The schemas themselves ---


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12_and_shipped_in_the_package(name: str) -> None:
    schema = load_schema(name)
    validator(name).check_schema(schema)  # the draft 2020-12 metaschema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    shipped = resources.files("cds_service.schemas").joinpath(f"{name}.schema.json")
    assert json.loads(shipped.read_text(encoding="utf-8")) == schema


def test_schemas_and_validators_are_cached() -> None:
    assert load_schema("response") is load_schema("response")
    assert validator("response") is validator("response")


def test_unknown_schema_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown schema"):
        load_schema("nope")


# --- Spec examples validate ---


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("discovery", SPEC_DISCOVERY),
        ("discovery", SPEC_DISCOVERY_EXTENSION),
        ("discovery", {"services": []}),
        ("request", SPEC_REQUEST),
        ("request", SPEC_REQUEST_EXTENSION),
        ("request", SPEC_REQUEST_ORDER_SELECT),
        ("request", SPEC_REQUEST_PREFETCH),
        ("response", SPEC_RESPONSE),
        ("response", {"cards": []}),
        ("feedback", SPEC_FEEDBACK_ACCEPTED),
        ("feedback", SPEC_FEEDBACK_OVERRIDDEN),
        ("feedback", SPEC_FEEDBACK_OVERRIDE_REASON),
    ],
)
def test_spec_examples_validate(name: str, body: dict[str, Any]) -> None:
    assert errors(name, body) == []
    assert_valid(name, body)


def test_spec_source_and_action_examples_validate_in_a_card() -> None:
    card = {
        "summary": "Example",
        "indicator": "critical",
        "source": SPEC_SOURCE,
        "suggestions": [{"label": "Do all three", "actions": SPEC_ACTIONS}],
        "selectionBehavior": "any",
    }
    assert_valid("response", {"cards": [card], "systemActions": SPEC_ACTIONS})


def test_spec_system_action_example_lacks_the_required_description() -> None:
    # The spec's systemActions example omits `description`, which its Action table REQUIRES;
    # the project follows the table.
    body = {
        "cards": [],
        "systemActions": [
            {
                "type": "update",
                "resource": {"resourceType": "ServiceRequest", "id": "example-MRI-59879846"},
            }
        ],
    }
    assert errors("response", body) == [
        ("systemActions[0].description", "'description' is a required property")
    ]


def test_project_response_with_a_draft_order_is_valid(response: dict[str, Any]) -> None:
    assert_valid_response(response)


def test_medication_request_suggestion_reads_medication_codeable_concept(
    response: dict[str, Any],
) -> None:
    medication = copy.deepcopy(SPEC_MEDICATION_REQUEST)
    medication["medicationCodeableConcept"]["text"] = "Amoxicillin/clavulanate oral suspension"
    _action(response)["resource"] = medication
    assert_valid_response(response)


# --- Requests that must fail, and where ---


@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_request_missing_required_field_names_it(field: str) -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    del body[field]
    assert errors("request", body) == [(field, f"{field!r} is a required property")]


def test_request_wrong_types_name_their_paths() -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    body["context"] = "Patient/1"
    body["hook"] = 3
    body["prefetch"]["patientToGreet"] = []
    assert errors("request", body) == [
        ("context", "expected object, got string"),
        ("hook", "expected string, got integer"),
        ("prefetch.patientToGreet", "expected object or null, got array"),
    ]


@pytest.mark.parametrize("patient_id", ["", "a/b", "x" * 65, "bad id", 42])
def test_request_patient_id_must_be_a_fhir_id(patient_id: object) -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    body["context"]["patientId"] = patient_id
    assert _paths("request", body) == {"context.patientId"}


def test_request_context_fields_read_by_the_service_are_typed() -> None:
    body = copy.deepcopy(SPEC_REQUEST_ORDER_SELECT)
    body["context"]["userId"] = None
    body["context"]["selections"] = ["MedicationRequest/123", 7]
    body["context"]["draftOrders"] = [SPEC_MEDICATION_REQUEST]
    assert _paths("request", body) == {
        "context.userId",
        "context.selections[1]",
        "context.draftOrders",
    }


def test_request_fhir_authorization_needs_fhir_server() -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    del body["fhirServer"]
    assert errors("request", body) == [
        ("fhirAuthorization", "'fhirServer' is required when 'fhirAuthorization' is present")
    ]


def test_request_fhir_authorization_fields() -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    auth = body["fhirAuthorization"]
    auth["token_type"] = "MAC"
    auth["expires_in"] = "300"
    del auth["subject"]
    auth["patient"] = "1288992"
    auth["com.example.extra"] = True
    assert _paths("request", body) == {
        "fhirAuthorization.token_type",
        "fhirAuthorization.expires_in",
        "fhirAuthorization.subject",
    }


def test_request_fhir_server_must_be_a_uri() -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    body["fhirServer"] = "not a url"
    assert _paths("request", body) == {"fhirServer"}


def test_request_body_that_is_not_an_object_fails_at_the_root() -> None:
    assert errors("request", ["hook"]) == [("", "expected object, got array")]


# --- The request's fast check agrees with the full validator ---

PROBES: tuple[object, ...] = (
    None,
    "",
    "x",
    "abc\n",
    "a b",
    "Bearer",
    "http://",
    "https://ehr.example.org/fhir",
    "urn:x",
    0,
    -3,
    1.0,
    2.5,
    True,
    [],
    ["", 1],
    ["Patient/1"],
    {},
    {"a": None},
    {"resourceType": "Patient"},
)


def _variants(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body with each key up to two levels deep deleted, or replaced by each probe."""
    out: list[dict[str, Any]] = []
    paths: list[Path] = [(k,) for k in body]
    paths += [(k, k2) for k, v in body.items() if isinstance(v, dict) for k2 in v]
    for path in paths:
        deleted = copy.deepcopy(body)
        parent: Any = deleted[str(path[0])] if len(path) == 2 else deleted
        del parent[path[-1]]
        out.append(deleted)
        for probe in PROBES:
            changed = copy.deepcopy(body)
            _set(changed, path, copy.deepcopy(probe))
            out.append(changed)
    return out


@pytest.mark.parametrize("body", [SPEC_REQUEST, SPEC_REQUEST_EXTENSION, SPEC_REQUEST_ORDER_SELECT])
def test_request_fast_check_says_valid_only_when_the_schema_does(body: dict[str, Any]) -> None:
    fast = _fast_check("request")
    assert fast is not None  # the request schema uses only keywords the fast check knows
    assert fast(body)
    full = validator("request")
    variants = _variants(body)
    disagreements = [v for v in variants if fast(v) != full.is_valid(v)]
    # Narrower only where jsonschema is lenient (1.0 is an integer): the full validator decides.
    assert all(full.is_valid(v) for v in disagreements)
    assert all(v["fhirAuthorization"]["expires_in"] == 1.0 for v in disagreements)
    assert sum(not fast(v) for v in variants) > len(variants) // 3  # the probes do break things


def test_request_fast_check_refuses_what_is_not_an_object() -> None:
    fast = _fast_check("request")
    assert fast is not None
    assert not any(fast(value) for value in PROBES)


def test_request_with_a_float_integer_is_left_to_the_full_validator_and_valid() -> None:
    body = copy.deepcopy(SPEC_REQUEST)
    body["fhirAuthorization"]["expires_in"] = 300.0  # an integer to the schema: valid
    assert errors("request", body) == []


# --- Responses that must fail, and where ---


def test_summary_of_140_characters_fails(response: dict[str, Any]) -> None:
    _card(response)["summary"] = "x" * 139
    assert_valid("response", response)
    _card(response)["summary"] = "x" * 140
    assert errors("response", response) == [
        ("cards[0].summary", "must be at most 139 characters long, got 140")
    ]


def test_empty_detail_fails(response: dict[str, Any]) -> None:
    _card(response)["detail"] = ""
    assert _paths("response", response) == {"cards[0].detail"}


@pytest.mark.parametrize(
    "path",
    [
        ("cards", 0, "detail"),
        ("cards", 0, "source", "topic", "display"),
        (*SUGGESTION, "uuid"),
        (*SUGGESTION, "isRecommended"),
        (*ACTION, "resource", "code", "text"),
        ("cards", 0, "overrideReasons"),
    ],
)
def test_null_values_fail_anywhere(response: dict[str, Any], path: Path) -> None:
    _set(response, path, None)
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    assert errors("response", response) == [(dotted, "must not be null")]


@pytest.mark.parametrize(
    ("path", "empty", "expected"),
    [
        (("cards", 0, "links"), [], {"cards[0].links"}),
        (("cards", 0, "source"), {}, {"cards[0].source.label"}),
        (
            ("cards", 0, "source", "topic"),
            {},
            {"cards[0].source.topic.code", "cards[0].source.topic.system"},
        ),
        ((*SUGGESTION, "actions"), [], {f"{SUGGESTION_PATH}.actions"}),
        ((*ACTION, "resource", "note"), [], {f"{ACTION_PATH}.resource.note"}),
        ((*ACTION, "resource", "code", "text"), "", {f"{ACTION_PATH}.resource.code.text"}),
        (("extension",), {}, {"extension"}),
        (("systemActions",), [], {"systemActions"}),
    ],
)
def test_empty_values_fail_anywhere(
    response: dict[str, Any], path: Path, empty: object, expected: set[str]
) -> None:
    _set(response, path, empty)
    assert _paths("response", response) == expected


def test_suggestions_without_selection_behavior_fail(response: dict[str, Any]) -> None:
    del _card(response)["selectionBehavior"]
    assert errors("response", response) == [
        ("cards[0].selectionBehavior", "'selectionBehavior' is a required property")
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("indicator", "urgent"), ("selectionBehavior", "all")],
)
def test_card_enums(response: dict[str, Any], field: str, value: str) -> None:
    _card(response)[field] = value
    assert _paths("response", response) == {f"cards[0].{field}"}


def test_override_reason_needs_a_full_coding(response: dict[str, Any]) -> None:
    del _card(response)["overrideReasons"][0]["display"]
    assert errors("response", response) == [
        ("cards[0].overrideReasons[0].display", "'display' is a required property")
    ]


def test_topic_display_is_optional(response: dict[str, Any]) -> None:
    del _card(response)["source"]["topic"]["display"]
    assert_valid("response", response)


def test_unknown_properties_fail_where_the_spec_lists_every_field(
    response: dict[str, Any],
) -> None:
    _card(response)["priority"] = 1
    _card(response)["source"]["topic"]["version"] = "1"
    _card(response)["suggestions"][0]["selected"] = True
    _action(response)["resourceType"] = "ServiceRequest"
    response["warnings"] = ["x"]
    assert errors("response", response) == [
        ("cards[0].priority", "unexpected property"),
        ("cards[0].source.topic.version", "unexpected property"),
        ("cards[0].suggestions[0].actions[0].resourceType", "unexpected property"),
        ("cards[0].suggestions[0].selected", "unexpected property"),
        ("warnings", "unexpected property"),
    ]


def test_extensions_are_allowed_on_cards_suggestions_and_actions(
    response: dict[str, Any],
) -> None:
    _card(response)["extension"] = {"org.example.rank": 1}
    _card(response)["suggestions"][0]["extension"] = {"org.example.kind": "order"}
    _action(response)["extension"] = {"org.example.order-set": "pnen"}
    assert_valid_response(response)


def test_extension_keys_are_quoted_in_paths(response: dict[str, Any]) -> None:
    response["extension"]["org.pnen-cds.data-issues"][0]["problem"] = ""
    assert _paths("response", response) == {'extension["org.pnen-cds.data-issues"][0].problem'}


def test_links(response: dict[str, Any]) -> None:
    links = [
        {"label": "Dashboard", "url": "https://app.example.org/launch", "type": "smart",
         "appContext": "patient=1288992"},
        {"label": "Guideline", "url": "https://example.org/guideline", "type": "absolute",
         "appContext": "not for absolute links"},
        {"label": "Broken", "url": "example dot org", "type": "relative"},
        {"label": "No url", "type": "absolute"},
    ]  # fmt: skip
    _card(response)["links"] = links
    assert errors("response", response) == [
        ("cards[0].links[1].appContext", "not allowed here"),
        ("cards[0].links[2].type", "'relative' is not one of 'absolute', 'smart'"),
        ("cards[0].links[2].url", "'example dot org' is not a valid uri"),
        ("cards[0].links[3].url", "'url' is a required property"),
    ]


def test_create_and_update_actions_need_a_resource(response: dict[str, Any]) -> None:
    del _action(response)["resource"]
    assert errors("response", response) == [
        ("cards[0].suggestions[0].actions[0].resource", "'resource' is a required property")
    ]


def test_action_resource_must_be_an_object_with_a_resource_type(
    response: dict[str, Any],
) -> None:
    _action(response)["resource"] = "ServiceRequest/1"  # the deprecated 1.0 delete form
    assert _paths("response", response) == {"cards[0].suggestions[0].actions[0].resource"}
    _action(response)["resource"] = {"id": "1"}
    assert _paths("response", response) == {
        "cards[0].suggestions[0].actions[0].resource.resourceType"
    }


def test_errors_are_sorted_by_path_with_numeric_indexes(response: dict[str, Any]) -> None:
    card = _card(response)
    response["cards"] = [copy.deepcopy(card) for _ in range(12)]
    response["cards"][10]["summary"] = ""
    response["cards"][2]["summary"] = ""
    response["cards"][2]["indicator"] = "none"
    assert [path for path, _ in errors("response", response)] == [
        "cards[2].indicator",
        "cards[2].summary",
        "cards[10].summary",
    ]


# --- assert_valid_response: FHIR checks beyond the schema ---


def test_delete_without_resource_id_passes_the_schema_but_not_the_helper(
    response: dict[str, Any],
) -> None:
    _card(response)["suggestions"][0]["actions"] = [
        {"type": "delete", "description": "Cancel the duplicate order"}
    ]
    assert_valid("response", response)
    with pytest.raises(AssertionError, match=r"actions\[0\]\.resourceId"):
        assert_valid_response(response)


@pytest.mark.parametrize("resource_id", ["procedure-request-1", "ServiceRequest/", "a/b/c"])
def test_delete_resource_id_must_be_type_slash_id(
    response: dict[str, Any], resource_id: str
) -> None:
    _card(response)["suggestions"][0]["actions"] = [
        {"type": "delete", "description": "Cancel", "resourceId": resource_id}
    ]
    with pytest.raises(AssertionError, match="Type/id"):
        assert_valid_response(response)


def test_delete_with_a_relative_reference_passes(response: dict[str, Any]) -> None:
    _card(response)["suggestions"][0]["actions"].append(SPEC_ACTIONS[2])
    assert_valid_response(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", None, "subject: missing"),
        ("status", "active", "status: 'active', expected 'draft'"),
        ("intent", "plan", "intent: 'plan'"),
        ("code", {"coding": [{"system": "http://loinc.org", "code": "1"}]}, "code.text"),
    ],
)
def test_suggested_resource_must_be_a_draft_order(
    response: dict[str, Any], field: str, value: object, message: str
) -> None:
    resource = _action(response)["resource"]
    if value is None:
        del resource[field]
    else:
        resource[field] = value
    with pytest.raises(AssertionError, match=message):
        assert_valid_response(response)


def test_suggested_resource_must_be_valid_fhir(response: dict[str, Any]) -> None:
    _action(response)["resource"]["subject"] = "Patient/1288992"
    with pytest.raises(AssertionError, match=r"resource: subject"):
        assert_valid_response(response)
    _action(response)["resource"] = {**DRAFT_SERVICE_REQUEST, "resourceType": "Prescription"}
    with pytest.raises(AssertionError, match="not a FHIR R4B resource"):
        assert_valid_response(response)


def test_assert_valid_lists_every_problem() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_valid("request", {"context": {}})
    text = str(caught.value)
    assert "hook: 'hook' is a required property" in text
    assert "hookInstance: 'hookInstance' is a required property" in text


# --- Discovery and feedback that must fail ---


def test_discovery_service_needs_hook_id_and_description() -> None:
    body = {"services": [{"title": "x", "prefetch": {}}]}
    assert _paths("discovery", body) == {
        "services[0].hook",
        "services[0].id",
        "services[0].description",
        "services[0].prefetch",
    }


def test_discovery_prefetch_templates_are_strings() -> None:
    body = copy.deepcopy(SPEC_DISCOVERY)
    body["services"][0]["prefetch"]["patientToGreet"] = {"url": "Patient/1"}
    body["services"][2]["usageRequirements"] = ""
    assert _paths("discovery", body) == {
        "services[0].prefetch.patientToGreet",
        "services[2].usageRequirements",
    }


def test_bad_feedback_outcome_fails() -> None:
    body = copy.deepcopy(SPEC_FEEDBACK_OVERRIDDEN)
    body["feedback"][0]["outcome"] = "rejected"
    assert errors("feedback", body) == [
        ("feedback[0].outcome", "'rejected' is not one of 'accepted', 'overridden'")
    ]


def test_accepted_feedback_needs_accepted_suggestions() -> None:
    body = copy.deepcopy(SPEC_FEEDBACK_ACCEPTED)
    del body["feedback"][0]["acceptedSuggestions"]
    assert _paths("feedback", body) == {"feedback[0].acceptedSuggestions"}
    body["feedback"][0]["acceptedSuggestions"] = [{}]
    assert _paths("feedback", body) == {"feedback[0].acceptedSuggestions[0].id"}


@pytest.mark.parametrize(
    "timestamp",
    ["2020-12-11", "2020-12-11T00:00:00", "2020-02-30T00:00:00Z", "yesterday", "2020-12-11 00:00Z"],
)
def test_feedback_timestamp_must_be_an_rfc3339_date_time(timestamp: str) -> None:
    body = copy.deepcopy(SPEC_FEEDBACK_OVERRIDDEN)
    body["feedback"][0]["outcomeTimestamp"] = timestamp
    assert _paths("feedback", body) == {"feedback[0].outcomeTimestamp"}


@pytest.mark.parametrize("timestamp", ["1985-04-12T23:20:50.52Z", "2020-12-11T01:00:00+01:00"])
def test_feedback_timestamp_accepts_rfc3339(timestamp: str) -> None:
    body = copy.deepcopy(SPEC_FEEDBACK_OVERRIDDEN)
    body["feedback"][0]["outcomeTimestamp"] = timestamp
    assert_valid("feedback", body)


OVERRIDDEN = SPEC_FEEDBACK_OVERRIDDEN["feedback"][0]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"feedback": []}, {"feedback"}),
        ({}, {"feedback"}),
        (
            {"feedback": [{"outcome": "overridden"}]},
            {"feedback[0].card", "feedback[0].outcomeTimestamp"},
        ),
        (
            {"feedback": [{**OVERRIDDEN, "overrideReason": {"reason": {"code": "x"}}}]},
            {"feedback[0].overrideReason.reason.system"},
        ),
    ],
)
def test_feedback_shape(body: dict[str, Any], paths: set[str]) -> None:
    assert _paths("feedback", body) == paths
