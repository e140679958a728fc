"""Schemathesis hooks of tests/schemathesis/run: half the generated cases of an operation
that names a dossier, a stored file, a result, an applicant, a petition or a procedure get
one that exists on the seeded server (seed.py's seed.json, path in MOTCUA_FUZZ_SEED_FILE),
with its pin where the operation takes one (`?pin=` or a body's `pin`); so do bodies that
name a dossier (`dossier_code`), and query parameters that name an agency or a procedure.
The rest stay as generated: unknown codes, malformed values. Whatever the description
holds: an operation without such parameters is left alone.
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

with open(os.environ["MOTCUA_FUZZ_SEED_FILE"], encoding="utf-8") as _f:
    SEED = json.load(_f)

DOSSIERS = [
    {"code": d["code"], "pin": d["pin"]} for d in SEED["dossiers"].values()
]
FILES = [{"code": f["code"], "id": f["id"], "pin": f["pin"]} for f in SEED["files"]]
DOCUMENTS = [
    {"code": d["code"], "document_id": d["document_id"], "pin": d["pin"]}
    for d in SEED["documents"]
]
PETITIONS = SEED["petitions"]
ID_NUMBERS = SEED["id_numbers"]
PROCEDURES = SEED["procedures"]
AGENCIES = SEED["agencies"]


def _choices(path, params):
    """The seeded values an operation's path parameters may take, each a dict of the
    values to set (path parameters and `pin`)."""
    if "document_id" in params and DOCUMENTS:
        return DOCUMENTS
    if "id" in params and "/files/" in path and FILES:
        return FILES
    if "id_number" in params:
        return [{"id_number": n} for n in ID_NUMBERS]
    if "code" in params:
        if "/petitions/" in path:
            return PETITIONS
        if "/procedures/" in path:
            return [{"code": c} for c in PROCEDURES]
        if "/dossiers/" in path:
            return DOSSIERS
    return []


def _body_choices(body):
    """A body that names a dossier (`dossier_code`, a petition's): seeded dossiers."""
    if isinstance(body, dict) and "dossier_code" in body:
        return DOSSIERS
    return []


def _query_choices(query):
    """Seeded values for query parameters that name an agency or a procedure."""
    out = {}
    for name in ("agency", "agency_code", "receiving_agency"):
        if name in query:
            out[name] = AGENCIES
    for name in ("procedure", "procedure_code"):
        if name in query:
            out[name] = PROCEDURES
    return out


def _apply(case, chosen):
    params = dict(case.path_parameters or {})
    for k, v in chosen.items():
        if k in params:
            params[k] = v
    case.path_parameters = params
    pin = chosen.get("pin")
    if pin is not None:
        if isinstance(case.query, dict) and "pin" in case.query:
            case.query = {**case.query, "pin": pin}
        if isinstance(case.body, dict) and "pin" in case.body:
            case.body = {**case.body, "pin": pin}
    return case


def _apply_body(case, chosen):
    body = {**case.body, "dossier_code": chosen["code"]}
    if "pin" in body:
        body["pin"] = chosen["pin"]
    case.body = body
    return case


@schemathesis.hook
def flatmap_case(context, case):
    params = case.path_parameters or {}
    options = _choices(case.path or "", params) if params else []
    queries = _query_choices(case.query) if isinstance(case.query, dict) else {}
    bodies = _body_choices(case.body)
    if not options and not queries and not bodies:
        return st.just(case)

    def build(draw_path, draw_query, draw_body):
        if draw_path is not None:
            _apply(case, draw_path)
        if draw_query:
            case.query = {**case.query, **draw_query}
        if draw_body is not None:
            _apply_body(case, draw_body)
        return case

    # None: keep what was generated (about half the cases).
    path_strategy = st.one_of(st.none(), st.sampled_from(options)) if options else st.none()
    if queries:
        query_strategy = st.one_of(
            st.none(),
            st.fixed_dictionaries({k: st.sampled_from(v) for k, v in queries.items()}),
        )
    else:
        query_strategy = st.none()
    body_strategy = st.one_of(st.none(), st.sampled_from(bodies)) if bodies else st.none()
    return st.tuples(path_strategy, query_strategy, body_strategy).map(lambda t: build(*t))
